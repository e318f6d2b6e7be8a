"""One writer per index: a lock file next to the index, refused (or waited for) when held."""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import IndexBusyError, RagpilotError

LOCK_FILE = "writer.lock"
OWNER_FILE = "writer.pid"


class WriterLock:
    """Held by `index`, `watch` and `serve` while they may write; readers never take it."""

    def __init__(self, index_dir: Path, *, wait_seconds: float = 0.0):
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # a parent is a file, read-only, or the disk is full
            raise _unusable(index_dir, err) from err
        self.index_dir = index_dir
        self.wait_seconds = wait_seconds
        self._lock = FileLock(str(index_dir / LOCK_FILE))

    def acquire(self) -> None:
        try:
            self._lock.acquire(timeout=self.wait_seconds)
        except Timeout:
            owner = (self.index_dir / OWNER_FILE)
            pid = owner.read_text().strip() if owner.exists() else "?"
            raise IndexBusyError(
                f"the index at {self.index_dir} is busy: another ragpilot process (pid {pid}) is writing "
                "it. Wait for it to finish (or stop it), or pass --wait to queue behind it."
            ) from None
        except OSError as err:  # Timeout is an OSError too: caught above first
            raise _unusable(self.index_dir, err) from err
        try:
            (self.index_dir / OWNER_FILE).write_text(str(os.getpid()))
        except OSError as err:
            self._lock.release()
            raise _unusable(self.index_dir, err) from err

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _unusable(index_dir: Path, err: OSError) -> RagpilotError:
    reason = err.strerror or type(err).__name__
    return RagpilotError(
        f"cannot use {index_dir} as the index directory: {reason}; choose a writable location with "
        "--index-dir or RAGPILOT_HOME"
    )
