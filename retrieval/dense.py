"""Dense retrieval: exact cosine search over the chunk vectors.

LanceDB's flat vector search measured ~250 ms at 100k x 384-d on these cores; an ANN index took
18 s (IVF_FLAT) to 2 min (IVF_PQ) to build at 100k and lost recall. A matrix product over an
in-memory copy of the vectors takes ~8 ms (idle) to ~25 ms (busy cores), exactly. So the vectors of
one table version are held in memory (154 MB per 100k 384-d chunks); rows are then read from that
same pinned version, so a result never mixes two versions.

When the indexer commits a new version the copy is brought up to date rather than reloaded: a full
reload took 0.2-0.85 s at 100k chunks, paid by the first query after every watcher commit. The
refresh reads only the new version's row ids (30-47 ms at 100k on busy cores), marks the rows gone
since the cached version dead (their scores are masked), and reads the vectors of the new row ids
alone (a one-file edit: a handful). New rows are appended to spare capacity of the same buffers, so
the cached matrix is never copied, and earlier snapshots still in use keep seeing their own rows.
This relies on LanceDB row ids naming one physical row for good (fragment id << 32 | offset:
fragment ids are never reused), so an id present in both versions holds the same vector. After a
compaction every row has a new id: the "new" rows then outnumber the cached ones and the refresh
falls back to a full reload, as it does once dead rows pass a quarter of the buffer.
bench/bench_dense_refresh.py measures both paths: at 100k chunks and one one-file commit per second
(load average ~2 on 2 cores), a full reload 250 ms against a first query after the commit of 71 ms
p50 (101 ms max), all queries p95 70 ms. Finding deleted rows without that scan needs Lance's
deletion files (pylance, not installed), hence the scan.
Tables above ``max_rows`` use LanceDB's own search (with whatever vector index the indexer built).

Rows still waiting for their vector (``embedded`` false, the vector zeros: search first, embed after)
are left out of the snapshot altogether, so dense search ranks only what is embedded so far; an index
with nothing embedded yet gives no dense hits (hybrid search is then lexical). Filling a vector in
rewrites the row under a new row id, which the refresh sees as one row added.

The product runs on ``threads`` BLAS threads (default 1, via threadpoolctl when installed): on two
shared cores OpenBLAS's own two threads made a 10k-row product median 23 ms instead of 1 ms.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..indexer.store import EMBEDDED, TABLE, IndexStore
from .hits import HIT_COLUMNS, Hit, hit_from_row

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 300_000


# A refresh falls back to a full reload past these shares (see the module docstring).
DEAD_SHARE_RELOAD = 0.25
ADDED_SHARE_RELOAD = 0.5


@dataclass
class _Snapshot:
    version: int
    table: object  # a LanceDB table handle checked out at ``version`` (read-only)
    row_ids: np.ndarray  # (n,) uint64 view of the shared buffer: LanceDB row ids, dead ones included
    vectors: np.ndarray  # (n, dim) float32 view of the shared buffer, L2-normalised by the embedder
    alive: np.ndarray | None  # (n,) bool, False for rows deleted since they were read; None: all alive
    buffer: _Buffer  # where row_ids / vectors live; later snapshots append past ``n``

    @property
    def n(self) -> int:
        return int(self.row_ids.shape[0])

    @property
    def live(self) -> int:
        return self.n if self.alive is None else int(self.alive.sum())


class _Buffer:
    """Append-only row ids and vectors with spare capacity. A snapshot holds views of the first n
    rows; appending writes past every existing view, and growing allocates new arrays (old views
    keep the old ones), so readers of earlier snapshots never see a change."""

    def __init__(self, row_ids: np.ndarray, vectors: np.ndarray):
        self.fill = int(row_ids.shape[0])
        capacity = self.fill + max(1024, self.fill // 8)
        self.row_ids = np.zeros(capacity, dtype=np.uint64)
        self.vectors = np.zeros((capacity, vectors.shape[1]), dtype=np.float32)
        self.row_ids[: self.fill] = row_ids
        self.vectors[: self.fill] = vectors

    def append(self, row_ids: np.ndarray, vectors: np.ndarray) -> None:
        need = self.fill + int(row_ids.shape[0])
        if need > self.row_ids.shape[0]:
            capacity = need + max(1024, need // 8)
            grown_ids = np.zeros(capacity, dtype=np.uint64)
            grown_vecs = np.zeros((capacity, self.vectors.shape[1]), dtype=np.float32)
            grown_ids[: self.fill] = self.row_ids[: self.fill]
            grown_vecs[: self.fill] = self.vectors[: self.fill]
            self.row_ids, self.vectors = grown_ids, grown_vecs
        self.row_ids[self.fill : need] = row_ids
        self.vectors[self.fill : need] = vectors
        self.fill = need

    def views(self) -> tuple[np.ndarray, np.ndarray]:
        return self.row_ids[: self.fill], self.vectors[: self.fill]


class DenseIndex:
    """Cosine search for one store; thread-safe, reloads lazily when the table changes."""

    def __init__(self, store: IndexStore, *, max_rows: int = DEFAULT_MAX_ROWS, threads: int = 1):
        self.store = store
        self.max_rows = max_rows
        self.threads = threads
        self._lock = threading.Lock()
        self._snap: _Snapshot | None = None
        self._blas = _blas_controller()

    def rebased(self, store: IndexStore) -> DenseIndex:
        """The same search over ``store`` (the same index at another version: a read-only replica's next
        view), starting from the vectors loaded so far: only the rows new since are read."""
        moved = DenseIndex(store, max_rows=self.max_rows, threads=self.threads)
        moved._snap = self._snap
        return moved

    def search(self, vector: np.ndarray, *, limit: int) -> list[Hit]:
        """The ``limit`` nearest chunks to ``vector`` (cosine), best first; score is the similarity."""
        if limit <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.store.meta.dim:
            raise ValueError(f"query vector has {query.shape[0]} dimensions, the index {self.store.meta.dim}")
        snap = self._current()
        if snap is None:
            return self._search_lancedb(query, limit)
        try:
            return self._search_snapshot(snap, query, limit)
        except (OSError, RuntimeError, ValueError) as err:
            # The pinned version's files can vanish if a compaction cleans it up mid-query: reload once.
            log.info("vector snapshot of version %d unreadable (%s); reloading", snap.version, err)
            with self._lock:
                if self._snap is snap:
                    self._snap = None
            snap = self._current()
            return self._search_lancedb(query, limit) if snap is None else self._search_snapshot(snap, query, limit)

    def _search_snapshot(self, snap: _Snapshot, query: np.ndarray, limit: int) -> list[Hit]:
        live = snap.live
        if live == 0:
            return []
        scores = self._scores(snap.vectors, query)
        if snap.alive is not None:
            scores[~snap.alive] = -np.inf
        n = min(limit, live)
        top = _best(scores, snap.row_ids, n)
        wanted = [int(r) for r in snap.row_ids[top]]
        rows = snap.table.take_row_ids(wanted).select(HIT_COLUMNS).with_row_id().to_list()
        # take_row_ids returns rows in storage order: put them back in score order.
        by_rowid = {int(row["_rowid"]): row for row in rows}
        return [
            hit_from_row(by_rowid[r], float(scores[t]))
            for t, r in zip(top, wanted, strict=True)
            if r in by_rowid
        ]

    def _scores(self, vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
        if self._blas is None:
            return vectors @ query
        with self._blas.limit(limits=self.threads, user_api="blas"):
            return vectors @ query

    # ----- the in-memory snapshot ---------------------------------------------------------------
    def _current(self) -> _Snapshot | None:
        table = self.store.table
        version = table.version
        snap = self._snap
        if snap is not None and snap.version == version:
            return snap
        with self._lock:
            snap = self._snap
            if snap is not None and snap.version == version:
                return snap
            if table.count_rows() > self.max_rows:
                self._snap = None
                return None
            fresh = None if snap is None else self._refresh(snap, version)
            self._snap = fresh if fresh is not None else self._load(version)
            return self._snap

    def _pinned(self, version: int):
        """A second handle, pinned: the store's own handle always follows the latest version."""
        pinned = self.store.connect(read_consistency=False).open_table(TABLE)
        pinned.checkout(version)
        return pinned

    def _load(self, version: int) -> _Snapshot:
        t0 = time.perf_counter()
        pinned = self._pinned(version)
        data = _embedded_only(pinned, pinned.search().select(["vector"]).with_row_id(True)).to_arrow()
        buffer = _Buffer(data.column("_rowid").to_numpy(), _matrix(data.column("vector"), self.store.meta.dim))
        row_ids, vectors = buffer.views()
        log.debug("loaded %d vectors of version %d in %.3f s", len(row_ids), version,
                  time.perf_counter() - t0)
        return _Snapshot(version, pinned, row_ids, vectors, None, buffer)

    def _refresh(self, snap: _Snapshot, version: int) -> _Snapshot | None:
        """``snap`` brought to ``version`` by reading only row ids and the new rows' vectors; None
        when a full reload is the better (or only safe) way."""
        if snap.buffer.fill != snap.n:  # not the newest snapshot of its buffer: cannot append
            return None
        t0 = time.perf_counter()
        pinned = self._pinned(version)
        ids = _embedded_only(pinned, pinned.search().select(["_rowid"]).with_row_id(True)).to_arrow()
        t1 = time.perf_counter()
        current = ids.column("_rowid").to_numpy()
        if current.shape[0] > 1 and not np.all(current[1:] > current[:-1]):  # storage order is ascending
            current = np.sort(current)
        if current.shape[0] == 0 or snap.n == 0:
            return None
        at = np.minimum(np.searchsorted(current, snap.row_ids), current.shape[0] - 1)
        known = current[at] == snap.row_ids
        alive = known if snap.alive is None else known & snap.alive
        live = int(alive.sum())
        # Ids are unique, so the rows not kept are the new ones: normally all above the cached ids.
        newest = current[current > snap.row_ids.max()] if snap.n else current
        if newest.shape[0] == current.shape[0] - live:
            added = newest
        else:
            added = np.setdiff1d(current, snap.row_ids[alive], assume_unique=True)
        if added.shape[0] > ADDED_SHARE_RELOAD * max(live, 1):
            return None  # a compaction (new ids everywhere) or a mostly new table
        dead = snap.n - live
        if dead > DEAD_SHARE_RELOAD * (snap.n + added.shape[0]):
            return None
        if added.shape[0]:
            data = pinned.take_row_ids([int(r) for r in added]).select(["vector"]).with_row_id().to_arrow()
            snap.buffer.append(data.column("_rowid").to_numpy().astype(np.uint64),
                               _matrix(data.column("vector"), self.store.meta.dim))
        row_ids, vectors = snap.buffer.views()
        mask = np.ones(row_ids.shape[0], dtype=bool)
        mask[: snap.n] = alive
        log.debug("refreshed vectors to version %d: %d new, %d dead, in %.3f s (row id scan %.3f s)",
                  version, added.shape[0], row_ids.shape[0] - int(mask.sum()), time.perf_counter() - t0,
                  t1 - t0)
        return _Snapshot(version, pinned, row_ids, vectors, None if mask.all() else mask, snap.buffer)

    # ----- large tables ---------------------------------------------------------------------------
    def _search_lancedb(self, query: np.ndarray, limit: int) -> list[Hit]:
        search = self.store.table.search(query, vector_column_name="vector")
        if self.store.has_embedded_column():
            search = search.where(EMBEDDED, prefilter=True)
        rows = (
            search
            .metric("cosine")
            .nprobes(20)
            .refine_factor(5)
            .select([*HIT_COLUMNS, "_distance"])
            .limit(limit)
            .to_list()
        )
        return [hit_from_row(row, 1.0 - float(row["_distance"])) for row in rows]


def _embedded_only(table, query):
    """``query`` over every row, restricted to embedded rows when the table says which those are."""
    if EMBEDDED in table.schema.names:
        query = query.where(EMBEDDED)
    return query.limit(None)


def _best(scores: np.ndarray, row_ids: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` best scores, best first; equal scores in row id order, so the answer
    does not depend on where a refresh put a row in the buffer (a fresh load reads storage order)."""
    if n < scores.shape[0]:
        threshold = np.partition(scores, scores.shape[0] - n)[scores.shape[0] - n]
        candidates = np.flatnonzero(scores >= threshold)  # every row tied with the n-th as well
    else:
        candidates = np.arange(scores.shape[0])
    order = np.lexsort((row_ids[candidates], -scores[candidates]))
    return candidates[order[:n]]


def _blas_controller():
    """threadpoolctl's controller if installed (it is optional: without it BLAS picks its threads)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _matrix(column, dim: int) -> np.ndarray:
    """A (n, dim) float32 matrix from a fixed-size-list Arrow column (one copy; per-chunk conversion
    measured 10x slower at 100k rows)."""
    if len(column) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(-1, dim)
