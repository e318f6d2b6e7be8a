"""``ragpilot serve`` as a real uvicorn subprocess on a free loopback port, driven by the official
``openai`` client and by Continue's exact request bodies.

The chat backend is a real OpenAI-compatible server on another loopback port (the small FastAPI
stand-in: ``llama_cpp.server`` lacks ``starlette-context`` here); one slow test uses the packaged
SmolLM2 GGUF in process instead.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import openai
import pytest
from servers import GATE_TIMED_OUT, RagpilotProcess, index_with_hashing

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    from samples import SAMPLE_FILES, write_files

    root = tmp_path_factory.mktemp("served") / "my repo"
    root.mkdir()
    write_files(root, SAMPLE_FILES)
    return root


@pytest.fixture(scope="module")
def home(repo: Path) -> Path:
    home = repo.parent / "home"
    index_with_hashing(repo, home)
    return home


@pytest.fixture(scope="module")
def server(repo, home, upstream, tmp_path_factory):
    upstream.reply = "Retries are decided by the policy."
    args = ["--embedder", "hashing", "--upstream", upstream.url, "--upstream-model", upstream.model, str(repo)]
    with RagpilotProcess(args, home, tmp_path_factory.mktemp("logs") / "serve.log") as proc:
        proc.wait_indexed()
        yield proc


@pytest.fixture
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="anything", max_retries=0, timeout=60)


def test_the_openai_client_lists_the_rag_raw_and_backend_models(client):
    ids = [m.id for m in client.models.list()]
    assert ids[:2] == ["ragpilot", "ragpilot-raw"]
    assert "fake-model" in ids


def test_the_openai_client_gets_a_rag_answer_with_sources(client, upstream):
    reply = client.chat.completions.create(
        model="ragpilot", messages=[{"role": "user", "content": "How does RetryPolicy decide to retry?"}],
        max_completion_tokens=50,
    )
    text = reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop" and reply.usage.total_tokens > 0
    assert text.startswith("Retries are decided by the policy.")
    assert "Sources:\n- [1] src/http/retry.py:" in text
    assert upstream.last()["max_tokens"] == 50


def test_the_openai_client_streams_chunks_as_they_are_produced(client, upstream):
    """The upstream sends one word, then waits for the gate; the gate opens only once that word has
    reached the client. A buffered stream would leave the gate shut (and the upstream says so)."""
    upstream.gate = threading.Event()
    try:
        stream = client.chat.completions.create(
            model="ragpilot", stream=True, messages=[{"role": "user", "content": "LRUCache EvictOldest"}])
        pieces, roles, finishes = [], [], []
        for chunk in stream:
            delta = chunk.choices[0].delta
            roles.append(delta.role)
            finishes.append(chunk.choices[0].finish_reason)
            if delta.content:
                pieces.append(delta.content)
                upstream.gate.set()  # the first word arrived while the upstream was still waiting
    finally:
        upstream.gate = None
    text = "".join(pieces)
    assert GATE_TIMED_OUT not in text
    assert text.startswith("Retries are decided by the policy.")
    assert roles[0] == "assistant" and finishes[-1] == "stop"
    assert pieces[-1].startswith("\n\nSources:\n- [1] src/storage/cache.go:")


def test_the_openai_client_embeds_with_the_index_embedder(client):
    result = client.embeddings.create(model="ragpilot", input=["def retry(): pass", "LRUCache"])
    assert [d.index for d in result.data] == [0, 1]
    assert len(result.data[0].embedding) == 384  # the hashing embedder's dimension
    assert result.data[0].embedding != result.data[1].embedding


def test_the_openai_client_raises_not_found_for_an_unknown_model(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert err.value.code == "model_not_found"


def test_the_openai_client_raises_bad_request_for_a_bad_body(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="ragpilot", messages="hello")  # type: ignore[arg-type]
    assert err.value.body["param"] == "messages"


def test_completions_reach_the_backend_through_the_openai_client(client, upstream):
    result = client.completions.create(model="ragpilot", prompt="def f():", suffix="\n    return 1", max_tokens=5)
    assert result.choices[0].text == "Retries are decided by the policy."
    assert upstream.last()["suffix"] == "\n    return 1"


# ----- Continue's exact requests against the real server ----------------------------------------------
@pytest.mark.parametrize("extra", [{}, {"options": {"k": 2}}, {"workspacePath": "WORKSPACE"},
                                   {"workspacePath": "SUBFOLDER", "options": {}}])
def test_continues_requests_get_context_items(server, repo, extra):
    body = {"query": "", "fullInput": "how are retries delayed with backoff", **extra}
    if body.get("workspacePath") == "WORKSPACE":
        body["workspacePath"] = repo.as_uri()
    elif body.get("workspacePath") == "SUBFOLDER":
        body["workspacePath"] = (repo / "src").as_uri()
    r = httpx.post(f"{server.url}/retrieve", json=body, timeout=60)
    assert r.status_code == 200
    items = r.json()
    assert items and items[0]["description"] == "src/http/retry.py"
    assert items[0]["uri"]["value"].startswith("file://") and "my%20repo" in items[0]["uri"]["value"]
    assert len(items) <= extra.get("options", {}).get("k", 8)


def test_an_unknown_workspace_gets_a_404_with_an_explanatory_item(server, tmp_path):
    r = httpx.post(f"{server.url}/retrieve", timeout=60,
                   json={"query": "", "fullInput": "retry", "workspacePath": (tmp_path / "el sewhere").as_uri()})
    assert r.status_code == 404
    assert "not a repository served" in r.json()[0]["content"]


# ----- access -----------------------------------------------------------------------------------------
def test_a_server_started_with_a_key_answers_401_without_it(repo, home, upstream, tmp_path):
    args = ["--embedder", "hashing", "--no-watch", "--upstream", upstream.url, "--api-key", "sesame", str(repo)]
    with RagpilotProcess(args, home, tmp_path / "auth.log") as proc:
        assert httpx.get(f"{proc.url}/health").status_code == 200
        anon = openai.OpenAI(base_url=f"{proc.url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            anon.models.list()
        assert httpx.post(f"{proc.url}/retrieve", json={"fullInput": "retry"}).status_code == 401
        keyed = openai.OpenAI(base_url=f"{proc.url}/v1", api_key="sesame", max_retries=0)
        assert "ragpilot" in [m.id for m in keyed.models.list()]


def test_the_server_follows_edits_through_its_watcher(server, repo):
    target = repo / "src" / "fresh_module.py"
    target.write_text("def quokka_lighthouse_signal():\n    return 'beacon'\n")
    try:
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            hits = httpx.post(f"{server.url}/search", json={"query": "quokka_lighthouse_signal", "k": 3},
                              timeout=30).json()
            if any(h["path"] == "src/fresh_module.py" for h in hits):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the new file never became searchable")
    finally:
        target.unlink()


# ----- the packaged GGUF in process ------------------------------------------------------------------
def test_the_packaged_llama_model_answers_about_the_repo_and_cites_retrieved_sources(repo, home, tmp_path):
    args = ["--embedder", "hashing", "--no-watch", "--n-ctx", "2048", "--context-tokens", "400", "-k", "3",
            str(repo)]
    with RagpilotProcess(args, home, tmp_path / "llama.log") as proc:
        proc.wait_indexed()
        client = openai.OpenAI(base_url=f"{proc.url}/v1", api_key="x", max_retries=0, timeout=240)
        assert "SmolLM2-135M-Instruct.Q4_1" in [m.id for m in client.models.list()]
        question = [{"role": "user", "content": "What does RetryPolicy.should_retry check?"}]
        reply = client.chat.completions.create(model="ragpilot", messages=question, max_tokens=24, temperature=0)
        text = reply.choices[0].message.content
        answer, _, sources = text.partition("\n\nSources:\n")
        assert answer.strip() and reply.usage.completion_tokens > 0
        assert "src/http/retry.py:" in sources
        streamed = client.chat.completions.create(model="ragpilot", messages=question, max_tokens=12,
                                                  stream=True)
        chunks = [c.choices[0].delta.content or "" for c in streamed]
        assert len([c for c in chunks if c]) >= 3
        assert "Sources:" in chunks[-2] or "Sources:" in "".join(chunks[-3:])


def test_a_client_leaving_mid_stream_frees_the_model_for_the_next_request(repo, home, tmp_path):
    args = ["--embedder", "hashing", "--no-watch", "--n-ctx", "1024", str(repo)]
    with RagpilotProcess(args, home, tmp_path / "disconnect.log", global_args=("-v",)) as proc:
        body = {"model": "ragpilot-raw", "stream": True, "max_tokens": 600, "temperature": 0.9,
                "messages": [{"role": "user", "content": "Write a very long story about a lighthouse."}]}
        with httpx.stream("POST", f"{proc.url}/v1/chat/completions", json=body, timeout=120) as r:
            seen = 0
            for line in r.iter_lines():
                if line.startswith("data: {"):
                    seen += 1
                if seen >= 4:
                    break  # hang up mid-generation
        nxt = httpx.post(f"{proc.url}/v1/chat/completions", timeout=240, json={
            "model": "ragpilot-raw", "max_tokens": 3, "messages": [{"role": "user", "content": "hi"}]})
        assert nxt.status_code == 200
        assert nxt.json()["usage"]["completion_tokens"] <= 3
        assert "generation stopped: the client went away" in proc.log()
