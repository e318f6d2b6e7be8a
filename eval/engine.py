"""The one place the eval touches the product: index a folder, open a searcher, run a search.

The embedder and the reranker are built once per run and shared by every index and searcher, so a
multi-commit git eval loads each model a single time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ragpilot.indexer.embedders import Embedder, create_embedder
from ragpilot.indexer.pipeline import Indexer, IndexSummary, Progress
from ragpilot.indexer.settings import DEFAULT_EMBEDDER, IndexSettings
from ragpilot.indexer.store import CONTEXT_COLUMN
from ragpilot.retrieval.hits import Hit
from ragpilot.retrieval.rerankers import Reranker, create_reranker
from ragpilot.retrieval.searcher import Searcher
from ragpilot.retrieval.lexical import DEFAULT_BOOSTS
from ragpilot.retrieval.settings import DEFAULT_RERANKER, DEFAULTS

log = logging.getLogger(__name__)

BASE_MODES = ("lexical", "dense", "hybrid")
# File-level hybrid search (Searcher.search_files): each file once, represented by its best place with the
# file's score, so the file-level metrics score the file ranking itself. Asked for by name, not a default.
FILES_MODE = "files"
DEFAULT_MODES = ("lexical", "dense", "hybrid", "hybrid+rerank")


_OPTION_KEYS = {"k": "rrf_k", "wl": "lexical_weight", "wd": "dense_weight", "mpf": "max_per_file",
                "ff": "fetch_factor", "cf": "collapsed_factor", "wi": "identifier_lexical_weight",
                "fwl": "file_lexical_weight", "fwd": "file_dense_weight", "bs": "symbol_boost", "bp": "path_boost",
                "bc": "context_boost",
                "fu": "fusion", "sb": "sources_best", "tf": "test_factor"}
_FUSIONS = {0: "rrf", 1: "minmax", 2: "zscore"}  # fu=N in a mode names the fusion
_INT_OPTIONS = ("k", "mpf", "ff", "fu", "sb")


def parse_mode(mode: str) -> tuple[str, bool, dict]:
    """``"hybrid+rerank"`` -> ``("hybrid", True, {})``; ``"hybrid@k=20:wl=0.5"`` sets searcher options.

    Options (for fusion studies): ``k`` RRF constant, ``wl``/``wd`` lexical/dense weights,
    ``mpf`` max hits per file, ``ff`` fetch factor, ``cf`` collapsed factor, ``wi`` lexical weight
    for identifier queries, ``fwl``/``fwd`` file-search weights, ``bs``/``bp``/``bc`` symbol/path/context
    boosts (``bc=0``: the lexical context column unused),
    ``fu`` fusion (0 rrf, 1 minmax, 2 zscore score fusion), ``sb`` each source's best hits kept in
    the top k, ``tf`` test files' score factor (see retrieval/settings.py). The base must be lexical,
    dense, hybrid or files.
    """
    name, _, opts = mode.partition("@")
    base, _, extra = name.partition("+")
    if base not in (*BASE_MODES, FILES_MODE) or extra not in ("", "rerank") or (base == FILES_MODE and extra):
        raise ValueError(
            f"unknown mode {mode!r}: use one of {', '.join(BASE_MODES)}, optionally with +rerank, "
            f"or {FILES_MODE}")
    options: dict = {}
    for item in filter(None, (o.strip() for o in opts.split(":"))):
        key, _, value = item.partition("=")
        if key not in _OPTION_KEYS or not value:
            raise ValueError(f"unknown mode option {item!r} in {mode!r}: use {', '.join(_OPTION_KEYS)}")
        try:
            options[_OPTION_KEYS[key]] = int(value) if key in _INT_OPTIONS else float(value)
        except ValueError:
            raise ValueError(f"bad value in mode option {item!r}") from None
        if key == "fu" and options["fusion"] not in _FUSIONS:
            raise ValueError(f"bad value in mode option {item!r}: use {', '.join(map(str, _FUSIONS))}")
    return base, extra == "rerank", options


def searcher_options(options: dict) -> dict:
    """Mode options as :class:`Searcher` keyword arguments."""
    out = {k: v for k, v in options.items() if k in (
        "rrf_k", "max_per_file", "fetch_factor", "collapsed_factor", "identifier_lexical_weight",
        "sources_best", "test_factor")}
    if "fusion" in options:
        out["fusion"] = _FUSIONS[int(options["fusion"])]
    if "lexical_weight" in options or "dense_weight" in options:
        out["weights"] = (options.get("lexical_weight", 1.0), options.get("dense_weight", 1.0))
    if "file_lexical_weight" in options or "file_dense_weight" in options:
        out["file_weights"] = (options.get("file_lexical_weight", DEFAULTS.file_lexical_weight),
                               options.get("file_dense_weight", DEFAULTS.file_dense_weight))
    boosts = {column: options[key] for key, column in (("symbol_boost", "fts_symbol"), ("path_boost", "fts_path"),
                                                       ("context_boost", CONTEXT_COLUMN)) if key in options}
    if boosts:
        out["boosts"] = {**DEFAULT_BOOSTS, **boosts}
    return out


class Engine:
    """Indexes corpora and searches them with one embedder (and, lazily, one reranker)."""

    def __init__(self, embedder_name: str = DEFAULT_EMBEDDER, *, embedder: Embedder | None = None,
                 reranker: Reranker | None = None, reranker_name: str = DEFAULT_RERANKER,
                 home: Path | None = None):
        self.embedder_name = embedder_name
        self._embedder = embedder
        self._reranker = reranker
        self.reranker_name = reranker_name
        self.home = home

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(self.embedder_name)
        return self._embedder

    @property
    def reranker(self) -> Reranker:
        if self._reranker is None:
            self._reranker = create_reranker(self.reranker_name)
        return self._reranker

    def settings(self, index_dir: Path) -> IndexSettings:
        extra = {"home": self.home} if self.home is not None else {}
        return IndexSettings(index_dir=index_dir, embedder=self.embedder_name, **extra)

    def index(self, src: Path, index_dir: Path,
              on_progress: Callable[[Progress], None] | None = None) -> IndexSummary:
        """Bring ``index_dir`` in line with ``src`` (incremental: unchanged files cost nothing)."""
        indexer = Indexer(src, self.settings(index_dir), embedder=self.embedder,
                          embedder_name=self.embedder_name)
        indexer.open()
        try:
            return indexer.run_to_end(on_progress)
        finally:
            indexer.close()

    def searcher(self, index_dir: Path, mode: str = "hybrid") -> Searcher:
        """A searcher set up for ``mode`` (its reranker and fusion options)."""
        _, rerank, options = parse_mode(mode)
        return Searcher.for_index(index_dir, embedder=self.embedder,
                                  reranker=self.reranker if rerank else None, **searcher_options(options))

    @staticmethod
    def search(searcher: Searcher, query: str, *, mode: str, k: int) -> list[Hit]:
        base, rerank, _ = parse_mode(mode)
        if base == FILES_MODE:
            return [replace(f.places[0], score=f.score) for f in searcher.search_files(query, k=k)]
        return searcher.search(query, k=k, mode=base, rerank=rerank)

