"""The on-disk index of one repository: a LanceDB chunk table with full-text indices, plus meta.json.

Writes are atomic per batch of files: one ``merge_insert`` replaces every row of the batch's files in
a single LanceDB commit, so a concurrent reader sees either the old or the new version of a file,
never both and never neither.

An index is "building" from its first write (meta.json comes first, before the table) until a full run
completes; readers refuse a building index with "run ragpilot index" instead of answering from half of
it, and the next run resumes it. Opening checks, cheaply, that every data file and full-text index the
current version needs can be read, so damage is reported by file name when the index is opened, not as
a raw storage error on every search.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

# LanceDB's Rust logger prints warnings straight to stderr, with Rust source paths ("/rustc/...");
# ragpilot reports what users can act on itself. LANCEDB_LOG=warn brings them back.
os.environ.setdefault("LANCEDB_LOG", "error")

from .lancedb_import import lancedb  # noqa: E402 - after the logging default above; see lancedb_import.py
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import IndexIncompatibleError, IndexMissingError, RagpilotError
from .storage_errors import (  # noqa: F401 - lance_errors re-exported for the readers
    REBUILD_HINT,
    TABLE,
    damage_error,
    index_writing,
    lance_errors,
    write_error,
)
from .types import Chunk
from .status_read import record_counts
from .store_uri import StoreBinding, binding
from .watch_status import pid_alive

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
META_FILE = "meta.json"
FTS_COLUMNS = ("fts_path", "fts_symbol", "fts_body", "fts_context")
CONTEXT_COLUMN = "fts_context"  # the lines around the chunk (indexer/lexical_context.py)
BUILDING, READY = "building", "ready"
EMBEDDED = "embedded"  # the column saying whether a row's vector is filled in
# Lexical search splits the indexed and the flat part up to this many unindexed rows (flat_part);
# beyond (an embedding backlog's fill_vectors rewrites), one LanceDB query searches both.
FLAT_PART_MOST = 2000


@dataclass
class IndexMeta:
    """How the index was built. Querying it with another embedder is refused, not answered with garbage."""

    repo_root: str
    embedder_name: str
    embedder_options: dict
    embedder_id: str
    dim: int
    chunker_version: str
    schema_version: int = SCHEMA_VERSION
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    # "building" until the first full run (or the run after --rebuild) completes; older indexes have no
    # such field and were complete, hence the default.
    state: str = READY
    builder_pid: int = 0
    # Rows deleted or rewritten since the full-text indices were last built: BM25 statistics keep
    # counting them until the indices are rebuilt (LanceDB 0.40), so ranking drifts with churn.
    fts_stale_rows: int = 0

    @classmethod
    def from_json(cls, data: dict) -> IndexMeta:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def chunk_id(chunk: Chunk) -> str:
    raw = f"{chunk.path}\0{chunk.start_line}\0{chunk.end_line}\0{chunk.content_hash}"
    return hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()


def schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("path", pa.string(), nullable=False),
            pa.field("language", pa.string()),
            pa.field("start_line", pa.int32()),
            pa.field("end_line", pa.int32()),
            pa.field("symbol", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("content", pa.string()),
            pa.field("content_hash", pa.string()),
            pa.field("fts_path", pa.string()),
            pa.field("fts_symbol", pa.string()),
            pa.field("fts_body", pa.string()),
            pa.field(CONTEXT_COLUMN, pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
            # False while the row waits for its vector (the vector is then zeros): rows are written, and
            # searchable by text, before they are embedded. Indexes from before this column count as
            # embedded (the writer adds it, all true, when it opens one).
            pa.field(EMBEDDED, pa.bool_()),
        ]
    )


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class IndexStore:
    """One repository's index. Use :meth:`create_or_open` to write, :meth:`open` to read.

    ``index_dir`` is a local folder: the index itself, or (a shared index, store_uri.py) the folder
    whose binding names the URI where the chunk table, catalog, cache and meta live."""

    def __init__(self, index_dir: Path, meta: IndexMeta, *, read_consistency: bool = True,
                 version: int | None = None):
        self.index_dir = index_dir
        self.meta = meta
        self.created = False  # set by create_or_open when it made the chunk table
        self.shared: StoreBinding | None = binding(index_dir)
        # A zero interval makes every read check for a newer version: readers in the server always see
        # the watcher's latest commit. A pinned ``version`` (a read-only replica) never moves.
        self._db = self.connect(read_consistency=read_consistency and version is None)
        self._version = version
        self._table = None
        self._counts: tuple[int, tuple[int, int]] | None = None  # (table version, embedded_counts())
        self._flat: tuple[int, tuple[int, list[str]] | None] | None = None  # (table version, flat_part())
        self._columns_seen: set[str] = set()  # columns found in the schema (has_column)

    @property
    def lance_uri(self) -> str:
        """Where the LanceDB database lives (for readers that pin a version)."""
        return self.shared.uri if self.shared is not None else str(self.index_dir / "lance")

    def connect(self, *, read_consistency: bool = True):
        """A LanceDB connection to this index's database (with the store's options when shared)."""
        if self.shared is not None:
            from .store_tables import connect  # noqa: PLC0415

            return connect(self.shared, read_consistency=read_consistency)
        return lancedb.connect(self.lance_uri,
                               read_consistency_interval=timedelta(0) if read_consistency else None)

    # ----- opening -----------------------------------------------------------------------------
    @staticmethod
    def read_meta(index_dir: Path) -> IndexMeta | None:
        shared = binding(index_dir)
        if shared is not None:
            return _read_shared_meta(shared)
        path = index_dir / META_FILE
        if not path.exists():
            if (index_dir / "lance").exists():
                raise IndexMissingError(
                    f"the index at {index_dir} is incomplete (its set-up was interrupted): run `ragpilot "
                    "index` to build it"
                )
            return None
        try:
            meta = IndexMeta.from_json(json.loads(path.read_text("utf-8")))
        except (ValueError, TypeError, OSError) as err:
            raise IndexIncompatibleError(f"the index at {index_dir} is damaged ({err}); {REBUILD_HINT}") from err
        if meta.schema_version != SCHEMA_VERSION:
            raise IndexIncompatibleError(
                f"the index at {index_dir} has schema version {meta.schema_version}, this ragpilot "
                f"reads version {SCHEMA_VERSION}; {REBUILD_HINT}"
            )
        return meta

    @staticmethod
    def unfinished_setup(index_dir: Path) -> bool:
        """A chunk table without meta.json: a first index killed during set-up (or by an older ragpilot,
        which created the table before meta.json). The next writer starts it over. (A shared index
        writes its meta row before any table, so it has no such state.)"""
        if binding(index_dir) is not None:
            return False
        return (index_dir / "lance").exists() and not (index_dir / META_FILE).exists()

    @classmethod
    def open(cls, index_dir: Path, *, repo_hint: str = "", version: int | None = None) -> IndexStore:
        """Open an existing, complete index for reading; a missing, unfinished or damaged one is a clear
        error naming the command that fixes it."""
        meta = cls.read_meta(index_dir)
        target = repo_hint or str(index_dir)
        if meta is None:
            raise IndexMissingError(f"{target} is not indexed yet: run `ragpilot index {repo_hint or '.'}`")
        if meta.state != READY:
            raise IndexMissingError(incomplete_message(index_dir, meta, repo_hint))
        store = cls(index_dir, meta, version=version)
        store.verify()
        return store

    @classmethod
    def create_or_open(cls, index_dir: Path, meta: IndexMeta) -> IndexStore:
        """Open for writing, creating the index if needed; refuse an index built another way."""
        existing = cls.read_meta(index_dir)
        if existing is not None:
            if existing.embedder_id != meta.embedder_id or existing.dim != meta.dim:
                raise IndexIncompatibleError(
                    f"this index was built with embedder '{existing.embedder_name}' ({existing.embedder_id},"
                    f" {existing.dim}-d), not '{meta.embedder_name}' ({meta.embedder_id}, {meta.dim}-d); "
                    f"pass --embedder {existing.embedder_name} or {REBUILD_HINT}"
                )
            meta.created_at = existing.created_at
            meta.state, meta.fts_stale_rows = existing.state, existing.fts_stale_rows
        else:
            meta.state = BUILDING
        meta.builder_pid = os.getpid() if meta.state == BUILDING else 0
        with index_writing(index_dir):
            index_dir.mkdir(parents=True, exist_ok=True)
            store = cls(index_dir, meta)
            # meta.json ("building") before the table: a kill from here on leaves an index the next run
            # resumes and readers call incomplete, never a table nobody knows how to read.
            store.write_meta()
            if meta.state == BUILDING:
                store._drop_half_created_table()
            if TABLE not in store._table_names():
                store._table = store._db.create_table(TABLE, schema=schema(meta.dim), mode="create")
                store.created = True  # no rows: whatever a catalog says was written is not there
            else:
                store.verify()  # a damaged table must stop `index`, not pass as "all unchanged"
                if not store.has_embedded_column():  # an index from before search-first: all embedded
                    store.table.add_columns({EMBEDDED: "true"})
                if not store.has_column(CONTEXT_COLUMN):  # older index: empty until re-chunked
                    store.table.add_columns({CONTEXT_COLUMN: "''"})
                    store.ensure_fts_indices()  # readers search the column as soon as it exists
        return store

    def mark_ready(self) -> None:
        """A full run completed: readers may use the index."""
        if self.meta.state != READY:
            self.meta.state, self.meta.builder_pid = READY, 0
        self.write_meta()
        self.record_counts()  # also for an index from before the counts were recorded

    def verify(self) -> None:
        """Fail now, naming the damaged file and the rebuild, if the current version cannot be read.

        Reads one small column of every row (which opens every data file the version lists: a truncated
        or missing file fails here) and runs one full-text query on the indexed columns (a missing
        ``_indices`` folder fails here). Measured ~20 ms on a 10k-chunk index on a busy 2-core machine.
        """
        from lancedb.query import MultiMatchQuery

        table = self.table
        try:
            if table.count_rows() == 0:
                return
            table.search().select(["start_line"]).limit(None).to_arrow()
            indices = table.list_indices()
            for ix in indices if self.shared is None else ():  # object storage: the FTS probe below reads them
                folder = self.index_dir / "lance" / f"{TABLE}.lance" / "_indices" / str(getattr(ix, "index_uuid", ""))
                if getattr(ix, "index_uuid", None) and not folder.is_dir():
                    raise IndexIncompatibleError(
                        f"opening the index at {self.index_dir} failed "
                        f"({folder.relative_to(self.index_dir).as_posix()} is missing); {REBUILD_HINT}"
                    )
            indexed = [c for ix in indices for c in ix.columns if c in FTS_COLUMNS]
            if indexed:
                probe = MultiMatchQuery("ragpilot", indexed)
                table.search(probe, query_type="fts").select(["id", "_score"]).limit(1).to_list()
        except RagpilotError:
            raise
        except Exception as err:  # lance raises RuntimeError, OSError, ValueError for damaged files
            raise damage_error(self.index_dir, err, "opening the index") from err

    def _drop_half_created_table(self) -> None:
        """A first index killed inside ``create_table`` leaves ``chunks.lance/`` without a version manifest:
        listed as a table, yet "not found" when opened. Nothing was ever committed there, so it goes."""
        if self.shared is not None:
            return  # object storage has no half-made folder to look at; opening it fails clearly instead
        folder = self.index_dir / "lance" / f"{TABLE}.lance"
        if folder.is_dir() and not any((folder / "_versions").glob("*.manifest")):
            log.warning("removing %s: a table whose creation was interrupted (no version committed)", folder)
            shutil.rmtree(folder)

    def _table_names(self) -> list[str]:
        result = self._db.list_tables()
        return list(getattr(result, "tables", result))

    @property
    def table(self):
        if self._table is None:
            try:
                table = self._db.open_table(TABLE)
                if self._version is not None:
                    table.checkout(self._version)
                self._table = table
            except Exception as err:  # lance raises several types for missing/truncated files
                raise damage_error(self.index_dir, err, "opening the chunk table") from err
        return self._table

    def write_meta(self) -> None:
        """Write-then-rename: a full disk leaves the previous meta.json in place, never half of one.
        A shared index replaces its meta row in one commit instead."""
        self.meta.updated_at = time.time()
        if self.shared is not None:
            from .store_tables import write_meta_json  # noqa: PLC0415

            write_meta_json(self._db, asdict(self.meta))
            return
        tmp = self.index_dir / (META_FILE + ".tmp")
        try:
            tmp.write_text(json.dumps(asdict(self.meta), indent=2), "utf-8")
            os.replace(tmp, self.index_dir / META_FILE)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise write_error(self.index_dir, err) from err

    # ----- writing -----------------------------------------------------------------------------
    def replace_files(self, rows: Sequence[dict], paths: Iterable[str]) -> None:
        """Make ``rows`` the complete content of ``paths`` (deleting files given no rows) in one commit."""
        path_list = sorted(set(paths))
        if not path_list:
            return
        data = pa.Table.from_pylist(list(rows), schema=self.table.schema)
        marked = self.meta.fts_stale_rows == 0
        if marked:
            # Durably "maybe stale" before a commit that may delete rows, so a kill before the real
            # count is saved still makes the next full run rebuild the full-text statistics.
            self.meta.fts_stale_rows = 1
            self.write_meta()
        stale = 0
        committed = False
        # Large deletions are split; each part is still atomic per file.
        step = 500
        try:
            for start in range(0, len(path_list), step):
                part = path_list[start : start + step]
                part_rows = data if len(path_list) <= step else data.filter(
                    pc.is_in(data["path"], pa.array(part, pa.string()))
                )
                cond = "path IN (" + ", ".join(_sql_str(p) for p in part) + ")"
                with index_writing(self.index_dir):
                    result = (
                        self.table.merge_insert("id")
                        .when_matched_update_all()
                        .when_not_matched_insert_all()
                        .when_not_matched_by_source_delete(cond)
                        .execute(part_rows)
                    )
                committed = True
                stale += getattr(result, "num_deleted_rows", 1) + getattr(result, "num_updated_rows", 1)
        except Exception:
            if marked and not committed:  # nothing was written: leave meta.json as it was, if we can
                self.meta.fts_stale_rows = 0
                with suppress(RagpilotError):
                    self.write_meta()
            raise
        self.meta.fts_stale_rows = stale if marked else self.meta.fts_stale_rows + stale
        self.record_counts()

    def append_rows(self, rows: Sequence[dict]) -> None:
        """Add rows of files that have none yet, in one commit (the caller knows they have none)."""
        if rows:
            with index_writing(self.index_dir):
                self.table.add(pa.Table.from_pylist(list(rows), schema=self.table.schema))
            self.record_counts()

    def fill_vectors(self, ids: Sequence[str], vectors: np.ndarray) -> int:
        """Set the vectors of rows already written (by id) and mark them embedded, in one commit.

        Only the id, vector and ``embedded`` columns are sent (a partial-schema ``merge_insert``; rows
        whose file was rewritten meanwhile no longer match and are left alone). LanceDB 0.40 still
        rewrites each updated row: it moves out of the full-text indices (searched flat until the next
        :meth:`optimize` folds it back in) and its old copy counts in the BM25 statistics until a
        rebuild, so the updates are counted in ``fts_stale_rows`` like any rewrite. Measured at 100k
        rows: ~0.05-0.2 s per 1,000 rows; a fold-in of 20k rows ~1.1-1.5 s per full-text column.
        Returns the rows updated."""
        if len(ids) == 0:
            return 0
        data = pa.table(
            {
                "id": pa.array(list(ids), pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(
                    pa.array(np.asarray(vectors, np.float32).reshape(-1)), self.meta.dim),
                EMBEDDED: pa.array([True] * len(ids), pa.bool_()),
            }
        )
        if self.meta.fts_stale_rows == 0:  # durably "maybe stale" first, as in replace_files
            self.meta.fts_stale_rows = 1
            self.write_meta()
        with index_writing(self.index_dir):
            result = self.table.merge_insert("id").when_matched_update_all().execute(data)
        updated = int(getattr(result, "num_updated_rows", len(ids)))
        self.meta.fts_stale_rows += updated
        self.record_counts()
        return updated

    def record_counts(self) -> None:
        """Save the chunk and embedded counts after a commit, for `ragpilot status` to read without lancedb.
        (Not for a shared index: its status is read from the store, which other machines change.)"""
        if self.shared is not None:
            return
        embedded, total = self.embedded_counts()
        record_counts(self.index_dir, version=self.table.version, chunks=total, embedded=embedded)

    def pending_count(self) -> int:
        """Rows still waiting for their vector."""
        embedded, total = self.embedded_counts()
        return total - embedded

    def pending_rows(self) -> pa.Table:
        """id, path and content_hash of every row still waiting for its vector."""
        if not self.has_embedded_column():
            return pa.table({"id": pa.array([], pa.string()), "path": pa.array([], pa.string()),
                             "content_hash": pa.array([], pa.string())})
        return (self.table.search().where(f"NOT {EMBEDDED}")
                .select(["id", "path", "content_hash"]).limit(None).to_arrow())

    def embedded_counts(self) -> tuple[int, int]:
        """(rows with their vector, all rows): how much of the index dense search covers.
        Cached per table version (a count of the flag column: a few ms at 100k rows)."""
        table = self.table
        version = table.version
        cached = self._counts
        if cached is not None and cached[0] == version:
            return cached[1]
        total = table.count_rows()
        embedded = table.count_rows(EMBEDDED) if total and self.has_embedded_column() else total
        self._counts = (version, (embedded, total))
        return embedded, total

    def has_embedded_column(self) -> bool:
        return EMBEDDED in self.table.schema.names

    def has_column(self, name: str) -> bool:
        """Whether the table has column ``name``. Asked on every lexical search; reading the schema costs
        ~0.3 ms, and ragpilot only ever adds columns, so a column once seen is not looked up again."""
        if name in self._columns_seen:
            return True
        if name in self.table.schema.names:
            self._columns_seen.add(name)
            return True
        return False

    def ensure_fts_indices(self, *, rebuild: bool = False) -> None:
        """Create missing full-text indices (all of them with ``rebuild``); new rows are searched
        unindexed until :meth:`optimize`."""
        from lancedb.index import FTS

        have = {tuple(ix.columns)[0] for ix in self.table.list_indices()}
        if self.table.count_rows() == 0:
            return
        for column in FTS_COLUMNS:
            if rebuild or column not in have:
                self.table.create_index(
                    column,
                    config=FTS(base_tokenizer="whitespace", lower_case=True, stem=False,
                               remove_stop_words=False, max_token_length=64),
                    replace=True,
                )

    def fts_stale_share(self) -> float:
        """Rows deleted or rewritten since the full-text indices were built, as a share of the rows."""
        return self.meta.fts_stale_rows / max(1, self.count_chunks())

    def unindexed_rows(self) -> int:
        """Rows the full-text indices do not cover yet (searched flat, with their own statistics)."""
        most = 0
        for ix in self.table.list_indices():
            stats = self.table.index_stats(ix.name)
            most = max(most, getattr(stats, "num_unindexed_rows", 0) or 0)
        return most

    def flat_part(self, most: int = FLAT_PART_MOST) -> tuple[int, list[str]] | None:
        """(first row id, paths) of the rows the full-text indices do not cover yet, or None when they
        cover every row or those rows cannot be told apart cheaply (more than ``most``, or not whole
        fragments).

        Why: with deleted rows in the index *and* rows searched flat, LanceDB 0.40 drops the top-k pruning
        of the indexed part of a multi-column query and scores every matching row (measured at 100k rows:
        20 -> 300 ms after one single-file ``replace_files``; deletions alone or additions alone stay at
        20 ms). Lexical search uses this to search the indexed part and the flat part apart.
        Unindexed rows are the whole fragments written since the last fold-in, the last in scan order,
        so their row ids (row addresses: fragment << 32 | offset) start at the first of them; the row
        before them must be in another fragment, or the answer is None. Cached per table version
        (~5 ms at 100k rows)."""
        table = self.table
        version = table.version
        if self._flat is not None and self._flat[0] == version:
            return self._flat[1]
        count, part = self.unindexed_rows(), None
        if 0 < count <= most:
            total = table.count_rows()
            tail = (table.search().with_row_id(True).select(["path"])
                    .offset(max(0, total - count - 1)).limit(count + 1).to_arrow())
            row_ids = tail["_rowid"].to_pylist()
            if len(row_ids) == count + 1 and row_ids[0] >> 32 != row_ids[1] >> 32:
                part = (min(row_ids[1:]), sorted(set(tail["path"].to_pylist()[1:])))
        self._flat = (version, part)
        return part

    def optimize(self, *, rebuild_fts: bool = False) -> None:
        """Compact fragments and fold new rows into the indices (small updates slow FTS otherwise).

        Folding in keeps BM25 exact for added rows, not for deleted ones: LanceDB 0.40 keeps counting
        deleted documents in the statistics until the index is rebuilt, so ``rebuild_fts`` rebuilds the
        full-text indices (~0.7 s per 10k chunks measured) and clears the stale count."""
        with index_writing(self.index_dir):
            self.table.optimize(cleanup_older_than=timedelta(minutes=5))
            self.ensure_fts_indices(rebuild=rebuild_fts)
            if rebuild_fts:
                self.meta.fts_stale_rows = 0

    # ----- reading -----------------------------------------------------------------------------
    def count_chunks(self) -> int:
        return self.table.count_rows()

    def rows_for_path(self, path: str) -> list[dict]:
        return (
            self.table.search()
            .where(f"path = {_sql_str(path)}")
            .select(["id", "path", "start_line", "end_line", "symbol", "kind", "content", "language"])
            .limit(100_000)
            .to_list()
        )

    def all_keys(self) -> list[tuple[str, int, int, str]]:
        """(path, start, end, content_hash) of every row: for consistency checks and tests."""
        t = self.table.to_arrow().select(["path", "start_line", "end_line", "content_hash"]).to_pylist()
        return sorted((r["path"], r["start_line"], r["end_line"], r["content_hash"]) for r in t)


def _read_shared_meta(shared: StoreBinding) -> IndexMeta | None:
    from .store_tables import connect, read_meta_json  # noqa: PLC0415

    try:
        data = read_meta_json(connect(shared))
    except Exception as err:  # unreachable endpoint, no such bucket, bad credentials
        raise RagpilotError(f"cannot read the shared index at {shared.uri}: {describe(err)}") from err
    if data is None:
        return None
    meta = IndexMeta.from_json(data)
    if meta.schema_version != SCHEMA_VERSION:
        raise IndexIncompatibleError(
            f"the index at {shared.uri} has schema version {meta.schema_version}, this ragpilot reads "
            f"version {SCHEMA_VERSION}; {REBUILD_HINT}")
    return meta


def describe(err: BaseException) -> str:
    """The first line of a storage error (object_store messages run over many lines)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:300]


def incomplete_message(index_dir: Path, meta: IndexMeta, repo_hint: str = "") -> str:
    """What a reader is told about an index whose first full run has not completed."""
    target = repo_hint or str(index_dir)
    # In this process the caller knows better (the server reports its own first pass as in progress).
    if meta.builder_pid and meta.builder_pid != os.getpid() and pid_alive(meta.builder_pid):
        return (f"{target} is being indexed for the first time (by process {meta.builder_pid}); "
                "search again when it finishes")
    return (f"indexing {target} did not finish (the index at {index_dir} is incomplete): run "
            f"`ragpilot index {repo_hint or '.'}` to complete it")


def chunk_rows(chunks: Sequence[Chunk], vectors: np.ndarray, fts: Sequence[tuple[str, str, str, str]],
               embedded: Sequence[bool] | None = None) -> list[dict]:
    """Rows for :meth:`IndexStore.replace_files`, one per chunk; ``embedded[i]`` False marks a row whose
    vector (zeros) is filled in later (:meth:`IndexStore.fill_vectors`). None: all embedded."""
    return [
        {
            "id": chunk_id(c),
            "path": c.path,
            "language": c.language,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "symbol": c.symbol,
            "kind": c.kind,
            "content": c.content,
            "content_hash": c.content_hash,
            "fts_path": f[0],
            "fts_symbol": f[1],
            "fts_body": f[2],
            CONTEXT_COLUMN: f[3],
            "vector": vectors[i],
            EMBEDDED: True if embedded is None else bool(embedded[i]),
        }
        for i, (c, f) in enumerate(zip(chunks, fts, strict=True))
    ]
