"""``ragpilot mcp`` as an MCP client launches it: a subprocess spoken to over stdio with the mcp
package's own client (and once byte by byte, to prove stdout carries protocol messages only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from servers import index_with_hashing

mcp = pytest.importorskip("mcp")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def indexed_repo(tmp_path_factory) -> tuple[Path, Path]:
    from samples import SAMPLE_FILES, write_files

    base = tmp_path_factory.mktemp("mcp")
    repo, home = base / "repo", base / "home"
    repo.mkdir()
    write_files(repo, SAMPLE_FILES)
    index_with_hashing(repo, home)
    return repo, home


def server_params(repo: Path, home: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "ragpilot.serve.cli", "mcp", "--embedder", "hashing", *extra, str(repo)],
        env={"RAGPILOT_HOME": str(home), "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )


@pytest.fixture(scope="module")
def session(indexed_repo) -> dict:
    """One server process, the calls every test below looks at (starting a server takes seconds)."""
    repo, home = indexed_repo

    async def go() -> dict:
        async with Client(server_params(repo, home)) as client:
            return {
                "tools": {t.name: t for t in (await client.list_tools()).tools},
                "search": await client.call_tool("search_code", {"query": "LRUCache EvictOldest", "k": 2}),
                "search_web": await client.call_tool("search_code", {"query": "LRUCache", "k": 3, "path": "web"}),
                "context_small": await client.call_tool(
                    "get_context", {"question": "how is a retry delayed", "budget_tokens": 120}),
                "context": await client.call_tool("get_context", {"question": "how is a retry delayed"}),
                "status": await client.call_tool("index_status", {}),
                "map": await client.call_tool("repo_map", {"question": "LRUCache", "budget_tokens": 200}),
                "bad_k": await client.call_tool("search_code", {"query": "retry", "k": 0}),
                "empty": await client.call_tool("get_context", {"question": "  "}),
                "after_errors": await client.call_tool("search_code", {"query": "retry", "k": 1}),
            }

    return anyio.run(go)


def test_the_mcp_server_lists_its_tools_with_their_arguments(session):
    tools = session["tools"]
    assert {"search_code", "search_files", "get_context", "repo_map", "index_status"} <= set(tools)
    assert {"question", "budget_tokens", "repo"} <= set(tools["repo_map"].input_schema["properties"])
    assert {"query", "k", "path"} <= set(tools["search_code"].input_schema["properties"])
    assert tools["search_code"].input_schema["required"] == ["query"]
    assert {"question", "budget_tokens"} <= set(tools["get_context"].input_schema["properties"])


def test_search_code_returns_ranked_snippets_with_paths_and_lines(session):
    everywhere, in_web = session["search"], session["search_web"]
    assert not everywhere.is_error
    hits = everywhere.structured_content["result"]
    assert 1 <= len(hits) <= 2
    assert hits[0]["path"] == "src/storage/cache.go"
    assert hits[0]["citation"] == f"src/storage/cache.go:{hits[0]['start_line']}-{hits[0]['end_line']}"
    assert "func (c *LRUCache) Get" in hits[0]["content"]
    assert "src/storage/cache.go" in everywhere.content[0].text  # the text form carries the same data
    assert in_web.structured_content["result"]
    assert all(h["path"].startswith("web/") for h in in_web.structured_content["result"])


def test_get_context_assembles_cited_snippets_within_the_budget(session):
    small, big = session["context_small"].content[0].text, session["context"].content[0].text
    assert "[1] src/http/retry.py:" in big and "quoted for reference" in big
    assert len(small) < len(big)
    assert len(small) // 3 <= 120 + 40  # the budget is in (approximate) tokens


def test_repo_map_answers_a_map_personalised_by_the_question(session):
    result = session["map"]
    assert not result.is_error
    lines = result.content[0].text.splitlines()
    assert lines[0].startswith("# ") and lines[1] == "src/storage/cache.go"
    assert any("LRUCache" in line for line in lines[2:])


def test_index_status_reports_the_repository(session, indexed_repo):
    repo, _ = indexed_repo
    (info,) = json.loads(session["status"].content[0].text)["repos"]
    assert info["root"] == str(repo.resolve()) and info["indexed"] and info["embedder"] == "hashing"
    assert info["indexing"]["phase"] in ("scan", "index", "optimize", "ready")


def test_a_bad_tool_call_is_a_tool_error_not_a_dead_server(session):
    bad, empty, good = session["bad_k"], session["empty"], session["after_errors"]
    assert bad.is_error and "k must be" in bad.content[0].text
    assert empty.is_error and "empty" in empty.content[0].text
    assert not good.is_error


def test_stdout_carries_nothing_but_json_rpc_messages(indexed_repo):
    repo, home = indexed_repo
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "search_code", "arguments": {"query": "retry", "k": 1}}},
    ]
    errlog = home.parent / "mcp-stderr.log"
    with open(errlog, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragpilot.serve.cli", "-vv", "mcp", "--embedder", "hashing", str(repo)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
            env={**os.environ, "RAGPILOT_HOME": str(home)},
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
        proc.stdin.flush()
        messages = []
        while not any(m.get("id") == 2 for m in messages):
            line = proc.stdout.readline()
            if not line:
                break
            if line.strip():
                messages.append(json.loads(line))  # any stray print would fail here
        proc.stdin.close()
        proc.wait(timeout=60)
    stderr_text = errlog.read_text()
    assert messages, stderr_text
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    assert {m.get("id") for m in messages} >= {1, 2}
    assert "src/http/retry.py" in json.dumps(next(m for m in messages if m.get("id") == 2))
    assert "DEBUG" in stderr_text or "INFO" in stderr_text  # the logging that was asked for went to stderr
