"""What an index holds, for `ragpilot status` and `GET /status`: read-only, never takes the writer lock."""

from __future__ import annotations

from pathlib import Path

from ..indexer.catalog import catalog_present, open_catalog
from ..indexer.store_uri import binding
from ..indexer.store import READY, IndexStore, incomplete_message
from ..indexer.watcher import read_watcher_status


def repo_status(root: Path, index_dir: Path) -> dict:
    """A JSON-ready description of ``root``'s index (``indexed: False`` when there is none, or when its
    first run has not completed: ``state`` is then ``building`` and ``message`` says what to run).

    A damaged index raises the error that names the file and the rebuild command."""
    meta = IndexStore.read_meta(index_dir)
    base = {"repo": str(root), "index_dir": str(index_dir), "indexed": meta is not None and meta.state == READY,
            "state": meta.state if meta is not None else "missing"}
    shared = binding(index_dir)
    if shared is not None:  # a shared index: where it really lives
        base["index_uri"] = shared.uri
    if meta is None:
        return base
    files = 0
    if catalog_present(index_dir):
        catalog = open_catalog(index_dir)
        try:
            files = catalog.count()
        finally:
            catalog.close()
    if meta.state != READY:
        return {**base, "files": files, "message": incomplete_message(index_dir, meta, str(root)),
                "watcher": read_watcher_status(index_dir)}
    store = IndexStore.open(index_dir)
    embedded, chunks = store.embedded_counts()
    return {
        **base,
        "embedder": meta.embedder_name,
        "embedder_id": meta.embedder_id,
        "dim": meta.dim,
        "chunker_version": meta.chunker_version,
        "files": files,
        "chunks": chunks,
        # Dense search covers the embedded chunks (search first, embed after); lexical covers all.
        "embedded": coverage(embedded, chunks),
        "created_at": meta.created_at,
        "updated_at": meta.updated_at,
        "watcher": read_watcher_status(index_dir),
    }


def coverage(embedded: int, chunks: int) -> dict:
    """How much of an index dense search covers, as reported by status, /status, /health and searches."""
    return {"chunks": embedded, "of": chunks, "complete": embedded >= chunks}
