"""What is indexed: path -> (mtime, size, content hash), and the embedding cache, in one SQLite file.

A file is recorded here only after its chunks are committed to LanceDB, so a crash between the two
makes the next run redo that file (the LanceDB write is idempotent), never skip it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .errors import IndexIncompatibleError, RagpilotError
from .storage_errors import sqlite_connect, sqlite_write_error, sqlite_writing
from .types import FileRecord  # noqa: F401 - re-exported: the catalog's record type

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"
CACHE_FILE = "embed_cache.sqlite"


class Catalog:
    """The per-file bookkeeping that makes re-indexing incremental."""

    def __init__(self, index_dir: Path):
        self.path = index_dir / CATALOG_FILE
        self.conn = sqlite_connect(self.path)
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER,"
                " sha256 TEXT, chunks INTEGER, indexed_at REAL)"
            )
        except sqlite3.OperationalError as err:
            raise sqlite_write_error(self.path, err) from err
        except sqlite3.DatabaseError as err:
            raise IndexIncompatibleError(
                f"the catalog in {index_dir} is damaged ({err}); run `ragpilot index --rebuild`"
            ) from err

    def all(self) -> dict[str, FileRecord]:
        rows = self.conn.execute("SELECT path, mtime_ns, size, sha256, chunks FROM files")
        return {r[0]: FileRecord(*r) for r in rows}

    def get(self, path: str) -> FileRecord | None:
        r = self.conn.execute(
            "SELECT path, mtime_ns, size, sha256, chunks FROM files WHERE path = ?", (path,)
        ).fetchone()
        return FileRecord(*r) if r else None

    def mark_done(self, records: Iterable[FileRecord], deleted: Iterable[str] = ()) -> None:
        now = time.time()
        with sqlite_writing(self.path), self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in deleted])
            self.conn.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                [(r.path, r.mtime_ns, r.size, r.sha256, r.chunks, now) for r in records],
            )

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    def forget_all(self) -> None:
        """Make every file look new (after a chunker change); rows are replaced file by file."""
        with sqlite_writing(self.path):
            self.conn.execute("DELETE FROM files")

    def close(self) -> None:
        self.conn.close()


class EmbeddingCache:
    """Vectors keyed by (embedder id, chunk content hash): unchanged chunks are never embedded twice,
    even after a file is deleted and comes back (a branch switch). Kept across ``--rebuild``.

    The cache only saves time, so a damaged cache file is never an error: it is moved aside as
    ``embed_cache.sqlite.damaged-<time>`` (said in a warning and in :attr:`warnings`) and an empty one
    takes its place."""

    def __init__(self, index_dir: Path, embedder_id: str, dim: int):
        self.embedder_id = embedder_id
        self.dim = dim
        self.path = index_dir / CACHE_FILE
        self.warnings: list[str] = []
        self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        for attempt in (1, 2):
            try:
                conn = sqlite_connect(self.path)
            except IndexIncompatibleError as err:
                if attempt == 2:
                    raise
                self._move_aside(err.__cause__ or err)
                continue
            try:
                with sqlite_writing(self.path):
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, hash TEXT, vector BLOB,"
                        " used_at REAL, PRIMARY KEY (embedder, hash))"
                    )
                conn.execute("SELECT hash FROM vectors LIMIT 1").fetchall()
                return conn
            except sqlite3.DatabaseError as err:  # not a database, malformed: damage, not the user's
                conn.close()
                if attempt == 2:
                    raise IndexIncompatibleError(f"{self.path} is damaged ({err})") from err
                self._move_aside(err)
        raise AssertionError("unreachable")

    def _move_aside(self, err: BaseException) -> None:
        """Keep the damaged file for inspection under another name; its WAL files go with it (left in
        place, SQLite would replay them into the new, empty cache)."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            for suffix in ("", "-wal", "-shm"):
                src = self.path.with_name(self.path.name + suffix)
                if src.exists():
                    os.replace(src, aside.with_name(aside.name + suffix))
        except OSError as move_err:
            raise RagpilotError(f"{self.path} is damaged ({err}) and cannot be moved aside "
                                f"({move_err.strerror or move_err}); delete it") from move_err
        message = (f"the embedding cache {self.path} was damaged ({err}); moved it to {aside.name} and "
                   "started an empty one (chunks are embedded again)")
        log.warning("%s", message)
        self.warnings.append(message)

    def _recover(self, err: sqlite3.DatabaseError) -> None:
        """Damage found while in use: swap in an empty cache and carry on."""
        if isinstance(err, sqlite3.OperationalError):  # locked, disk full, read-only: not damage
            raise RagpilotError(f"cannot use {self.path}: {err}") from err
        self.conn.close()
        self._move_aside(err)
        self.conn = self._open()

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        try:
            return self._get_many(hashes)
        except sqlite3.DatabaseError as err:
            self._recover(err)
            return {}

    def _get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(
                f"SELECT hash, vector FROM vectors WHERE embedder = ? AND hash IN ({marks})",
                (self.embedder_id, *part),
            )
            for h, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == self.dim:
                    found[h] = vec
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        try:
            self._put_many(items)
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError):
                raise sqlite_write_error(self.path, err) from err
            self._recover(err)
            self._put_many(items)

    def _put_many(self, items: dict[str, np.ndarray]) -> None:
        now = time.time()
        with sqlite_writing(self.path), self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                [(self.embedder_id, h, np.asarray(v, np.float32).tobytes(), now) for h, v in items.items()],
            )

    def count(self) -> int:
        return self.conn.execute(
            "SELECT COUNT(*) FROM vectors WHERE embedder = ?", (self.embedder_id,)
        ).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def open_catalog(index_dir: Path):
    """The catalog of the index at ``index_dir``: its SQLite file, or the ``files`` table of the shared
    index it is bound to (store_uri.py)."""
    from .store_uri import binding  # noqa: PLC0415

    shared = binding(index_dir)
    if shared is None:
        return Catalog(index_dir)
    from .store_tables import StoreCatalog  # noqa: PLC0415 - lancedb, for shared indexes only

    return StoreCatalog(shared)


def open_embedding_cache(index_dir: Path, embedder_id: str, dim: int):
    """The embedding cache of the index at ``index_dir`` (SQLite, or the shared index's table)."""
    from .store_uri import binding  # noqa: PLC0415

    shared = binding(index_dir)
    if shared is None:
        return EmbeddingCache(index_dir, embedder_id, dim)
    from .store_tables import StoreEmbeddingCache  # noqa: PLC0415

    return StoreEmbeddingCache(shared, embedder_id, dim)


def catalog_present(index_dir: Path) -> bool:
    """Whether the index at ``index_dir`` has a catalog to read (a shared index always has one)."""
    from .store_uri import BINDING_FILE  # noqa: PLC0415

    return (index_dir / CATALOG_FILE).exists() or (index_dir / BINDING_FILE).exists()
