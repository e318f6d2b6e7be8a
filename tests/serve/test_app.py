"""The HTTP app in process (TestClient runs the lifespan): Continue's context provider, search, status,
access control, and the OpenAI endpoints against a real OpenAI-compatible upstream on a loopback port.

Real components throughout: a real index (hashing embedder, real tree-sitter and LanceDB), the real
upstream backend (httpx) talking to a small OpenAI-compatible server.
"""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import planted_secrets as planted
import pytest
from fastapi.testclient import TestClient
from servers import client_for, continue_body, free_port, open_repos

from ragpilot.serve.app import create_app
from ragpilot.serve.llm.upstream import UpstreamBackend
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.settings import ServeSettings

HIT_KEYS = {"path", "start_line", "end_line", "score", "symbol", "language", "content"}


# ----- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture
def client(served, index_settings, fake):
    with client_for(served, index_settings, UpstreamBackend(fake.url, model=fake.model)) as c:
        yield c


def ask(text: str, model: str = "ragpilot", **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


# ----- Continue's http context provider ---------------------------------------------------------------
def test_retrieve_answers_continues_request_with_items_shaped_like_its_codebase_provider(client, repo):
    r = client.post("/retrieve", json=continue_body("how does the retry policy decide to retry",
                                                    workspace=repo.as_uri()))
    assert r.status_code == 200
    items = r.json()
    assert isinstance(items, list) and items
    top = items[0]
    assert top["description"] == "src/http/retry.py"
    assert top["name"].startswith("retry.py (") and top["name"].endswith(")")
    start, end = top["name"][len("retry.py ("):-1].split("-")
    assert 1 <= int(start) <= int(end)
    assert top["content"].startswith("```src/http/retry.py\n") and top["content"].endswith("\n```")
    assert "class RetryPolicy" in top["content"]
    assert top["uri"] == {"type": "file", "value": (repo / "src/http/retry.py").as_uri()}
    assert "my%20repo" in top["uri"]["value"]


def test_retrieve_without_workspace_path_or_options_searches_the_served_repository(client):
    r = client.post("/retrieve", json=continue_body("LRUCache EvictOldest"))
    assert r.status_code == 200
    assert r.json()[0]["description"] == "src/storage/cache.go"


def test_a_workspace_path_inside_the_repository_selects_it(client, repo):
    sub = (repo / "src" / "http").as_uri()  # percent-encoded: .../my%20repo/src/http
    assert "%20" in sub
    r = client.post("/retrieve", json=continue_body("retry backoff delay", workspace=sub))
    assert r.status_code == 200 and r.json()


def test_an_unknown_workspace_is_a_404_whose_body_is_still_a_context_item(client, tmp_path):
    other = tmp_path / "other project"
    other.mkdir()
    r = client.post("/retrieve", json=continue_body("retry", workspace=other.as_uri()))
    assert r.status_code == 404
    (item,) = r.json()
    assert "not a repository served by ragpilot" in item["content"]
    assert item["name"] and item["description"]


def test_an_empty_question_is_a_400_context_item(client):
    r = client.post("/retrieve", json=continue_body("   "))
    assert r.status_code == 400
    (item,) = r.json()
    assert "empty" in item["content"]


def test_a_malformed_retrieve_body_is_a_400_context_item(client):
    r = client.post("/retrieve", json={"fullInput": "retry", "options": "k=3"})
    assert r.status_code == 400
    (item,) = r.json()
    assert "options" in item["content"]


def test_options_from_continues_config_limit_the_items(client):
    r = client.post("/retrieve", json=continue_body("retry cache query guide", options={"k": 1}))
    assert r.status_code == 200
    assert len(r.json()) == 1


def test_with_several_repositories_the_workspace_picks_one(repo, tmp_path, index_settings, fake):
    second = tmp_path / "second"
    (second / "lib").mkdir(parents=True)
    (second / "lib" / "billing.py").write_text("def compute_invoice_total(lines):\n    return sum(lines)\n")
    repos = open_repos([repo, second], index_settings)
    try:
        with client_for(repos, index_settings, UpstreamBackend(fake.url, model=fake.model)) as c:
            mine = c.post("/retrieve", json=continue_body("compute invoice total", workspace=second.as_uri()))
            assert mine.status_code == 200
            assert {i["description"] for i in mine.json()} == {"lib/billing.py"}
            both = c.post("/retrieve", json=continue_body("compute_invoice_total RetryPolicy"))
            described = {i["description"] for i in both.json()}
            assert "second/lib/billing.py" in described  # several repositories: paths name theirs
            assert any(d.startswith("my repo/") for d in described)
    finally:
        repos.close()


# ----- /search and what a request can reach --------------------------------------------------------------
def test_search_returns_hits_as_json(client):
    r = client.post("/search", json={"query": "LRUCache", "k": 3, "mode": "lexical"})
    assert r.status_code == 200
    hits = r.json()
    assert 1 <= len(hits) <= 3
    assert HIT_KEYS <= set(hits[0]) and hits[0]["repo"] == "my repo"
    assert hits[0]["path"] == "src/storage/cache.go"


def test_search_for_a_repository_not_served_is_an_openai_shaped_404(client):
    r = client.post("/search", json={"query": "retry", "repo": "/etc"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "repo_not_found"


def test_no_request_can_read_a_file_outside_the_served_index(client, repo):
    secret = "zqxsecretmarker"
    (repo.parent / "outside.py").write_text(f"def {secret}():\n    return 'hidden'\n")
    (repo / "added_after_indexing.py").write_text(f"def {secret}_2():\n    return 1\n")  # not watched
    found = client.post("/search", json={"query": secret, "k": 50}).json()
    assert all(secret not in h["content"] for h in found)
    items = client.post("/retrieve", json=continue_body(secret, options={"k": 50})).json()
    assert all(secret not in i["content"] for i in items)
    for workspace in ((repo.parent / "outside.py").as_uri(), "file:///etc/passwd", "file:///etc"):
        r = client.post("/retrieve", json=continue_body("passwd", workspace=workspace))
        assert r.status_code == 404
        assert "root:" not in r.text and secret not in r.text
    assert client.post("/search", json={"query": "x", "repo": "../"}).status_code == 404


# ----- status and access -------------------------------------------------------------------------------
def test_status_reports_each_repository_with_counts_embedder_and_indexing_state(client, repo):
    status = client.get("/status").json()
    (info,) = status["repos"]
    assert info["root"] == str(repo) and info["indexed"] is True
    assert info["embedder"] == "hashing" and info["dim"] > 0
    assert info["indexing"]["phase"] == "ready" and info["indexing"]["files_done"] == 4
    assert info["indexing"]["summary"]["chunks_total"] >= 4
    assert "watcher" in info
    assert status["chat"]["model"] == "fake-model"


def test_with_an_api_key_every_endpoint_but_health_requires_it(served, index_settings, fake):
    with client_for(served, index_settings, UpstreamBackend(fake.url, model=fake.model), api_key="s3cret") as c:
        assert c.get("/health").status_code == 200
        for method, path, body in [("GET", "/status", None), ("GET", "/v1/models", None),
                                   ("POST", "/search", {"query": "retry"}),
                                   ("POST", "/v1/chat/completions", ask("hi"))]:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
                r = c.request(method, path, json=body, headers=headers)
                assert r.status_code == 401, (path, headers)
                assert r.json()["error"]["type"] == "authentication_error"
            ok = c.request(method, path, json=body, headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 200, (path, ok.text)
        denied = c.post("/retrieve", json=continue_body("retry"))
        assert denied.status_code == 401 and "API key" in denied.json()[0]["content"]


# ----- chat with retrieval -----------------------------------------------------------------------------
def test_rag_chat_puts_cited_snippets_in_the_prompt_and_lists_them_as_sources(client, fake):
    r = client.post("/v1/chat/completions", json=ask("How does the RetryPolicy decide to retry?"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "ragpilot"
    answer = body["choices"][0]["message"]["content"]
    assert answer.startswith("The answer is in the code.")
    assert "\n\nSources:\n- [1] src/http/retry.py:" in answer
    assert body["usage"]["total_tokens"] == 18
    sent = fake.last()["messages"]
    assert sent[0]["role"] == "system" and sent[-1] == {"role": "user",
                                                         "content": "How does the RetryPolicy decide to retry?"}
    system = sent[0]["content"]
    assert "[1] src/http/retry.py:" in system and "class RetryPolicy" in system
    assert "not instructions" in system
    cited = [line.split("] ", 1)[1] for line in answer.split("Sources:\n")[1].splitlines()]
    assert all(c in system for c in cited)  # the Sources list is exactly what the model was shown


@pytest.mark.parametrize("model", ["ragpilot-raw", "fake-model"])
def test_passthrough_models_send_the_conversation_unchanged(client, fake, model):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "RetryPolicy?"}]
    r = client.post("/v1/chat/completions", json={"model": model, "messages": messages})
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "The answer is in the code."
    assert fake.last()["messages"] == messages


def test_the_ragpilot_field_switches_retrieval_per_request(client, fake):
    on = client.post("/v1/chat/completions",
                     json=ask("LRUCache eviction", model="ragpilot-raw", ragpilot={"retrieval": True, "k": 1}))
    assert "Sources:\n- [1] src/storage/cache.go" in on.json()["choices"][0]["message"]["content"]
    assert fake.last()["messages"][0]["role"] == "system"
    off = client.post("/v1/chat/completions", json=ask("LRUCache eviction", ragpilot={"retrieval": False}))
    assert "Sources" not in off.json()["choices"][0]["message"]["content"]
    assert fake.last()["messages"] == [{"role": "user", "content": "LRUCache eviction"}]


def test_a_short_follow_up_retrieves_for_the_question_it_follows(client, fake):
    messages = [{"role": "user", "content": "How does the LRUCache evict entries?"},
                {"role": "assistant", "content": "It drops the oldest."},
                {"role": "user", "content": "and where is it called?"}]
    r = client.post("/v1/chat/completions", json={"model": "ragpilot", "messages": messages,
                                                  "ragpilot": {"k": 1}})
    assert "src/storage/cache.go" in r.json()["choices"][0]["message"]["content"].split("Sources:")[1]


def test_a_question_after_a_long_pasted_text_is_what_gets_searched(client, fake):
    """The searcher reads a bounded prefix of its query: the chat keeps the end, where the question is."""
    pasted = "lorem ipsum dolor sit amet consectetur " * 400  # ~16k characters of noise, no code words
    question = "How does the LRUCache evict entries?"
    r = client.post("/v1/chat/completions", json={"model": "ragpilot", "ragpilot": {"k": 1},
                                                  "messages": [{"role": "user", "content": pasted + question}]})
    assert r.status_code == 200, r.text
    assert "src/storage/cache.go" in r.json()["choices"][0]["message"]["content"].split("Sources:")[1]


def test_sampling_fields_pass_through_and_unknown_fields_are_ignored(client, fake):
    fake.reply = "Lyon then Paris then Nice"
    r = client.post("/v1/chat/completions", json=ask(
        "cities", model="ragpilot-raw", stop=["Paris"], seed=7, temperature=0.1, top_p=0.9,
        max_completion_tokens=17, logit_bias={"1": 2}, user="me", parallel_tool_calls=False))
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "Lyon then "
    sent = fake.last()
    assert sent["stop"] == ["Paris"] and sent["seed"] == 7 and sent["max_tokens"] == 17
    assert sent["temperature"] == 0.1 and sent["top_p"] == 0.9
    assert "logit_bias" not in sent


def test_streaming_chat_sends_role_then_content_then_sources_then_finish_then_done(client):
    with client.stream("POST", "/v1/chat/completions", json=ask("LRUCache EvictOldest", stream=True,
                                                               ragpilot={"k": 2})) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[len("data: "):]) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    text = "".join(deltas)
    assert text.startswith("The answer is in the code.")
    assert deltas[-2].startswith("\n\nSources:\n- [1] src/storage/cache.go:")
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["choices"][0]["delta"] == {}
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])


def test_streaming_can_end_with_a_usage_chunk(client):
    with client.stream("POST", "/v1/chat/completions",
                       json=ask("hi", model="ragpilot-raw", stream=True,
                                stream_options={"include_usage": True})) as r:
        lines = [line for line in r.iter_lines() if line]
    last = json.loads(lines[-2][len("data: "):])
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0


# ----- errors ------------------------------------------------------------------------------------------
def test_an_unknown_model_is_a_404_model_not_found(client):
    r = client.post("/v1/chat/completions", json=ask("hi", model="gpt-4o"))
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "model_not_found" and err["type"] == "invalid_request_error"
    assert set(err) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("body,param", [
    ({"model": "ragpilot", "messages": "hello"}, "messages"),
    ({"model": "ragpilot", "messages": []}, "messages"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "ragpilot", "messages": [{"role": "user", "content": "x"}], "temperature": 9}, "temperature"),
])
def test_a_bad_body_is_a_400_in_openai_shape_not_fastapis_422(client, body, param):
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param and r.json()["error"]["type"] == "invalid_request_error"


def test_an_unknown_endpoint_is_an_openai_shaped_404(client):
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and "error" in r.json()


def test_a_backend_that_is_down_gives_a_503_at_once_streaming_or_not(served, index_settings):
    down = UpstreamBackend(f"http://127.0.0.1:{free_port()}/v1", model="m", connect_timeout=2)
    with client_for(served, index_settings, down) as c:
        for stream in (False, True):
            t0 = time.monotonic()
            r = c.post("/v1/chat/completions", json=ask("retry?", stream=stream))
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "backend_unavailable"
            assert time.monotonic() - t0 < 30  # a guard against hanging, not a speed claim


def test_an_upstream_failure_is_a_502(client, fake):
    fake.fail_status = 500
    r = client.post("/v1/chat/completions", json=ask("retry?"))
    assert r.status_code == 502
    assert "upstream exploded" in r.json()["error"]["message"]


def test_a_chat_backend_that_cannot_load_makes_chat_503_while_retrieval_works(served, index_settings, tmp_path):
    with client_for(served, index_settings, model=tmp_path / "missing.gguf") as c:
        r = c.post("/v1/chat/completions", json=ask("hi"))
        assert r.status_code == 503 and "missing.gguf" in r.json()["error"]["message"]
        assert c.post("/retrieve", json=continue_body("retry")).status_code == 200


# ----- completions and embeddings ----------------------------------------------------------------------
def test_completions_pass_prompt_suffix_and_stop_to_the_backend(client, fake):
    fake.reply = "return a + b\n# end"
    r = client.post("/v1/completions", json={"model": "ragpilot", "prompt": "def add(a, b):\n    ",
                                             "suffix": "\n\nprint(add(1, 2))", "stop": ["\n#"], "max_tokens": 9})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "text_completion" and body["choices"][0]["text"] == "return a + b"
    sent = fake.last()
    assert sent["suffix"] == "\n\nprint(add(1, 2))" and sent["prompt"].startswith("def add")
    assert sent["max_tokens"] == 9 and "messages" not in sent


def test_streamed_completions_end_with_done(client):
    with client.stream("POST", "/v1/completions", json={"model": "ragpilot", "prompt": "x", "stream": True}) as r:
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert '"object":"text_completion"' in lines[0]


def test_embeddings_use_the_index_embedder_as_floats_or_base64(client, served):
    embedder = served.embedder
    expected = embedder.embed_documents(["def retry(): pass", "LRUCache"])
    floats = client.post("/v1/embeddings", json={"model": "ragpilot", "input": ["def retry(): pass", "LRUCache"]})
    assert floats.status_code == 200
    data = floats.json()["data"]
    assert [d["index"] for d in data] == [0, 1]
    np.testing.assert_allclose(np.array([d["embedding"] for d in data]), expected, rtol=1e-5, atol=1e-6)
    b64 = client.post("/v1/embeddings", json={"model": "hashing", "input": "LRUCache", "encoding_format": "base64"})
    vec = np.frombuffer(base64.b64decode(b64.json()["data"][0]["embedding"]), dtype="<f4")
    np.testing.assert_allclose(vec, expected[1], rtol=1e-5, atol=1e-6)


def test_embeddings_reject_unknown_models_and_token_arrays(client):
    assert client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code == 404
    assert client.post("/v1/embeddings", json={"model": "ragpilot", "input": [[1, 2, 3]]}).status_code == 400


def test_completions_can_go_to_their_own_backend(served, index_settings, fake):
    chat = UpstreamBackend(fake.url, model=fake.model)
    coder = UpstreamBackend(fake.url, model="coder-model")
    serve = ServeSettings(repos=[served.repos[0].root], index=index_settings)
    with TestClient(create_app(serve, repos=served, llm=chat, completion_llm=coder)) as c:
        assert "coder-model" in [m["id"] for m in c.get("/v1/models").json()["data"]]
        assert c.post("/v1/completions", json={"model": "coder-model", "prompt": "x"}).status_code == 200
        assert fake.last()["model"] == "coder-model"
        c.post("/v1/completions", json={"model": "ragpilot", "prompt": "x"})
        assert fake.last()["model"] == "coder-model"  # every completion id means the completion backend
        c.post("/v1/chat/completions", json=ask("hi", model="ragpilot-raw"))
        assert fake.last()["model"] == fake.model
        assert c.post("/v1/chat/completions", json=ask("hi", model="coder-model")).status_code == 404


def test_a_repository_another_process_is_indexing_is_served_read_only(repo, index_settings):
    from ragpilot.indexer.pipeline import Indexer

    owner = Indexer(repo, index_settings).open()  # like `ragpilot watch` holding the writer lock
    try:
        owner.run_to_end()
        repos = RepoSet.from_paths([repo], index_settings)
        repos.start(watch=True)
        assert repos.wait_ready(120)
        (served_repo,) = repos.repos
        assert served_repo.state.phase == "read-only" and served_repo.watcher is None
        hits = repos.search("LRUCache", repos.repos, k=1)
        assert hits[0][1].path == "src/storage/cache.go"
        repos.close()
    finally:
        owner.close()


def test_a_repository_indexed_for_the_first_time_answers_503_until_ready(repo, index_settings, fake):
    repos = RepoSet.from_paths([repo], index_settings)  # not started: its first index does not exist yet
    try:
        with client_for(repos, index_settings, UpstreamBackend(fake.url, model=fake.model)) as c:
            r = c.post("/retrieve", json=continue_body("retry"))
            assert r.status_code == 503 and "indexed for the first time" in r.json()[0]["content"]
            assert c.post("/search", json={"query": "retry"}).json()["error"]["code"] == "index_not_ready"
            repos.start(watch=False)
            assert repos.wait_ready(120)
            assert c.post("/retrieve", json=continue_body("retry")).status_code == 200
    finally:
        repos.close()


# ----- secrets never reach a prompt ----------------------------------------------------------------------
PLANTED = {
    "config/aws.py": "AWS_ACCESS_KEY_ID = 'AKIA2E3F4G5H6J7K8L9M'\n"
                     "AWS_SECRET_ACCESS_KEY = 'q8Jd7Lp0Vx3Rt6Wn2Yb5Zc9Hf4Gk1Ms7Qa0Ue3Io'\n",
    ".env": "DATABASE_PASSWORD=hunter2-Sup3rS3cret-xyz\n",
    "deploy/settings.yaml": "api_key: \"sk_live_51HxQ2eLkdJ3r8s9TuVwXyZ0123456789abcd\"\n",
    "keys/server.pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7ZqJm9s0e8m3f6b1T0QvG5y"
                       "kqL0l6Q3nXqQ8v2u5c1d2e3f4g5h6i7j8k9l0m1n2o3p4\n-----END RSA PRIVATE KEY-----\n",
}
SECRET_VALUES = ("AKIA2E3F4G5H6J7K8L9M", "q8Jd7Lp0Vx3Rt6Wn2Yb5", "hunter2-Sup3rS3cret", "sk_live_51HxQ2e",
                 "MIIEowIBAAKCAQEA7ZqJm9")


def test_planted_secrets_never_reach_the_prompt_sent_to_the_model(repo, index_settings, fake):
    """This file's planted set plus the shared one (planted_secrets.py), through /search, /retrieve
    and the chat prompt."""
    for rel, text in {**PLANTED, **planted.REDACTED_FILES, **planted.SKIPPED_FILES}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    secrets = list(SECRET_VALUES) + planted.VALUES
    questions = ["What is the AWS secret access key?", "database password in .env",
                 "api_key in deploy settings yaml", "RSA private key in keys/server.pem",
                 *(f"What is the {q}?" for q in planted.QUERIES)]
    repos = open_repos([repo], index_settings)
    try:
        with client_for(repos, index_settings, UpstreamBackend(fake.url, model=fake.model)) as client:
            redacted_hits = set()
            for question in questions:
                r = client.post("/v1/chat/completions", json=ask(question, ragpilot={"k": 20}))
                assert r.status_code == 200, r.text
                prompt = json.dumps(fake.last()["messages"])
                assert "src/http/retry.py" in prompt or "cache.go" in prompt or "guide.md" in prompt \
                    or "[REDACTED]" in prompt, "retrieval ran and put repository code in the prompt"
                assert not [s for s in secrets if s in prompt], question
                assert planted.leaked(secrets, prompt) == [], question
                hits = client.post("/search", json={"query": question, "k": 50})
                items = client.post("/retrieve", json=continue_body(question, options={"k": 50}))
                assert hits.status_code == 200 and items.status_code == 200, hits.text + items.text
                assert planted.leaked(secrets, hits.text + items.text) == [], question
                redacted_hits |= {h["path"] for h in hits.json()} & set(planted.REDACTED_FILES)
            assert redacted_hits == set(planted.REDACTED_FILES)  # kept and found, with values hidden
    finally:
        repos.close()
