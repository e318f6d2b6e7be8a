"""A repo map of an index: the symbol store's graph (built once per store version), personalised by a
question and by what chunk search finds for it.

Building the graph reads every definition and reference (hundreds of thousands of rows on a large
repository): the cost of a map is that, not the ranking. So the graph is kept per index and rebuilt only
when the store changed: its generation counter (bumped by every write) and the file's identity (a
rebuilt index starts counting again) are the version. A few indexes are kept (a server serves several).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from ..indexer.symbols.store import SymbolStore, symbols_path
from ..indexer.types import TokenCounter, approx_tokens
from .hits import FileHit
from .repomap import RepoMap, build_repo_map
from .repomap_graph import SymbolGraph, build_graph
from .repomap_settings import DEFAULT_MAP_TOKENS

log = logging.getLogger(__name__)

CACHED_GRAPHS = 4
SEARCHED_FILES = 10  # files chunk search contributes to a question's personalisation


class FileSearch(Protocol):
    """What personalises a map by search (a :class:`~ragpilot.retrieval.searcher.Searcher` is one)."""

    def search_files(self, query: str, *, k: int = 10, mode: str = "hybrid") -> list[FileHit]: ...


class _GraphCache:
    def __init__(self, size: int):
        self.size = size
        self.graphs: OrderedDict[str, tuple[tuple, SymbolGraph]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, index_dir: Path) -> SymbolGraph:
        key = str(Path(index_dir).resolve())
        with SymbolStore(index_dir, readonly=True) as store:
            stat = os.stat(symbols_path(index_dir))
            version = (stat.st_dev, stat.st_ino, store.generation())
            with self.lock:
                cached = self.graphs.get(key)
                if cached is not None and cached[0] == version:
                    self.graphs.move_to_end(key)
                    return cached[1]
            started = time.perf_counter()
            graph = build_graph(store.definitions(), files=store.files(), uses=_reference_counts(store))
        log.debug("repo map: graph of %s built in %.0f ms (%d files, %d edges)", index_dir,
                  (time.perf_counter() - started) * 1000, len(graph.files), graph.edge_count)
        with self.lock:
            self.graphs[key] = (version, graph)
            self.graphs.move_to_end(key)
            while len(self.graphs) > self.size:
                self.graphs.popitem(last=False)
        return graph

    def clear(self) -> None:
        with self.lock:
            self.graphs.clear()


def _reference_counts(store: SymbolStore) -> list[tuple[str, str, int]]:
    """(name, path, count) per referenced name and file, aggregated by SQLite: a Reference object per
    row would cost seconds on a 10k-file repository (250k rows) for counts the graph only sums.
    Reads the store's ``refs`` table directly; a counting method on SymbolStore would be the clean seam."""
    counts = getattr(store, "reference_counts", None)
    if counts is not None:
        return counts()
    return store.conn.execute("SELECT name, path, COUNT(*) FROM refs GROUP BY name, path").fetchall()


_graphs = _GraphCache(CACHED_GRAPHS)


def graph_for_index(index_dir: Path) -> SymbolGraph:
    """The symbol graph of ``index_dir``, from the cache while the store is unchanged."""
    return _graphs.get(Path(index_dir))


def repo_map(index_dir: Path, *, question: str = "", search: FileSearch | None = None,
             budget_tokens: int = DEFAULT_MAP_TOKENS, count_tokens: TokenCounter = approx_tokens,
             search_paths: Sequence[str] | None = None) -> RepoMap:
    """The map of the index at ``index_dir`` within ``budget_tokens``, personalised by ``question`` and
    by the files ``search`` ranks for it (or by ``search_paths`` when the caller searched already)."""
    graph = graph_for_index(index_dir)
    if search_paths is None:
        search_paths = []
        if question.strip() and search is not None:
            search_paths = [f.path for f in search.search_files(question, k=SEARCHED_FILES)]
    return build_repo_map(graph, budget_tokens=budget_tokens, question=question, search_paths=search_paths,
                          count_tokens=count_tokens)
