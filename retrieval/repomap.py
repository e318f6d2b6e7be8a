"""A repo map: the repository's most important files with their key signatures, within a token budget.

After Aider's repo map: files are nodes of the graph of who-uses-whose-definitions (repomap_graph.py),
ranked by personalised PageRank (repomap_rank.py), so files many others depend on come first. A question
personalises the ranking: the walk restarts at the files it names, the files defining identifiers it
names, and the files chunk search retrieves for it; edges carrying a named identifier weigh ten times
more. Without a question the map is the repository's overall shape. Rendering is repomap_render.py;
opening an index's symbol store (and caching its graph) is repomap_index.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..indexer.types import TokenCounter, approx_tokens
from .repomap_graph import SymbolGraph
from .repomap_mentions import mentioned_files, mentioned_names
from .repomap_rank import definition_scores, pagerank
from .repomap_render import MapFile, render_map

MENTION_WEIGHT = 10.0  # edges carrying an identifier the question names (Aider's factor)
UNIFORM_SHARE = 0.1  # of the restart mass spread over all files: global importance breaks the ties
MAX_SIGNATURES_PER_FILE = 8
HIDDEN_KINDS = frozenset({"field"})  # a class's fields crowd out its methods; the class line shows it
TOKENS_PER_FILE_AT_LEAST = 12  # how many files can fit at most: a path and one signature


@dataclass
class RepoMap:
    """The rendered map, the files it shows (best first) and what it cost."""

    text: str
    files: list[MapFile] = field(default_factory=list)
    tokens: int = 0
    budget_tokens: int = 0
    files_total: int = 0  # files in the graph
    personalized: bool = False  # whether the question (or search) moved the ranking

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def to_json(self) -> dict:
        return {"text": self.text, "tokens": self.tokens, "budget_tokens": self.budget_tokens,
                "files_total": self.files_total, "personalized": self.personalized,
                "files": [f.to_json() for f in self.files]}


def build_repo_map(graph: SymbolGraph, *, budget_tokens: int, question: str = "",
                   search_paths: Sequence[str] = (), count_tokens: TokenCounter = approx_tokens) -> RepoMap:
    """The map of ``graph`` in at most ``budget_tokens``, personalised by ``question`` and by
    ``search_paths`` (files chunk search found for it, best first)."""
    names = mentioned_names(question, graph) if question else set()
    weight = graph.weight
    boosted = [graph.name_index[n] for n in names if n in graph.name_index]
    if boosted:
        weight = np.where(np.isin(graph.ident, boosted), weight * MENTION_WEIGHT, weight)
    restart = personalization(graph, names, mentioned_files(question, graph) if question else set(),
                              search_paths)
    rank = pagerank(len(graph.files), graph.src, graph.dst, weight, restart)

    most = max(1, budget_tokens // TOKENS_PER_FILE_AT_LEAST)
    order = [i for i in np.argsort(-rank, kind="stable") if _shown(graph, graph.files[i])][:most]
    scores = definition_scores(graph, rank, weight, order)
    candidates = [MapFile(graph.files[i], float(rank[i]), _key_definitions(graph, graph.files[i], scores, names))
                  for i in order]
    text, shown = render_map(candidates, budget_tokens, count_tokens)
    return RepoMap(text, shown, count_tokens(text) if text else 0, budget_tokens, len(graph.files),
                   personalized=restart is not None)


def personalization(graph: SymbolGraph, names: set[str], files: set[str],
                    search_paths: Sequence[str]) -> np.ndarray | None:
    """Where the walk restarts: half on what the question names (each named file, and each named
    identifier's defining files, one share per name), half on the searched files (weighted 1/rank);
    UNIFORM_SHARE over every file. None when the question points at nothing."""
    n = len(graph.files)
    named = np.zeros(n)
    for path in files:
        named[graph.file_index[path]] += 1.0
    for name in names:
        owners = graph.definers.get(name, ())
        for path in owners:
            named[graph.file_index[path]] += 1.0 / len(owners)
    searched = np.zeros(n)
    for rank, path in enumerate(dict.fromkeys(search_paths)):
        if path in graph.file_index:
            searched[graph.file_index[path]] += 1.0 / (rank + 1)
    parts = [v / v.sum() for v in (named, searched) if v.sum() > 0]
    if not parts or n == 0:
        return None
    focus = sum(parts) / len(parts)
    return (1.0 - UNIFORM_SHARE) * focus + UNIFORM_SHARE / n


def _shown(graph: SymbolGraph, path: str) -> bool:
    return any(d.kind not in HIDDEN_KINDS for d in graph.definitions.get(path, ()))


def _key_definitions(graph: SymbolGraph, path: str, scores: dict[tuple[str, str], float],
                     names: set[str]) -> tuple:
    """The file's definitions most worth showing first: named by the question, most depended on
    (the rank reaching them), then the outermost, then the earliest."""
    defs = [d for d in graph.definitions.get(path, ()) if d.kind not in HIDDEN_KINDS]
    defs.sort(key=lambda d: (d.name not in names, -scores.get((path, d.name), 0.0), bool(d.parent), d.line_start))
    return tuple(defs[:MAX_SIGNATURES_PER_FILE])
