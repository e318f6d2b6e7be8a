"""The OpenAPI schema tells the truth about errors: FastAPI documents a 422 ``HTTPValidationError``
that this server never sends (bad bodies are a 400 in OpenAI's error shape, see http_errors.py), and
nothing about 401/404/413/5xx or server-sent events. Fixed once here, so clients and schema-driven
tests (schemathesis) see what the routes really answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .http_errors import RETRIEVE_PATH

OPENAI_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["message", "type", "param", "code"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}},
    }},
}
CONTEXT_ITEMS = {  # what Continue's http provider accepts (docs.continue.dev, the http context provider); errors are one item
    "type": "array",
    "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "content": {"type": "string"},
        "uri": {"type": "object", "properties": {"type": {"type": "string"}, "value": {"type": "string"}}},
    }},
}
_REASONS = {400: "Bad request (malformed JSON, wrong types, missing or out-of-range fields)",
            401: "Missing or wrong API key (when the server has one)",
            404: "Unknown model or repository",
            413: "Request body too large",
            502: "The upstream model server failed",
            503: "Model backend unavailable, or the index is still being built"}
STREAMING_PATHS = frozenset({"/v1/chat/completions", "/v1/completions"})
_MODEL_PATHS = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/embeddings"})


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            app.openapi_schema = _with_real_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_real_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["OpenAIError"] = OPENAI_ERROR
    components["ContextItems"] = CONTEXT_ITEMS
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            ref = {"$ref": "#/components/schemas/" + ("ContextItems" if path == RETRIEVE_PATH else "OpenAIError")}
            statuses = [401]  # a key that is sent must be valid, /health included (serve/auth.py)
            if method == "post":
                statuses += [400, 404, 413, 503]
            if path in _MODEL_PATHS:
                statuses.append(502)
            for status in sorted(statuses):
                responses[str(status)] = {"description": _REASONS[status],
                                          "content": {"application/json": {"schema": ref}}}
            if path == RETRIEVE_PATH:
                responses["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/ContextItems"}
            if path in STREAMING_PATHS:
                responses["200"]["content"]["text/event-stream"] = {"schema": {
                    "description": "with stream=true, each event's data: a chunk object, an error object, then [DONE]",
                    "anyOf": [{"type": "object"}, {"const": "[DONE]"}]}}
    return schema
