"""Bad input at the HTTP edge: every malformed, hostile or oversized request gets a clear 4xx in
OpenAI's error shape (a list holding one context item on /retrieve), never a 500 or a traceback,
and no request reaches a file outside the served, indexed repository.

Real components: a real index (hashing embedder, real tree-sitter and LanceDB), the real upstream
chat backend talking to a small OpenAI-compatible server on a loopback port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from samples import SAMPLE_FILES, write_files
from fastapi.testclient import TestClient

from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.app import create_app
from ragpilot.serve.llm.upstream import UpstreamBackend
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.schemas import MAX_QUERY_CHARS
from ragpilot.serve.settings import ServeSettings

JSON = {"content-type": "application/json"}
ONE_MB_QUERY = "retry policy " * (1024 * 1024 // 13)
SECRET = "root:x:0:0"  # what /etc/passwd starts with

OPENAI_ROUTES = ["/search", "/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
ALL_ROUTES = ["/retrieve", *OPENAI_ROUTES]


# ----- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(sample_repo_module: Path, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    index = IndexSettings(home=home, embedder="hashing")
    repos = RepoSet.from_paths([sample_repo_module], index)
    repos.start(watch=False)
    assert repos.wait_ready(120)
    assert repos.repos[0].state.phase == "ready"
    yield repos, index
    repos.close()


@pytest.fixture(scope="module")
def sample_repo_module(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("work") / "proj"
    write_files(root, SAMPLE_FILES)  # the files the other serving tests index
    return root


def make_client(served, upstream, **settings) -> TestClient:
    repos, index = served
    serve = ServeSettings(repos=[r.root for r in repos.repos], index=index, **settings)
    return TestClient(create_app(serve, repos=repos, llm=UpstreamBackend(upstream.url, model=upstream.model)))


@pytest.fixture(scope="module")
def client(served, upstream):
    with make_client(served, upstream) as c:
        yield c


@pytest.fixture
def repo(served) -> Path:
    return served[0].repos[0].root


# ----- what a good error looks like ----------------------------------------------------------------------
def assert_clean_error(r, status: int, path: str) -> str:
    """The status, the right shape for the route, no traceback; returns the message."""
    assert r.status_code == status, (path, r.status_code, r.text[:500])
    assert "Traceback" not in r.text and SECRET not in r.text
    body = r.json()
    if path == "/retrieve":  # Continue shows whatever comes back: one explanatory item
        assert isinstance(body, list) and len(body) == 1, body
        item = body[0]
        assert item["name"] and item["description"]
        return item["content"]
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["type"] == "invalid_request_error" if status < 500 else "server_error"
    assert err["message"]
    return err["message"]


def valid_body(path: str) -> dict:
    return {
        "/retrieve": {"query": "", "fullInput": "retry policy"},
        "/search": {"query": "retry policy"},
        "/v1/chat/completions": {"model": "ragpilot", "messages": [{"role": "user", "content": "retry?"}]},
        "/v1/completions": {"model": "ragpilot", "prompt": "def retry("},
        "/v1/embeddings": {"model": "ragpilot", "input": "retry"},
    }[path]


def test_the_valid_bodies_used_below_are_accepted(client):
    for path in ALL_ROUTES:
        r = client.post(path, json=valid_body(path))
        assert r.status_code == 200, (path, r.text[:300])


# ----- malformed bodies ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ALL_ROUTES)
@pytest.mark.parametrize("raw", [b'{"query":', b'{"model": "ragpilot",}', b"{'single': 'quotes'}", b"nul\x00l"])
def test_malformed_json_is_a_400_that_says_the_body_is_not_json(client, path, raw):
    r = client.post(path, content=raw, headers=JSON)
    assert "not valid JSON" in assert_clean_error(r, 400, path)


@pytest.mark.parametrize("path", ALL_ROUTES)
@pytest.mark.parametrize("raw", [b"[]", b"null", b'"a string"', b"42"])
def test_json_that_is_not_an_object_is_a_400(client, path, raw):
    r = client.post(path, content=raw, headers=JSON)
    assert "JSON object" in assert_clean_error(r, 400, path)


@pytest.mark.parametrize("path", ALL_ROUTES)
def test_an_empty_body_or_one_without_a_json_content_type_is_a_400_naming_the_content_type(client, path):
    assert "empty" in assert_clean_error(client.post(path), 400, path)
    r = client.post(path, content=json.dumps(valid_body(path)).encode(), headers={"content-type": "text/plain"})
    assert "application/json" in assert_clean_error(r, 400, path)


@pytest.mark.parametrize("path", ALL_ROUTES)
@pytest.mark.parametrize("raw", [b"\xff\xfe\x00\x01", b'{"query": "caf\xe9", "fullInput": "caf\xe9"}'])
def test_a_body_that_is_not_utf8_is_a_400(client, path, raw):
    r = client.post(path, content=raw, headers=JSON)
    assert_clean_error(r, 400, path)


@pytest.mark.parametrize("path,field", [
    ("/retrieve", "fullInput"), ("/search", "query"), ("/v1/completions", "prompt"), ("/v1/embeddings", "input"),
])
def test_a_lone_surrogate_escape_is_a_400_not_a_crash_when_the_text_is_encoded(client, path, field):
    raw = json.dumps(valid_body(path))[:-1] + f', "{field}": "retry \\ud800"}}'
    message = assert_clean_error(client.post(path, content=raw.encode(), headers=JSON), 400, path)
    assert field in message and "Unicode" in message


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_in_a_chat_message_never_reaches_the_upstream(client, upstream, stream):
    upstream.requests.clear()
    raw = ('{"model": "ragpilot", "stream": %s, "messages": [{"role": "user", "content": "retry \\udc00"}]}'
           % json.dumps(stream))
    message = assert_clean_error(client.post("/v1/chat/completions", content=raw.encode(), headers=JSON), 400,
                                 "/v1/chat/completions")
    assert "messages.0.content" in message
    assert upstream.requests == []


# ----- wrong types and missing fields --------------------------------------------------------------------
@pytest.mark.parametrize("path,patch,param", [
    ("/retrieve", {"fullInput": 5}, "fullInput"),
    ("/retrieve", {"options": "k=3"}, "options"),
    ("/retrieve", {"options": {"k": "many"}}, "options.k"),
    ("/retrieve", {"options": {"k": 0}}, "options.k"),
    ("/retrieve", {"options": {"mode": "grep"}}, "options.mode"),
    ("/retrieve", {"workspacePath": ["file:///"]}, "workspacePath"),
    ("/search", {"query": 5}, "query"),
    ("/search", {"k": "ten"}, "k"),
    ("/search", {"k": -1}, "k"),
    ("/search", {"rerank": "maybe"}, "rerank"),
    ("/v1/chat/completions", {"messages": "hello"}, "messages"),
    ("/v1/chat/completions", {"messages": ["hello"]}, "messages.0"),
    ("/v1/chat/completions", {"messages": [{"content": "hi"}]}, "messages.0.role"),
    ("/v1/chat/completions", {"model": 5}, "model"),
    ("/v1/chat/completions", {"temperature": "hot"}, "temperature"),
    ("/v1/chat/completions", {"max_tokens": 0}, "max_tokens"),
    ("/v1/chat/completions", {"max_tokens": 10**30}, "max_tokens"),
    ("/v1/chat/completions", {"seed": 10**30}, "seed"),
    ("/v1/chat/completions", {"stream": "yes please"}, "stream"),
    ("/v1/chat/completions", {"ragpilot": {"k": 1000}}, "ragpilot.k"),
    ("/v1/completions", {"prompt": {"text": "x"}}, "prompt"),
    ("/v1/embeddings", {"encoding_format": "int8"}, "encoding_format"),
])
def test_a_wrong_type_or_out_of_range_value_is_a_400_naming_the_field(client, path, patch, param):
    r = client.post(path, json={**valid_body(path), **patch})
    message = assert_clean_error(r, 400, path)
    assert param in message
    if path != "/retrieve":
        assert r.json()["error"]["param"].startswith(param)


@pytest.mark.parametrize("path,field", [
    ("/search", "query"), ("/v1/chat/completions", "model"), ("/v1/chat/completions", "messages"),
    ("/v1/completions", "prompt"), ("/v1/embeddings", "input"),
])
def test_a_missing_required_field_is_a_400_naming_it(client, path, field):
    body = {k: v for k, v in valid_body(path).items() if k != field}
    r = client.post(path, json=body)
    assert field in assert_clean_error(r, 400, path)
    assert r.json()["error"]["param"] == field


# ----- empty and huge queries ------------------------------------------------------------------------------
@pytest.mark.parametrize("path,body", [
    ("/search", {"query": ""}), ("/search", {"query": "   \n\t"}),
    ("/retrieve", {"query": "", "fullInput": ""}), ("/retrieve", {"query": " ", "fullInput": "  "}), ("/retrieve", {}),
    ("/v1/embeddings", {"model": "ragpilot", "input": []}),
])
def test_an_empty_query_is_a_400(client, path, body):
    assert_clean_error(client.post(path, json=body), 400, path)


@pytest.mark.parametrize("path,field", [("/search", "query"), ("/retrieve", "fullInput"), ("/retrieve", "query")])
def test_a_one_megabyte_query_is_a_400_naming_the_limit(client, path, field):
    r = client.post(path, json={**valid_body(path), field: ONE_MB_QUERY})
    message = assert_clean_error(r, 400, path)
    assert field in message and str(MAX_QUERY_CHARS) in message


def test_a_one_megabyte_chat_message_is_answered_retrieving_for_its_end(client, upstream):
    upstream.requests.clear()
    r = client.post("/v1/chat/completions", json={**valid_body("/v1/chat/completions"),
                                                  "messages": [{"role": "user", "content": ONE_MB_QUERY}]})
    assert r.status_code == 200, r.text[:300]
    assert "Sources" in r.json()["choices"][0]["message"]["content"]
    sent = upstream.last()["messages"]
    assert sent[-1]["content"] == ONE_MB_QUERY  # the conversation itself is passed on unchanged
    assert "src/http/retry.py" in sent[0]["content"]


@pytest.mark.parametrize("path", ALL_ROUTES)
def test_a_body_over_the_size_limit_is_a_413_declared_or_streamed(served, upstream, path):
    limit = 4096
    big = json.dumps({**valid_body(path), "padding": "x" * (2 * limit)}).encode()
    with make_client(served, upstream, max_request_bytes=limit) as c:
        assert "larger than" in assert_clean_error(c.post(path, content=big, headers=JSON), 413, path)

        def chunks():  # no Content-Length: sent chunked, counted as it arrives
            for i in range(0, len(big), 1000):
                yield big[i:i + 1000]

        assert_clean_error(c.post(path, content=chunks(), headers=JSON), 413, path)
        assert c.post(path, json=valid_body(path)).status_code == 200  # under the limit: served


# ----- repositories, workspaces and path traversal ------------------------------------------------------
TRAVERSALS = ["../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "..", "/", "~", "file:///etc/%00passwd",
              "\x00", "C:\\Windows\\win.ini", "//etc/passwd", "file://evil.example/etc/passwd",
              "https://evil.example/x", "/" + "a" * 5000]


@pytest.mark.parametrize("ref", TRAVERSALS)
def test_a_traversal_as_repo_selects_nothing_and_reads_nothing(client, ref):
    r = client.post("/search", json={"query": "passwd root", "repo": ref})
    assert_clean_error(r, 404, "/search")
    assert r.json()["error"]["code"] == "repo_not_found"
    chat = client.post("/v1/chat/completions", json={**valid_body("/v1/chat/completions"),
                                                     "ragpilot": {"repo": ref}})
    assert_clean_error(chat, 404, "/v1/chat/completions")
    item = client.post("/retrieve", json={"fullInput": "passwd root", "options": {"repo": ref}})
    assert_clean_error(item, 404, "/retrieve")


@pytest.mark.parametrize("workspace", [t for t in TRAVERSALS if t not in ("/", "~")])
def test_a_traversal_as_workspace_path_is_a_4xx_item_that_reads_nothing(client, workspace):
    r = client.post("/retrieve", json={"query": "", "fullInput": "passwd root", "workspacePath": workspace})
    assert r.status_code in (400, 404)
    assert_clean_error(r, r.status_code, "/retrieve")


def test_a_workspace_that_climbs_out_of_the_repository_is_not_served(client, repo):
    for workspace in (f"{repo}/src/../../../etc", (repo / "src").as_uri() + "/../../..%2Fetc", "relative/dir"):
        r = client.post("/retrieve", json={"fullInput": "retry", "workspacePath": workspace})
        assert r.status_code in (400, 404), workspace
        assert_clean_error(r, r.status_code, "/retrieve")


@pytest.mark.parametrize("workspace", ["/", "PARENT"])
def test_a_folder_holding_the_repository_selects_it_and_only_its_indexed_files_come_back(client, repo, workspace):
    workspace = str(repo.parent) if workspace == "PARENT" else workspace
    r = client.post("/retrieve", json={"fullInput": "passwd root retry", "workspacePath": workspace})
    assert r.status_code == 200 and r.json()
    for item in r.json():
        assert item["uri"]["value"].startswith(repo.as_uri() + "/")


def test_options_cannot_name_a_file_to_read(client, repo):
    outside = repo.parent / "outside_secret.py"
    outside.write_text("def zqxoutsidemarker():\n    return 'root:x:0:0'\n")
    try:
        for options in ({"path": str(outside)}, {"file": "../outside_secret.py"}, {"repo": str(repo), "k": 5,
                        "include": ["../outside_secret.py"]}):
            r = client.post("/retrieve", json={"fullInput": "zqxoutsidemarker", "options": options})
            assert r.status_code == 200  # unknown options are ignored ...
            assert "zqxoutsidemarker" not in r.text  # ... and nothing outside the index is read
    finally:
        outside.unlink()


def test_every_returned_item_is_a_file_of_the_served_repository(client, repo):
    r = client.post("/retrieve", json={"fullInput": "passwd etc root ../../", "options": {"k": 20}})
    assert r.status_code == 200
    for item in r.json():
        path = Path(item["uri"]["value"].removeprefix("file://"))
        assert repo in path.parents and ".." not in item["description"]


# ----- models and routes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"])
@pytest.mark.parametrize("model", ["gpt-4o", "", "../../etc/passwd", "x" * 10_000])
def test_an_unknown_model_is_a_404_model_not_found(client, path, model):
    r = client.post(path, json={**valid_body(path), "model": model})
    assert_clean_error(r, 404, path)
    assert r.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/search", 405), ("PUT", "/v1/models", 405), ("DELETE", "/retrieve", 405),
    ("GET", "/v1/nothing", 404), ("GET", "/../../etc/passwd", 404), ("GET", "/static/../../etc/passwd", 404),
])
def test_wrong_methods_and_unknown_paths_are_openai_shaped(client, method, path, status):
    r = client.request(method, path)
    assert_clean_error(r, status, path)

