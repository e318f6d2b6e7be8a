"""Errors at the HTTP edge: every failure becomes an OpenAI-shaped body with the right status.

The one place that knows how ragpilot's error hierarchy (``indexer/errors.py``) looks over HTTP:
:data:`HTTP_ERRORS`, a table from error class to (status, OpenAI type, code), read by walking the
error's MRO, so a subclass inherits its parent's row unless it has its own (httpx keeps its mapping the
same way, in one module).

``/retrieve`` is the exception to the shape: Continue shows whatever JSON comes back as context
items without looking at the status, so its errors are a list holding one explanatory item (still
with a proper 4xx/5xx status for every other client).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..indexer import errors as e
from .schemas import NESTED_TOO_DEEPLY

log = logging.getLogger(__name__)

RETRIEVE_PATH = "/retrieve"

INVALID, SERVER = "invalid_request_error", "server_error"


class HttpError(NamedTuple):
    """How one error looks over HTTP: the status and the OpenAI error's ``type`` and ``code``."""

    status: int
    type: str
    code: str | None = None


HTTP_ERRORS: dict[type[e.RagpilotError], HttpError] = {
    e.RagpilotError: HttpError(400, INVALID),
    e.IndexMissingError: HttpError(404, INVALID),
    e.IndexIncompatibleError: HttpError(409, INVALID),
    e.IndexBusyError: HttpError(409, INVALID),
    e.IndexLostError: HttpError(503, SERVER),
    e.IndexingInProgressError: HttpError(503, SERVER, "index_not_ready"),
    e.ModelLoadError: HttpError(503, SERVER),
    e.BackendError: HttpError(502, SERVER),
    e.BackendUnavailableError: HttpError(503, SERVER, "backend_unavailable"),
    e.ContextLengthError: HttpError(400, INVALID, "context_length_exceeded"),
    e.ModelNotFoundError: HttpError(404, INVALID, "model_not_found"),
    e.RepoNotServedError: HttpError(404, INVALID, "repo_not_found"),
    # Nobody reads the answer; 499 is what the access log shows (nginx's "client closed request").
    e.ClientDisconnectedError: HttpError(499, INVALID, "client_disconnected"),
}


def http_error(err: e.RagpilotError) -> HttpError:
    """The row for ``err``'s class or its nearest listed ancestor. An upstream's error carries the
    status it maps to (its own 4xx for a bad request, else 502) and the upstream's code."""
    if isinstance(err, e.UpstreamError):
        return HttpError(err.status, INVALID if err.status < 500 else SERVER, err.code)
    for cls in type(err).__mro__:
        if cls in HTTP_ERRORS:
            return HTTP_ERRORS[cls]
    return HTTP_ERRORS[e.RagpilotError]


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

    @app.exception_handler(e.RagpilotError)
    async def ragpilot_error(request: Request, err: e.RagpilotError) -> JSONResponse:
        status, kind, code = http_error(err)
        if status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, err)
        return error_response(request, status, str(err), type=kind, code=code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        first = errors[0] if errors else {}
        param = None if first.get("type") == "json_invalid" else _param_of(tuple(first.get("loc", ())))
        return error_response(request, 400, validation_message(first), param=param)

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
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
