"""Storage failures (SQLite, LanceDB, the file system, the writer lock file) as ragpilot errors.

The one translation for every file the index keeps: a full disk, a read-only folder or a damaged file
becomes one line naming the file and what fixes it, never a raw storage traceback. The catalog, the
store and the writer lock all raise through here, so the same failure reads the same everywhere.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexIncompatibleError, RagpilotError

TABLE = "chunks"  # the LanceDB table of chunks (see store.py)
REBUILD_HINT = "run `ragpilot index --rebuild` to rebuild it"
LANCE_FOOTER_MAGIC = b"LANC"  # the last bytes of every complete Lance data file


# ----- SQLite (catalog, embedding cache) ---------------------------------------------------------
def sqlite_connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` in WAL mode; a file we may not open is the user's to fix, a damaged one is a rebuild."""
    try:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    except sqlite3.OperationalError as err:  # permission denied, disk full: not damage
        raise RagpilotError(f"cannot open {path}: {err}") from err
    except sqlite3.DatabaseError as err:
        raise IndexIncompatibleError(f"{path} is damaged ({err}); {REBUILD_HINT}") from err


def sqlite_write_error(path: Path, err: sqlite3.OperationalError) -> RagpilotError:
    return RagpilotError(f"cannot write {path}: {err}")


@contextmanager
def sqlite_writing(path: Path) -> Iterator[None]:
    """A failed write (disk full, read-only file) is the user's to fix: one clear error, no traceback.
    The transaction is rolled back, so the file keeps its previous content."""
    try:
        yield
    except sqlite3.OperationalError as err:
        raise sqlite_write_error(path, err) from err


# ----- LanceDB (the chunk table) -----------------------------------------------------------------
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
        raise damage_error(index_dir, err, "reading the index") from err


# Where in LanceDB's own source an error was raised: noise to a user, and a leak of build paths.
_RUST_LOCATION = re.compile(r",?\s*/\S+\.rs:\d+(?::\d+)?")
_INDEX_FILE = re.compile(r"(/\S*?/(?:_indices/[0-9a-f-]{36}|data/[^/\s,]+\.lance))")


def describe_lance_error(err: BaseException) -> str:
    """One line of a LanceDB error without Rust source locations (``/rustc/...``, ``.cargo/...``)."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    text = _RUST_LOCATION.sub("", text).strip().rstrip(",")
    return text[:200]


def damaged_file(index_dir: Path, err: BaseException | None = None) -> str | None:
    """The file (relative to ``index_dir``) that makes the table unreadable, when it can be named: the
    path in the error, else a data file that lacks the footer every complete Lance file ends with."""
    found = _INDEX_FILE.search(str(err)) if err is not None else None
    if found:
        path = Path(found.group(1))
        try:
            return path.relative_to(index_dir).as_posix()
        except ValueError:
            return path.as_posix()
    data_dir = index_dir / "lance" / f"{TABLE}.lance" / "data"
    try:
        files = sorted(data_dir.glob("*.lance"))
    except OSError:
        return None
    for data_file in files:
        try:
            with data_file.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - len(LANCE_FOOTER_MAGIC)))
                if size < len(LANCE_FOOTER_MAGIC) or fh.read() != LANCE_FOOTER_MAGIC:
                    return data_file.relative_to(index_dir).as_posix()
        except OSError:
            return data_file.relative_to(index_dir).as_posix()
    return None


def damage_error(index_dir: Path, err: BaseException, doing: str) -> IndexIncompatibleError:
    """The one message for a damaged table: which file, if known, and the command that fixes it."""
    culprit = damaged_file(index_dir, err)
    if culprit:
        what = f"{culprit} is damaged or missing"
    else:
        what = describe_lance_error(err)
    return IndexIncompatibleError(f"{doing} at {index_dir} failed ({what}); {REBUILD_HINT}")


# ----- the index folder (any writer) -------------------------------------------------------------
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


@contextmanager
def index_writing(index_dir: Path) -> Iterator[None]:
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


def unusable_index_dir(index_dir: Path, err: OSError) -> RagpilotError:
    """The folder cannot hold an index (or its writer lock) at all: a parent is a file, it is read-only,
    the disk is full."""
    reason = err.strerror or type(err).__name__
    return RagpilotError(
        f"cannot use {index_dir} as the index directory: {reason}; choose a writable location with "
        "--index-dir or RAGPILOT_HOME"
    )
