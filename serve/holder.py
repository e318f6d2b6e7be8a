"""The holder's side of "ask the running process": its records (see ``discovery.py``), the token check
in front of ``ragpilot serve``, and the loopback search endpoint of ``ragpilot watch``.

``ragpilot watch`` has no HTTP server of its own; it opens a tiny one on 127.0.0.1 (a free port) that
answers ``POST /search`` only, with the body and answer of ``serve``'s ``/search`` and through the same
:meth:`RepoSet.search`, to requests carrying its token (the records are private to the user, so only
that user's ``ragpilot search`` can ask). The standard library's threaded server is enough for one
user's CLI and keeps FastAPI's start-up out of ``watch``.
"""

from __future__ import annotations

import hmac
import json
import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from ..indexer.errors import RagpilotError, UsageError
from ..retrieval.settings import RetrievalSettings
from .discovery import TOKEN_HEADER, HolderRecord, env_subset, remove_record, write_record
from .http_errors import error_body, http_error, validation_message
from .repos import RepoSet
from .schemas import SearchRequest
from .status import coverage

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
RETRIEVAL_ENV_NAMES = tuple(f"ragpilot_{name}" for name in RetrievalSettings.model_fields)


def records_for(repos: RepoSet, *, kind: str, host: str, port: int, pid: int, token: str,
                needs_api_key: bool = False) -> list[tuple[Path, HolderRecord]]:
    """One record per served repository (with the index folder it goes in)."""
    return [(repo.index_dir, HolderRecord(
        kind=kind, host=host, port=port, pid=pid, token=token, repo_root=str(repo.root),
        index_dir=str(repo.index_dir), embedder_id=repo.embedder.id, needs_api_key=needs_api_key,
        retrieval_env_names=RETRIEVAL_ENV_NAMES, retrieval_env=env_subset(RETRIEVAL_ENV_NAMES),
    )) for repo in repos.repos]


@contextmanager
def holding(records: Sequence[tuple[Path, HolderRecord]]) -> Iterator[None]:
    """Publish ``records`` while the block runs; remove them when it ends, however it ends. A folder
    that cannot take a record (read-only) only costs the CLI its shortcut."""
    written = []
    try:
        for index_dir, record in records:
            try:
                written.append(write_record(index_dir, record))
            except OSError as err:
                log.info("not announcing %s to `ragpilot search`: %s", record.repo_root, err)
        yield
    finally:
        for path in written:
            remove_record(path)


@contextmanager
def sigterm_raises(make_error) -> Iterator[None]:
    """While the block runs, SIGTERM (``kill``, a service manager) raises ``make_error()`` in the main
    thread, so the process unwinds (records removed, writer lock released) instead of being dropped.
    uvicorn re-raises the SIGTERM it caught once it has shut down: this handler is what then runs."""

    def handler(signum, frame):
        raise make_error()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (the CLI driven in a test): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def search_json(repos: RepoSet, body: SearchRequest) -> list[dict]:
    """``/search``'s answer (serve/routes/search.py): hits (or files) as JSON, each with the name of its
    repository, hits with their repository's embedding coverage."""
    targets = repos.select(repo=body.repo)
    if body.files:
        if body.rerank:
            raise UsageError("files ranks files without a reranker: drop rerank")
        return [{**found.to_json(), "repo": repo.name}
                for repo, found in repos.search_files(body.query, targets, k=body.k, mode=body.mode)]
    found = repos.search(body.query, targets, k=body.k, mode=body.mode, rerank=body.rerank)
    counts = {repo.name: repo.searcher.store.embedded_counts() for repo in targets}
    return [{**hit.to_json(), "repo": repo.name, "embedded": coverage(*counts[repo.name])} for repo, hit in found]


class HolderTokenCheck:
    """In front of ``serve``: a request presenting a holder token that is not this process's is
    refused (409), so a client never takes another server on a reused port for the holder. It grants
    nothing: the API key check behind it still applies."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.token = token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            wanted = TOKEN_HEADER.lower().encode("ascii")
            given = next((v for k, v in scope.get("headers", ()) if k == wanted), None)
            if given is not None and not hmac.compare_digest(given, self.token):
                payload = json.dumps(error_body("not the holder this token belongs to",
                                                code="holder_mismatch")).encode("utf-8")
                await send({"type": "http.response.start", "status": 409, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
                await send({"type": "http.response.body", "body": payload})
                return
        await self.app(scope, receive, send)


class SearchEndpoint:
    """``POST /search`` on a loopback port, for ``ragpilot watch`` (see the module docstring)."""

    def __init__(self, repos: RepoSet, token: str, *, host: str = "127.0.0.1", port: int = 0):
        self.repos = repos
        self.token = token
        self.requests = 0  # searches answered (tests read it)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> SearchEndpoint:
        self._thread = threading.Thread(target=self._server.serve_forever, name="ragpilot-search-endpoint",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> SearchEndpoint:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def answer(self, headers, raw: bytes) -> tuple[int, object]:
        """Status and JSON body for one request (the HTTP handler only moves bytes)."""
        scheme, _, given = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return 401, error_body("this endpoint answers the local `ragpilot search` only",
                                   type="authentication_error", code="invalid_token")
        try:
            body = SearchRequest.model_validate(json.loads(raw))
        except ValueError as err:  # ValidationError is a ValueError; so is a JSON decoding error
            message = validation_message(err.errors()[0]) if isinstance(err, ValidationError) else str(err)
            return 400, error_body(message)
        try:
            found = search_json(self.repos, body)
        except RagpilotError as err:
            status, kind, code = http_error(err)
            return status, error_body(str(err), type=kind, code=code)
        except Exception as err:  # a bug: the client searches directly and the log has the traceback
            log.exception("search failed")
            return 500, error_body(f"{type(err).__name__}: {err}", type="server_error")
        self.requests += 1
        return 200, found

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != "/search":
                    self._send(404, error_body(f"no {self.path} here: this endpoint answers POST /search"))
                elif length > MAX_BODY_BYTES:
                    self._send(413, error_body("the request body is too large"))
                else:
                    self._send(*endpoint.answer(self.headers, self.rfile.read(length)))

            def _send(self, status: int, body: object) -> None:
                payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
                log.debug("search endpoint: " + format, *args)

        return Handler
