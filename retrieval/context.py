"""Context assembly: turn ranked hits into cited snippets that fit a model's token budget.

For each hit, best first, the widest useful view that still fits is taken: the whole file when it
is small, the enclosing class or section when that is small, the whole function when the chunker
split it, else the hit itself (cut to fit as a last resort). Pieces of one file that touch or
overlap are merged. Text comes only from the index's stored chunks, never from disk, so a request
can never read a file that is not indexed, nor a newer version than the one that was searched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..indexer.types import MAX_CHARS_PER_TOKEN, SYMBOL_SEPARATOR, TokenCounter
from .filelines import COLLAPSED, FileLines
from .hits import Hit
from .render import citation, render_piece, render_pieces

log = logging.getLogger(__name__)

MIN_TRUNCATED_LINES = 3
MERGE_GAP = 2  # pieces of one file at most this many lines apart are shown as one (the gap included)


class ChunkSource(Protocol):
    """Where a file's stored chunks come from (an :class:`IndexStore` is one)."""

    def rows_for_path(self, path: str) -> list[dict]: ...


@dataclass(frozen=True, slots=True)
class ContextPiece:
    """One cited snippet: lines ``start_line..end_line`` (1-based, inclusive) of ``path``."""

    path: str
    start_line: int
    end_line: int
    text: str
    score: float
    symbol: str = ""
    language: str = ""

    @property
    def citation(self) -> str:
        return citation(self.path, self.start_line, self.end_line)


@dataclass
class Context:
    """The pieces in relevance order, and the tokens their rendering uses."""

    pieces: list[ContextPiece] = field(default_factory=list)
    budget_tokens: int = 0
    tokens: int = 0

    @property
    def citations(self) -> list[str]:
        return [p.citation for p in self.pieces]

    def render(self) -> str:
        """Numbered, fenced snippets, each headed by its ``path:start-end`` citation."""
        return render_pieces(self.pieces)


@dataclass
class _Span:
    start: int
    end: int
    rank: int
    score: float
    symbol: str
    language: str
    opaque_text: str | None = None  # text not made of file lines (a collapsed skeleton); never merged

    def covers(self, start: int, end: int) -> bool:
        return self.opaque_text is None and self.start <= start and end <= self.end


# ----- assembly ----------------------------------------------------------------------------------
class _Packer:
    def __init__(self, budget: int, count_tokens: TokenCounter):
        self.budget = budget
        self.count = count_tokens
        self.spans: dict[str, list[_Span]] = {}
        self.cost: dict[str, int] = {}
        self.views: dict[str, FileLines] = {}
        self.used = 0

    def pieces_of(self, path: str, spans: Sequence[_Span]) -> list[tuple[_Span, ContextPiece]]:
        """Spans of one file merged where they touch and the merged lines are known."""
        view = self.views[path]
        merged: list[_Span] = []
        for span in sorted(spans, key=lambda s: (s.start, s.end)):
            last = merged[-1] if merged else None
            mergeable = (
                last is not None and last.opaque_text is None and span.opaque_text is None
                and span.start <= last.end + 1 + MERGE_GAP
                and view.text(last.start, max(last.end, span.end)) is not None
            )
            if mergeable:
                assert last is not None
                best = last if last.rank <= span.rank else span
                merged[-1] = _Span(last.start, max(last.end, span.end), best.rank, best.score,
                                   best.symbol, best.language)
            else:
                merged.append(span)
        out = []
        for span in merged:
            text = span.opaque_text if span.opaque_text is not None else view.text(span.start, span.end)
            out.append((span, ContextPiece(path, span.start, span.end, text or "", span.score,
                                           span.symbol, span.language)))
        return out

    def file_cost(self, path: str, spans: Sequence[_Span]) -> int:
        # Numbered as [99]: the real numbers are known only at the end and are never wider.
        return sum(self.count(render_piece(99, p)) + 1 for _, p in self.pieces_of(path, spans))

    def try_add(self, path: str, span: _Span) -> bool:
        spans = [*self.spans.get(path, []), span]
        cost = self.file_cost(path, spans)
        delta = cost - self.cost.get(path, 0)
        if self.used + delta > self.budget:
            return False
        self.spans[path] = spans
        self.cost[path] = cost
        self.used += delta
        return True


def assemble_context(
    hits: Sequence[Hit],
    *,
    budget_tokens: int,
    count_tokens: TokenCounter,
    store: ChunkSource | None = None,
    small_file_tokens: int | None = None,
    expand_share: float = 0.5,
) -> Context:
    """Pack ``hits`` (best first) into at most ``budget_tokens`` tokens of cited snippets.

    ``store`` supplies the files' stored chunks for merging and expansion; without it only the hits'
    own text is used. A file or class is shown whole when it takes at most ``small_file_tokens``
    (default: a quarter of the budget, at most 1000); a split function is reunited when it takes at
    most ``expand_share`` of the budget.
    """
    if budget_tokens <= 0 or not hits:
        return Context([], max(budget_tokens, 0), 0)
    small = small_file_tokens if small_file_tokens is not None else min(1000, budget_tokens // 4)
    packer = _Packer(budget_tokens, count_tokens)
    by_path: dict[str, list[Hit]] = {}
    for hit in hits:
        by_path.setdefault(hit.path, []).append(hit)
    for path, file_hits in by_path.items():
        rows = store.rows_for_path(path) if store is not None else []
        packer.views[path] = FileLines(rows or [_row_of(h) for h in file_hits])

    for rank, hit in enumerate(hits):
        if any(s.covers(hit.start_line, hit.end_line) for s in packer.spans.get(hit.path, [])):
            continue  # already shown as part of a wider piece
        for span in _candidates(packer, hit, rank, small, int(budget_tokens * expand_share)):
            if packer.try_add(hit.path, span):
                break
        else:
            _add_truncated(packer, hit, rank)

    pieces = [(s, p) for path in packer.spans for s, p in packer.pieces_of(path, packer.spans[path])]
    ordered = [p for _, p in sorted(pieces, key=lambda sp: (sp[0].rank, sp[0].start))]
    # The budget was kept per piece; a tokenizer may count the joined text slightly differently.
    while ordered and count_tokens(render_pieces(ordered)) > budget_tokens:
        ordered.pop()
    return Context(ordered, budget_tokens, count_tokens(render_pieces(ordered)) if ordered else 0)


def _candidates(packer: _Packer, hit: Hit, rank: int, small: int, expand_limit: int):
    """Spans to try for ``hit``, widest first; each yielded only if its text is known and modest."""
    view = packer.views[hit.path]
    yielded: set[tuple[int, int]] = set()

    def span(start: int, end: int, symbol: str) -> _Span:
        yielded.add((start, end))
        return _Span(start, end, rank, hit.score, symbol, hit.language)

    def fits(start: int, end: int, limit: int) -> bool:
        if (start, end) in yielded:
            return False
        text = view.text(start, end)
        # Skip counting hopeless texts (the bound in indexer/types.py).
        return text is not None and len(text) <= MAX_CHARS_PER_TOKEN * limit and packer.count(text) <= limit

    if view.n_lines and fits(1, view.n_lines, small):
        yield span(1, view.n_lines, "")
    parts = hit.symbol.split(SYMBOL_SEPARATOR) if hit.symbol else []
    # The outermost enclosing class or section that is small, then the hit's own symbol if split.
    for depth in range(1, len(parts)):
        enclosing = SYMBOL_SEPARATOR.join(parts[:depth])
        rng = view.symbol_range(enclosing)
        if rng and rng[0] <= hit.start_line and hit.end_line <= rng[1] and fits(*rng, small):
            yield span(*rng, enclosing)
    if hit.symbol and hit.kind != COLLAPSED:
        rng = view.symbol_range(hit.symbol)
        if rng and rng[0] <= hit.start_line and hit.end_line <= rng[1] and fits(*rng, expand_limit):
            yield span(*rng, hit.symbol)
    if hit.kind != COLLAPSED and view.text(hit.start_line, hit.end_line) is not None:
        yield span(hit.start_line, hit.end_line, hit.symbol)
    else:
        s = span(hit.start_line, hit.end_line, hit.symbol)
        s.opaque_text = hit.content
        yield s


def _add_truncated(packer: _Packer, hit: Hit, rank: int) -> None:
    """The first lines of the hit that still fit, labelled with the lines actually shown."""
    view = packer.views[hit.path]
    if hit.kind == COLLAPSED or view.text(hit.start_line, hit.end_line) is None:
        return  # a skeleton cut short would be mislabelled
    lo, hi = MIN_TRUNCATED_LINES - 1, hit.end_line - hit.start_line
    best = None
    while lo <= hi:  # binary search on the number of lines shown
        mid = (lo + hi) // 2
        s = _Span(hit.start_line, hit.start_line + mid, rank, hit.score, hit.symbol, hit.language)
        spans = [*packer.spans.get(hit.path, []), s]
        if packer.used + packer.file_cost(hit.path, spans) - packer.cost.get(hit.path, 0) <= packer.budget:
            best, lo = s, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        packer.try_add(hit.path, best)
        log.debug("context: %s cut to lines %d-%d to fit the budget", hit.path, best.start, best.end)


def _row_of(hit: Hit) -> dict:
    return {"start_line": hit.start_line, "end_line": hit.end_line, "symbol": hit.symbol,
            "kind": hit.kind, "content": hit.content}
