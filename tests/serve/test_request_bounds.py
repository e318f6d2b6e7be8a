"""No request can hold more than a bounded amount of memory or CPU time, and small edges answer right.

- ``/v1/embeddings`` refuses too many, too long or too much input with a 400 in OpenAI's shape,
  embeds a large-but-allowed request, and stops embedding when its client goes away (a real uvicorn
  server on a loopback port and a client that hangs up).
- A deeply nested body, an unknown chat role, a ``~`` workspace and a ``k`` over the one limit are
  400s that name what is wrong; the server's pages reference no external URL.

Real components: a real index (hashing embedder, real tree-sitter and LanceDB), the packaged MiniLM
for the truncation test.
"""

from __future__ import annotations

import json
import re
import threading
import time

import anyio
import httpx
import numpy as np
import pytest
from samples import SAMPLE_FILES, write_files
from fastapi.testclient import TestClient
from servers import ThreadedServer

from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.settings import IndexSettings
from ragpilot.retrieval.searcher import MAX_K
from ragpilot.serve.app import create_app
from ragpilot.serve.embedding_work import EmbeddingWork
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.schemas import (
    MAX_EMBEDDING_INPUT_CHARS,
    MAX_EMBEDDING_INPUTS,
    MAX_EMBEDDING_TOTAL_CHARS,
    MAX_JSON_DEPTH,
)
from ragpilot.serve.settings import ServeSettings

JSON = {"content-type": "application/json"}
ROUTES_AND_BODIES = {
    "/search": {"query": "retry policy"},
    "/v1/chat/completions": {"model": "ragpilot-raw", "messages": [{"role": "user", "content": "hi"}],
                             "ragpilot": {"retrieval": False}},
    "/v1/completions": {"model": "ragpilot", "prompt": "def retry("},
    "/v1/embeddings": {"model": "ragpilot", "input": "retry"},
    "/retrieve": {"query": "", "fullInput": "retry policy"},
}
EXTERNAL_URL = re.compile(r"https?://(?!127\.0\.0\.1|localhost|testserver)[^\s\"'<>]+")


# ----- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("work") / "proj"
    write_files(root, SAMPLE_FILES)
    index = IndexSettings(home=tmp_path_factory.mktemp("home"), embedder="hashing")
    repos = RepoSet.from_paths([root], index)
    repos.start(watch=False)
    assert repos.wait_ready(120) and repos.repos[0].state.phase == "ready"
    yield repos, index
    repos.close()


def make_app(served):
    repos, index = served
    return create_app(ServeSettings(repos=[r.root for r in repos.repos], index=index), repos=repos)


@pytest.fixture(scope="module")
def client(served):
    with TestClient(make_app(served)) as c:
        yield c


def error_of(r, status: int = 400) -> dict:
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    assert body["error"]["type"] == "invalid_request_error"
    return body["error"]


class CountingEmbedder:
    """Wraps the served embedder's ``embed_batch``: counts calls, each taking ``seconds``."""

    def __init__(self, embedder, seconds: float = 0.0):
        self.embedder, self.seconds, self.calls, self.texts = embedder, seconds, 0, 0
        self.original = embedder.embed_batch
        self.lock = threading.Lock()

    def __call__(self, texts):
        with self.lock:
            self.calls += 1
            self.texts += len(texts)
        time.sleep(self.seconds)
        return self.original(texts)

    def __enter__(self):
        self.embedder.embed_batch = self
        return self

    def __exit__(self, *exc):
        del self.embedder.embed_batch  # back to the class's method


# ----- /v1/embeddings: bounded input -----------------------------------------------------------------
def test_more_inputs_than_openai_allows_is_a_400_naming_the_limit(client):
    err = error_of(client.post("/v1/embeddings", json={"model": "ragpilot",
                                                        "input": ["x"] * (MAX_EMBEDDING_INPUTS + 1)}))
    assert err["param"] == "input" and str(MAX_EMBEDDING_INPUTS) in err["message"]


@pytest.mark.parametrize("shape", ["string", "list"])
def test_an_input_over_the_character_limit_is_a_400_naming_it(client, shape):
    long = "retry " * (MAX_EMBEDDING_INPUT_CHARS // 6 + 1)
    value = long if shape == "string" else ["short", long]
    err = error_of(client.post("/v1/embeddings", json={"model": "ragpilot", "input": value}))
    assert err["param"] == "input" and str(MAX_EMBEDDING_INPUT_CHARS) in err["message"]
    assert ("input 1" in err["message"]) == (shape == "list")


def test_inputs_over_the_total_character_limit_are_a_400(client):
    each = MAX_EMBEDDING_INPUT_CHARS
    count = MAX_EMBEDDING_TOTAL_CHARS // each + 1
    err = error_of(client.post("/v1/embeddings", json={"model": "ragpilot", "input": ["a" * each] * count}))
    assert err["param"] == "input" and str(MAX_EMBEDDING_TOTAL_CHARS) in err["message"]


def test_a_large_but_allowed_request_is_embedded_in_bounded_batches(client, served):
    repos, _ = served
    size = MAX_EMBEDDING_TOTAL_CHARS // MAX_EMBEDDING_INPUTS
    texts = [f"def retry_{i}(): " + "x" * (size - 20) for i in range(MAX_EMBEDDING_INPUTS)]
    with CountingEmbedder(repos.embedder) as counter:
        r = client.post("/v1/embeddings", json={"model": "ragpilot", "input": texts})
    assert r.status_code == 200, r.text[:300]
    data = r.json()["data"]
    assert [d["index"] for d in data] == list(range(MAX_EMBEDDING_INPUTS))
    assert counter.texts == MAX_EMBEDDING_INPUTS
    assert counter.calls == MAX_EMBEDDING_INPUTS // repos.embedder.batch_size  # batches of 32, not one call
    expected = repos.embedder.embed_documents([texts[7]])[0]
    assert np.allclose(data[7]["embedding"], expected, atol=1e-6)
    assert r.json()["usage"]["prompt_tokens"] > 0


def test_a_long_input_embeds_exactly_as_the_model_reads_it_whole():
    """The cut before tokenizing keeps everything the model's window sees (the real MiniLM)."""
    embedder = create_embedder("minilm-onnx")
    long = "def retry_with_backoff(policy, attempt):\n    return policy.delay(attempt)\n" * 800  # 60 KB
    whole = embedder.embed_documents([long])[0]
    vectors, tokens = anyio.run(lambda: EmbeddingWork().embed(embedder, [long], client_gone=_never))
    assert np.allclose(vectors[0], whole, atol=1e-5)
    assert tokens == embedder.token_budget()  # what the model read, not 60 KB worth


async def _never() -> bool:
    return False


def test_embedding_stops_soon_after_the_client_goes_away(served):
    """A real server: the client asks for 2,048 slow embeddings, gives up after a moment, and the
    embedder stops being called (today's code computed every batch for nobody)."""
    repos, _ = served
    batches = MAX_EMBEDDING_INPUTS // repos.embedder.batch_size
    with CountingEmbedder(repos.embedder, seconds=0.1) as counter, ThreadedServer(make_app(served)) as server:
        body = {"model": "ragpilot", "input": [f"def f{i}(): pass" for i in range(MAX_EMBEDDING_INPUTS)]}
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{server.url}/v1/embeddings", json=body, timeout=httpx.Timeout(10, read=0.5))
        deadline, last, stable_since = time.monotonic() + 30, -1, time.monotonic()
        while time.monotonic() < deadline:  # wait until the calls stop (or all batches are done)
            if counter.calls != last:
                last, stable_since = counter.calls, time.monotonic()
            elif time.monotonic() - stable_since > 1.0 or last >= batches:
                break
            time.sleep(0.05)
        assert 0 < counter.calls < batches / 2, (counter.calls, batches)


def test_concurrent_embedding_requests_take_turns_batch_by_batch(client, served):
    """Two requests at once never run the model at the same time (memory is one batch's, not two)."""
    repos, _ = served
    active, peak, lock = [0], [0], threading.Lock()
    original = repos.embedder.embed_batch

    def tracked(texts):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.01)
            return original(texts)
        finally:
            with lock:
                active[0] -= 1

    repos.embedder.embed_batch = tracked
    try:
        body = {"model": "ragpilot", "input": [f"def f{i}(): pass" for i in range(256)]}
        with ThreadedServer(make_app(served)) as server:
            results: list[int] = []
            threads = [threading.Thread(target=lambda: results.append(
                httpx.post(f"{server.url}/v1/embeddings", json=body, timeout=60).status_code)) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        del repos.embedder.embed_batch
    assert results == [200, 200, 200]
    assert peak[0] == 1


# ----- small edges -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(ROUTES_AND_BODIES))
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_a_deeply_nested_body_is_a_400_that_says_so(client, path, depth):
    body = json.dumps(ROUTES_AND_BODIES[path])[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    r = client.post(path, content=body.encode(), headers=JSON)
    assert r.status_code == 400, r.text[:300]
    text = r.text
    assert "nested too deeply" in text and "UTF-8" not in text


def test_a_body_nested_within_the_limit_is_accepted(client):
    depth = MAX_JSON_DEPTH - 2
    body = json.dumps(ROUTES_AND_BODIES["/search"])[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    assert client.post("/search", content=body.encode(), headers=JSON).status_code == 200


def test_an_unknown_chat_role_is_a_400_naming_the_field(client):
    body = {"model": "ragpilot-raw", "messages": [{"role": "wizard", "content": "hi"}]}
    err = error_of(client.post("/v1/chat/completions", json=body))
    assert err["param"] == "messages.0.role" and "developer" in err["message"]


@pytest.mark.parametrize("workspace", ["~", "~/proj", "file:~/proj", "%7E/proj"])
def test_a_workspace_path_is_matched_literally_never_expanding_the_servers_home(client, served, monkeypatch,
                                                                                workspace):
    monkeypatch.setenv("HOME", str(served[0].repos[0].root.parent))  # "~" would hold the served repository
    r = client.post("/retrieve", json={"query": "", "fullInput": "retry policy", "workspacePath": workspace})
    assert r.status_code == 400, r.text[:300]
    assert "'~' is not expanded" in r.json()[0]["content"]


def test_search_k_has_one_limit_in_the_schema_and_the_handler(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SearchRequest"]
    assert schema["properties"]["k"]["maximum"] == MAX_K
    assert client.post("/search", json={"query": "retry", "k": MAX_K}).status_code == 200
    err = error_of(client.post("/search", json={"query": "retry", "k": MAX_K + 1}))
    assert err["param"] == "k" and str(MAX_K) in err["message"]


def test_no_page_the_server_serves_references_an_external_url(client, served):
    app = client.app
    paths = [r.path for r in app.routes if "GET" in getattr(r, "methods", ()) and "{" not in r.path]
    assert "/openapi.json" in paths and "/docs" not in paths and "/redoc" not in paths
    for path in [*paths, "/docs", "/redoc", "/docs/oauth2-redirect"]:
        r = client.get(path)
        assert not EXTERNAL_URL.search(r.text), (path, EXTERNAL_URL.search(r.text).group(0))
    assert client.get("/docs").status_code == 404
