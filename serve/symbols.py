"""Symbol navigation over the served repositories: the one place HTTP (``/symbols``) and MCP
(``find_symbol``, ``find_references``) turn a query into JSON, so both answer alike.

Several repositories: each is asked, and the answers are merged by match tier (an exact match in one
repository before a fuzzy one in another), code before tests, then in each repository's own order.
A repository still being indexed for the first time is a 503 (IndexingInProgressError), an index
without a symbol index a 404 naming ``ragpilot index``; an unknown name is an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..indexer.errors import IndexingInProgressError
from ..indexer.symbols.store import symbols_path
from ..retrieval.symbols import (
    DEFAULT_REFERENCE_LIMIT,
    DEFAULT_SYMBOL_LIMIT,
    MATCH_TIERS,
    MAX_REFERENCE_LIMIT,
    MAX_SYMBOL_LIMIT,
    check_kind,
    check_limit,
    check_name,
    find_references,
    find_symbol,
    is_test_path,
)
from .repos import ServedRepo

_FIRST_INDEX = ("pending", "scan", "index", "optimize")


def _ready(repo: ServedRepo) -> None:
    if not symbols_path(repo.index_dir).is_file() and repo.state.phase in _FIRST_INDEX:
        raise IndexingInProgressError(
            f"{repo.name} is being indexed for the first time ({repo.state.files_done}/"
            f"{repo.state.files_total} files); try again shortly")


def symbol_matches(targets: Sequence[ServedRepo], name: str, *, kind: str | None = None, fuzzy: bool = True,
                   limit: int | None = None) -> list[dict]:
    """Definitions of ``name`` in ``targets``, best first, as JSON with the repository's name."""
    name, kind = check_name(name), check_kind(kind)
    limit = check_limit(DEFAULT_SYMBOL_LIMIT if limit is None else limit, MAX_SYMBOL_LIMIT)
    found = []
    for repo in targets:
        _ready(repo)
        for rank, m in enumerate(find_symbol(repo.index_dir, name, fuzzy=fuzzy, kind=kind, limit=limit)):
            found.append(((MATCH_TIERS.index(m.match), is_test_path(m.path), rank), {**m.to_json(), "repo": repo.name}))
    found.sort(key=lambda item: item[0])
    return [item for _, item in found[:limit]]


def reference_matches(targets: Sequence[ServedRepo], name: str, *, limit: int | None = None) -> list[dict]:
    """Uses of ``name`` in ``targets`` (code before tests), as JSON with the repository's name."""
    name = check_name(name)
    limit = check_limit(DEFAULT_REFERENCE_LIMIT if limit is None else limit, MAX_REFERENCE_LIMIT)
    found = []
    for repo in targets:
        _ready(repo)
        for rank, m in enumerate(find_references(repo.index_dir, name, limit=limit)):
            found.append(((is_test_path(m.path), rank), {**m.to_json(), "repo": repo.name}))
    found.sort(key=lambda item: item[0])
    return [item for _, item in found[:limit]]
