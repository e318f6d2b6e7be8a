"""Retrieval for the serving layer: a question -> cited snippets that fit a token budget.

Shared by ``/retrieve``, the chat endpoint and the MCP tools. Snippet text comes from the index
only (retrieval's context assembly reads stored chunks, never the disk), so no request can read a
file that is not in a served, indexed repository.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..indexer.errors import IndexMissingError, RagpilotError
from ..indexer.symbols.store import SymbolStore
from ..indexer.types import TokenCounter, approx_tokens
from ..retrieval.breadth import file_excerpts
from ..retrieval.context import ContextPiece, assemble_context
from ..retrieval.expand import expand_hits
from ..retrieval.hits import Hit
from ..retrieval.render import render_piece
from ..retrieval.repomap import RepoMap
from ..retrieval.repomap_index import graph_for_index, repo_map
from ..retrieval.repomap_render import MapFile, in_line_order, signature_line
from ..retrieval.repomap_settings import RepoMapSettings
from .prompt import MAP_SYMBOL, context_instructions, is_repo_level
from .repos import RepoSet, ServedRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Snippet:
    """A cited piece of a served repository: retrieval's :class:`ContextPiece` plus where it lives.

    The piece is what prompts and citations show: its ``path`` is repository-relative, prefixed by the
    repository's name when the search spanned several; ``rel_path`` is always relative to ``repo``."""

    repo: ServedRepo
    rel_path: str
    piece: ContextPiece

    @property
    def uri(self) -> str:
        return self.repo.uri_for(self.rel_path)

    def to_json(self) -> dict:
        p = self.piece
        return {"repo": self.repo.name, "path": self.rel_path, "start_line": p.start_line,
                "end_line": p.end_line, "score": round(float(p.score), 6), "symbol": p.symbol,
                "language": p.language, "text": p.text}


def pieces_of(snippets: Sequence[Snippet]) -> list[ContextPiece]:
    """What the prompt and the renderer take: the snippets' cited pieces."""
    return [s.piece for s in snippets]


class Retriever:
    """Search the chosen repositories and assemble the best hits into snippets within a budget."""

    def __init__(self, repos: RepoSet):
        self.repos = repos

    def snippets(self, query: str, targets: Sequence[ServedRepo], *, k: int, budget_tokens: int,
                 count_tokens: TokenCounter = approx_tokens, rerank: bool = False,
                 mode: str = "hybrid", repomap: RepoMapSettings | None = None) -> list[Snippet]:
        """The best hits as snippets within ``budget_tokens``. With ``repomap`` (the chat's settings) the
        best hits may be expanded along the symbol graph (``expand_graph``), and a repository-level
        question gets a map slice after the code (``chat_map``), both within the same budget. With
        ``chat_breadth`` a repository-level question gets one short excerpt per file instead (``_breadth``);
        a pinpoint question always gets the chunk search's hits."""
        repo_level = repomap is not None and is_repo_level(query)
        with_map = repo_level and repomap.chat_map
        if repo_level and repomap.chat_breadth:
            return self._breadth(query, targets, budget_tokens, count_tokens, mode, repomap)
        found = self.repos.search(query, targets, k=k, mode=mode, rerank=rerank)
        code_budget = budget_tokens - int(budget_tokens * repomap.chat_map_share) if with_map else budget_tokens
        several = len(targets) > 1
        per_repo: dict[str, list] = {}
        for repo, hit in found:
            per_repo.setdefault(str(repo.root), [repo, []])[1].append(hit)
        out: list[Snippet] = []
        for repo, hits in per_repo.values():
            if repomap is not None and repomap.expand_graph:
                hits = _expanded(repo, hits, repomap)
            context = assemble_context(hits, budget_tokens=code_budget, count_tokens=count_tokens,
                                       store=repo.searcher.store)
            out.extend(_snippet(repo, p, several) for p in context.pieces)
        if len(per_repo) > 1:  # each repository had the whole budget: keep the best that fit together
            out = _best_within(out, code_budget, count_tokens)
        if with_map:
            room = budget_tokens - sum(_cost(s, count_tokens) for s in out)
            searched = {str(r.root): [h.path for rr, h in found if rr is r] for r in targets}
            out.extend(_map_slice(query, targets, room, count_tokens, searched, out))
        return out

    def _breadth(self, query: str, targets: Sequence[ServedRepo], budget_tokens: int,
                 count_tokens: TokenCounter, mode: str, repomap: RepoMapSettings) -> list[Snippet]:
        """A repository-level question's context: one excerpt per file that file-level search proposes
        (retrieval/breadth.py), best first, while they fit; then the map slice (when on) in what is left."""
        found = self.repos.search_files(query, targets, k=repomap.breadth_files, mode=mode)
        several = len(targets) > 1
        excerpts = []
        for repo in targets:
            files = [f for r, f in found if r is repo]
            excerpts.extend(_snippet(repo, p, several) for p in file_excerpts(files, lines=repomap.breadth_lines))
        out = _best_within(excerpts, budget_tokens, count_tokens)
        if repomap.chat_map:
            room = budget_tokens - sum(_cost(s, count_tokens) for s in out)
            searched = {str(r.root): [f.path for rr, f in found if rr is r] for r in targets}
            out.extend(_map_slice(query, targets, room, count_tokens, searched, out))
        return out


def _expanded(repo: ServedRepo, hits: list[Hit], settings: RepoMapSettings) -> list[Hit]:
    """``hits`` expanded along the repository's symbol graph (as is when it has no symbol index)."""
    try:
        graph = graph_for_index(repo.index_dir)
    except IndexMissingError as err:
        log.info("%s: no graph expansion (%s)", repo.name, err)
        return hits
    with SymbolStore(repo.index_dir, readonly=True) as symbols:
        return expand_hits(hits, graph, repo.searcher.store, symbols.references, top=settings.expand_hits,
                           per_hit=settings.expand_per_hit)


def _map_slice(query: str, targets: Sequence[ServedRepo], room: int, count_tokens: TokenCounter,
               searched: dict[str, list[str]], shown: Sequence[Snippet]) -> list[Snippet]:
    """Map pieces (a file's key signatures each) for files not shown yet, within ``room`` tokens.

    The map is personalised by the question and by the files the chunk search already found (no second
    search). A repository without a symbol index gets no slice: the chat still answers from the code."""
    if room <= 0:
        return []
    several = len(targets) > 1
    per_repo = room // len(targets)
    shown_paths = {(str(s.repo.root), s.rel_path) for s in shown}
    out: list[Snippet] = []
    for repo in targets:
        try:
            rm = repo_map(repo.index_dir, question=query, budget_tokens=per_repo, count_tokens=count_tokens,
                          search_paths=searched.get(str(repo.root), []))
        except RagpilotError as err:
            log.info("%s: no repo map for the chat (%s)", repo.name, err)
            continue
        used = 0
        for f in rm.files:
            if (str(repo.root), f.path) in shown_paths:
                continue
            snippet = _snippet(repo, map_piece(f), several)
            cost = _cost(snippet, count_tokens)
            if used + cost > per_repo:
                break
            out.append(snippet)
            used += cost
    return out


def map_piece(f: MapFile) -> ContextPiece:
    """One file of a map as a cited piece: its key signatures (with their lines) between its first and
    last definition's lines."""
    defs = in_line_order(f.definitions)
    text = "\n".join(signature_line(d).strip() for d in defs)
    return ContextPiece(f.path, defs[0].line_start, max(d.line_end for d in defs), text, f.rank, MAP_SYMBOL)


def repo_maps(targets: Sequence[ServedRepo], question: str, *, budget_tokens: int,
              count_tokens: TokenCounter = approx_tokens) -> list[tuple[ServedRepo, RepoMap]]:
    """A map of each repository (the budget split evenly between them), personalised by ``question``
    and by what each repository's chunk search finds for it. Runs in a worker thread."""
    each = budget_tokens // max(len(targets), 1)
    maps = []
    for repo in targets:
        searcher = repo.searcher  # first: an index still being built is "try again", not "missing"
        maps.append((repo, repo_map(repo.index_dir, question=question, search=searcher if question else None,
                                    budget_tokens=each, count_tokens=count_tokens)))
    return maps


def build_chat_context(repos: RepoSet, question: str, *, use_map: bool, expand_graph: bool,
                       breadth: bool = False, budget_tokens: int = 1500, k: int = 8,
                       count_tokens: TokenCounter = approx_tokens,
                       settings: RepoMapSettings | None = None) -> tuple[str, list[str]]:
    """What the ``ragpilot`` chat model would be given for ``question`` over every repository of
    ``repos``: the context block of its system message, and the repository-relative paths it cites
    (code first, then map files), for scoring with and without the map, breadth-first excerpts and the
    graph expansion (every switch is explicit: the environment's ``RAGPILOT_*`` cannot change them)."""
    base = settings or RepoMapSettings()
    chosen = base.model_copy(update={"chat_map": use_map, "expand_graph": expand_graph, "chat_breadth": breadth})
    snippets = Retriever(repos).snippets(question, repos.repos, k=k, budget_tokens=budget_tokens,
                                         count_tokens=count_tokens, repomap=chosen)
    text = context_instructions(pieces_of(snippets), [r.name for r in repos.repos])
    return text, list(dict.fromkeys(s.rel_path for s in snippets))


def _snippet(repo: ServedRepo, piece: ContextPiece, prefixed: bool) -> Snippet:
    shown = replace(piece, path=f"{repo.name}/{piece.path}") if prefixed else piece
    return Snippet(repo, piece.path, shown)


def _cost(snippet: Snippet, count_tokens: TokenCounter) -> int:
    # Numbered as [99]: the real numbers are known only at the end and are never wider.
    return count_tokens(render_piece(99, snippet.piece)) + 1


def _best_within(snippets: Sequence[Snippet], budget: int, count_tokens: TokenCounter) -> list[Snippet]:
    kept, used = [], 0
    for s in sorted(snippets, key=lambda s: s.piece.score, reverse=True):
        cost = _cost(s, count_tokens)
        if used + cost <= budget:
            kept.append(s)
            used += cost
    return kept
