"""The `ragpilot` command as a user runs it: real subprocesses, JSON contracts, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SUMMARY_KEYS = {"files_indexed", "files_unchanged", "files_deleted", "files_skipped", "chunks_total",
                "chunks_embedded", "seconds"}
HIT_KEYS = {"path", "start_line", "end_line", "score", "symbol", "language", "content"}


def ragpilot(*args: str, cwd: Path | None = None, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAGPILOT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_index_json_reports_the_summary_contract(sample_repo, tmp_path):
    result = ragpilot("index", str(sample_repo), "--embedder", "hashing", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert SUMMARY_KEYS <= set(summary)
    assert summary["files_indexed"] == 4 and summary["chunks_embedded"] == summary["chunks_total"]
    again = json.loads(ragpilot("index", str(sample_repo), "--json", "--embedder", "hashing",
                                home=tmp_path).stdout)
    assert again["chunks_embedded"] == 0 and again["files_unchanged"] == 4


def test_search_json_hits_are_relative_paths_with_lines(sample_repo, tmp_path):
    ragpilot("index", str(sample_repo), "--embedder", "hashing", home=tmp_path)
    result = ragpilot("search", "should_retry", "--json", "-k", "3", cwd=sample_repo, home=tmp_path)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert 1 <= len(hits) <= 3
    assert all(HIT_KEYS <= set(h) for h in hits)
    top = hits[0]
    assert top["path"] == "src/http/retry.py"
    lines = (sample_repo / top["path"]).read_text().splitlines()
    assert "should_retry" in "\n".join(lines[top["start_line"] - 1 : top["end_line"]])


def test_search_modes_are_selectable(sample_repo, tmp_path):
    ragpilot("index", str(sample_repo), "--embedder", "hashing", home=tmp_path)
    for mode in ("lexical", "dense", "hybrid"):
        result = ragpilot("search", "LRUCache", "--mode", mode, "--json", "--repo", str(sample_repo),
                          home=tmp_path)
        assert result.returncode == 0, (mode, result.stderr)
        assert json.loads(result.stdout), mode


def test_status_json_describes_the_index(sample_repo, tmp_path):
    ragpilot("index", str(sample_repo), "--embedder", "hashing", home=tmp_path)
    status = json.loads(ragpilot("status", str(sample_repo), "--json", home=tmp_path).stdout)
    assert status["indexed"] and status["files"] == 4 and status["embedder"] == "hashing"
    assert status["chunks"] > 0


@pytest.mark.parametrize("args, needle", [
    (("index", "does/not/exist"), "no such directory"),
    (("index", "README.md"), "not a directory"),
    (("search", "anything", "--repo", "."), "not indexed yet"),
])
def test_user_errors_are_one_clear_line_with_a_nonzero_exit(tmp_path, args, needle):
    (tmp_path / "README.md").write_text("hi\n")
    result = ragpilot(*args, cwd=tmp_path, home=tmp_path / "home")
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_searching_with_another_embedder_than_the_index_is_refused_with_the_fix(sample_repo, tmp_path):
    ragpilot("index", str(sample_repo), "--embedder", "hashing", home=tmp_path)
    result = ragpilot("index", str(sample_repo), "--embedder", "minilm-onnx", home=tmp_path)
    assert result.returncode != 0
    assert "--rebuild" in result.stderr and "Traceback" not in result.stderr


def test_the_quickstart_finds_code_by_meaning_with_the_default_embedder(sample_repo, tmp_path):
    index = ragpilot("index", ".", cwd=sample_repo, home=tmp_path)
    assert index.returncode == 0, index.stderr
    result = ragpilot("search", "evict the least recently used entry", "--json", "-k", "3",
                      cwd=sample_repo, home=tmp_path)
    hits = json.loads(result.stdout)
    assert hits[0]["path"] == "src/storage/cache.go"
    readable = ragpilot("search", "exponential backoff between attempts", cwd=sample_repo, home=tmp_path)
    assert readable.returncode == 0 and "src/http/retry.py" in readable.stdout
