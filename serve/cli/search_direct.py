"""``ragpilot search`` without a holder: open the index in this process (lancedb, the embedder, the
vectors) and search it. Imported only when no running ``serve``/``watch`` could answer."""

from __future__ import annotations

from pathlib import Path

from ...indexer.errors import IndexMissingError, UsageError
from ...indexer.store import IndexStore
from ...retrieval.rerankers import create_reranker
from ...retrieval.searcher import Searcher
from ...retrieval.settings import RetrievalSettings
from ..status import coverage
from .server_client import Answer


def search_directly(root: Path, index_path: Path, text: str, *, k: int, mode: str, files: bool, rerank: bool,
                    reranker: str, reranker_model: str | None) -> Answer:
    """The hits (or files) as JSON, as a holder's ``/search`` answers them (without ``repo``), with
    the index's embedding coverage and the reranking error to warn about, if reranking failed."""
    if IndexStore.read_meta(index_path) is None:
        raise IndexMissingError(f"{root} is not indexed yet: run `ragpilot index {root}`")
    if files:
        if rerank:
            raise UsageError("--files ranks files without a reranker: drop --rerank")
        ranked = Searcher.for_index(index_path, settings=RetrievalSettings.from_env()).search_files(text, k=k, mode=mode)
        return Answer([f.to_json() for f in ranked])
    ranker = create_reranker(reranker, **reranker_options(reranker, reranker_model)) if rerank else None
    searcher = Searcher.for_index(index_path, reranker=ranker, settings=RetrievalSettings.from_env())  # RAGPILOT_* knobs
    hits = searcher.search(text, k=k, mode=mode, rerank=rerank)
    return Answer([h.to_json() for h in hits], coverage(*searcher.store.embedded_counts()), hits.rerank_error)


def reranker_options(name: str, model: str | None) -> dict:
    """``--reranker-model`` means a URL for the HTTP backend and a model for the local ones."""
    if model is None:
        return {}
    return {"url": model} if name == "tei" else {"model": model}
