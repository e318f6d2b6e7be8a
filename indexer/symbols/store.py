"""The symbol index on disk: definitions and references per file, in ``symbols.sqlite`` beside the catalog.

Written per file in the same pipeline pass as the chunks (a file's rows are replaced whole, in one
transaction, so a reader never sees half a file) and read by the query layer and the repo map. SQLite
rather than a LanceDB table because every lookup is by name or path, which B-tree indexes answer in
microseconds, and readers must not block the writer (WAL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from ..errors import IndexIncompatibleError, IndexMissingError
from ..store_uri import binding
from ..storage_errors import REBUILD_HINT, sqlite_connect, sqlite_write_error, sqlite_writing
from .types import Definition, Reference

SYMBOLS_FILE = "symbols.sqlite"
SCHEMA_VERSION = "1"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    # Every file extraction has seen, even one without symbols: what a backfill and `files()` go by.
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS definitions (path TEXT NOT NULL, name TEXT NOT NULL,"
    " qualified TEXT NOT NULL, kind TEXT NOT NULL, line_start INTEGER NOT NULL, line_end INTEGER NOT NULL,"
    " signature TEXT NOT NULL, parent TEXT NOT NULL, language TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS refs (path TEXT NOT NULL, name TEXT NOT NULL, line INTEGER NOT NULL,"
    " kind TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS definitions_name ON definitions (name)",
    "CREATE INDEX IF NOT EXISTS definitions_name_nocase ON definitions (lower(name))",
    "CREATE INDEX IF NOT EXISTS definitions_qualified_nocase ON definitions (lower(qualified))",
    "CREATE INDEX IF NOT EXISTS definitions_path ON definitions (path)",
    "CREATE INDEX IF NOT EXISTS refs_name ON refs (name)",
    "CREATE INDEX IF NOT EXISTS refs_path ON refs (path)",
)
#: The lookup indexes: dropped while a first index loads the store in bulk, built once at its end.
_LOOKUP_INDEXES = tuple(statement for statement in _SCHEMA if statement.startswith("CREATE INDEX"))
_LOOKUP_INDEX_NAMES = tuple(statement.split()[5] for statement in _LOOKUP_INDEXES)
# Pages SQLite keeps in memory (KiB when negative): index inserts and builds walk B-trees far larger than
# the 2 MB default.
_WRITER_CACHE_KIB = 32 * 1024
_DEF_COLUMNS = "path, name, qualified, kind, line_start, line_end, signature, parent, language"
_REF_COLUMNS = "path, name, line, kind"
_ORDER_DEFS = " ORDER BY path, line_start, qualified"
_ORDER_REFS = " ORDER BY path, line, name"


def symbols_path(index_dir: Path) -> Path:
    return Path(index_dir) / SYMBOLS_FILE


class SymbolStore:
    """Definitions and references by file. ``readonly`` opens an existing index only (serving, queries);
    the writer (the pipeline) creates the file."""

    def __init__(self, index_dir: Path, readonly: bool = False):
        self.index_dir = Path(index_dir)
        self.path = symbols_path(self.index_dir)
        self.readonly = readonly
        self._bulk_paths: set[str] | None = None  # the paths written since begin_bulk (bulk mode)
        if readonly and not self.path.is_file():
            if binding(self.index_dir) is not None:
                raise IndexMissingError(
                    "symbols (def, refs, map) are not kept for a shared index (--index-uri) yet: only search "
                    "and retrieval are; use a local index for them (DEPLOY.md)"
                )
            raise IndexMissingError(
                f"{self.index_dir} has no symbol index yet; run `ragpilot index` to build it"
            )
        self.conn = sqlite_connect(self.path)
        try:
            if readonly:
                self.conn.execute("SELECT 1 FROM definitions LIMIT 1").fetchall()
                self.conn.execute("PRAGMA query_only=ON")
            else:
                self.conn.execute(f"PRAGMA cache_size=-{_WRITER_CACHE_KIB}")
                # The schema also rebuilds lookup indexes a bulk load killed half-way left out.
                with sqlite_writing(self.path), self.conn:
                    self.conn.execute("BEGIN")
                    for statement in _SCHEMA:
                        self.conn.execute(statement)
                    self.conn.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                    )
                    self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
        except sqlite3.OperationalError as err:
            self.conn.close()
            if readonly and "no such table" in str(err):
                raise IndexIncompatibleError(
                    f"the symbol index {self.path} is incomplete ({err}); {REBUILD_HINT}"
                ) from err
            raise sqlite_write_error(self.path, err) from err
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise IndexIncompatibleError(f"the symbol index {self.path} is damaged ({err}); {REBUILD_HINT}") from err

    # ----- writing --------------------------------------------------------------------------------
    def begin_bulk(self) -> bool:
        """Load an empty store in bulk (a first index): its lookup indexes are dropped until
        :meth:`end_bulk`, so each write appends rows instead of inserting millions of references into
        B-trees (measured on the stdlib's symbols written 1-3 times, 0.8M-2.4M references: writes take
        ~2.5x less CPU, 11.1 -> 4.1 s; the build at the end, after search is ready, adds 3.4 s).
        Lookups still work meanwhile, by scanning. Returns False (and changes nothing) when the store
        already holds files."""
        if self._bulk_paths is not None:
            return True
        if self.conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None:
            return False
        with sqlite_writing(self.path), self.conn:
            self.conn.execute("BEGIN")
            for name in _LOOKUP_INDEX_NAMES:
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        self._bulk_paths = set()
        return True

    def end_bulk(self) -> None:
        """Build the lookup indexes a bulk load left out (one sort each); a no-op outside bulk mode."""
        if self._bulk_paths is None:
            return
        with sqlite_writing(self.path), self.conn:
            self.conn.execute("BEGIN")
            for statement in _LOOKUP_INDEXES:
                self.conn.execute(statement)
        self._bulk_paths = None

    @property
    def bulk(self) -> bool:
        return self._bulk_paths is not None

    def replace_files(
        self,
        defs_by_path: dict[str, list[Definition]],
        refs_by_path: dict[str, list[Reference]],
        deleted: Iterable[str] = (),
    ) -> None:
        """Replace every row of the files in ``defs_by_path``/``refs_by_path`` and drop ``deleted``, in
        one transaction. A path in either mapping counts as extracted (an empty list clears it)."""
        rows = {path: [(r.name, r.line, r.kind) for r in refs] for path, refs in refs_by_path.items()}
        self.replace_file_rows(defs_by_path, rows, deleted)

    def replace_file_rows(
        self,
        defs_by_path: dict[str, list[Definition]],
        ref_rows_by_path: dict[str, list[tuple[str, int, str]]],
        deleted: Iterable[str] = (),
    ) -> None:
        """:meth:`replace_files` with references as (name, line, kind) rows: the extractor's fast path."""
        refs_by_path = ref_rows_by_path
        replaced = set(defs_by_path) | set(refs_by_path)
        gone = [p for p in dict.fromkeys(deleted) if p not in replaced]
        touched = [(p,) for p in (*replaced, *gone)]
        if self._bulk_paths is not None:
            # Without the path indexes a delete scans the table: only paths this load wrote can have
            # rows (the store was empty), and a run writes each path once.
            touched = [t for t in touched if t[0] in self._bulk_paths]
            self._bulk_paths.update(replaced)
        with sqlite_writing(self.path), self.conn:
            self.conn.execute("BEGIN")
            if touched:
                self.conn.executemany("DELETE FROM definitions WHERE path = ?", touched)
                self.conn.executemany("DELETE FROM refs WHERE path = ?", touched)
            self.conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
            self.conn.executemany("INSERT OR IGNORE INTO files VALUES (?)", [(p,) for p in replaced])
            self.conn.executemany(
                f"INSERT INTO definitions ({_DEF_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (d.path, d.name, d.qualified, d.kind, d.line_start, d.line_end, d.signature,
                     d.parent, d.language)
                    for defs in defs_by_path.values() for d in defs
                ],
            )
            self.conn.executemany(
                f"INSERT INTO refs ({_REF_COLUMNS}) VALUES (?, ?, ?, ?)",
                [(path, name, line, kind) for path, rows in refs_by_path.items() for name, line, kind in rows],
            )
            self.conn.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
            )

    # ----- reading --------------------------------------------------------------------------------
    def definitions(self, path: str | None = None) -> list[Definition]:
        if path is None:
            rows = self.conn.execute(f"SELECT {_DEF_COLUMNS} FROM definitions" + _ORDER_DEFS)
        else:
            rows = self.conn.execute(
                f"SELECT {_DEF_COLUMNS} FROM definitions WHERE path = ?" + _ORDER_DEFS, (path,)
            )
        return [Definition(*r) for r in rows]

    def references(self, path: str | None = None) -> list[Reference]:
        if path is None:
            rows = self.conn.execute(f"SELECT {_REF_COLUMNS} FROM refs" + _ORDER_REFS)
        else:
            rows = self.conn.execute(f"SELECT {_REF_COLUMNS} FROM refs WHERE path = ?" + _ORDER_REFS, (path,))
        return [Reference(*r) for r in rows]

    def definitions_named(self, name: str) -> list[Definition]:
        """Definitions whose bare name is exactly ``name`` (case-sensitive)."""
        rows = self.conn.execute(
            f"SELECT {_DEF_COLUMNS} FROM definitions WHERE name = ?" + _ORDER_DEFS, (name,)
        )
        return [Definition(*r) for r in rows]

    def definitions_named_nocase(self, name: str) -> list[Definition]:
        """Definitions whose bare name equals ``name`` ignoring (ASCII) case."""
        rows = self.conn.execute(
            f"SELECT {_DEF_COLUMNS} FROM definitions WHERE lower(name) = lower(?)" + _ORDER_DEFS, (name,)
        )
        return [Definition(*r) for r in rows]

    def definitions_qualified_nocase(self, qualified: str) -> list[Definition]:
        """Definitions whose qualified name equals ``qualified`` ignoring (ASCII) case."""
        rows = self.conn.execute(
            f"SELECT {_DEF_COLUMNS} FROM definitions WHERE lower(qualified) = lower(?)" + _ORDER_DEFS,
            (qualified,),
        )
        return [Definition(*r) for r in rows]

    def definitions_in(self, names: Iterable[str]) -> list[Definition]:
        """Definitions whose bare name is one of ``names`` (exact)."""
        unique = list(dict.fromkeys(names))
        found: list[Definition] = []
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(
                f"SELECT {_DEF_COLUMNS} FROM definitions WHERE name IN ({marks})" + _ORDER_DEFS, part
            )
            found.extend(Definition(*r) for r in rows)
        return found

    def references_named(self, name: str) -> list[Reference]:
        """References to the bare name ``name`` (exact)."""
        rows = self.conn.execute(f"SELECT {_REF_COLUMNS} FROM refs WHERE name = ?" + _ORDER_REFS, (name,))
        return [Reference(*r) for r in rows]

    def definition_names(self) -> list[str]:
        """Every distinct bare name defined anywhere (for fuzzy matching), sorted."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM definitions ORDER BY name")]

    def files(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM files ORDER BY path")]

    def generation(self) -> int:
        """A counter bumped by every write: readers cache derived data (name lists) against it."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with sqlite_writing(self.path), self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def counts(self) -> tuple[int, int, int]:
        """(files, definitions, references)."""
        return tuple(  # type: ignore[return-value]
            self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("files", "definitions", "refs")
        )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SymbolStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
