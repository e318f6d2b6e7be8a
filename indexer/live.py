"""One lifecycle for a repository this process keeps live: open, index, watch, stop.

``ragpilot watch``, ``ragpilot serve`` and ``ragpilot mcp`` all run it: take the writer lock, bring the
index in line with the working tree (progress recorded as :class:`IndexingState`, data for ``/status``),
then hand the open indexer to a :class:`RepoWatcher` (or release the lock), and finally stop both.
The start-up pass writes rows and the full-text index only (the index is searchable at "ready"); the
watcher then embeds in the background while no change is pending. Without a watcher the pass embeds
before it releases the lock (phase ``embed``; the index is already searchable then).
Another process holding the writer lock is either an error (``watch``) or a reason to serve read-only
(``serve``, ``mcp``: the other process keeps the index current).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .embedders import Embedder
from .errors import IndexBusyError, RagpilotError
from .pipeline import Indexer, Progress
from .settings import IndexSettings
from .watch_status import BatchReport, WatcherState
from .watcher import RepoWatcher

log = logging.getLogger(__name__)

WORKING_PHASES = ("pending", "scan", "index", "optimize", "embed")


@dataclass
class IndexingState:
    """Where the start-up indexing is: pending, scan, index, optimize, then ready, read-only (another
    process holds the writer lock), failed or interrupted; skipped when indexing is turned off."""

    phase: str = "pending"
    files_total: int = 0
    files_done: int = 0
    chunks_embedded: int = 0
    embed_done: int = 0  # rows whose vector this pass filled in, of embed_total (phase "embed")
    embed_total: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    summary: dict | None = None

    @property
    def working(self) -> bool:
        return self.phase in WORKING_PHASES

    def to_json(self) -> dict:
        """For ``/status``: the counts, without the skipped paths (up to 1,000 per reason on a big tree;
        the web page fetches them on demand)."""
        data = asdict(self)
        if data["summary"]:
            data["summary"] = {k: v for k, v in data["summary"].items() if k != "skipped_examples"}
        return data


class LiveIndex:
    """A repository's writer side: its :class:`Indexer` (holding the lock) and its :class:`RepoWatcher`."""

    def __init__(self, repo: str | Path, settings: IndexSettings | None = None, *,
                 embedder: Embedder | None = None, embedder_name: str | None = None,
                 debounce_s: float = 0.25, polling: bool | None = None,
                 on_batch: Callable[[BatchReport], None] | None = None):
        self._indexer_args = (repo, settings)
        self.embedder = embedder  # shared with the searcher when the caller has one
        self.embedder_name = embedder_name
        self.debounce_s = debounce_s
        self.polling = polling
        self.on_batch = on_batch
        self.state = IndexingState()
        self.indexer: Indexer | None = None
        self.watcher: RepoWatcher | None = None

    def start(self, *, watch: bool = True, on_progress: Callable[[Progress], None] | None = None,
              stop: threading.Event | None = None, read_only_if_busy: bool = False) -> bool:
        """The start-up pass (holding the writer lock), then the watcher, or release the lock.

        Returns whether this process now keeps the index live. ``stop`` (shutdown) ends the pass between
        batches; what was written so far is kept. With ``read_only_if_busy`` another writer is not an
        error: the state becomes ``read-only`` and nothing is written."""
        st = self.state
        st.phase, st.started_at, st.error = "scan", time.time(), None
        repo, settings = self._indexer_args
        indexer = Indexer(repo, settings, embedder=self.embedder, embedder_name=self.embedder_name)
        try:
            indexer.open()
        except IndexBusyError as err:
            if not read_only_if_busy:
                st.phase, st.finished_at, st.error = "failed", time.time(), str(err)
                raise
            log.warning("%s: %s; serving it read-only (the other process keeps it up to date)",
                        indexer.root.name, err)
            st.phase, st.finished_at, st.error = "read-only", time.time(), str(err)
            return False
        try:
            for event in indexer.run(embed=not watch):
                st.phase, st.files_total, st.files_done = event.phase, event.files_total, event.files_done
                st.chunks_embedded = event.chunks_embedded
                st.embed_done, st.embed_total = event.embed_done, event.embed_total
                if event.summary is not None:
                    st.summary = event.summary.to_json()
                if on_progress is not None:
                    on_progress(event)
                if stop is not None and stop.is_set():
                    log.info("%s: indexing interrupted by shutdown", indexer.root.name)
                    indexer.close()
                    st.phase, st.finished_at = "interrupted", time.time()
                    return False
            if watch:
                self.indexer = indexer
                self.watcher = RepoWatcher(indexer, debounce_s=self.debounce_s, polling=self.polling,
                                           on_batch=self.on_batch).start()
                self.watcher.rescan()  # edits made during the first pass
            else:
                indexer.close()
        except BaseException as err:
            indexer.close()
            self.indexer = self.watcher = None
            st.phase, st.finished_at, st.error = "failed", time.time(), str(err) or type(err).__name__
            raise
        st.phase, st.finished_at = "ready", time.time()
        return watch

    def run_until(self, stop: threading.Event | None = None) -> None:
        """Keep the index live until ``stop`` is set or Ctrl-C; a watcher that dies is an error."""
        assert self.watcher is not None, "start(watch=True) first"
        stop = stop or threading.Event()
        try:
            while not stop.wait(0.5):
                state = self.watcher.state()
                if not state.live:
                    why = state.last_error or "its threads ended"
                    raise RagpilotError(f"the watcher stopped unexpectedly: {why}")
        except KeyboardInterrupt:
            log.info("interrupted: stopping the watcher")

    def close(self) -> None:
        """Stop the watcher, then release the writer lock."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.indexer is not None:
            self.indexer.close()
            self.indexer = None

    def __enter__(self) -> LiveIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def watch_repo(
    repo: str | Path,
    settings: IndexSettings | None = None,
    *,
    on_batch: Callable[[BatchReport], None] | None = None,
    stop_event: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    polling: bool | None = None,
    on_ready: Callable[[RepoWatcher], None] | None = None,
) -> WatcherState:
    """``ragpilot watch``: take the writer lock, index incrementally, then keep the index live until
    ``stop_event`` is set or Ctrl-C. A second writer gets IndexBusyError. Returns the final state."""
    with LiveIndex(repo, settings, polling=polling, on_batch=on_batch) as live:
        live.start(watch=True, on_progress=on_progress)
        watcher = live.watcher
        assert watcher is not None
        if on_ready is not None:
            on_ready(watcher)
        live.run_until(stop_event)
    return watcher.state()  # after the stop: the final counts
