"""One writer per index: a lock file next to the index, refused (or waited for) when held.

A shared index (store_uri.py) is written from several machines, where a lock file guards nothing: its
writer also holds the lease kept in the store itself (lease.py), and loses the right to write when the
lease is lost, as when the lock file is.

A lock guards the folder it was taken in: if that folder (or the lock file) is deleted or replaced
under a running writer, another process can take a new lock at once. :meth:`WriterLock.lost` tells the
writer so, and the writer stops before its next commit.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import IndexBusyError, IndexLostError
from .storage_errors import unusable_index_dir
from .store_uri import binding

LOCK_FILE = "writer.lock"
OWNER_FILE = "writer.pid"


class WriterLock:
    """Held by `index`, `watch` and `serve` while they may write; readers never take it."""

    def __init__(self, index_dir: Path, *, wait_seconds: float = 0.0):
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # a parent is a file, read-only, or the disk is full
            raise unusable_index_dir(index_dir, err) from err
        self.index_dir = index_dir
        self.wait_seconds = wait_seconds
        # One lock per process, not per thread: the watcher's worker and the server's shutdown run on
        # other threads than the one that took it (a thread-local lock looks unheld, and stays held).
        self._lock = FileLock(str(index_dir / LOCK_FILE), thread_local=False)
        self._identity: tuple[int, int] | None = None  # (device, inode) of the lock file we hold
        self._lease = None  # the shared index's StoreLease while held

    def acquire(self) -> None:
        self._acquire_file()
        shared = binding(self.index_dir)
        if shared is None:
            return
        from .lease import StoreLease  # noqa: PLC0415 - lancedb, for shared indexes only

        try:
            lease = StoreLease(shared)
            lease.acquire()
        except BaseException:
            self.release()
            raise
        self._lease = lease

    def _acquire_file(self) -> None:
        try:
            self._lock.acquire(timeout=self.wait_seconds)
        except Timeout:
            owner = (self.index_dir / OWNER_FILE)
            pid = owner.read_text().strip() if owner.exists() else "?"
            raise IndexBusyError(
                f"the index at {self.index_dir} is busy: another ragpilot process (pid {pid}) is writing "
                "it. Wait for it to finish (or stop it)."
            ) from None
        except OSError as err:  # Timeout is an OSError too: caught above first
            raise unusable_index_dir(self.index_dir, err) from err
        try:
            (self.index_dir / OWNER_FILE).write_text(str(os.getpid()))
            st = os.stat(self.index_dir / LOCK_FILE)
            self._identity = (st.st_dev, st.st_ino)
        except OSError as err:
            self._lock.release()
            raise unusable_index_dir(self.index_dir, err) from err

    def lost(self) -> str | None:
        """Why this lock no longer guards the index (its folder or lock file is gone or replaced, or the
        shared index's lease was lost), or None."""
        if self._identity is None or not self._lock.is_locked:
            return None
        if self._lease is not None and self._lease.lost():
            return self._lease.lost()
        try:
            st = os.stat(self.index_dir / LOCK_FILE)
        except FileNotFoundError:
            if not self.index_dir.exists():
                return f"the index folder {self.index_dir} was removed"
            return f"the writer lock {self.index_dir / LOCK_FILE} was removed"
        except OSError as err:
            return f"the index folder {self.index_dir} cannot be read ({err.strerror or err})"
        if (st.st_dev, st.st_ino) != self._identity:
            return f"the index folder {self.index_dir} was replaced"
        return None

    def check(self) -> None:
        """Raise :class:`IndexLostError` if the lock no longer guards the index: writing on would mix
        rows into a folder another process may now own (or into one nobody reads)."""
        why = self.lost()
        if why is not None:
            raise IndexLostError(
                f"{why} while this process was writing it; stopped writing. Run `ragpilot index` to "
                "build it again"
            )

    def release(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._identity = None
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

