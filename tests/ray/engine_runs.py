"""Helpers of the Ray engine tests: build an index with either engine, read its rows back, compare."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ragpilot.indexer.pipeline import Indexer, IndexSummary
from ragpilot.indexer.ray_engine import RayIndexer
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore

# What differs between two runs that did the same work: timings and where the index is.
RUN_FIELDS = ("seconds", "embed_seconds", "index_dir")


def build(engine: type[Indexer], repo: Path, settings: IndexSettings, **kwargs) -> IndexSummary:
    indexer = engine(repo, settings, **kwargs)
    indexer.open()
    try:
        return indexer.run_to_end()
    finally:
        indexer.close()


def both(repo: Path, tmp: Path, embedder: str = "hashing", **fields) -> tuple[dict, dict]:
    """The local and the Ray engine's summaries of indexing ``repo`` (into ``tmp``/local, ``tmp``/ray)."""
    local = build(Indexer, repo, settings(tmp / "local", embedder, **fields))
    ray = build(RayIndexer, repo, settings(tmp / "ray", embedder, **fields))
    return comparable(local), comparable(ray)


def settings(index_dir: Path, embedder: str = "hashing", **fields) -> IndexSettings:
    return IndexSettings(home=index_dir.parent / "home", index_dir=index_dir, embedder=embedder, **fields)


def comparable(summary: IndexSummary) -> dict:
    return {k: v for k, v in summary.to_json().items() if k not in RUN_FIELDS}


def rows(index_dir: Path) -> list[dict]:
    """Every row of the chunk table, sorted by chunk id."""
    table = IndexStore.open(index_dir).table.to_arrow()
    return sorted(table.to_pylist(), key=lambda r: r["id"])


def split(table_rows: list[dict]) -> tuple[list[dict], np.ndarray]:
    """The rows without their vectors, and the vectors as one matrix (row order kept)."""
    plain = [{k: v for k, v in r.items() if k != "vector"} for r in table_rows]
    return plain, np.array([r["vector"] for r in table_rows], dtype=np.float32)


@contextmanager
def socket_nobody_listens():
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield port
