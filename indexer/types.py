"""Data types shared by every stage. A leaf module: it imports nothing of ours."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

# Joins the names of nested definitions or headings in ``Chunk.symbol``: "Session > send".
SYMBOL_SEPARATOR = " > "

# Counts the tokens of a text for one model's tokenizer (or estimates them).
TokenCounter = Callable[[str], int]

# The one tokenizer-free estimate of tokens (remote embedders, chat backends without a tokenizer, the
# serving budget's default). Measured with MiniLM's WordPiece on ~2,000 stdlib functions: median 3.7
# characters a token, 5th percentile 2.8; three over-counts for ~90 % of code, so a budget filled by the
# estimate is rarely overrun by the real tokenizer (byte-pair vocabularies pack more characters still).
CHARS_PER_TOKEN = 3

# Not an estimate but a bound, so that hopeless texts are never sent to a (slow) tokenizer: a text of more
# than this many characters per token of a limit is taken not to fit, unmeasured. Real code stays far
# below (median 3.7); only whitespace-heavy text comes near (the chunker then splits it; the context
# builder does not widen a snippet to it). The chunker used 10 and the context builder 12 before: 10 keeps
# every index's chunks as they were.
MAX_CHARS_PER_TOKEN = 10


def approx_tokens(text: str) -> int:
    """``text``'s tokens without a tokenizer: one per :data:`CHARS_PER_TOKEN` characters, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


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


# How many skipped paths are kept per reason (the health view lists them; the count is always exact).
MAX_SKIPPED_PATHS = 1000


@dataclass(slots=True)
class SkipCounts:
    """Why files were not indexed, counted by reason (never drop content silently), with the first
    ``MAX_SKIPPED_PATHS`` paths of each reason so they can be shown."""

    by_reason: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, path: str) -> None:
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        ex = self.examples.setdefault(reason, [])
        if len(ex) < MAX_SKIPPED_PATHS:
            ex.append(path)

    def merge(self, other: SkipCounts) -> None:
        """Add ``other``'s counts and paths (still at most ``MAX_SKIPPED_PATHS`` per reason)."""
        for reason, n in other.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + n
        for reason, paths in other.examples.items():
            ex = self.examples.setdefault(reason, [])
            ex.extend(paths[: max(0, MAX_SKIPPED_PATHS - len(ex))])

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


@dataclass(frozen=True, slots=True)
class FileRecord:
    """The catalog's row for one indexed file (catalog.py, store_tables.py)."""

    path: str
    mtime_ns: int
    size: int
    sha256: str
    chunks: int
