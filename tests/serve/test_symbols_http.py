"""Symbol navigation where users and agents reach it: ``GET /symbols``, ``GET /symbols/references``, the
MCP tools ``find_symbol`` / ``find_references`` (called in process) and ``ragpilot def`` / ``ragpilot refs``,
over a real index of the sample repository (hashing embedder, real tree-sitter)."""

from __future__ import annotations

import json

import anyio
import pytest
from servers import client_for

from ragpilot.serve.cli import main
from ragpilot.serve.mcp import build_server
from ragpilot.serve.settings import ServeSettings

DEF_KEYS = {"name", "qualified", "kind", "path", "line", "line_end", "location", "signature", "parent",
            "language", "match", "repo"}


@pytest.fixture
def client(served, index_settings):
    with client_for(served, index_settings) as c:
        yield c


# ----- HTTP -------------------------------------------------------------------------------------------
def test_symbols_finds_a_method_by_its_qualified_name_with_location_and_signature(client):
    r = client.get("/symbols", params={"name": "LRUCache.Get"})
    assert r.status_code == 200
    found = r.json()["definitions"]
    assert DEF_KEYS <= set(found[0])
    assert (found[0]["location"], found[0]["match"], found[0]["kind"]) == ("src/storage/cache.go:10", "exact", "method")
    assert found[0]["signature"] == "func (c *LRUCache) Get(key string) (string, bool)"
    assert found[0]["repo"] == "my repo"


def test_symbols_ranks_exact_before_fuzzy_and_filters_by_kind(client):
    found = client.get("/symbols", params={"name": "retrypolicy"}).json()["definitions"]
    assert found[0]["qualified"] == "RetryPolicy" and found[0]["match"] == "case-insensitive"
    typo = client.get("/symbols", params={"name": "shuld_retry"}).json()["definitions"]
    assert [d["qualified"] for d in typo] == ["RetryPolicy.should_retry"] and typo[0]["match"] == "fuzzy"
    assert client.get("/symbols", params={"name": "shuld_retry", "fuzzy": "false"}).json()["definitions"] == []
    classes = client.get("/symbols", params={"name": "RetryPolicy", "kind": "method"}).json()["definitions"]
    assert classes == []


def test_an_unknown_symbol_is_an_empty_200(client):
    r = client.get("/symbols", params={"name": "NoSuchSymbolAnywhere"})
    assert r.status_code == 200 and r.json() == {"name": "NoSuchSymbolAnywhere", "definitions": []}
    r = client.get("/symbols/references", params={"name": "NoSuchSymbolAnywhere"})
    assert r.status_code == 200 and r.json()["references"] == []


def test_references_list_the_uses_of_a_name(client):
    r = client.get("/symbols/references", params={"name": "RetryPolicy.delay"})
    assert r.status_code == 200
    refs = r.json()["references"]
    assert {"location": "src/http/retry.py:23", "kind": "call"}.items() <= refs[0].items()
    assert all(ref["name"] == "delay" and ref["repo"] == "my repo" for ref in refs)


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/symbols", {}, "'name' is required"),
    ("/symbols", {"name": ""}, "empty"),
    ("/symbols", {"name": "x" * 5000}, "at most 200"),
    ("/symbols", {"name": "send", "limit": "0"}, "limit"),
    ("/symbols", {"name": "send", "limit": str(10**12)}, "limit"),
    ("/symbols", {"name": "send", "kind": "widget"}, "unknown symbol kind"),
    ("/symbols/references", {"name": "  "}, "empty"),
    ("/symbols/references", {"name": "send", "limit": "-5"}, "limit"),
])
def test_bad_input_is_a_400_with_an_openai_shaped_error(client, path, params, message):
    r = client.get(path, params=params)
    assert r.status_code == 400
    assert message in r.json()["error"]["message"]


def test_a_limit_that_is_not_a_number_is_a_400(client):
    r = client.get("/symbols", params={"name": "send", "limit": "many"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "limit"


def test_an_unknown_repository_is_a_404(client):
    r = client.get("/symbols", params={"name": "send", "repo": "elsewhere"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "repo_not_found"


def test_symbols_need_the_api_key_when_one_is_set(served, index_settings):
    with client_for(served, index_settings, api_key="s3cret-key-for-tests") as c:
        assert c.get("/symbols", params={"name": "LRUCache"}).status_code == 401
        ok = c.get("/symbols", params={"name": "LRUCache"},
                   headers={"Authorization": "Bearer s3cret-key-for-tests"})
        assert ok.status_code == 200 and ok.json()["definitions"]


# ----- MCP --------------------------------------------------------------------------------------------
def test_the_mcp_tools_find_definitions_and_references(served, index_settings):
    server = build_server(ServeSettings(repos=[served.repos[0].root], index=index_settings), served)

    async def run():
        tools = {t.name: t for t in await server.list_tools()}
        defs = await server.call_tool("find_symbol", {"name": "EvictOldest"})
        refs = await server.call_tool("find_references", {"name": "parseSearchQuery"})
        return tools, defs, refs

    tools, defs, refs = anyio.run(run)
    assert tools["find_symbol"].input_schema["required"] == ["name"]
    assert {"name", "kind", "fuzzy", "limit", "repo"} <= set(tools["find_symbol"].input_schema["properties"])
    found = defs.structured_content["result"]
    assert found[0]["qualified"] == "LRUCache.EvictOldest" and found[0]["location"] == "src/storage/cache.go:16"
    assert refs.structured_content["result"] == []  # defined, never used


def test_the_mcp_tools_refuse_bad_input_with_a_tool_error(served, index_settings):
    server = build_server(ServeSettings(repos=[served.repos[0].root], index=index_settings), served)

    async def call(args):
        try:
            result = await server.call_tool("find_symbol", args)
        except Exception as err:  # mcp raises ToolError from a tool
            return str(err)
        return json.dumps(result.content[0].text) if result.is_error else None

    assert "empty" in anyio.run(call, {"name": ""})
    assert "limit" in anyio.run(call, {"name": "Get", "limit": 100000})


# ----- CLI --------------------------------------------------------------------------------------------
def test_ragpilot_def_and_refs_print_locations_and_signatures(repo, ragpilot_home, capsys):
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()
    assert main(["def", "RetryPolicy.delay", "--repo", str(repo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "src/http/retry.py:17  method RetryPolicy.delay"
    assert lines[1].strip() == "def delay(self, attempt: int) -> float"

    assert main(["def", "lrucache", "--repo", str(repo), "--kind", "struct", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(d["qualified"], d["match"]) for d in found] == [("storage.LRUCache", "case-insensitive")]

    assert main(["refs", "delay", "--repo", str(repo)]) == 0
    assert capsys.readouterr().out.splitlines() == ["src/http/retry.py:23  call"]

    assert main(["def", "NoSuchThing", "--repo", str(repo), "--exact"]) == 0
    assert "no definition of NoSuchThing" in capsys.readouterr().out


def test_ragpilot_def_refuses_bad_input_in_one_line(repo, ragpilot_home, capsys):
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()
    assert main(["def", "", "--repo", str(repo)]) == 2
    assert "the symbol name is empty" in capsys.readouterr().err
    assert main(["refs", "a b", "--repo", str(repo)]) == 2
    assert "whitespace" in capsys.readouterr().err
    assert main(["def", "x", "--repo", str(repo), "-k", "0"]) == 2


def test_ragpilot_def_on_an_unindexed_repository_says_to_index_it(repo, ragpilot_home, capsys):
    assert main(["def", "Get", "--repo", str(repo)]) == 1
    assert "run `ragpilot index`" in capsys.readouterr().err


def test_terminal_control_characters_in_a_name_are_shown_not_obeyed(repo, ragpilot_home, capsys):
    (repo / "evil.py").write_text("def x\x1b_bad():\n    pass\n")
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()
    main(["def", "NoSuch\x1b[2J", "--repo", str(repo)])
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err
