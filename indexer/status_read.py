"""What an index holds and whether its files are whole, read from small files only: no lancedb.

``ragpilot status`` should answer as fast as ``python -c pass`` starts, but importing lancedb alone
costs ~1 s (more under load). Everything status prints is on disk in small files: meta.json (how the
index was built), the catalog (files), the watcher's status file, ``counts.json`` (chunks and how many
are embedded, recorded by the writer at each commit, see :func:`record_counts`) and the Lance table's
current manifest, which lists the data files and full-text index folders the current version reads.

The integrity check is the cheap half of ``IndexStore.verify``: every data file the current version
lists exists and ends with the footer every complete Lance file ends with (``LANC``), and every index
folder it lists exists and is non-empty. It names the same file or folder ``verify`` names. What it
does not do (decode the data, run a full-text query) is ``ragpilot status --deep``.

The manifest is read with a minimal protobuf reader (field numbers from lance's ``table.proto``:
``Manifest.fragments = 2``, ``Manifest.version = 3``, ``Manifest.index_section = 6``;
``DataFragment.files = 2``, ``deletion_file = 3``, ``physical_rows = 4``; ``DataFile.path = 1``;
``DeletionFile.num_deleted_rows = 4``; ``IndexSection.indices = 1``; ``IndexMetadata.uuid = 1``,
``name = 3``; ``UUID.uuid = 1``). Anything it cannot read makes it answer "don't know" (``None``), and
the caller takes the lancedb path.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import uuid
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexIncompatibleError
from .storage_errors import LANCE_FOOTER_MAGIC, REBUILD_HINT, TABLE
from .watch_status import read_watcher_status

COUNTS_FILE = "counts.json"
# The footer of a Lance manifest or data file: u64 offset of the metadata, u16 major, u16 minor, magic.
_FOOTER = struct.Struct("<QHH4s")
_U64_MAX = 2**64 - 1


@dataclass(frozen=True)
class TableVersion:
    """What the current version of the chunk table reads."""

    version: int
    rows: int  # physical rows minus deleted rows, over all fragments
    data_files: tuple[str, ...]  # relative to the table folder's data/
    indices: tuple[tuple[str, str], ...]  # (index name, uuid): folders under _indices/


# ----- counts.json (written by the writer) ---------------------------------------------------------
def record_counts(index_dir: Path, *, version: int, chunks: int, embedded: int) -> None:
    """Save the chunk and embedded counts of table ``version`` (write-then-rename: never half a file).
    Best effort: a failure leaves status to count with lancedb, it never fails a commit."""
    path = index_dir / COUNTS_FILE
    tmp = path.with_name(f"{COUNTS_FILE}.{os.getpid()}.tmp")
    with suppress(OSError):
        tmp.write_text(json.dumps({"version": version, "chunks": chunks, "embedded": embedded}), "utf-8")
        os.replace(tmp, path)


def recorded_counts(index_dir: Path, table: TableVersion) -> tuple[int, int] | None:
    """(embedded, chunks) for the current version, if the writer's record still describes it: recorded at
    this version, or at an earlier one with the same rows (compaction and index builds make new versions
    without changing rows or vectors). ``None`` when there is no usable record."""
    try:
        data = json.loads((index_dir / COUNTS_FILE).read_text("utf-8"))
        version, chunks, embedded = int(data["version"]), int(data["chunks"]), int(data["embedded"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if chunks != table.rows or version > table.version:
        return None
    return embedded, chunks


# ----- the Lance manifest ----------------------------------------------------------------------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of one protobuf message: ints for varints, bytes for the rest."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"protobuf wire type {wire}")
        yield number, value


def _message_at(buf: bytes, offset: int) -> bytes:
    """A protobuf message Lance wrote at ``offset``: a u32 length, then the message."""
    (size,) = struct.unpack_from("<I", buf, offset)
    if offset + 4 + size > len(buf):
        raise ValueError("message runs past the end of the file")
    return buf[offset + 4 : offset + 4 + size]


def current_manifest(table_dir: Path) -> Path | None:
    """The manifest of the newest version: ``_versions/<u64 max - version>.manifest`` (Lance's V2
    naming, the smallest number is the newest) or ``<version>.manifest`` (V1 naming)."""
    try:
        numbers = [int(p.name.removesuffix(".manifest")) for p in (table_dir / "_versions").iterdir()
                   if p.name.endswith(".manifest") and p.name.removesuffix(".manifest").isdigit()]
    except OSError:
        return None
    if not numbers:
        return None
    newest = min(numbers) if min(numbers) > 2**63 else max(numbers)
    return table_dir / "_versions" / f"{newest}.manifest"


def read_table_version(table_dir: Path) -> TableVersion | None:
    """What the current version of the table at ``table_dir`` reads; ``None`` if it cannot be read here."""
    path = current_manifest(table_dir)
    if path is None:
        return None
    try:
        buf = path.read_bytes()
        offset, _major, _minor, magic = _FOOTER.unpack_from(buf, len(buf) - _FOOTER.size)
        if magic != LANCE_FOOTER_MAGIC:
            return None
        version, rows, files, index_section = 0, 0, [], None
        for number, value in _fields(_message_at(buf, offset)):
            if number == 3 and isinstance(value, int):
                version = value
            elif number == 6 and isinstance(value, int):
                index_section = value
            elif number == 2 and isinstance(value, bytes):
                for part, item in _fields(value):
                    if part == 4 and isinstance(item, int):
                        rows += item
                    elif part == 2 and isinstance(item, bytes):
                        files += [name.decode("utf-8") for n, name in _fields(item) if n == 1 and isinstance(name, bytes)]
                    elif part == 3 and isinstance(item, bytes):
                        rows -= sum(v for n, v in _fields(item) if n == 4 and isinstance(v, int))
        indices = []
        if index_section is not None:
            for number, value in _fields(_message_at(buf, index_section)):
                if number != 1 or not isinstance(value, bytes):
                    continue
                meta = dict(_fields(value))
                raw = dict(_fields(meta[1]))[1] if isinstance(meta.get(1), bytes) else b""
                name = meta.get(3, b"")
                indices.append((name.decode("utf-8") if isinstance(name, bytes) else "", str(uuid.UUID(bytes=raw))))
    except (OSError, ValueError, struct.error, KeyError, IndexError, UnicodeDecodeError):
        return None
    if version <= 0 or version == _U64_MAX:
        return None
    return TableVersion(version, rows, tuple(files), tuple(indices))


# ----- integrity ---------------------------------------------------------------------------------------
def ends_with_lance_footer(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size < len(LANCE_FOOTER_MAGIC):
                return False
            fh.seek(size - len(LANCE_FOOTER_MAGIC))
            return fh.read() == LANCE_FOOTER_MAGIC
    except OSError:
        return False


def check_files(index_dir: Path, table: TableVersion) -> None:
    """Raise the error ``IndexStore.verify`` raises, naming the same file or folder, if a data file the
    current version reads is missing or truncated, or one of its full-text index folders is missing or
    empty."""
    table_dir = index_dir / "lance" / f"{TABLE}.lance"
    for name in table.data_files:
        data_file = table_dir / "data" / name
        if not ends_with_lance_footer(data_file):
            rel = data_file.relative_to(index_dir).as_posix()
            raise IndexIncompatibleError(
                f"opening the index at {index_dir} failed ({rel} is damaged or missing); {REBUILD_HINT}")
    for _name, index_uuid in table.indices:
        folder = table_dir / "_indices" / index_uuid
        try:
            whole = folder.is_dir() and any(folder.iterdir())
        except OSError:
            whole = False
        if not whole:
            rel = folder.relative_to(index_dir).as_posix()
            raise IndexIncompatibleError(f"opening the index at {index_dir} failed ({rel} is missing); {REBUILD_HINT}")


def checked_table_version(index_dir: Path) -> TableVersion | None:
    """The current version, after :func:`check_files`. A writer that commits meanwhile may clean up the
    files of the version read first (``optimize`` removes old versions' files): damage is reported only
    if the version that lacks a file is still the current one."""
    table_dir = index_dir / "lance" / f"{TABLE}.lance"
    table = read_table_version(table_dir)
    while table is not None:
        try:
            check_files(index_dir, table)
            return table
        except IndexIncompatibleError:
            newer = read_table_version(table_dir)
            if newer is None or newer.version == table.version:
                raise
            table = newer
    return None


# ----- the catalog ---------------------------------------------------------------------------------------
def catalog_file_count(catalog: Path) -> int | None:
    """Files in the catalog, read-only (``None`` if it cannot be read here: the caller takes the slow path)."""
    if not catalog.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
            return conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return None


# ----- the status ------------------------------------------------------------------------------------------
READ_SCHEMA_VERSION = 1  # store.SCHEMA_VERSION, without importing lancedb (a test keeps them equal)


def quick_status(root: Path, index_dir: Path) -> dict | None:
    """``serve.status.repo_status(root, index_dir)`` for a ready index, from small files only, after the
    cheap integrity check (which raises, naming the damaged file). ``None`` when it cannot answer so: no
    index or one not ready (the messages come from the store), an index written before the writer
    recorded its counts, or a file it cannot read here. The caller then asks ``repo_status``."""
    try:
        meta = json.loads((index_dir / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("schema_version") != READ_SCHEMA_VERSION or meta.get("state") != "ready":
        return None
    table = checked_table_version(index_dir)
    if table is None:
        return None
    counts = recorded_counts(index_dir, table)
    files = catalog_file_count(index_dir / "catalog.sqlite")
    if counts is None or files is None:
        return None
    embedded, chunks = counts
    try:
        return {
            "repo": str(root),
            "index_dir": str(index_dir),
            "indexed": True,
            "state": meta["state"],
            "embedder": meta["embedder_name"],
            "embedder_id": meta["embedder_id"],
            "dim": meta["dim"],
            "chunker_version": meta["chunker_version"],
            "files": files,
            "chunks": chunks,
            "embedded": {"chunks": embedded, "of": chunks, "complete": embedded >= chunks},  # serve.status.coverage
            "created_at": meta["created_at"],
            "updated_at": meta["updated_at"],
            "watcher": read_watcher_status(index_dir),
        }
    except KeyError:
        return None
