"""Keeps an index live: file-system events -> debounced, coalesced batches -> ``Indexer.update``.

Events only mark paths pending (cheap, on the observer thread); one worker thread applies a batch once
the tree has been quiet for ``debounce_s`` (or ``max_batch_delay_s`` after the first pending event), so
a file saved five times is indexed once, at its final content, and a checkout of 1,000 files is one or
a few batches. A failed batch is logged and its paths retried; the worker never dies silently.

While no change is pending, the same worker fills in the vectors of rows written without one (search
first, embed after: the start-up pass and large batches leave them), ``EMBED_STEP_CHUNKS`` at a time,
so an edit waits for at most one small step (~2-4 s of MiniLM on two busy cores), never for the whole
embedding phase.

If the index folder is removed (or replaced) under the watcher, its writer lock no longer guards
anything: the watcher notices before its next commit or within a heartbeat, stops writing, reports
"index folder removed", and re-creates the index from scratch under a new lock (or, if another process
took the folder meanwhile, stops and says so).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from .errors import IndexBusyError, IndexLostError, RagpilotError
from .pipeline import Indexer, IndexSummary
from .watch_events import ChangeHandler, PathRouter, coalesce, start_observer
from .watch_status import BatchReport, StatusHeartbeat, WatcherState, read_watcher_status

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 30.0
MAX_PATH_ATTEMPTS = 4  # a path failing alone this often is dropped until its next change
EMBED_STEP_CHUNKS = 48  # rows embedded per idle step (see the module docstring)
_EMBED_STEP = (frozenset(), False)  # what _next_batch returns when the worker should embed
_FOLD_STEP = (frozenset(), True)  # ... and when it should fold the rows searched flat into the indices
# Quiet seconds after the last batch before the rows it wrote are folded into the full-text indices.
# Until then lexical search reads them flat (retrieval/lexical.py: cheap for a few commits' rows, but it
# grows with them: at 100k rows ~15 ms + 20-45 ms for 5-40 single-file commits); a fold-in costs ~1 s
# per full-text column at 100k rows, so it waits for a pause rather than running after every edit.
IDLE_FOLD_S = 2.0


class RepoWatcher:
    """Watches ``indexer.root`` and applies changes through ``indexer.update`` on one worker thread.

    The caller opens the indexer (taking the writer lock) and runs an initial index before :meth:`start`.
    """

    def __init__(
        self,
        indexer: Indexer,
        *,
        debounce_s: float = 0.25,
        max_batch_delay_s: float = 2.0,
        polling: bool | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
        poll_interval_s: float = 1.0,
    ):
        self.indexer = indexer
        self.debounce_s = debounce_s
        self.max_batch_delay_s = max(max_batch_delay_s, debounce_s)
        self.polling = polling
        self.poll_interval_s = poll_interval_s
        self.on_batch = on_batch
        self.router = PathRouter(indexer.root, indexer.rules, index_dir=indexer.index_dir)
        self._cond = threading.Condition()
        self._pending: set[str] = set()
        self._rescan = False
        self._first_event = 0.0  # monotonic time of the oldest pending event
        self._last_event = 0.0
        self._oldest_wall: float | None = None  # wall time of the oldest change not yet applied
        self._not_before = 0.0  # retry back-off after a failed batch
        self._applying = False
        self._stopping = False
        self._failures_in_row = 0
        self._observer = None
        self._backend = "stopped"
        self._worker: threading.Thread | None = None
        self._status = StatusHeartbeat(indexer.index_dir, indexer.root, self.state, on_tick=self._check_index)
        self._last: BatchReport | None = None
        self._batches_applied = 0
        self._batches_failed = 0
        self._last_error: str | None = None
        self._fatal = False
        self._attempts: dict[str, int] = {}  # path -> failed attempts on its own
        self._index_lost: str | None = None  # set while the index is re-created after its folder vanished
        self._lost_why: str | None = None  # what happened to the folder, until it is re-created
        self._recreated = 0  # times the index was re-created (readers reopen when this changes)
        self._embed_left = True  # rows may be waiting for their vectors (checked in the next idle step)
        self._fold_due = False  # a batch wrote rows the full-text indices do not cover yet

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self) -> RepoWatcher:
        if self._worker is not None:
            raise RuntimeError("this watcher was already started")
        assert self.indexer.store is not None, "open the indexer (and run an initial index) first"
        handler = ChangeHandler(self.router, self._enqueue)
        self._observer, self._backend = start_observer(
            self.indexer.root, handler, polling=self.polling, poll_interval_s=self.poll_interval_s
        )
        self._worker = threading.Thread(target=self._work, name="ragpilot-watch-worker", daemon=True)
        self._worker.start()
        self._status.start()
        log.info("watching %s (%s backend)", self.indexer.root, self._backend)
        return self

    def stop(self) -> None:
        """Stop watching; waits for a batch in progress. Pending changes are left to the next index run."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
        if self._worker is not None:
            self._worker.join()
            self._status.stop()
            log.info("stopped watching %s", self.indexer.root)

    def __enter__(self) -> RepoWatcher:
        if self._worker is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def rescan(self) -> None:
        """Ask for a full incremental pass in the next batch (stat-only for unchanged files)."""
        self._enqueue((), True)

    # ----- state -------------------------------------------------------------------------------
    def state(self) -> WatcherState:
        with self._cond:
            last = self._last
            live = (not self._stopping and not self._fatal and self._worker is not None
                    and self._worker.is_alive() and self._observer is not None and self._observer.is_alive())
            behind = time.time() - self._oldest_wall if self._oldest_wall is not None else 0.0
            return WatcherState(
                live=live,
                backend=self._backend,
                pending=len(self._pending),
                pending_paths=tuple(sorted(self._pending)[:20]),
                applying=self._applying,
                rescan_pending=self._rescan,
                last_batch_at=last.finished_at if last else None,
                last_batch_files=last.files if last else 0,
                last_batch_chunks_embedded=last.chunks_embedded if last else 0,
                last_batch_ms=last.ms if last else 0.0,
                batches_applied=self._batches_applied,
                batches_failed=self._batches_failed,
                last_error=self._last_error,
                behind_seconds=round(max(0.0, behind), 3),
                index_lost=self._index_lost,
                index_recreated=self._recreated,
            )

    @property
    def generation(self) -> int:
        """Changes each time the index is re-created: a reader holding the old one must reopen it."""
        return self._recreated

    def idle(self) -> bool:
        """Nothing pending, no batch running and every row embedded (tests and benchmarks wait on this)."""
        with self._cond:
            return not self._pending and not self._rescan and not self._applying and not self._embed_left

    # ----- event side (observer thread) --------------------------------------------------------
    def _enqueue(self, paths: Iterable[str], rules_changed: bool) -> None:
        now = time.monotonic()
        with self._cond:
            if self._stopping:
                return
            if not self._pending and not self._rescan:
                self._first_event = now
                if self._oldest_wall is None:
                    self._oldest_wall = time.time()
            self._pending.update(paths)
            self._rescan = self._rescan or rules_changed
            self._last_event = now
            self._cond.notify_all()

    def _check_index(self) -> None:
        """Heartbeat: a removed index folder is noticed within seconds even when no file changes."""
        with self._cond:
            busy = self._applying or self._rescan or self._stopping or self._fatal
        if not busy and self.indexer.index_lost():
            self._enqueue((), True)  # the rescan stops at its first check and re-creates the index

    # ----- worker side -------------------------------------------------------------------------
    def _work(self) -> None:
        try:
            while True:
                taken = self._next_batch()
                if taken is None:
                    return
                if taken is _EMBED_STEP:
                    self._embed_step()
                    continue
                if taken is _FOLD_STEP:
                    self._fold_step()
                    continue
                try:
                    self._apply(*taken)
                except IndexLostError as lost:
                    if not self._recreate(lost, taken):
                        return
        except BaseException as err:  # the worker must never die silently
            log.critical("watcher worker crashed; the index is no longer kept live", exc_info=True)
            with self._cond:
                self._fatal = True
                self._last_error = f"worker crashed: {err!r}"
            self._status.write()

    def _next_batch(self) -> tuple[set[str], bool] | None:
        """Block until a batch is due (quiet for debounce_s, or max_batch_delay_s since the first event)."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._pending or self._rescan:
                    due = min(self._last_event + self.debounce_s, self._first_event + self.max_batch_delay_s)
                    due = max(due, self._not_before)
                    wait = due - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                elif self._embed_left and not self._fatal:
                    wait = self._not_before - time.monotonic()
                    if wait <= 0:
                        self._applying = True
                        return _EMBED_STEP
                    self._cond.wait(wait)
                elif self._fold_due and not self._fatal:
                    wait = max(self._last_event + IDLE_FOLD_S, self._not_before) - time.monotonic()
                    if wait <= 0:
                        self._fold_due = False
                        self._applying = True
                        return _FOLD_STEP
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            paths, rescan = self._pending, self._rescan
            self._pending, self._rescan = set(), False
            self._applying = True
            return paths, rescan

    def _fold_step(self) -> None:
        """Once the tree has been quiet for IDLE_FOLD_S: fold the rows written since into the full-text
        indices, so lexical search stops reading them flat. A failure only logs: the rows stay
        searchable flat, and the next batch schedules another fold-in."""
        try:
            self.indexer.fold_in()
        except Exception as err:
            log.warning("watch: folding new rows into the full-text indices failed (%s: %s)",
                        type(err).__name__, err, exc_info=not isinstance(err, OSError | RagpilotError))
        finally:
            with self._cond:
                self._applying = False

    def _embed_step(self) -> None:
        """One idle step of the embedding phase; a failure backs off like a failed batch."""
        try:
            left = self.indexer.embed_some(EMBED_STEP_CHUNKS)
        except IndexLostError:
            left = 1
            self._enqueue((), True)  # the rescan notices the lost folder and re-creates the index
        except Exception as err:
            with self._cond:
                self._failures_in_row += 1
                delay = min(MAX_RETRY_DELAY_S, 0.5 * 2 ** (self._failures_in_row - 1))
                self._last_error = f"embedding: {type(err).__name__}: {err}"
                self._not_before = time.monotonic() + delay
                self._applying = False
            log.warning("watch: embedding failed (%s); retrying in %.1fs", self._last_error, delay,
                        exc_info=not isinstance(err, OSError | RagpilotError))
            return
        with self._cond:
            self._applying = False
            self._failures_in_row = 0
            self._embed_left = left > 0
        if not left:
            log.info("every chunk of %s is embedded", self.indexer.root)
            self._status.write()

    def _apply(self, paths: set[str], rescan: bool) -> None:
        t0 = time.perf_counter()
        targets: tuple[str, ...] = ()
        failed: dict[str, Exception] = {}
        if self._lost_why is not None:  # an earlier attempt to re-create the index failed: try again
            raise IndexLostError(self._lost_why)
        try:
            if rescan:
                self.router.reload()
                summaries = [self.indexer.run_to_end(embed=False)]
            else:
                targets = tuple(coalesce(self.indexer.root, paths))
                if self._failures_in_row and len(targets) > 1:
                    summaries, failed = self._isolate(targets)  # find the path that keeps failing
                else:
                    summaries = [self.indexer.update(targets)]
        except IndexLostError:
            raise
        except Exception as err:
            self._failed({t: err for t in targets} if len(targets) == 1 else {}, paths, rescan, err, t0)
            return
        if failed:
            err = next(iter(failed.values()))
            self._failed(failed, set(failed), False, err, t0, applied=summaries, targets=targets)
            return
        ms = (time.perf_counter() - t0) * 1000
        report = BatchReport.from_summaries(targets, rescan, summaries, ms)
        log.info("watch batch: %s -> %d file(s) indexed, %d deleted, %d chunk(s) embedded (%d cached) "
                 "in %.0f ms",
                 "full rescan" if rescan else f"{len(targets)} path(s)", report.files_indexed,
                 report.files_deleted, report.chunks_embedded, report.chunks_cached, ms)
        with self._cond:
            self._applying = False
            self._failures_in_row = 0
            self._embed_left = True  # a large batch leaves rows to embed (the next idle step checks)
            self._fold_due = True
            self._batches_applied += 1
            self._last = report
            for t in targets:
                self._attempts.pop(t, None)
            # Whatever arrived while we worked is still pending; its clock started when it arrived.
            self._oldest_wall = None if not (self._pending or self._rescan) else self._pending_since()
        self._finish(report)

    def _isolate(self, targets: tuple[str, ...]) -> tuple[list[IndexSummary], dict[str, Exception]]:
        """Apply ``targets`` by bisection, so one path that always fails cannot hold back the others."""
        done: list[IndexSummary] = []
        failed: dict[str, Exception] = {}
        stack = [list(targets)]
        while stack:
            part = stack.pop()
            try:
                done.append(self.indexer.update(part))
            except IndexLostError:
                raise
            except Exception as err:
                if len(part) == 1:
                    failed[part[0]] = err
                else:
                    mid = len(part) // 2
                    stack += [part[mid:], part[:mid]]
        return done, failed

    def _recreate(self, lost: IndexLostError, taken: tuple[set[str], bool]) -> bool:
        """The index folder vanished: stop writing, take a new lock and index from scratch. False when
        another process took the folder first (this watcher then stops, saying so)."""
        why = self._lost_why = self._lost_why or str(lost).split(" while ", 1)[0]
        log.warning("%s under the watcher: re-creating it and indexing %s from scratch", why, self.indexer.root)
        with self._cond:
            self._index_lost = f"{why}; re-creating it and indexing from scratch"
            self._last_error = self._index_lost
        self.indexer.close()
        try:
            self.indexer.open()
            self.indexer.run_to_end(embed=False)
        except IndexBusyError as err:
            message = f"{why}; another process now writes the new one ({err}); this watcher stopped"
            log.error("%s", message)
            with self._cond:
                self._fatal, self._index_lost, self._last_error, self._applying = True, message, message, False
            self._status.write()
            return False
        except Exception as err:  # a full disk, say: retry the whole thing with the usual back-off
            with self._cond:
                self._index_lost = f"{why}; re-creating it failed ({err}), retrying"
            self._failed({}, taken[0], True, err, time.perf_counter())
            return True
        with self._cond:
            self._recreated += 1
            self._embed_left = True
            self._index_lost = self._lost_why = None
            self._last_error = f"{why}; re-created it and indexed from scratch at {time.strftime('%H:%M:%S')}"
            self._applying = False
            self._failures_in_row = 0
            self._pending.clear()  # the full index just covered every path
            self._oldest_wall = None if not self._rescan else self._pending_since()
        self._status.write()
        log.info("re-created the index at %s", self.indexer.index_dir)
        return True

    def _failed(self, blamed: dict[str, Exception], requeue: set[str], rescan: bool, err: Exception,
                t0: float, *, applied: Sequence[IndexSummary] = (), targets: tuple[str, ...] = ()) -> None:
        """Put the paths back with a growing back-off; give up on a path that failed alone too often."""
        ms = (time.perf_counter() - t0) * 1000
        given_up = []
        with self._cond:
            self._failures_in_row += 1
            self._batches_failed += 1
            delay = min(MAX_RETRY_DELAY_S, 0.5 * 2 ** (self._failures_in_row - 1))
            self._last_error = f"{type(err).__name__}: {err}"
            for path in blamed:
                self._attempts[path] = self._attempts.get(path, 0) + 1
                if self._attempts[path] >= MAX_PATH_ATTEMPTS:
                    given_up.append(path)
                    self._attempts.pop(path)
            self._pending |= requeue - set(given_up)
            self._rescan = self._rescan or rescan
            now = time.monotonic()
            self._first_event = self._last_event = now
            self._not_before = now + delay
            self._applying = False
            if not (self._pending or self._rescan):
                self._oldest_wall = None
        unexpected = not isinstance(err, OSError | RagpilotError)
        log.warning("watch batch: %d path(s) failed (%s); retrying in %.1fs",
                    len(requeue) or 1, self._last_error, delay,
                    exc_info=err if unexpected or log.isEnabledFor(logging.DEBUG) else None)
        for path in given_up:
            log.error("watch: giving up on %s after %d failed attempts (%s); it is retried on its next "
                      "change or the next `ragpilot index`", path, MAX_PATH_ATTEMPTS, self._last_error)
        self._finish(BatchReport.from_summaries(targets or tuple(sorted(requeue)), rescan, list(applied), ms,
                                                self._last_error))

    def _pending_since(self) -> float:
        return time.time() - max(0.0, time.monotonic() - self._first_event)

    def _finish(self, report: BatchReport) -> None:
        self._status.write()
        if self.on_batch is not None:
            try:
                self.on_batch(report)
            except Exception:
                log.exception("watcher on_batch callback raised")


__all__ = ["RepoWatcher", "BatchReport", "WatcherState", "read_watcher_status", "coalesce"]
