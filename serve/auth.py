"""Bearer-key access: with a key set, every endpoint but ``/health`` and the page shell needs
``Authorization: Bearer <key>``, and a key that is presented must be a valid one everywhere.

A pure ASGI middleware, so it guards routes added later too and costs nothing without a key. The key
is one of a :class:`~ragpilot.serve.keys.KeyRing` (the single ``--api-key`` and the team keys of
``--keys``), compared in constant time. The key a request carries is recorded in its scope
(:data:`KEY_SCOPE`); :func:`~ragpilot.serve.state.get_state` reads it to hand the route only the
repositories that key may read, so no route decides access by itself.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from .http_errors import RETRIEVE_PATH, error_body, retrieve_error_items
from .keys import KeyRing
from .web.public import PUBLIC_PATHS

OPEN_PATHS = frozenset({"/health"}) | PUBLIC_PATHS  # the web page's shell and assets: no data
KEY_SCOPE = "ragpilot.key"  # the TeamKey a request authenticated with (absent: no key was sent)
MESSAGE = ("Missing or wrong API key: send 'Authorization: Bearer <key>' "
           "(the key given to ragpilot serve with --api-key / RAGPILOT_API_KEY, or a team key of --keys)")


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, keys: KeyRing | None = None):
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.keys is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value
                break
        if header is None and scope["path"] in OPEN_PATHS:  # anonymous: sees no repository (state.py)
            await self.app(scope, receive, send)
            return
        scheme, _, token = (header or b"").partition(b" ")
        key = self.keys.identify(token.strip()) if scheme.lower() == b"bearer" else None
        if key is not None:
            scope[KEY_SCOPE] = key
            await self.app(scope, receive, send)
            return
        if scope["path"] == RETRIEVE_PATH:
            body = retrieve_error_items(MESSAGE)
        else:
            body = error_body(MESSAGE, type="authentication_error", code="invalid_api_key")
        payload = json.dumps(body).encode("utf-8")
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]})
        await send({"type": "http.response.body", "body": payload})
