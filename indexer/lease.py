"""One writer per shared index, enforced through the store itself: a lease kept as a Lance table.

A lock file guards a local index (lock.py), but writers of a shared index run on different machines.
Lance commits are atomic and totally ordered (each version is one manifest, created only if absent),
so the lease is a log: the ``writer_lease`` table's rows, in commit order, are claims, renewals and
releases, and replaying them in that order gives every reader the same holder. A claim wins only when
nobody holds the lease at its time; a renewal extends the holder's own lease; a release ends it. A
writer appends its claim, then replays: if the winner is not itself, it leaves with an error naming the
holder (host, pid, until when). The holder renews every ``ttl/3`` seconds from a daemon thread; a holder
that failed to renew in time (paused, partitioned) finds another holder on its next check and stops
writing before its next commit, exactly as with a lost lock file.

A killed writer's lease runs out after ``ttl`` seconds (default 60, ``RAGPILOT_LEASE_SECONDS``). A
writer on the same host as a dead holder (its pid is gone) breaks the lease at once instead of waiting.
Clocks of the writers must agree to well within ``ttl`` (NTP does this).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import pyarrow as pa

from .errors import IndexBusyError
from .store_uri import StoreBinding

log = logging.getLogger(__name__)

LEASE_TABLE = "writer_lease"
DEFAULT_TTL_S = 60.0
SCHEMA = pa.schema([
    pa.field("holder", pa.string()), pa.field("host", pa.string()), pa.field("pid", pa.int64()),
    pa.field("claimed_at", pa.float64()), pa.field("expires_at", pa.float64()),
    pa.field("breaks", pa.string()),  # the holder this claim takes over from (a dead pid on this host)
])


@dataclass(frozen=True)
class LeaseHolder:
    holder: str
    host: str
    pid: int
    expires_at: float

    def describe(self) -> str:
        left = max(0.0, self.expires_at - time.time())
        return f"pid {self.pid} on {self.host} (its lease runs out in {left:.0f} s unless renewed)"


def replay(rows: list[dict], now: float) -> LeaseHolder | None:
    """Who holds the lease at ``now``, from the log rows in commit order."""
    current: dict | None = None
    for row in rows:
        held = current is not None and current["expires_at"] > row["claimed_at"]
        if current is not None and row["holder"] == current["holder"]:
            current = row  # a renewal or a release by the holder
        elif not held or (row["breaks"] and current is not None and row["breaks"] == current["holder"]):
            current = row
    if current is None or current["expires_at"] <= now:
        return None
    return LeaseHolder(current["holder"], current["host"], int(current["pid"]), current["expires_at"])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreLease:
    """The writer lease of one shared index. ``acquire`` or raise IndexBusyError; ``lost`` says why
    this process may no longer write; ``release`` hands it back at once."""

    def __init__(self, store: StoreBinding, *, ttl_s: float | None = None, db=None):
        from .store_tables import _open_or_create, connect  # noqa: PLC0415 - lancedb only for shared indexes

        self.store = store
        env_ttl = os.environ.get("RAGPILOT_LEASE_SECONDS")
        self.ttl_s = float(ttl_s if ttl_s is not None else env_ttl or DEFAULT_TTL_S)
        self._db = db if db is not None else connect(store)
        self._table = _open_or_create(self._db, LEASE_TABLE, SCHEMA)
        self.holder_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held = False
        self._expires_at = 0.0
        self._lost: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._write_lock = threading.Lock()

    # ----- the log -------------------------------------------------------------------------------
    def _rows(self) -> list[dict]:
        self._table.checkout_latest()
        return self._table.search().limit(None).to_list()

    def _append(self, expires_at: float, breaks: str = "", claimed_at: float | None = None) -> None:
        now = time.time() if claimed_at is None else claimed_at
        row = {"holder": self.holder_id, "host": socket.gethostname(), "pid": os.getpid(),
               "claimed_at": now, "expires_at": expires_at, "breaks": breaks}
        with self._write_lock:
            self._table.add(pa.Table.from_pylist([row], schema=SCHEMA))

    def holder(self) -> LeaseHolder | None:
        return replay(self._rows(), time.time())

    # ----- taking and giving back --------------------------------------------------------------
    def acquire(self) -> None:
        current = self.holder()
        breaks = ""
        if current is not None and current.holder != self.holder_id:
            if current.host == socket.gethostname() and not _pid_alive(current.pid):
                breaks = current.holder  # killed on this machine: no need to wait for the lease to run out
                log.warning("taking over the writer lease of %s: that process is gone", current.describe())
            else:
                raise self._busy(current)
        self._expires_at = time.time() + self.ttl_s
        self._append(self._expires_at, breaks=breaks)
        current = self.holder()
        if current is None or current.holder != self.holder_id:
            raise self._busy(current)
        self._held = True
        self._renewer = threading.Thread(target=self._renew_loop, name="ragpilot-lease", daemon=True)
        self._renewer.start()

    def _busy(self, current: LeaseHolder | None) -> IndexBusyError:
        who = current.describe() if current is not None else "another writer"
        return IndexBusyError(
            f"the shared index at {self.store.uri} is busy: {who} is writing it. Wait for it to finish "
            "(or stop it); readers (`serve --read-only`, `search`) need no lease."
        )

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self.renew():
                    return
            except Exception as err:  # the store is unreachable: keep trying while the lease may hold
                log.warning("renewing the writer lease of %s failed: %s", self.store.uri, err)
                if time.time() > self._expires_at:
                    self._lost = f"the writer lease of {self.store.uri} ran out: the store could not be reached ({err})"
                    return

    def renew(self) -> bool:
        """Extend the lease; False (and :meth:`lost` says why) when another writer holds it now."""
        if self._lost is not None:
            return False
        expires = time.time() + self.ttl_s
        self._append(expires)
        current = self.holder()
        if current is None or current.holder != self.holder_id:
            self._lost = (f"the writer lease of {self.store.uri} was taken over by "
                          f"{current.describe() if current else 'nobody'}")
            return False
        self._expires_at = expires
        return True

    def lost(self) -> str | None:
        """Why this process may no longer write the shared index, or None while it holds the lease."""
        return self._lost if self._held else None

    def release(self) -> None:
        if not self._held:
            return
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        self._held = False
        if self._lost is None:
            now = time.time()
            try:
                self._append(now, claimed_at=now)  # expires at once: the next writer need not wait
            except Exception as err:
                log.warning("releasing the writer lease of %s failed (it runs out in %.0f s): %s",
                            self.store.uri, self.ttl_s, err)

    def compact(self) -> None:
        """Old log rows only grow the table: the holder keeps its last row and drops the rest."""
        try:
            self._table.delete(f"holder != '{self.holder_id}' AND expires_at < {time.time() - self.ttl_s}")
        except Exception as err:  # best effort
            log.debug("compacting the lease log failed: %s", err)
