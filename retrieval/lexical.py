"""BM25 over the code-aware full-text columns (LanceDB native FTS), with path and symbol boosted.

The query goes through the same tokenizer that wrote the columns (``code_tokens``), so
``parseJsonBody`` matches ``parse_json_body`` and ``json body``. Tokens are plain ``[a-z0-9_]`` words
joined by spaces, and each is sent as a structured :class:`MatchQuery` term list, never parsed as
query syntax: quotes, colons or ``AND`` in user input cannot cause a query error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from ..indexer.codetokens import code_tokens
from ..indexer.store import CONTEXT_COLUMN, EMBEDDED, FTS_COLUMNS, IndexStore
from .hits import HIT_COLUMNS, Hit, hit_from_row
from .settings import CONTEXT_BOOST, SEARCHED_QUERY_CHARS

log = logging.getLogger(__name__)

MAX_QUERY_TERMS = 48  # see SEARCHED_QUERY_CHARS in settings.py

# A match in the symbol (function/class path) says more than one more mention in a body. Measured on
# 300 docstring->function tasks per corpus (eval.docstrings, lexical only, MRR@10): symbol boost 2 vs 1
# lifted docstring queries 0.37->0.45 (stdlib), 0.33->0.40 (click), 0.34->0.51 (httpx) and identifier
# queries 0.62->0.83, 0.67->0.85, 0.65->0.80; 1.5 and 3 (and 5 on stdlib) were worse than 2. A path
# boost of 1-2 changed nothing on these tasks and 10 hurt; 1.5 keeps file-name queries ("retry.py") working.
# The context column (the lines around the chunk: neighbours' doc comments, the enclosing header) weighs
# less than the body, so the chunk's own text still decides between neighbours (settings.CONTEXT_BOOST).
DEFAULT_BOOSTS: Mapping[str, float] = {"fts_path": 1.5, "fts_symbol": 2.0, "fts_body": 1.0,
                                       CONTEXT_COLUMN: CONTEXT_BOOST}


QUERY_STOP_WORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i in into is it its me my of on or "
    "that the their then there these this those to was we what when where which who why will with would "
    "you your should could about all any".split()
)


def query_terms(query: str) -> list[str]:
    """The distinct code tokens of ``query`` in order, capped; empty when nothing is searchable."""
    if len(query) > SEARCHED_QUERY_CHARS:
        log.info("query of %d characters cut to %d for full-text search", len(query), SEARCHED_QUERY_CHARS)
        query = query[:SEARCHED_QUERY_CHARS]
    seen: dict[str, None] = {}
    tokens = code_tokens(query)
    # English glue words carry no signal in a question about code ("how does the retry work"),
    # unless the whole query is made of them.
    content = [t for t in tokens if t not in QUERY_STOP_WORDS] or tokens
    for token in content:
        seen.setdefault(token, None)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    return list(seen)


def lexical_search(
    store: IndexStore,
    query: str,
    *,
    limit: int,
    boosts: Mapping[str, float] = DEFAULT_BOOSTS,
    with_embedded: bool = False,
) -> list[Hit]:
    """The best ``limit`` chunks for ``query`` by boosted multi-field BM25, best first.

    Rows written since the last index optimisation are searched too (LanceDB scans them flat).
    ``with_embedded``: read each row's embedded flag into ``Hit.embedded`` (an index still embedding).
    """
    from lancedb.query import MultiMatchQuery

    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    columns = [c for c in FTS_COLUMNS if boosts.get(c, 0) > 0]
    if CONTEXT_COLUMN in columns and not store.has_column(CONTEXT_COLUMN):
        columns.remove(CONTEXT_COLUMN)  # an index written before the column: the writer adds it
    fts = MultiMatchQuery(" ".join(terms), columns, boosts=[float(boosts[c]) for c in columns])
    flat = store.flat_part()

    def query():
        columns = [*HIT_COLUMNS, EMBEDDED] if with_embedded else HIT_COLUMNS
        return store.table.search(fts, query_type="fts").select([*columns, "_score"]).limit(limit)

    if flat is None:  # all indexed (fast), or the flat rows unknown (one query, slow but exact)
        rows = query().to_list()
    else:
        rows = _indexed_then_flat(query, flat[0], limit)
    return [hit_from_row(row, row["_score"]) for row in rows]


def _indexed_then_flat(query, first_flat_row: int, limit: int) -> list[dict]:
    """The best ``limit`` rows of the indexed part (``fast_search``) and of the rows searched flat (a
    row-id prefilter: they are the last fragments), merged: the same rows and scores as one query over
    both, which LanceDB 0.40 plans without top-k pruning once the index has deletions
    (``IndexStore.flat_part``). Both parts are scored with the index's statistics, so their scores compare.
    Measured at 100k rows after 40 single-file commits: 15 + 30 ms instead of 200-300 ms."""
    indexed = query().fast_search().with_row_id(True).to_list()
    flat = query().where(f"_rowid >= {int(first_flat_row)}", prefilter=True).with_row_id(True).to_list()
    best: dict[str, dict] = {}
    for row in (*indexed, *flat):
        best.setdefault(row["id"], row)
    return sorted(best.values(), key=lambda r: (-r["_score"], r["_rowid"]))[:limit]


_IDENTIFIER = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b|\b[a-z]+[A-Z]\w*|\b[A-Z][a-z0-9]+[A-Z]\w*|\w(::|->)\w|[A-Za-z_]\.[A-Za-z_]|\w\(\)")


def names_an_identifier(query: str) -> bool:
    """True when ``query`` holds a token only code has: snake_case, camelCase, ``a::b``, ``a.b``, ``f()``."""
    return bool(_IDENTIFIER.search(query[:SEARCHED_QUERY_CHARS]))
