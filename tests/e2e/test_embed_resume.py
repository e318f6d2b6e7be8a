"""`kill -9` during the embedding phase of a real `ragpilot index` (real MiniLM): the index was already
searchable, and the next run embeds only the rows still missing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ragpilot.indexer.store import EMBEDDED, READY, IndexStore
from ragpilot.retrieval.searcher import Searcher

from test_crash_safety import make_repo  # noqa: E402 - tests/e2e is on sys.path (rootdir conftest)


def ragpilot_index(repo: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "ragpilot.serve.cli", "index", str(repo), "--index-dir", str(index_dir), "--json"]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def embedded_now(index_dir: Path) -> tuple[int, int]:
    meta = IndexStore.read_meta(index_dir) if (index_dir / "meta.json").exists() else None
    if meta is None or meta.state != READY:
        return (0, 0)
    return IndexStore.open(index_dir).embedded_counts()


def test_an_index_killed_while_embedding_was_searchable_and_resumes_with_only_the_missing_rows(tmp_path):
    repo = tmp_path / "repo"
    # ~5 embedding batches of 128 chunks (one chunk a file), a few seconds each: the kill lands with
    # batches still to come. With 150 (two batches, the second a fraction of a second) a fast machine
    # finished the run between seeing the first vectors and the kill.
    make_repo(repo, 600)
    index_dir = tmp_path / "idx"
    proc = subprocess.Popen(ragpilot_index(repo, index_dir), env={**os.environ}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        # Ready (lexically searchable) before the first vector is filled in; then some vectors, not all.
        wait_for(lambda: embedded_now(index_dir)[1] > 0 or proc.poll() is not None, 120, "the index to be ready")
        assert proc.poll() is None, "the run ended before it could be killed mid-embedding"
        searcher = Searcher.for_index(index_dir)
        assert searcher.search("helper_7 values total", k=5)[0].path == "pkg0/mod_7.py"
        wait_for(lambda: embedded_now(index_dir)[0] > 0, 120, "the first vectors")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done, total = IndexStore.open(index_dir).embedded_counts()
    assert 0 < done < total, "killed too late: nothing left to resume"

    again = subprocess.run(ragpilot_index(repo, index_dir), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["files_indexed"] == 0  # nothing chunked into new rows
    # Every missing row is filled exactly once, from the model or from vectors the killed run cached
    # just before the kill; rows already filled are not embedded again.
    assert summary["chunks_embedded"] + summary["chunks_cached"] == total - done
    assert summary["chunks_pending"] == 0
    store = IndexStore.open(index_dir)
    assert store.embedded_counts() == (total, total)
    rows = store.table.to_arrow().select(["vector", EMBEDDED]).to_pylist()
    assert all(r[EMBEDDED] and abs(np.linalg.norm(r["vector"]) - 1.0) < 1e-3 for r in rows)
    assert store.meta.fts_stale_rows == 0 and store.unindexed_rows() == 0


def test_on_a_terminal_index_says_when_search_works_and_counts_chunks_while_embedding(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 20)
    result = subprocess.run(ragpilot_index(repo, tmp_path / "idx")[:-1] + ["--embedder", "hashing"],
                            env={**os.environ, "FORCE_COLOR": "1", "COLUMNS": "160"},  # rich: a terminal
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stderr)
    assert "searchable now (lexical); embedding 20 chunks" in shown
    assert "/20 chunks" in shown.split("searchable now", 1)[1]  # the bar now counts chunks, not files
    assert "error" not in shown
