"""One file being chunked: its lines, the token budget, and how chunk headers and chunks are made.

Every strategy builds chunks here so that the embed text has one shape everywhere::

    <path> > <symbol path>          (the header line; "> symbol" only when there is one)
    <enclosing signature lines>     (class headers etc., exact source lines)
    <content>                       (the code)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..types import MAX_CHARS_PER_TOKEN, Chunk, TokenCounter

log = logging.getLogger(__name__)


#: A header (path, symbol, enclosing signatures) may use at most this share of the budget.
HEADER_SHARE = 0.5
MIN_BUDGET = 16


@dataclass(frozen=True, slots=True)
class Header:
    text: str
    tokens: int


@dataclass
class Source:
    """A file's text split into lines (on "\\n" only, like tree-sitter), plus budget and counter."""

    path: str
    language: str
    lines: list[str]
    budget: int
    count: TokenCounter
    _headers: dict[tuple[str, tuple[str, ...]], Header] = field(default_factory=dict, repr=False)

    @classmethod
    def from_text(cls, path: str, language: str, text: str, *, budget: int, count: TokenCounter) -> Source:
        if budget < MIN_BUDGET:
            raise ValueError(f"token budget {budget} is too small to chunk anything (minimum {MIN_BUDGET})")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final newline ends the last line; it does not start a new one
        return cls(path=path.replace("\\", "/"), language=language, lines=lines, budget=budget, count=count)

    def text(self, start: int, end: int) -> str:
        """Rows ``start..end`` (0-based, inclusive) joined exactly as in the file."""
        return "\n".join(self.lines[start : end + 1])

    def cannot_fit(self, text: str) -> bool:
        """Cheap pre-check so huge texts are never sent to the (slow) token counter."""
        return len(text) > self.budget * MAX_CHARS_PER_TOKEN

    def header(self, symbol: str = "", signatures: Sequence[str] = ()) -> Header:
        """The header for a chunk, trimmed to at most half the budget (signatures go first)."""
        key = (symbol, tuple(signatures))
        cached = self._headers.get(key)
        if cached is None:
            cached = self._headers[key] = self._fit_header(symbol, list(signatures))
        return cached

    def _fit_header(self, symbol: str, signatures: list[str]) -> Header:
        limit = int(self.budget * HEADER_SHARE)
        first = f"{self.path} > {symbol}" if symbol else self.path
        text = "\n".join([first, *signatures])
        tokens = self.count(text)
        while tokens > limit and signatures:
            signatures = signatures[1:]  # drop the outermost signature first
            text = "\n".join([first, *signatures])
            tokens = self.count(text)
        while tokens > limit and len(first) > 1:
            first = first[: max(1, int(len(first) * limit / tokens * 0.9))]
            text, tokens = first, self.count(first)
        return Header(text, tokens)

    def make(self, start: int, end: int, *, symbol: str, kind: str, content: str, header: Header) -> Chunk:
        """A chunk for rows ``start..end`` (0-based inclusive; stored 1-based)."""
        return Chunk(
            path=self.path,
            language=self.language,
            start_line=start + 1,
            end_line=end + 1,
            symbol=symbol,
            kind=kind,
            content=content,
            embed_text=f"{header.text}\n{content}",
        )
