"""The index directory fails under the indexer: not creatable, read-only, disk full.

Each failure is one clear error (never a traceback), the index keeps its last complete state (no
half-written file is visible), and the next run, once the problem is gone, completes and equals a
fresh index of the same tree.
"""

from __future__ import annotations

import errno
import os

import pytest

from ragpilot.indexer.errors import IndexMissingError, RagpilotError
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.store import META_FILE, IndexStore

from index_dirs import (
    fresh_keys,
    make_repo,
    meta,
    settings,
    state,
)


# ----- disk full -------------------------------------------------------------------------------------


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


def test_a_full_embedding_cache_during_a_watcher_edit_is_a_clear_error_and_the_index_is_unchanged(tmp_path):
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
            indexer.update(["pkg0/mod_0.py"])  # a small edit is embedded before its rows are written
    finally:
        indexer.close()
    assert state(index_dir) == before

    index_repo(repo, settings(index_dir))
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)


def test_a_full_embedding_cache_during_a_full_run_is_a_clear_error_after_the_rows_are_written(tmp_path):
    """Search first, embed after: the rows (whole files, searchable by text) are committed before
    embedding, so the error leaves them in place unembedded, and the next run embeds only those."""
    repo = tmp_path / "repo"
    make_repo(repo, 6)
    index_dir = tmp_path / "idx"
    index_repo(repo, settings(index_dir))
    (repo / "pkg0" / "mod_0.py").write_text("def needs_a_new_embedding():\n    return 0\n")

    indexer = Indexer(repo, settings(index_dir)).open()
    try:
        pages = indexer.cache.conn.execute("PRAGMA page_count").fetchone()[0]
        indexer.cache.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full"
        with pytest.raises(RagpilotError, match="full"):
            indexer.run_to_end()
    finally:
        indexer.close()
    store = IndexStore.open(index_dir)
    assert store.all_keys() == fresh_keys(repo, tmp_path)  # every file whole, the edit included
    pending = store.pending_count()
    assert pending > 0

    summary = index_repo(repo, settings(index_dir))
    assert summary.files_indexed == 0 and summary.chunks_embedded == pending
    assert IndexStore.open(index_dir).pending_count() == 0


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
