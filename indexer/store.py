"""The on-disk index of one repository: a LanceDB chunk table with full-text indices, plus meta.json.

Writes are atomic per batch of files: one ``merge_insert`` replaces every row of the batch's files in
a single LanceDB commit, so a concurrent reader sees either the old or the new version of a file,
never both and never neither.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import IndexIncompatibleError, IndexMissingError, RagpilotError
from .types import Chunk

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TABLE = "chunks"
META_FILE = "meta.json"
FTS_COLUMNS = ("fts_path", "fts_symbol", "fts_body")
REBUILD_HINT = "run `ragpilot index --rebuild` to rebuild it"


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

    @classmethod
    def from_json(cls, data: dict) -> IndexMeta:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@contextmanager
def lance_errors(index_dir: Path) -> Iterator[None]:
    """Turn LanceDB's errors about damaged files into the one error users can act on."""
    try:
        yield
    except RagpilotError:
        raise
    except (RuntimeError, OSError, ValueError) as err:
        if "lance" not in str(err).lower() and not isinstance(err, OSError):
            raise
        first_line = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise IndexIncompatibleError(
            f"reading the index at {index_dir} failed ({first_line}); {REBUILD_HINT}"
        ) from err


_OS_ERROR = re.compile(r"\(os error (\d+)\)")


@contextmanager
def writing(index_dir: Path) -> Iterator[None]:
    """Turn a failed write into :func:`write_error`. LanceDB reports I/O failures (a full disk) as
    ``RuntimeError("lance error: LanceError(IO): ... (os error 28)")``, not as OSError."""
    try:
        yield
    except OSError as err:
        raise write_error(index_dir, err) from err
    except RuntimeError as err:
        found = _OS_ERROR.search(str(err))
        if found is None:
            raise
        code = int(found.group(1))
        raise write_error(index_dir, OSError(code, os.strerror(code))) from err


def write_error(index_dir: Path, err: OSError) -> RagpilotError:
    """The one message for "the index cannot be written" (disk full, permission denied, not a dir)."""
    reason = err.strerror or str(err).splitlines()[0][:200] or type(err).__name__
    return RagpilotError(
        f"cannot write the index at {index_dir}: {reason}; free some space or choose a writable "
        "location with --index-dir or RAGPILOT_HOME (the index keeps its last complete state)"
    )


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
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class IndexStore:
    """One repository's index directory. Use :meth:`create_or_open` to write, :meth:`open` to read."""

    def __init__(self, index_dir: Path, meta: IndexMeta, *, read_consistency: bool = True):
        self.index_dir = index_dir
        self.meta = meta
        # A zero interval makes every read check for a newer version: readers in the server always see
        # the watcher's latest commit.
        self._db = lancedb.connect(
            str(index_dir / "lance"),  # == lance_uri
            read_consistency_interval=timedelta(0) if read_consistency else None,
        )
        self._table = None

    @property
    def lance_uri(self) -> str:
        """Where the LanceDB database lives (for readers that pin a version)."""
        return str(self.index_dir / "lance")

    # ----- opening -----------------------------------------------------------------------------
    @staticmethod
    def read_meta(index_dir: Path) -> IndexMeta | None:
        path = index_dir / META_FILE
        if not path.exists():
            if (index_dir / "lance").exists():
                raise IndexIncompatibleError(f"the index at {index_dir} has no {META_FILE}; {REBUILD_HINT}")
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

    @classmethod
    def open(cls, index_dir: Path, *, repo_hint: str = "") -> IndexStore:
        """Open an existing index for reading; a missing or damaged one is a clear error."""
        meta = cls.read_meta(index_dir)
        if meta is None:
            target = repo_hint or str(index_dir)
            raise IndexMissingError(f"{target} is not indexed yet: run `ragpilot index {repo_hint or '.'}`")
        store = cls(index_dir, meta)
        store.table  # noqa: B018 - fail now, with a clear message, if the table is damaged
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
        with writing(index_dir):
            index_dir.mkdir(parents=True, exist_ok=True)
            store = cls(index_dir, meta)
            if TABLE not in store._table_names():
                store._table = store._db.create_table(TABLE, schema=schema(meta.dim), mode="create")
        store.write_meta()
        return store

    def _table_names(self) -> list[str]:
        result = self._db.list_tables()
        return list(getattr(result, "tables", result))

    @property
    def table(self):
        if self._table is None:
            try:
                self._table = self._db.open_table(TABLE)
            except Exception as err:  # lance raises several types for missing/truncated files
                raise IndexIncompatibleError(
                    f"the chunk table in {self.index_dir} cannot be opened ({err}); {REBUILD_HINT}"
                ) from err
        return self._table

    def write_meta(self) -> None:
        """Write-then-rename: a full disk leaves the previous meta.json in place, never half of one."""
        self.meta.updated_at = time.time()
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
        # Large deletions are split; each part is still atomic per file.
        step = 500
        for start in range(0, len(path_list), step):
            part = path_list[start : start + step]
            part_rows = data if len(path_list) <= step else data.filter(
                pc.is_in(data["path"], pa.array(part, pa.string()))
            )
            cond = "path IN (" + ", ".join(_sql_str(p) for p in part) + ")"
            with writing(self.index_dir):
                (
                    self.table.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .when_not_matched_by_source_delete(cond)
                    .execute(part_rows)
                )

    def ensure_fts_indices(self) -> None:
        """Create missing full-text indices; new rows are searched unindexed until :meth:`optimize`."""
        from lancedb.index import FTS

        have = {tuple(ix.columns)[0] for ix in self.table.list_indices()}
        for column in FTS_COLUMNS:
            if column not in have and self.table.count_rows() > 0:
                self.table.create_index(
                    column,
                    config=FTS(base_tokenizer="whitespace", lower_case=True, stem=False,
                               remove_stop_words=False, max_token_length=64),
                    replace=True,
                )

    def optimize(self) -> None:
        """Compact fragments and fold new rows into the indices (small updates slow FTS otherwise)."""
        with writing(self.index_dir):
            self.ensure_fts_indices()
            self.table.optimize(cleanup_older_than=timedelta(minutes=5))

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


def chunk_rows(chunks: Sequence[Chunk], vectors: np.ndarray, fts: Sequence[tuple[str, str, str]]) -> list[dict]:
    """Rows for :meth:`IndexStore.replace_files`, one per chunk."""
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
            "vector": vectors[i],
        }
        for i, (c, f) in enumerate(zip(chunks, fts, strict=True))
    ]
