"""The pipeline's side of the symbol index: extract each written file's symbols into the store, drop
deleted files, and fill the store once for an index built before it existed (or by an older extractor).

The indexer calls :meth:`SymbolWriter.write` with the same redacted text it chunks, in the same pass
and before the catalog marks the files done, so a crash in between makes the next run redo them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from ..catalog import Catalog
from ..errors import IndexIncompatibleError
from ..filters import content_skip_reason, decode_text
from ..redact import redact_secrets
from ..settings import IndexSettings
from .extract import EXTRACTOR_VERSION, extract_symbols
from .store import SYMBOLS_FILE, SymbolStore, symbols_path

log = logging.getLogger(__name__)

#: What ``--rebuild`` deletes of the symbol index (the database and its WAL files).
SYMBOL_FILES = (SYMBOLS_FILE, SYMBOLS_FILE + "-wal", SYMBOLS_FILE + "-shm")
_VERSION_KEY = "extractor_version"
_BACKFILL_BATCH = 256


class SymbolWriter:
    """Keeps ``symbols.sqlite`` in step with the chunks, file by file."""

    def __init__(self, index_dir: Path):
        self.store = SymbolStore(index_dir)

    @classmethod
    def open(cls, index_dir: Path, root: Path, catalog: Catalog, settings: IndexSettings) -> SymbolWriter | None:
        """The writer for ``index_dir``, backfilled from the catalog's files when needed (also when the
        file was damaged: it holds nothing the working tree cannot give again); None when symbol
        extraction is switched off (then a symbol index left from before is removed: stale symbols would
        point at lines that moved)."""
        if not settings.symbols:
            for name in SYMBOL_FILES:
                (Path(index_dir) / name).unlink(missing_ok=True)
            return None
        try:
            writer = cls(index_dir)
        except IndexIncompatibleError as err:  # derived data: start it over rather than stop indexing
            log.warning("the symbol index in %s is damaged (%s); building it again", index_dir, err)
            for name in SYMBOL_FILES:
                (Path(index_dir) / name).unlink(missing_ok=True)
            writer = cls(index_dir)
        try:
            if writer.store.meta(_VERSION_KEY) != EXTRACTOR_VERSION:
                writer.backfill(root, sorted(catalog.all()), scan_secrets=settings.scan_secrets)
        except BaseException:
            writer.close()
            raise
        return writer

    def write(self, files: Iterable[tuple[str, str]], deleted: Iterable[str] = ()) -> None:
        """Replace the symbols of ``files`` (path, text as chunked) and drop those of ``deleted``."""
        defs, refs = {}, {}
        for rel, text in files:
            found = extract_symbols(rel, text)
            defs[rel], refs[rel] = found.definitions, found.reference_rows
        self.store.replace_file_rows(defs, refs, deleted)

    def begin_bulk(self) -> bool:
        """A first index loads an empty store: lookup indexes wait for :meth:`end_bulk` (store.py)."""
        return self.store.begin_bulk()

    def end_bulk(self) -> None:
        """Build the lookup indexes once the bulk load is written (a run killed before this leaves them
        to the next writer's open, which creates missing ones)."""
        self.store.end_bulk()

    def backfill(self, root: Path, paths: list[str], *, scan_secrets: bool) -> int:
        """Extract the symbols of already-indexed ``paths`` from the working tree without re-embedding
        anything: read, filter and redact as the pipeline does. Files gone or changed since are the
        next run's to fix (it sees them as deleted or modified). Returns the files extracted."""
        log.info("building the symbol index of %d indexed files", len(paths))
        done = 0
        for start in range(0, len(paths), _BACKFILL_BATCH):
            batch = []
            for rel in paths[start : start + _BACKFILL_BATCH]:
                text = indexable_text(root, rel, scan_secrets=scan_secrets)
                if text is not None:
                    batch.append((rel, text))
            self.write(batch)
            done += len(batch)
        self.store.set_meta(_VERSION_KEY, EXTRACTOR_VERSION)
        return done

    def close(self) -> None:
        self.store.close()


def indexable_text(root: Path, rel: str, *, scan_secrets: bool) -> str | None:
    """``rel``'s text as the pipeline chunks it (secret values redacted), or None if it would be skipped."""
    try:
        data = (root / rel).read_bytes()
    except OSError:
        return None
    if content_skip_reason(rel, data, scan_secrets=scan_secrets) is not None:
        return None
    text = decode_text(data)
    if text is None:
        return None
    if scan_secrets:
        text, _ = redact_secrets(text, rel)
    return text


def has_symbol_index(index_dir: Path) -> bool:
    return symbols_path(index_dir).is_file()
