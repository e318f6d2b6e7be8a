"""A repo map of an index: the symbol store's graph (built once per store version), personalised by a
question and by what chunk search finds for it.

Building the graph reads every definition and reference (hundreds of thousands of rows on a large
repository): the cost of a map is that, not the ranking. So the graph is kept per index and rebuilt only
when the store changed: its generation counter (bumped by every write) and the file's identity (a
rebuilt index starts counting again) are the version. A few indexes are kept (a server serves several).
A large repository's graph is rebuilt in the background while the previous one answers (see _GraphCache).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
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
BACKGROUND_BUILD_S = 0.5  # graphs slower to build than this are rebuilt in the background (10k files: ~2-7 s)
SEARCHED_FILES = 10  # files chunk search contributes to a question's personalisation


class FileSearch(Protocol):
    """What personalises a map by search (a :class:`~ragpilot.retrieval.searcher.Searcher` is one)."""

    def search_files(self, query: str, *, k: int = 10, mode: str = "hybrid") -> list[FileHit]: ...


@dataclass
class _Cached:
    version: tuple
    graph: SymbolGraph
    build_s: float  # what building it took: a slow build is redone in the background next time


class _GraphCache:
    """Graphs per index, rebuilt when the store's version changes. A graph that took more than
    BACKGROUND_BUILD_S to build is rebuilt in a background thread while the previous one keeps
    answering (a map a few seconds behind an edit is still a map; a chat turn waiting seconds for it is
    not); a quick one is rebuilt on the spot."""

    def __init__(self, size: int):
        self.size = size
        self.graphs: OrderedDict[str, _Cached] = OrderedDict()
        self.building: set[str] = set()
        self.lock = threading.Lock()

    def get(self, index_dir: Path) -> SymbolGraph:
        key = str(Path(index_dir).resolve())
        with SymbolStore(index_dir, readonly=True) as store:
            version = _version(index_dir, store)
            with self.lock:
                cached = self.graphs.get(key)
                if cached is not None:
                    self.graphs.move_to_end(key)
                    if cached.version == version:
                        return cached.graph
                    if key in self.building:
                        return cached.graph
                    if cached.build_s > BACKGROUND_BUILD_S:
                        self.building.add(key)
                        threading.Thread(target=self._rebuild, args=(key, Path(index_dir)), daemon=True,
                                         name="ragpilot-repomap-graph").start()
                        return cached.graph
            return self._build(key, Path(index_dir), store, version).graph

    def _build(self, key: str, index_dir: Path, store: SymbolStore, version: tuple) -> _Cached:
        started = time.perf_counter()
        graph = build_graph(store.definitions(), files=store.files(), uses=_reference_counts(store))
        entry = _Cached(version, graph, time.perf_counter() - started)
        log.debug("repo map: graph of %s built in %.0f ms (%d files, %d edges)", index_dir,
                  entry.build_s * 1000, len(graph.files), graph.edge_count)
        with self.lock:
            self.graphs[key] = entry
            self.graphs.move_to_end(key)
            while len(self.graphs) > self.size:
                self.graphs.popitem(last=False)
        return entry

    def _rebuild(self, key: str, index_dir: Path) -> None:
        try:
            with SymbolStore(index_dir, readonly=True) as store:
                self._build(key, index_dir, store, _version(index_dir, store))
        except Exception as err:  # the index vanished or is being rebuilt: the next request retries
            log.info("repo map: rebuilding the graph of %s failed: %s", index_dir, err)
        finally:
            with self.lock:
                self.building.discard(key)

    def clear(self) -> None:
        with self.lock:
            self.graphs.clear()


def _version(index_dir: Path, store: SymbolStore) -> tuple:
    """The store's write counter, and the file's identity (a rebuilt index counts from zero again)."""
    stat = os.stat(symbols_path(index_dir))
    return (stat.st_dev, stat.st_ino, store.generation())


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
