"""The reranker contract: score (query, passage) pairs; ordering hits is done once, here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace

from ...indexer.errors import BackendError
from ..hits import Hit


class Reranker(ABC):
    """Scores how well each passage answers a query; higher is better.

    Subclasses set ``id`` (shown in logs and status) and implement :meth:`score`.
    """

    id: str = ""

    @abstractmethod
    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage, in the order given."""

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """``hits`` re-ordered by this reranker, each carrying its new score (ties keep input order)."""
        if not hits:
            return []
        scores = self.score(query, [passage_text(h) for h in hits])
        if len(scores) != len(hits):
            raise BackendError(f"reranker {self.id} returned {len(scores)} scores for {len(hits)} passages")
        order = sorted(range(len(hits)), key=lambda i: -scores[i])
        return [replace(hits[i], score=float(scores[i])) for i in order]


def passage_text(hit: Hit) -> str:
    """What the cross-encoder reads: where the code lives, then the code itself."""
    head = f"{hit.path} {hit.symbol}".strip()
    return f"{head}\n{hit.content}"
