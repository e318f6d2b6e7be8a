"""The catalog, the embedding cache and the metadata of a shared index, as Lance tables at its URI.

A local index keeps these in SQLite files and meta.json beside the chunk table (catalog.py, store.py).
A shared index (store_uri.py) cannot: a SQLite file on one machine is invisible to the others, and
SQLite over object storage is not a thing. So the same three keep the same interfaces here, stored as
Lance tables in the index's own LanceDB database: every commit is atomic, versioned and visible to
every machine that reads the URI.

- ``files``: the catalog, one row per indexed file (as catalog.py's ``files`` table).
- ``embed_cache``: vectors by chunk content hash, for one embedder (as ``embed_cache.sqlite``).
- ``meta``: one row, the index's IndexMeta as JSON (as ``meta.json``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta

import numpy as np
import pyarrow as pa

from .lancedb_import import lancedb
from .store_uri import StoreBinding
from .types import FileRecord

FILES_TABLE = "files"
CACHE_TABLE = "embed_cache"
META_TABLE = "meta"
IN_BATCH = 400  # hashes or paths per ``IN (...)`` filter

FILES_SCHEMA = pa.schema([
    pa.field("path", pa.string()), pa.field("mtime_ns", pa.int64()), pa.field("size", pa.int64()),
    pa.field("sha256", pa.string()), pa.field("chunks", pa.int64()), pa.field("indexed_at", pa.float64()),
])
META_SCHEMA = pa.schema([pa.field("key", pa.string()), pa.field("value", pa.string())])


def connect(store: StoreBinding, *, read_consistency: bool = True):
    """The LanceDB database at the store's URI (a zero interval: every read sees the latest commit)."""
    return lancedb.connect(
        store.uri,
        read_consistency_interval=timedelta(0) if read_consistency else None,
        storage_options=store.storage_options() or None,
    )


def table_names(db) -> list[str]:
    result = db.list_tables()
    return list(getattr(result, "tables", result))


def _open_or_create(db, name: str, schema: pa.Schema):
    if name in table_names(db):
        return db.open_table(name)
    try:
        return db.create_table(name, schema=schema, mode="create")
    except (ValueError, OSError, RuntimeError):  # created meanwhile by another process
        return db.open_table(name)


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# ----- meta ----------------------------------------------------------------------------------------
def read_meta_json(db) -> dict | None:
    """The index's metadata, or None when no writer has recorded any yet."""
    if META_TABLE not in table_names(db):
        return None
    rows = db.open_table(META_TABLE).search().where("key = 'meta'").select(["value"]).limit(1).to_list()
    return json.loads(rows[0]["value"]) if rows else None


def write_meta_json(db, data: dict) -> None:
    """One commit replaces the row: readers see the previous metadata or this one, never half."""
    table = _open_or_create(db, META_TABLE, META_SCHEMA)
    row = pa.Table.from_pylist([{"key": "meta", "value": json.dumps(data)}], schema=META_SCHEMA)
    table.merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(row)


def drop_tables(db, names: Iterable[str]) -> None:
    present = set(table_names(db))
    for name in names:
        if name in present:
            db.drop_table(name)


# ----- the catalog -----------------------------------------------------------------------------------
class StoreCatalog:
    """catalog.Catalog's interface over the ``files`` table of a shared index."""

    def __init__(self, store: StoreBinding, db=None):
        self.path = f"{store.uri}/{FILES_TABLE}"
        self._db = db if db is not None else connect(store)
        self._table = _open_or_create(self._db, FILES_TABLE, FILES_SCHEMA)

    def _rows(self, where: str | None = None) -> list[dict]:
        query = self._table.search().select(["path", "mtime_ns", "size", "sha256", "chunks"])
        if where:
            query = query.where(where)
        return query.limit(None).to_list()

    def all(self) -> dict[str, FileRecord]:
        return {r["path"]: FileRecord(r["path"], r["mtime_ns"], r["size"], r["sha256"], r["chunks"])
                for r in self._rows()}

    def get(self, path: str) -> FileRecord | None:
        rows = self._rows(f"path = {_quoted([path])}")
        return FileRecord(**rows[0]) if rows else None

    def mark_done(self, records: Iterable[FileRecord], deleted: Iterable[str] = ()) -> None:
        gone = list(dict.fromkeys(deleted))
        for start in range(0, len(gone), IN_BATCH):
            self._table.delete(f"path IN ({_quoted(gone[start:start + IN_BATCH])})")
        now = time.time()
        rows = [{"path": r.path, "mtime_ns": r.mtime_ns, "size": r.size, "sha256": r.sha256,
                 "chunks": r.chunks, "indexed_at": now} for r in records]
        if rows:
            data = pa.Table.from_pylist(rows, schema=FILES_SCHEMA)
            self._table.merge_insert("path").when_matched_update_all().when_not_matched_insert_all().execute(data)

    def count(self) -> int:
        return self._table.count_rows()

    def forget_all(self) -> None:
        self._table.delete("true")

    def optimize(self) -> None:
        """Compact the small commits of a run and drop old versions (as the chunk table's optimize)."""
        self._table.optimize(cleanup_older_than=timedelta(minutes=10))

    def close(self) -> None:
        self._table = None


# ----- the embedding cache ---------------------------------------------------------------------------
class StoreEmbeddingCache:
    """catalog.EmbeddingCache's interface over the ``embed_cache`` table: vectors by content hash, per
    embedder, kept across ``--rebuild`` and shared by every machine that writes this index."""

    def __init__(self, store: StoreBinding, embedder_id: str, dim: int, db=None):
        self.embedder_id = embedder_id
        self.dim = dim
        self.path = f"{store.uri}/{CACHE_TABLE}"
        self.warnings: list[str] = []
        self._db = db if db is not None else connect(store)
        self._schema = pa.schema([
            pa.field("embedder", pa.string()), pa.field("hash", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dim)), pa.field("used_at", pa.float64()),
        ])
        self._table = _open_or_create(self._db, CACHE_TABLE, self._schema)

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        embedder = _quoted([self.embedder_id])
        for start in range(0, len(unique), IN_BATCH):
            part = unique[start:start + IN_BATCH]
            data = (self._table.search().where(f"embedder = {embedder} AND hash IN ({_quoted(part)})")
                    .select(["hash", "vector"]).limit(None).to_arrow())
            if data.num_rows == 0:
                continue
            vectors = data.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            matrix = np.asarray(vectors, dtype=np.float32).reshape(data.num_rows, self.dim)
            for h, vec in zip(data.column("hash").to_pylist(), matrix, strict=True):
                found[h] = vec
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Appended, not merged: one writer holds the index (lease.py) and asks only for misses, so a
        duplicate is rare and harmless (both rows hold the same vector)."""
        if not items:
            return
        now = time.time()
        data = pa.Table.from_pydict({
            "embedder": [self.embedder_id] * len(items),
            "hash": list(items),
            "vector": [np.asarray(v, np.float32) for v in items.values()],
            "used_at": [now] * len(items),
        }, schema=self._schema)
        self._table.add(data)

    def count(self) -> int:
        return self._table.count_rows(f"embedder = {_quoted([self.embedder_id])}")

    def optimize(self) -> None:
        self._table.optimize(cleanup_older_than=timedelta(minutes=10))

    def close(self) -> None:
        self._table = None
