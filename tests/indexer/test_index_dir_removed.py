"""The index folder deleted under a running writer: it stops writing into the void, says so, and the
watcher re-creates the index from scratch under a new lock (real watchdog, real files, real LanceDB)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import pytest

from ragpilot.indexer.errors import IndexBusyError, IndexLostError
from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.watcher import RepoWatcher

DEADLINE_S = 30.0


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE_S):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)
    return value


def remove(index_dir) -> None:
    """rm -rf, as a user would (the watcher's heartbeat may be replacing its status file meanwhile)."""
    while index_dir.exists():
        shutil.rmtree(index_dir, ignore_errors=True)


def indexed_paths(index_dir) -> set[str]:
    try:
        return {key[0] for key in IndexStore.open(index_dir).all_keys()}
    except Exception:
        return set()


def test_a_watcher_whose_index_folder_is_deleted_recreates_it_under_a_new_lock(sample_repo, tmp_path):
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing")
    indexer = Indexer(sample_repo, settings).open()
    indexer.run_to_end()
    watcher = RepoWatcher(indexer, debounce_s=0.2).start()
    try:
        remove(index_dir)
        (sample_repo / "src/added_after.py").write_text("def added_after_the_wipe():\n    return 1\n")

        wait_for(lambda: watcher.generation == 1, "the watcher to re-create the index")
        wait_for(lambda: "src/added_after.py" in indexed_paths(index_dir), "the new file in the new index")
        assert indexed_paths(index_dir) >= {"src/http/retry.py", "docs/guide.md", "src/added_after.py"}
        state = watcher.state()
        assert state.live and state.index_recreated == 1 and state.index_lost is None
        assert "was removed" in (state.last_error or "")
        with pytest.raises(IndexBusyError):  # the new folder is guarded by the watcher's new lock
            Indexer(sample_repo, settings).open()

        (sample_repo / "docs/guide.md").unlink()  # and the watcher keeps the new index live
        wait_for(lambda: "docs/guide.md" not in indexed_paths(index_dir), "a later deletion to apply")
    finally:
        watcher.stop()
        indexer.close()


def test_a_removed_index_folder_is_noticed_without_any_file_change(sample_repo, tmp_path):
    index_dir = tmp_path / "idx"
    indexer = Indexer(sample_repo, IndexSettings(index_dir=index_dir, embedder="hashing")).open()
    indexer.run_to_end()
    watcher = RepoWatcher(indexer, debounce_s=0.2).start()
    try:
        remove(index_dir)
        wait_for(lambda: watcher.generation == 1, "the heartbeat to notice and the index to be re-created")
        assert "src/http/retry.py" in indexed_paths(index_dir)
    finally:
        watcher.stop()
        indexer.close()


def test_a_full_run_stops_writing_when_its_index_folder_is_removed(sample_repo, tmp_path):
    index_dir = tmp_path / "idx"
    indexer = Indexer(sample_repo, IndexSettings(index_dir=index_dir, embedder="hashing", files_per_batch=1))
    indexer.open()
    try:
        with pytest.raises(IndexLostError, match="was removed"):
            for event in indexer.run():
                if event.phase == "index" and index_dir.exists():
                    remove(index_dir)
    finally:
        indexer.close()
    assert not (index_dir / "lance").exists()  # nothing written into a folder nobody owns


def test_a_second_index_is_not_run_beside_a_watcher_whose_folder_was_recreated(sample_repo, tmp_path):
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing")
    indexer = Indexer(sample_repo, settings).open()
    indexer.run_to_end()
    watcher = RepoWatcher(indexer, debounce_s=0.2).start()
    try:
        remove(index_dir)
        wait_for(lambda: watcher.generation == 1, "the index to be re-created")
        with pytest.raises(IndexBusyError):
            Indexer(sample_repo, settings).open()
    finally:
        watcher.stop()
        indexer.close()
