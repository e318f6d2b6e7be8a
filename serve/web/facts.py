"""What the health view shows beyond ``/status``: the index's size on disk, its files per language,
and how many catalogued chunks have a vector in the table (embedding coverage).

Read-only, like ``serve/status.py``: the catalog is opened for reading and the index folder walked.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from ...indexer.catalog import CATALOG_FILE, Catalog
from ...indexer.languages import language_for


def folder_bytes(folder: Path) -> int:
    """The bytes of every regular file under ``folder`` (symlinks are not followed); 0 when absent."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:  # removed while we walked (compaction)
                continue
            total += st.st_size
    return total


def catalog_facts(index_dir: Path) -> dict:
    """Files and chunks per language, and the chunk total the catalog recorded."""
    if not (index_dir / CATALOG_FILE).exists():
        return {"languages": [], "catalog_chunks": 0}
    catalog = Catalog(index_dir)
    try:
        records = catalog.all()
    finally:
        catalog.close()
    files: Counter[str] = Counter()
    chunks: Counter[str] = Counter()
    for rel, rec in records.items():
        lang = language_for(rel) or "other"
        files[lang] += 1
        chunks[lang] += rec.chunks
    languages = [{"language": lang, "files": n, "chunks": chunks[lang]} for lang, n in files.most_common()]
    return {"languages": languages, "catalog_chunks": sum(chunks.values())}


def index_facts(index_dir: Path, chunks_in_table: int | None) -> dict:
    """Size on disk, languages, and coverage: chunks in the vector table / chunks the catalog recorded."""
    facts = catalog_facts(index_dir)
    expected = facts["catalog_chunks"]
    coverage = None
    if chunks_in_table is not None and expected:
        coverage = min(1.0, chunks_in_table / expected)
    elif chunks_in_table is not None:
        coverage = 1.0 if chunks_in_table == 0 else None
    return {**facts, "index_bytes": folder_bytes(index_dir), "embedding_coverage": coverage}
