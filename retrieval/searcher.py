"""The one entry point for reading an index: sources -> fuse -> dedup -> cap -> rerank (or fall back).

Lexical search finds identifiers and exact names; dense search finds code described in other words.
Reciprocal-rank fusion combines them without calibrating their scores. A failing reranker never
fails a search: the fused order is returned, marked, and a warning is logged.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..indexer.embedders import Embedder, create_embedder
from ..indexer.errors import IndexIncompatibleError, UsageError
from ..indexer.store import IndexStore, lance_errors
from .hits import FileHit, Hit
from .dense import DenseIndex
from .filelines import COLLAPSED
from .fusion import (
    dedup_overlapping,
    demote,
    demote_kind,
    fill_capped,
    keep_sources_best,
    normalized,
    rrf,
    score_fusion,
    with_unembedded,
)
from .lexical import DEFAULT_BOOSTS, lexical_search, names_an_identifier
from .rerankers import Reranker
from .settings import (
    DEFAULTS,
    FILE_CHUNK_BONUS,
    FILE_FETCH_FACTOR,
    FILE_MAX_EXTRA_CHUNKS,
    FILE_MIN_FETCH,
    FILE_PLACES,
    MAX_K,
    RERANK_BLEND_K,
    SEARCHED_QUERY_CHARS,
    RetrievalSettings,
)
from .testpaths import asks_about_tests, is_test_path

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "lexical")
__all__ = ["MAX_K", "MODES", "FileHit", "SearchResults", "Searcher"]


class SearchResults(list[Hit]):
    """The hits, best first, plus how they were produced (so callers can show a fallback)."""

    def __init__(self, hits=(), *, mode: str = "hybrid", timings: dict[str, float] | None = None):
        super().__init__(hits)
        self.mode = mode
        self.reranked = False  # True when the order is the reranker's
        self.rerank_error: str | None = None  # set when reranking was asked for and failed
        self.timings = timings or {}  # seconds per stage: lexical, embed, dense, rerank


class Searcher:
    """Hybrid search over one index. Thread-safe; safe while the indexer writes (each search reads
    the latest committed version)."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        *,
        reranker: Reranker | None = None,
        rrf_k: int = DEFAULTS.rrf_k,
        weights: tuple[float, float] = (DEFAULTS.lexical_weight, DEFAULTS.dense_weight),
        max_per_file: int = DEFAULTS.max_per_file,
        fetch_factor: int = DEFAULTS.fetch_factor,
        rerank_factor: int = DEFAULTS.rerank_factor,
        rerank_blend: bool = DEFAULTS.rerank_blend,
        boosts: Mapping[str, float] = DEFAULT_BOOSTS,
        collapsed_factor: float = DEFAULTS.collapsed_factor,
        file_weights: tuple[float, float] = (DEFAULTS.file_lexical_weight, DEFAULTS.file_dense_weight),
        file_rrf_k: int = DEFAULTS.file_rrf_k,
        identifier_lexical_weight: float | None = DEFAULTS.identifier_lexical_weight,
        fusion: str = DEFAULTS.fusion,
        sources_best: int = DEFAULTS.sources_best,
        test_factor: float = DEFAULTS.test_factor,
    ):
        _check_embedder(store, embedder)
        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.rrf_k = rrf_k
        self.weights = weights  # (lexical, dense)
        self.max_per_file = max_per_file
        self.fetch_factor = fetch_factor
        self.rerank_factor = rerank_factor
        self.rerank_blend = rerank_blend  # fuse the reranker's order with the hybrid order
        self.boosts = boosts
        self.collapsed_factor = collapsed_factor  # class skeletons' fused score is multiplied by this
        # lexical weight for a query naming an identifier (None: the same as any query)
        self.identifier_lexical_weight = identifier_lexical_weight
        self.file_weights = file_weights  # (lexical, dense) for search_files
        self.file_rrf_k = file_rrf_k
        self.fusion = fusion  # "rrf", or a score normalisation for score_fusion ("minmax", "zscore")
        self.test_factor = test_factor  # test files' scores, unless the query asks about tests (settings.py)
        self.sources_best = sources_best  # each source's best this many are kept in the top k (settings.py)
        self.dense = DenseIndex(store)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def for_index(
        cls, index_dir: Path, *, embedder: Embedder | None = None, reranker: Reranker | None = None,
        settings: RetrievalSettings | None = None, version: int | None = None, **options
    ) -> Searcher:
        """Open ``index_dir`` with the embedder it was built with (or check the one given matches);
        ``settings`` gives the fusion knobs, ``options`` override single ones. ``version`` pins the
        table at that version (see :meth:`at_version`); None follows the latest commit."""
        options = {**(settings.searcher_options() if settings is not None else {}), **options}
        with lance_errors(Path(index_dir)):
            store = IndexStore.open(Path(index_dir), version=version)
        if embedder is None:
            embedder = create_embedder(store.meta.embedder_name, **store.meta.embedder_options)
        return cls(store, embedder, reranker=reranker, **options)

    def at_version(self, version: int) -> Searcher:
        """This searcher, with its settings and models, over the same index pinned at ``version``.

        A read-only replica answers each request from one such searcher, so a result never mixes two
        versions, and swaps in the next one when the writer commits; the dense vectors loaded so far
        carry over (only new rows are read). The worker threads are shared, so the previous searcher is
        simply dropped, never closed, while requests may still use it."""
        with lance_errors(self.store.index_dir):
            store = IndexStore.open(self.store.index_dir, version=version)
        moved = copy.copy(self)
        moved.store = store
        moved.dense = self.dense.rebased(store)
        return moved

    def search(self, query: str, *, k: int = 10, mode: str = "hybrid", rerank: bool = False) -> SearchResults:
        """The ``k`` best chunks for ``query``; ``mode`` is hybrid, dense or lexical."""
        with lance_errors(self.store.index_dir):
            return self._search(query, k=k, mode=mode, rerank=rerank)

    def search_files(self, query: str, *, k: int = 10, mode: str = "hybrid") -> list[FileHit]:
        """The ``k`` best *files* for ``query``, each with its best places (up to FILE_PLACES chunks).

        For "where would I change X": one entry per file instead of several chunks of one file. Each
        source ranks chunks from a pool larger than a chunk search's (FILE_FETCH_FACTOR x k, no per-file
        cap); a source's file ranking is the order of each file's best chunk in it, and the file score is
        reciprocal-rank fusion of those file rankings (``file_rrf_k``, ``file_weights``: settings.py) plus
        FILE_CHUNK_BONUS per further distinct matching chunk of the file (up to FILE_MAX_EXTRA_CHUNKS):
        a file that matches in several places edges out one with a single lucky chunk. The places are
        the file's chunks in fused chunk order, overlapping ones dropped. No reranking here.
        """
        with lance_errors(self.store.index_dir):
            query = self._checked(query, k=k, mode=mode)
            timings: dict[str, float] = {}
            fetch = max(k * FILE_FETCH_FACTOR, FILE_MIN_FETCH)
            rankings, _ = self._rankings(query, mode, fetch, timings)
        weights = self._file_weights(mode)
        scores: dict[str, float] = {}
        for ranking, weight in zip(rankings, weights, strict=True):
            for rank, path in enumerate(dict.fromkeys(hit.path for hit in ranking), start=1):
                scores[path] = scores.get(path, 0.0) + weight / (self.file_rrf_k + rank)
        fused = self._fuse(rankings, weights)
        by_file: dict[str, list[Hit]] = {}
        for hit in dedup_overlapping(fused):
            by_file.setdefault(hit.path, []).append(hit)
        demoting = self._demotes_tests(query)
        for path, hits in by_file.items():
            scores[path] += FILE_CHUNK_BONUS * min(len(hits) - 1, FILE_MAX_EXTRA_CHUNKS)
            if demoting and is_test_path(path):
                scores[path] *= self.test_factor
        order = sorted(by_file, key=lambda path: -scores[path])[:k]  # stable: ties keep fused order
        return [FileHit(path=path, score=scores[path], language=by_file[path][0].language,
                        places=tuple(by_file[path][:FILE_PLACES])) for path in order]

    def _checked(self, query: str, *, k: int, mode: str) -> str:
        """``query`` as searched (cut to SEARCHED_QUERY_CHARS), after refusing bad arguments."""
        if not isinstance(query, str) or not query.strip():
            raise UsageError("the search query is empty")
        if mode not in MODES:
            raise UsageError(f"unknown search mode '{mode}'; choose one of: {', '.join(MODES)}")
        if not 1 <= k <= MAX_K:
            raise UsageError(f"k must be between 1 and {MAX_K}, not {k}")
        if len(query) > SEARCHED_QUERY_CHARS:
            log.info("query of %d characters cut to %d", len(query), SEARCHED_QUERY_CHARS)
            query = query[:SEARCHED_QUERY_CHARS]
        return query

    def _search(self, query: str, *, k: int, mode: str, rerank: bool) -> SearchResults:
        query = self._checked(query, k=k, mode=mode)
        if rerank and self.reranker is None:
            raise UsageError("reranking was requested but no reranker is configured (--reranker NAME)")

        timings: dict[str, float] = {}
        pool = k * self.rerank_factor if rerank else k
        fetch = max(pool * self.fetch_factor, 40)
        rankings, weights = self._rankings(query, mode, fetch, timings)
        fused = self._fuse(rankings, weights)
        demoting = self._demotes_tests(query)
        if demoting:
            fused = demote(fused, _in_tests, self.test_factor)
        candidates = fill_capped(dedup_overlapping(fused), self.max_per_file, pool)
        if len(rankings) > 1:
            kept = [[hit for hit in r if not _in_tests(hit)] for r in rankings] if demoting else rankings
            candidates = keep_sources_best(candidates, kept, best=self._sources_best(pool), k=pool)
        candidates = candidates[:pool]
        results = SearchResults(candidates[:k], mode=mode, timings=timings)
        if rerank and candidates:
            self._rerank(query, candidates, k, results)
        return results

    def _fuse(self, rankings: list[list[Hit]], weights: list[float]) -> list[Hit]:
        """One ranking: RRF (or score fusion) of the sources, then class skeletons demoted (settings.py)."""
        if len(rankings) == 1:
            fused = rankings[0]
        elif self.fusion == "rrf":
            fused = rrf(rankings, k=self.rrf_k, weights=weights)
        else:
            fused = score_fusion(rankings, weights)
        return demote_kind(fused, COLLAPSED, self.collapsed_factor)

    def _demotes_tests(self, query: str) -> bool:
        return self.test_factor != 1.0 and not asks_about_tests(query)

    def _sources_best(self, k: int) -> int:
        """How many of each source's best hits a top ``k`` must hold: ``sources_best``, but at most 30 %
        of k (none below k=4), so the sources' picks never fill most of a short list: at k=1 the fused
        first stays first."""
        return min(self.sources_best, k * 3 // 10)

    def _lexical_weight(self, query: str) -> float:
        if self.identifier_lexical_weight is not None and names_an_identifier(query):
            return self.identifier_lexical_weight
        return self.weights[0]

    def _file_weights(self, mode: str) -> list[float]:
        lexical, dense = self.file_weights
        return {"hybrid": [lexical, dense], "lexical": [lexical], "dense": [dense]}[mode]

    def _rankings(self, query: str, mode: str, fetch: int,
                  timings: dict[str, float]) -> tuple[list[list[Hit]], list[float]]:
        """Each source's top ``fetch`` chunks for ``mode``, with its fusion weight."""
        rankings: list[list[Hit]] = []
        weights: list[float] = []
        # In hybrid mode the lexical query runs in a worker while this thread embeds and scans vectors:
        # LanceDB's FTS and numpy both release the GIL (measured p50 60 -> 43 ms at 100k chunks).
        lexical = None
        partial = False  # an index still embedding: rows without a vector are ranked by lexical alone
        if mode == "hybrid":
            done, total = self.store.embedded_counts()
            partial = done < total
            lexical = self._workers().submit(self._lexical, query, fetch, timings, with_embedded=partial)
        elif mode == "lexical":
            rankings.append(self._lexical(query, fetch, timings))
            weights.append(self.weights[0])
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            vector = self.embedder.embed_query(query)
            timings["embed"] = time.perf_counter() - t
            t = time.perf_counter()
            dense = self.dense.search(vector, limit=fetch)
            timings["dense"] = time.perf_counter() - t
            if lexical is not None:
                lexical_hits = lexical.result()
                if self.fusion != "rrf":  # scores on one scale before they are added
                    lexical_hits = normalized(lexical_hits, self.fusion)
                    dense = normalized(dense, self.fusion)
                rankings.append(lexical_hits)
                weights.append(self._lexical_weight(query))
                if partial:
                    dense = with_unembedded(dense, lexical_hits)
            rankings.append(dense)
            weights.append(self.weights[1])
        return rankings, weights

    def _lexical(self, query: str, limit: int, timings: dict[str, float], *, with_embedded: bool = False) -> list[Hit]:
        t = time.perf_counter()
        hits = lexical_search(self.store, query, limit=limit, boosts=self.boosts, with_embedded=with_embedded)
        timings["lexical"] = time.perf_counter() - t
        return hits

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ragpilot-lexical")
            return self._pool

    def close(self) -> None:
        """Stop the worker threads (they are also stopped at interpreter exit)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _rerank(self, query: str, candidates: list[Hit], k: int, results: SearchResults) -> None:
        assert self.reranker is not None
        t = time.perf_counter()
        try:
            reranked = self.reranker.rerank(query, candidates)
        except Exception as err:  # any backend failure: keep the fused order, say so
            name = self.reranker.id or type(self.reranker).__name__
            results.rerank_error = f"reranker {name} failed: {err}"
            log.warning("%s; returning results in fused order", results.rerank_error)
            return
        finally:
            results.timings["rerank"] = time.perf_counter() - t
        if self.rerank_blend:
            # The cross-encoder alone prefers prose-heavy chunks (eval/: it lowered Recall@10 on
            # click and httpx); fusing its order with the hybrid order keeps what both agree on.
            reranked = rrf([reranked, candidates], k=RERANK_BLEND_K)
        results[:] = reranked[:k]
        results.reranked = True


def _in_tests(hit: Hit) -> bool:
    return is_test_path(hit.path)


def _check_embedder(store: IndexStore, embedder: Embedder) -> None:
    meta = store.meta
    if embedder.id != meta.embedder_id or (embedder.dim and embedder.dim != meta.dim):
        raise IndexIncompatibleError(
            f"the index at {store.index_dir} was built with embedder '{meta.embedder_name}' "
            f"({meta.embedder_id}, {meta.dim}-d) but the query embedder is {embedder.id} ({embedder.dim}-d); "
            f"search with --embedder {meta.embedder_name}, or reindex with "
            f"`ragpilot index --rebuild --embedder <name>` to use another embedder"
        )
