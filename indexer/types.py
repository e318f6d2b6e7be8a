"""Data types shared by every stage. A leaf module: it imports nothing of ours."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

# Joins the names of nested definitions or headings in ``Chunk.symbol``: "Session > send".
SYMBOL_SEPARATOR = " > "

# Counts the tokens of a text for one model's tokenizer (or estimates them).
TokenCounter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable piece of a file.

    ``content`` is the source text shown to users and put into prompts; ``embed_text`` is what the
    embedder sees (path + enclosing signatures + code), sized to the embedder's window.
    Lines are 1-based and inclusive.
    """

    path: str  # relative to the repository root, POSIX separators
    language: str  # "python", "markdown", "text", ...
    start_line: int
    end_line: int
    symbol: str  # e.g. "Session > send" (SYMBOL_SEPARATOR); "" for module-level code
    kind: str  # "function", "class", "collapsed", "section", "lines", "module", ...
    content: str
    embed_text: str

    @property
    def content_hash(self) -> str:
        """Key of the embedding cache: equal texts are embedded once, whatever file they sit in."""
        return hashlib.sha256(self.embed_text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(slots=True)
class SkipCounts:
    """Why files were not indexed, counted by reason (never drop content silently)."""

    by_reason: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, path: str) -> None:
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < 5:
            ex.append(path)

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())
