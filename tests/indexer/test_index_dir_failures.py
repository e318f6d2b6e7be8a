"""The index directory fails under the indexer: not creatable, read-only, disk full.

Each failure is one clear error (never a traceback), the index keeps its last complete state (no
half-written file is visible), and the next run, once the problem is gone, completes and equals a
fresh index of the same tree.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import lancedb.merge
import pytest

from ragpilot.indexer.catalog import CATALOG_FILE
from ragpilot.indexer.errors import IndexMissingError, RagpilotError
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import META_FILE, IndexStore


def make_repo(root: Path, files: int) -> None:
    for i in range(files):
        (root / f"pkg{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"pkg{i % 3}" / f"mod_{i}.py").write_text(
            f"def helper_{i}(values):\n    return sum(v + {i} for v in values)\n\n\n"
            f"class Worker{i}:\n    def run(self):\n        return helper_{i}([{i}])\n"
        )


def settings(index_dir: Path, **kw) -> IndexSettings:
    return IndexSettings(index_dir=index_dir, embedder="hashing", **kw)


def state(index_dir: Path, *, unfinished: bool = False) -> tuple[list, dict]:
    """What a reader sees: every row key, and the catalog's records (``unfinished``: what is on disk of
    a first index that did not complete, which readers refuse)."""
    store = IndexStore(index_dir, IndexStore.read_meta(index_dir)) if unfinished else IndexStore.open(index_dir)
    keys = store.all_keys()
    with closing(sqlite3.connect(index_dir / CATALOG_FILE)) as conn:  # closed now, not at the next GC
        catalog = {r[0]: r[1:] for r in conn.execute("SELECT path, mtime_ns, size, sha256, chunks FROM files")}
    return keys, catalog


def meta(index_dir: Path) -> dict:
    """meta.json without its timestamp (opening an index for writing refreshes ``updated_at``)."""
    data = json.loads((index_dir / META_FILE).read_text())
    data.pop("updated_at")
    return data


def fresh_keys(repo: Path, tmp: Path) -> list:
    fresh = tmp / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    index_repo(repo, settings(fresh))
    return IndexStore.open(fresh).all_keys()


def _no_dac_override() -> None:
    """Root ignores file modes; dropping these capabilities in the child makes chmod bind it too."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(97)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    if result.returncode == 97:
        pytest.skip("running as root without CAP_SETPCAP: file modes cannot be made to bind")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert all(n in errors[0] for n in needles), result.stderr


# ----- cannot be created / written -----------------------------------------------------------------


# ----- disk full -------------------------------------------------------------------------------------


@pytest.fixture
def disk_full_after(monkeypatch):
    """Make the n-th and later LanceDB commits fail as a full disk does."""
    real = lancedb.merge.LanceMergeInsertBuilder.execute
    budget = {"calls_left": 10**9}

    def execute(self, *args, **kwargs):
        if budget["calls_left"] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        budget["calls_left"] -= 1
        return real(self, *args, **kwargs)

    def install(n_ok: int) -> None:
        budget["calls_left"] = n_ok

    monkeypatch.setattr(lancedb.merge.LanceMergeInsertBuilder, "execute", execute)
    return install


def test_disk_full_on_the_store_write_is_a_clear_error_and_the_index_is_unchanged(tmp_path, disk_full_after):
    repo = tmp_path / "repo"
    make_repo(repo, 9)
    index_dir = tmp_path / "idx"
    index_repo(repo, settings(index_dir))
    before = state(index_dir)
    meta_before = meta(index_dir)
    (repo / "pkg0" / "mod_0.py").write_text("def edited_before_the_disk_filled():\n    return 0\n")
    (repo / "pkg1" / "mod_1.py").unlink()
    (repo / "pkg2" / "new_file.py").write_text("def added_before_the_disk_filled():\n    return 1\n")

    disk_full_after(0)
    with pytest.raises(RagpilotError, match="No space left on device") as failure:
        index_repo(repo, settings(index_dir))
    assert "--index-dir" in str(failure.value) and "\n" not in str(failure.value)
    assert state(index_dir) == before
    assert meta(index_dir) == meta_before

    disk_full_after(10**9)  # the disk has room again
    index_repo(repo, settings(index_dir))
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)


def test_disk_full_mid_run_leaves_only_whole_files_and_the_next_run_heals(tmp_path, disk_full_after):
    repo = tmp_path / "repo"
    make_repo(repo, 30)
    index_dir = tmp_path / "idx"
    disk_full_after(2)  # two batches of 4 files are committed, the third fails
    with pytest.raises(RagpilotError, match="No space left on device"):
        index_repo(repo, settings(index_dir, files_per_batch=4))

    with pytest.raises(IndexMissingError, match="did not finish"):
        IndexStore.open(index_dir)  # readers are told to complete the index, not shown part of it
    keys, catalog = state(index_dir, unfinished=True)
    disk_full_after(10**9)  # the disk has room again
    expected = fresh_keys(repo, tmp_path)
    done = {k[0] for k in keys}
    assert len(done) == 8 and set(catalog) == done  # recorded as done exactly when written
    assert keys == [k for k in expected if k[0] in done]  # each visible file is complete

    summary = index_repo(repo, settings(index_dir, files_per_batch=4))
    assert summary.files_unchanged == 8 and summary.files_indexed == 22
    assert IndexStore.open(index_dir).all_keys() == expected


def test_a_full_embedding_cache_is_a_clear_error_and_the_index_is_unchanged(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 6)
    index_dir = tmp_path / "idx"
    index_repo(repo, settings(index_dir))
    before = state(index_dir)
    (repo / "pkg0" / "mod_0.py").write_text("def needs_a_new_embedding():\n    return 0\n")

    indexer = Indexer(repo, settings(index_dir)).open()
    try:
        pages = indexer.cache.conn.execute("PRAGMA page_count").fetchone()[0]
        indexer.cache.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full"
        with pytest.raises(RagpilotError, match="full"):
            indexer.run_to_end()
    finally:
        indexer.close()
    assert state(index_dir) == before

    index_repo(repo, settings(index_dir))
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)


def test_a_failed_meta_write_keeps_the_previous_meta_file(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    make_repo(repo, 3)
    index_dir = tmp_path / "idx"
    index_repo(repo, settings(index_dir))
    meta_before = (index_dir / META_FILE).read_text()
    real_replace = os.replace

    def full(src, dst, *a, **kw):
        if str(dst).endswith(META_FILE):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", full)
    (repo / "pkg0" / "mod_0.py").write_text("def edited():\n    return 0\n")
    with pytest.raises(RagpilotError, match="No space left on device"):
        index_repo(repo, settings(index_dir))
    assert (index_dir / META_FILE).read_text() == meta_before
    assert not (index_dir / (META_FILE + ".tmp")).exists()
    monkeypatch.undo()
    index_repo(repo, settings(index_dir))
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)


def test_rebuild_deletes_only_the_index_own_files_in_a_shared_folder(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 3)
    shared = tmp_path / "shared"  # --index-dir pointed at a folder that already holds other things
    (shared / "notes").mkdir(parents=True)
    (shared / "notes" / "todo.txt").write_text("keep me\n")
    (shared / "report.lance").write_text("not ours either\n")
    index_repo(repo, settings(shared))
    index_repo(repo, settings(shared), rebuild=True)
    assert (shared / "notes" / "todo.txt").read_text() == "keep me\n"
    assert (shared / "report.lance").exists()
    assert IndexStore.open(shared).all_keys() == fresh_keys(repo, tmp_path)
