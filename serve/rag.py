"""Retrieval for the serving layer: a question -> cited snippets that fit a token budget.

Shared by ``/retrieve``, the chat endpoint and the MCP tools. Snippet text comes from the index
only (retrieval's context assembly reads stored chunks, never the disk), so no request can read a
file that is not in a served, indexed repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..indexer.types import TokenCounter, approx_tokens
from ..retrieval.context import ContextPiece, assemble_context
from ..retrieval.render import render_piece
from .repos import RepoSet, ServedRepo


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
                 mode: str = "hybrid") -> list[Snippet]:
        found = self.repos.search(query, targets, k=k, mode=mode, rerank=rerank)
        several = len(targets) > 1
        per_repo: dict[str, list] = {}
        for repo, hit in found:
            per_repo.setdefault(str(repo.root), [repo, []])[1].append(hit)
        out: list[Snippet] = []
        for repo, hits in per_repo.values():
            context = assemble_context(hits, budget_tokens=budget_tokens, count_tokens=count_tokens,
                                       store=repo.searcher.store)
            out.extend(_snippet(repo, p, several) for p in context.pieces)
        if len(per_repo) > 1:  # each repository had the whole budget: keep the best that fit together
            out = _best_within(out, budget_tokens, count_tokens)
        return out


def _snippet(repo: ServedRepo, piece: ContextPiece, prefixed: bool) -> Snippet:
    shown = replace(piece, path=f"{repo.name}/{piece.path}") if prefixed else piece
    return Snippet(repo, piece.path, shown)


def _best_within(snippets: Sequence[Snippet], budget: int, count_tokens: TokenCounter) -> list[Snippet]:
    kept, used = [], 0
    for s in sorted(snippets, key=lambda s: s.piece.score, reverse=True):
        cost = count_tokens(render_piece(99, s.piece)) + 1
        if used + cost <= budget:
            kept.append(s)
            used += cost
    return kept
