"""File-level search where users and agents reach it: ``ragpilot search --files``, ``/search`` with
``"files": true`` and the MCP tool ``search_files`` (called in process), over a real hashing-embedder index."""

from __future__ import annotations

import json

import anyio
import pytest
from servers import client_for

from ragpilot.serve.cli import main
from ragpilot.serve.mcp import build_server
from ragpilot.serve.settings import ServeSettings

FILE_KEYS = {"path", "score", "language", "places"}
HIT_KEYS = {"path", "start_line", "end_line", "score", "symbol", "language", "content"}


@pytest.fixture
def client(served, index_settings):
    with client_for(served, index_settings) as c:
        yield c


def assert_ranked_files(files: list[dict], k: int) -> None:
    assert 1 <= len(files) <= k
    assert len({f["path"] for f in files}) == len(files)  # each file once
    assert [f["score"] for f in files] == sorted((f["score"] for f in files), reverse=True)
    for f in files:
        assert FILE_KEYS <= set(f)
        assert 1 <= len(f["places"]) <= 3
        assert all(HIT_KEYS <= set(p) and p["path"] == f["path"] for p in f["places"])


# ----- HTTP -------------------------------------------------------------------------------------------
def test_search_with_files_returns_one_entry_per_file_with_its_places(client):
    r = client.post("/search", json={"query": "LRUCache", "k": 3, "files": True})
    assert r.status_code == 200
    files = r.json()
    assert_ranked_files(files, 3)
    assert files[0]["path"] == "src/storage/cache.go" and files[0]["repo"] == "my repo"
    assert len(client.post("/search", json={"query": "retry", "k": 2, "files": True}).json()) == 2


def test_search_without_files_still_returns_chunks(client):
    hits = client.post("/search", json={"query": "LRUCache", "k": 3}).json()
    assert HIT_KEYS <= set(hits[0]) and "places" not in hits[0]


def test_files_with_rerank_is_a_400_and_files_must_be_a_boolean(client):
    assert client.post("/search", json={"query": "retry", "files": True, "rerank": True}).status_code == 400
    assert client.post("/search", json={"query": "retry", "files": "yes"}).status_code in (400, 422)


def test_the_files_field_is_documented_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SearchRequest"]
    assert "places" in schema["properties"]["files"]["description"]


# ----- CLI --------------------------------------------------------------------------------------------
def test_ragpilot_search_files_prints_files_with_their_places(repo, ragpilot_home, capsys):
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()
    assert main(["search", "--files", "LRUCache", "--repo", str(repo), "-k", "2", "--json"]) == 0
    files = json.loads(capsys.readouterr().out)
    assert_ranked_files(files, 2)
    assert files[0]["path"] == "src/storage/cache.go"

    assert main(["search", "--files", "LRUCache", "--repo", str(repo), "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1. src/storage/cache.go")
    place = files[0]["places"][0]
    assert lines[1].strip().startswith(f"src/storage/cache.go:{place['start_line']}-{place['end_line']}")
    assert sum(1 for line in lines if not line.startswith(" ")) == 2  # k counts files


# ----- MCP --------------------------------------------------------------------------------------------
def test_the_mcp_search_files_tool_lists_and_answers_ranked_files(served, index_settings):
    settings = ServeSettings(repos=[served.repos[0].root], index=index_settings)
    server = build_server(settings, served)

    async def run():
        tools = {t.name: t for t in await server.list_tools()}
        result = await server.call_tool("search_files", {"query": "LRUCache", "k": 2})
        only_web = await server.call_tool("search_files", {"query": "LRUCache", "k": 3, "path": "web"})
        return tools, result, only_web

    tools, result, only_web = anyio.run(run)
    assert {"query", "k", "path"} <= set(tools["search_files"].input_schema["properties"])
    assert tools["search_files"].input_schema["required"] == ["query"]
    files = result.structured_content["result"]
    assert_ranked_files(files, 2)
    assert files[0]["path"] == "src/storage/cache.go" and files[0]["repo"] == "my repo"
    assert all("citation" in p for p in files[0]["places"])
    web = only_web.structured_content["result"]
    assert web and all(f["path"].startswith("web/") for f in web)
