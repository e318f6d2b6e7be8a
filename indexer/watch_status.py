"""What the watcher reports: per-batch reports, live state, and the status file ``index_dir/watcher.json``
through which another process (``ragpilot status``, the server) learns whether a watcher is live and
how far behind it is, without touching the writer lock.

The watcher rewrites the file on every batch and on a heartbeat; a reader trusts ``live`` only while the
heartbeat is fresh and the writing process still exists, so a killed watcher never looks live.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class RunCounts(Protocol):
    """What a batch report reads from the pipeline's ``IndexSummary`` (a protocol, so the pipeline,
    which imports ``STATUS_FILE`` from here, is not imported back)."""

    files_indexed: int
    files_deleted: int
    chunks_embedded: int
    chunks_cached: int

log = logging.getLogger(__name__)

STATUS_FILE = "watcher.json"
HEARTBEAT_S = 2.0
STALE_AFTER_S = 10.0


@dataclass(frozen=True)
class BatchReport:
    """One applied (or failed) batch: what ``on_batch`` receives and the per-batch log line shows."""

    paths: tuple[str, ...]  # the coalesced paths re-evaluated; empty for a full rescan
    rescan: bool  # ignore rules changed (or a rescan was asked for): a full incremental pass ran
    files_indexed: int
    files_deleted: int
    chunks_embedded: int
    chunks_cached: int
    ms: float
    finished_at: float
    error: str | None = None
    summary: RunCounts | None = None  # the pipeline's IndexSummary when the batch was one run

    @classmethod
    def from_summaries(cls, paths: tuple[str, ...], rescan: bool, summaries: Sequence[RunCounts],
                       ms: float, error: str | None = None) -> BatchReport:
        """One report for a batch applied in one or several ``Indexer.update`` calls."""
        return cls(
            paths=paths, rescan=rescan,
            files_indexed=sum(s.files_indexed for s in summaries),
            files_deleted=sum(s.files_deleted for s in summaries),
            chunks_embedded=sum(s.chunks_embedded for s in summaries),
            chunks_cached=sum(s.chunks_cached for s in summaries),
            ms=ms, finished_at=time.time(), error=error,
            summary=summaries[0] if len(summaries) == 1 else None,
        )

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def files(self) -> int:
        return self.files_indexed + self.files_deleted


@dataclass(frozen=True)
class WatcherState:
    """A snapshot of the watcher, for the CLI, the server's status endpoint and tests."""

    live: bool
    backend: str
    pending: int
    pending_paths: tuple[str, ...]  # a sample (at most 20)
    applying: bool
    rescan_pending: bool
    last_batch_at: float | None
    last_batch_files: int
    last_batch_chunks_embedded: int
    last_batch_ms: float
    batches_applied: int
    batches_failed: int
    last_error: str | None
    behind_seconds: float
    index_lost: str | None = None  # "index folder removed; re-creating it..." while that runs
    index_recreated: int = 0  # times the index was re-created after its folder vanished

    def to_status(self) -> dict:
        """The status-file fields (``pid``, ``repo`` and ``updated_at`` are added by the writer)."""
        return {
            "live": self.live, "backend": self.backend, "pending": self.pending, "applying": self.applying,
            "last_batch_at": self.last_batch_at, "batches_applied": self.batches_applied,
            "batches_failed": self.batches_failed, "last_error": self.last_error,
            "behind_seconds": self.behind_seconds, "index_lost": self.index_lost,
            "index_recreated": self.index_recreated,
        }


class StatusHeartbeat:
    """Rewrites the status file every ``HEARTBEAT_S`` on its own thread (a long batch must not make the
    watcher look dead), and on demand after each batch."""

    def __init__(self, index_dir: Path, repo: Path, state: Callable[[], WatcherState], *,
                 on_tick: Callable[[], None] | None = None):
        self.index_dir = index_dir
        self.repo = repo
        self.state = state
        self.on_tick = on_tick  # runs every heartbeat (the watcher checks its index folder is still there)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="ragpilot-watch-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write the final status (``live`` false by then)."""
        self._stop = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self.write()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop:
            if self.on_tick is not None:
                try:
                    self.on_tick()
                except Exception:
                    log.exception("watcher heartbeat check failed")
            self.write()
            self._wake.wait(HEARTBEAT_S)
            self._wake.clear()

    def write(self) -> None:
        status = {**self.state().to_status(), "pid": os.getpid(), "repo": str(self.repo),
                  "updated_at": time.time()}
        try:
            with self._lock:
                write_watcher_status(self.index_dir, status)
        except FileNotFoundError:
            log.debug("no index folder %s to write the watcher status into (being re-created?)", self.index_dir)
        except OSError as err:
            log.warning("cannot write the watcher status file in %s: %s", self.index_dir, err)


def write_watcher_status(index_dir: Path, status: dict) -> None:
    """Replace the status file atomically (readers never see half a file)."""
    path = index_dir / STATUS_FILE
    tmp = index_dir / f"{STATUS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(status, indent=2, sort_keys=True), "utf-8")
    os.replace(tmp, path)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 probes without signalling)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def read_watcher_status(index_dir: Path, *, stale_after_s: float = STALE_AFTER_S) -> dict | None:
    """The last status a watcher wrote for this index, with ``live`` re-checked now; None if none ever ran.

    ``live`` is true only if the watcher said so, its pid exists and its heartbeat is at most
    ``stale_after_s`` old; otherwise ``stale_reason`` says why. ``behind_seconds`` is brought up to date
    while changes are pending.
    """
    path = Path(index_dir) / STATUS_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.debug("unreadable watcher status %s: %s", path, err)
        return None
    if not isinstance(data, dict):
        return None
    try:
        age = max(0.0, time.time() - float(data.get("updated_at") or 0.0))
        pid = int(data.get("pid") or 0)
    except (TypeError, ValueError):
        return None
    claimed = bool(data.get("live"))
    reason = None
    if claimed and not pid_alive(pid):
        reason = f"watcher process {data.get('pid')} is gone"
    elif claimed and age > stale_after_s:
        reason = f"no heartbeat for {age:.0f}s"
    data["live"] = claimed and reason is None
    data["heartbeat_age_seconds"] = round(age, 1)
    if reason:
        data["stale_reason"] = reason
    if data["live"] and (data.get("pending") or data.get("applying")):
        data["behind_seconds"] = round(float(data.get("behind_seconds") or 0.0) + age, 1)
    return data


__all__ = ["BatchReport", "WatcherState", "StatusHeartbeat", "STATUS_FILE", "HEARTBEAT_S", "STALE_AFTER_S",
           "write_watcher_status", "read_watcher_status", "pid_alive"]
