"""Helpers for the file-watcher tests (this module holds no tests): polling with a deadline, unique
markers, and a Harness of repository + open indexer + running watcher + a separate reader."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.watcher import BatchReport, RepoWatcher

DEADLINE_S = 20.0  # generous: two shared cores, LanceDB compaction after every batch


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE_S):
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def token() -> str:
    return "tok" + uuid.uuid4().hex[:12]


def py_source(name: str, marker: str) -> str:
    return f'def {name}():\n    """Returns a marker."""\n    return "{marker}"\n'


class Harness:
    """A repository, an open indexer and a running watcher; readers use a separate IndexStore."""

    def __init__(self, repo: Path, settings: IndexSettings, **watcher_kwargs):
        self.repo = repo
        self.settings = settings
        self.index_dir = settings.index_dir_for(repo)
        self.reports: list[BatchReport] = []
        self.indexer = Indexer(repo, settings).open()
        self.indexer.run_to_end()
        watcher_kwargs.setdefault("debounce_s", 0.2)
        self.watcher = RepoWatcher(self.indexer, on_batch=self.reports.append, **watcher_kwargs).start()
        self._reader = IndexStore.open(self.index_dir)

    def close(self) -> None:
        self.watcher.stop()
        self.indexer.close()

    def rows(self, rel: str) -> list[dict]:
        return self._reader.rows_for_path(rel)

    def text(self, rel: str) -> str:
        return "\n".join(r["content"] for r in self.rows(rel))

    def paths(self) -> set[str]:
        return set(self._reader.table.to_arrow().column("path").to_pylist())

    def settled(self) -> bool:
        return self.watcher.idle()

    def write(self, rel: str, text: str) -> Path:
        path = self.repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
