"""`kill -9` at any point of indexing: the next run completes and equals a fresh index of the same tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore


def make_repo(root: Path, files: int) -> None:
    for i in range(files):
        pkg = root / f"pkg{i % 7}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"mod_{i}.py").write_text(
            f'"""Module {i}."""\n\n\nclass Worker{i}:\n    def run_{i}(self, x):\n        return x * {i}\n\n\n'
            f"def helper_{i}(values):\n    total = 0\n    for v in values:\n        total += v + {i}\n"
            f"    return total\n"
        )


def start_index(repo: Path, index_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "RAGPILOT_FILES_PER_BATCH": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "ragpilot.serve.cli", "index", str(repo), "--index-dir", str(index_dir),
         "--embedder", "hashing", "--json"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("kill_after_s", [0.5, 1.5, 3.0, 5.0])
def test_an_index_killed_mid_run_heals_to_equal_a_fresh_index(tmp_path, kill_after_s):
    repo = tmp_path / "repo"
    make_repo(repo, 240)
    index_dir = tmp_path / "idx"
    proc = start_index(repo, index_dir)
    time.sleep(kill_after_s)
    finished_first = proc.poll() is not None
    if not finished_first:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    # Edit and delete while "down", as a user would, then run again to completion.
    (repo / "pkg0/mod_0.py").write_text("def changed_while_down():\n    return 1\n")
    (repo / "pkg1/mod_1.py").unlink()
    index_repo(repo, IndexSettings(index_dir=index_dir, embedder="hashing"))
    healed = IndexStore.open(index_dir).all_keys()

    fresh_dir = tmp_path / "fresh"
    index_repo(repo, IndexSettings(index_dir=fresh_dir, embedder="hashing"))
    fresh = IndexStore.open(fresh_dir).all_keys()

    assert len(healed) == len(set(healed)), "duplicate rows after recovery"
    assert healed == fresh
    assert not any(k[0] == "pkg1/mod_1.py" for k in healed), "a deleted file came back as a ghost"


def test_a_damaged_index_is_reported_with_the_rebuild_command(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing")
    index_repo(sample_repo, settings)
    (index_dir / "meta.json").write_text("{ truncated")
    result = subprocess.run(
        [sys.executable, "-m", "ragpilot.serve.cli", "search", "retry", "--repo", str(sample_repo),
         "--index-dir", str(index_dir)],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "ragpilot index --rebuild" in result.stderr
    assert "Traceback" not in result.stderr
    rebuilt = subprocess.run(
        [sys.executable, "-m", "ragpilot.serve.cli", "index", str(sample_repo), "--index-dir", str(index_dir),
         "--embedder", "hashing", "--rebuild", "--json"],
        capture_output=True, text=True,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert IndexStore.open(index_dir).count_chunks() > 0


def test_a_truncated_lance_table_is_reported_not_a_traceback(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, IndexSettings(index_dir=index_dir, embedder="hashing"))
    for data_file in (p for p in (index_dir / "lance").rglob("*.lance") if p.is_file()):
        data_file.write_bytes(data_file.read_bytes()[:10])
    result = subprocess.run(
        [sys.executable, "-m", "ragpilot.serve.cli", "search", "retry", "--repo", str(sample_repo),
         "--index-dir", str(index_dir), "--json"],
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--rebuild" in result.stderr
