"""Errors at the HTTP edge: every failure becomes an OpenAI-shaped body with the right status.

``/retrieve`` is the exception to the shape: Continue shows whatever JSON comes back as context
items without looking at the status, so its errors are a list holding one explanatory item (still
with a proper 4xx/5xx status for every other client).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..indexer.errors import RagpilotError
from .schemas import NESTED_TOO_DEEPLY

log = logging.getLogger(__name__)

RETRIEVE_PATH = "/retrieve"

_TYPE_BY_STATUS = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error",
                   429: "rate_limit_error"}


def error_body(message: str, *, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def retrieve_error_items(message: str) -> list[dict]:
    """One context item that tells the Continue user what went wrong and what to do."""
    return [{
        "name": "ragpilot error",
        "description": "ragpilot could not retrieve context",
        "content": f"ragpilot could not retrieve context: {message}",
    }]


def error_response(request: Request, status: int, message: str, *, type: str | None = None,
                   param: str | None = None, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    if request.url.path == RETRIEVE_PATH:
        return JSONResponse(retrieve_error_items(message), status_code=status, headers=headers)
    kind = type or _TYPE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return JSONResponse(error_body(message, type=kind, param=param, code=code), status_code=status,
                        headers=headers)


_FASTAPI_UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's words for a non-UTF-8 body
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


def validation_message(error: dict) -> str:
    """One sentence for the first validation error; the whole-body failures said plainly."""
    loc, kind = tuple(error.get("loc", ())), error.get("type")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "malformed")
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        return f"The request body is not valid JSON ({reason}{where})"
    if loc == ("body",) and kind == "missing":
        return "The request body is empty: send a JSON object with Content-Type: application/json"
    if loc == ("body",) and kind in _NOT_AN_OBJECT:
        return "The request body must be a JSON object, sent with Content-Type: application/json"
    if kind == "json_too_deep":
        return f"Invalid request body: {NESTED_TOO_DEEPLY}"
    param = _param_of(loc)
    detail = error.get("msg", "invalid request")
    return f"Invalid request body: {param}: {detail}" if param else f"Invalid request body: {detail}"


def _param_of(loc: tuple) -> str | None:
    """``("body", "messages", 0, "role")`` -> ``messages.0.role`` (only the leading location is dropped:
    a body field may itself be called ``query`` or ``path``)."""
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or None


def unreadable_body_message(cause: BaseException | None) -> str:
    """Why FastAPI could not parse a body: json.loads overflowing its recursion limit (~1,000 levels)
    is a body nested too deeply; anything else is bytes that are not UTF-8."""
    if isinstance(cause, RecursionError):
        return f"Invalid request body: {NESTED_TOO_DEEPLY}"
    return "The request body could not be read: send UTF-8 encoded JSON"


def install_error_handlers(app: FastAPI) -> None:
    """FastAPI's 422 and HTML-ish defaults replaced by the OpenAI error shape (400 for a bad body)."""

    @app.exception_handler(RagpilotError)
    async def ragpilot_error(request: Request, err: RagpilotError) -> JSONResponse:
        if err.http_status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, err)
        return error_response(request, err.http_status, str(err), type=err.error_type,
                              code=getattr(err, "code", None), param=getattr(err, "param", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        first = errors[0] if errors else {}
        param = None if first.get("type") == "json_invalid" else _param_of(tuple(first.get("loc", ())))
        return error_response(request, 400, validation_message(first), param=param)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        message = err.detail if isinstance(err.detail, str) else str(err.detail)
        if err.status_code == 400 and message == _FASTAPI_UNREADABLE_BODY:
            message = unreadable_body_message(err.__cause__)
        if err.status_code == 404 and message == "Not Found":
            message = f"Unknown endpoint {request.method} {request.url.path}"
        return error_response(request, err.status_code, message, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return error_response(request, 500, f"internal error: {type(err).__name__}: {err}", type="server_error")
