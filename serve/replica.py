"""A read-only replica's view of an index: each request reads one version, and the view moves to the
writer's newest version every ``refresh_s`` seconds (``serve --read-only``, DEPLOY.md).

Why pinned, not "always the latest": a search reads the table several times (full-text, vectors, rows);
following the latest commit, a commit landing in between would mix two versions in one answer. Here a
request takes the current :class:`~ragpilot.retrieval.searcher.Searcher` once, and that searcher's
table is checked out at one version. The refresher builds the next one beside it (the dense vectors
carry over: only new rows are read) and swaps the reference; requests already running finish on theirs.

A version stays readable after a newer one lands until the writer's optimize removes versions older
than 5 minutes (store.py), so ``refresh_s`` must stay well below that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..indexer.embedders import Embedder
from ..indexer.errors import IndexMissingError, RagpilotError
from ..indexer.store import READY, IndexStore
from ..retrieval.searcher import Searcher
from ..retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)


class PinnedView:
    """One index as a replica serves it."""

    def __init__(self, index_dir: Path, embedder: Callable[[], Embedder], retrieval: RetrievalSettings | None):
        self.index_dir = index_dir
        self._embedder = embedder
        self.retrieval = retrieval
        self._searcher: Searcher | None = None
        self._probe: IndexStore | None = None  # follows the latest commit, to see new versions
        self._lock = threading.Lock()
        self.version: int | None = None
        self.refreshed_at: float | None = None
        self.error: str | None = None

    def searcher(self) -> Searcher:
        searcher = self._searcher
        if searcher is None:
            self.refresh()
            searcher = self._searcher
            if searcher is None:
                raise IndexMissingError(self.error or f"the index at {self.index_dir} is not ready yet")
        return searcher

    def latest_version(self) -> int | None:
        """The newest version of a complete index, or None while it is being (re)built."""
        meta = IndexStore.read_meta(self.index_dir)
        if meta is None or meta.state != READY:
            return None
        if self._probe is None:
            self._probe = IndexStore(self.index_dir, meta)
        try:
            return self._probe.table.version
        except RagpilotError:
            self._probe = None  # the table was dropped and made again (--rebuild): reopen next time
            raise

    def refresh(self) -> int | None:
        """Move to the newest version if there is one; returns the version served now."""
        with self._lock:
            started = time.monotonic()
            try:
                latest = self.latest_version()
                if latest is not None and latest != self.version:
                    current = self._searcher
                    if current is None:
                        fresh = Searcher.for_index(self.index_dir, embedder=self._embedder(),
                                                   settings=self.retrieval, version=latest)
                    else:
                        fresh = current.at_version(latest)
                    self._searcher, self.version = fresh, latest
                    log.info("replica of %s now serves version %d (opened in %.2f s)", self.index_dir, latest,
                             time.monotonic() - started)
                elif latest is None and self._searcher is None:
                    self.error = f"the index at {self.index_dir} is being built; try again shortly"
                    return None
                self.refreshed_at = time.time()
                self.error = None
            except RagpilotError as err:  # unreachable store, damaged version: keep serving the last one
                self.error = str(err)
                log.warning("refreshing the replica of %s failed: %s", self.index_dir, err)
            return self.version

    def status(self) -> dict:
        return {"version": self.version, "refreshed_at": self.refreshed_at, "error": self.error}


class Refresher:
    """One daemon thread moving every view to its newest version each ``interval_s`` seconds."""

    def __init__(self, views: Sequence[PinnedView], interval_s: float):
        self.views = list(views)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ragpilot-replica-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        """At a fixed rate (the next look is due ``interval_s`` after the last one started, not ended), so
        a commit waits at most one interval plus the time to open it."""
        due = time.monotonic()
        while True:
            for view in self.views:
                view.refresh()
            due = max(due + self.interval_s, time.monotonic())
            if self._stop.wait(due - time.monotonic()):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval_s + 30)
