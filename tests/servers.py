"""Shared helpers for the serving tests (this module holds no tests).

- :class:`FakeUpstream`: a small OpenAI-compatible server (FastAPI on a real uvicorn thread) that
  records what it is sent: fast, and it shows the prompts ragpilot builds. The real
  ``python -m llama_cpp.server`` upstream is exercised in ``test_llama_server_upstream.py``.
- :func:`open_repos`, :func:`client_for`, :func:`continue_body`: the app in process (TestClient) over
  repositories indexed and ready, and the body Continue's http context provider sends.
- :func:`app_routes`: every (method, path) an app serves, through FastAPI's nested routers.
- :class:`RagpilotProcess`: ``ragpilot serve`` as a real subprocess on a free loopback port (tests/e2e only).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.testclient import TestClient

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.app import create_app
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.settings import ServeSettings

GATE_TIMEOUT_S = 30.0
GATE_TIMED_OUT = "[gate timed out: the stream was buffered]"
DEFAULT_REPLY = "The answer is in the code."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadedServer:
    """A real uvicorn server on 127.0.0.1 in a daemon thread."""

    def __init__(self, app, port: int | None = None):
        self.port = port or free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class FakeUpstream:
    """An OpenAI-compatible chat/completions server that answers ``reply`` and records every body.

    ``stop`` sequences cut the reply like a real server. With ``gate`` set, a stream sends its first
    content chunk and then waits for the gate before sending the rest (proves the stream is relayed
    as it is produced, without timing). ``fail_status`` makes every call fail with that status.
    """

    model = "fake-model"

    def __init__(self, reply: str = DEFAULT_REPLY):
        self.reply = reply
        self.requests: list[dict] = []
        self.auth: list[str | None] = []  # the Authorization header of each request
        self.gate: threading.Event | None = None
        self.fail_status: int | None = None
        self.app = self._build()

    def last(self) -> dict:
        return self.requests[-1]

    def _text(self, body: dict) -> str:
        text = self.reply
        for stop in body.get("stop") or []:
            if stop in text:
                text = text[: text.index(stop)]
        return text

    def _build(self) -> FastAPI:
        app = FastAPI()

        def failure() -> JSONResponse:
            return JSONResponse({"error": {"message": "upstream exploded", "type": "server_error", "param": None,
                                           "code": None}}, status_code=self.fail_status or 500)

        @app.get("/v1/models")
        async def models():
            return {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "test"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self.requests.append(body)
            self.auth.append(request.headers.get("authorization"))
            if self.fail_status:
                return failure()
            text = self._text(body)
            if not body.get("stream"):
                return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}
            return StreamingResponse(self._stream(body, text, chat=True), media_type="text/event-stream")

        @app.post("/v1/completions")
        async def completions(request: Request):
            body = await request.json()
            self.requests.append(body)
            if self.fail_status:
                return failure()
            text = self._text(body)
            if not body.get("stream"):
                return {"id": "c", "object": "text_completion", "created": 0, "model": body["model"],
                        "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}
            return StreamingResponse(self._stream(body, text, chat=False), media_type="text/event-stream")

        return app

    async def _stream(self, body: dict, text: str, *, chat: bool):
        def chunk(piece: str | None, finish: str | None = None) -> str:
            if chat:
                delta = {"role": "assistant"} if piece is None and finish is None else (
                    {"content": piece} if piece is not None else {})
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                obj = "chat.completion.chunk"
            else:
                choice = {"index": 0, "text": piece or "", "finish_reason": finish}
                obj = "text_completion"
            return "data: " + json.dumps({"id": "s", "object": obj, "created": 0, "model": body["model"],
                                          "choices": [choice]}) + "\n\n"

        if chat:
            yield chunk(None)
        words = text.split(" ")
        for i, word in enumerate(words):
            yield chunk(word if i == 0 else " " + word)
            if i == 0 and self.gate is not None:
                opened = await asyncio.to_thread(self.gate.wait, GATE_TIMEOUT_S)
                if not opened:
                    yield chunk(" " + GATE_TIMED_OUT)
        yield chunk(None, "stop")
        yield "data: [DONE]\n\n"


def index_with_hashing(repo: Path, home: Path) -> IndexSettings:
    """Index ``repo`` with the hashing embedder under ``home`` (what the servers below will find)."""
    settings = IndexSettings(home=home, embedder="hashing")
    index_repo(repo, settings)
    return settings


def open_repos(paths, index_settings) -> RepoSet:
    """Serve ``paths``: each indexed (no watcher) and ready before the call returns."""
    repos = RepoSet.from_paths(paths, index_settings)
    repos.start(watch=False)
    assert repos.wait_ready(120)
    assert all(r.state.phase == "ready" for r in repos.repos), [r.state for r in repos.repos]
    return repos


def client_for(repos: RepoSet, index_settings, llm=None, **settings) -> TestClient:
    serve = ServeSettings(repos=[r.root for r in repos.repos], index=index_settings, **settings)
    return TestClient(create_app(serve, repos=repos, llm=llm))


def continue_body(question: str, workspace: str | None = None, options: dict | None = None) -> dict:
    """Exactly what Continue's http provider sends: query empty, options/workspacePath only when set."""
    body: dict = {"query": "", "fullInput": question}
    if options is not None:
        body["options"] = options
    if workspace is not None:
        body["workspacePath"] = workspace
    return body


class LoggedServer:
    """A server subprocess on a free loopback port; its output goes to a log file shown on failure.

    Subclasses set ``name``, ``cmd``, ``env`` and ``ready_path`` (polled until it answers 200)."""

    name = "server"
    ready_path = "/health"
    start_timeout = 120.0

    def __init__(self, log: Path):
        self.port = free_port()
        self.log_path = log
        self.env: dict | None = None
        self.cmd: list[str] = []
        self.proc: subprocess.Popen | None = None
        self._log_file = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def start(self):
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(self.cmd, stdout=self._log_file, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not come up:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RagpilotProcess(LoggedServer):
    """``ragpilot serve`` in a subprocess."""

    name = "ragpilot serve"

    def __init__(self, args: list[str], home: Path, log: Path, env: dict | None = None,
                 global_args: tuple[str, ...] = ()):
        super().__init__(log)
        self.env = {**os.environ, "RAGPILOT_HOME": str(home), **(env or {})}
        self.cmd = [sys.executable, "-m", "ragpilot.serve.cli", *global_args, "serve", *args, "--port", str(self.port)]

    def wait_indexed(self, headers: dict | None = None, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = httpx.get(f"{self.url}/status", headers=headers or {}, timeout=10).json()
            phases = [r["indexing"]["phase"] for r in status["repos"]]
            if all(p in ("ready", "read-only") for p in phases):
                return status
            if any(p == "failed" for p in phases) or time.monotonic() > deadline:
                raise RuntimeError(f"indexing did not finish: {status}\n{self.log()}")
            time.sleep(0.1)


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, through included routers of any depth."""
    found: set[tuple[str, str]] = set()

    def walk(routes) -> None:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):  # FastAPI's included router
                walk(route.effective_route_contexts())
            elif hasattr(route, "routes"):  # a mount
                walk(route.routes)
            else:
                found.update((m, route.path) for m in (route.methods or ()) if m != "HEAD")

    walk(app.routes)
    return found
