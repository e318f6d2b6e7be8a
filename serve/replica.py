"""A read-only replica's view of an index: each request reads one version, and the view moves to the
writer's newest version every ``refresh_s`` seconds (``serve --read-only``, DEPLOY.md).

Why pinned, not "always the latest": a search reads the table several times (full-text, vectors, rows);
following the latest commit, a commit landing in between would mix two versions in one answer. Here a
request takes the current :class:`~ragpilot.retrieval.searcher.Searcher` once, and that searcher's
table is checked out at one version. The refresher builds the next one beside it (the dense vectors
carry over: only new rows are read) and swaps the reference; requests already running finish on theirs.

A version stays readable after a newer one lands until the writer's optimize removes versions older
than 5 minutes (store.py), so ``refresh_s`` must stay well below that.

An index on object storage is read from a local copy that each look brings up to date first
(indexer/store_mirror.py): queries then cost what they cost on a local folder.
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
from ..indexer.store_mirror import StoreMirror, mirrors
from ..indexer.store_uri import binding
from ..retrieval.searcher import Searcher
from ..retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)


class PinnedView:
    """One index as a replica serves it."""

    def __init__(self, index_dir: Path, embedder: Callable[[], Embedder], retrieval: RetrievalSettings | None,
                 *, mirror: bool = True):
        self.index_dir = index_dir
        shared = binding(index_dir)
        # Object storage: read a local copy (``<index_dir>/mirror``), brought up to date by each look.
        self.mirror = StoreMirror(shared, index_dir / "mirror") if mirror and mirrors(shared) else None
        self.read_dir = self.mirror.view_dir if self.mirror is not None else index_dir
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
        """The newest version of a complete index, or None while it is being (re)built. When the table has
        no new version, the meta row is not read again (one object-store round trip less per look)."""
        if self.mirror is not None:
            self.mirror.sync()
        if self._probe is not None and self.version is not None:
            try:
                if self._probe.table.version == self.version:
                    return self.version
            except RagpilotError:
                self._probe = None  # the table was dropped and made again (--rebuild): reopen below
        meta = IndexStore.read_meta(self.read_dir)
        if meta is None or meta.state != READY:
            return None
        if self._probe is None:
            self._probe = IndexStore(self.read_dir, meta)
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
                        fresh = Searcher.for_index(self.read_dir, embedder=self._embedder(),
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
            except Exception as err:  # anything else must not end the refresher: say it, keep serving
                self.error = f"refreshing failed unexpectedly: {err}"
                log.exception("refreshing the replica of %s failed", self.index_dir)
            return self.version

    def status(self) -> dict:
        return {"version": self.version, "refreshed_at": self.refreshed_at, "error": self.error,
                "local_copy": str(self.mirror.db) if self.mirror is not None else None}


class Refresher:
    """One daemon thread moving every view to its newest version, so that a commit is served within
    ``interval_s`` seconds (``--refresh-seconds``).

    A commit waits for the next look, then for that look to open it (~0.3 s on S3 for a small index:
    the version list, the meta row, an integrity check). So the looks come ``interval_s`` minus the
    slowest of the recent passes apart (at least ``MIN_LOOK_S``), starting at a fixed rate: the bound the
    user set holds while opening costs what it has cost lately."""

    MIN_LOOK_S = 0.25
    RECENT_PASSES = 8

    def __init__(self, views: Sequence[PinnedView], interval_s: float):
        self.views = list(views)
        self.interval_s = interval_s
        self._passes: list[float] = []  # seconds of the recent passes that opened a new version
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ragpilot-replica-refresh", daemon=True)

    def start(self) -> None:
        """The first look here, before the server accepts requests (it runs in the app's start-up): a
        replica that answers its health check already serves a version (or says why not)."""
        for view in self.views:
            view.refresh()
        self._thread.start()

    def look_interval(self) -> float:
        """Seconds from the start of one look to the next."""
        cost = max(self._passes, default=0.0)
        return max(self.MIN_LOOK_S, self.interval_s - cost)

    def _run(self) -> None:
        due = time.monotonic()
        while True:
            started = time.monotonic()
            before = [view.version for view in self.views]
            for view in self.views:
                view.refresh()
            if [view.version for view in self.views] != before:  # a pass that opened a version
                self._passes = [*self._passes, time.monotonic() - started][-self.RECENT_PASSES:]
            due = max(due + self.look_interval(), time.monotonic())
            if self._stop.wait(due - time.monotonic()):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval_s + 30)
