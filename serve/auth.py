"""Bearer-key access: with a key set, every endpoint but ``/health`` needs ``Authorization: Bearer <key>``.

A pure ASGI middleware, so it guards routes added later too and costs nothing without a key.
The comparison is constant-time (hmac.compare_digest).
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from .http_errors import RETRIEVE_PATH, error_body, retrieve_error_items
from .web.public import PUBLIC_PATHS

OPEN_PATHS = frozenset({"/health"}) | PUBLIC_PATHS  # the web page's shell and assets: no data


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, api_key: str | None):
        self.app = app
        self.key = api_key.encode("utf-8") if api_key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.key is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value
                break
        scheme, _, token = header.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.key):
            await self.app(scope, receive, send)
            return
        message = ("Missing or wrong API key: send 'Authorization: Bearer <key>' "
                   "(the key given to ragpilot serve with --api-key / RAGPILOT_API_KEY)")
        if scope["path"] == RETRIEVE_PATH:
            body = retrieve_error_items(message)
        else:
            body = error_body(message, type="authentication_error", code="invalid_api_key")
        payload = json.dumps(body).encode("utf-8")
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]})
        await send({"type": "http.response.body", "body": payload})
