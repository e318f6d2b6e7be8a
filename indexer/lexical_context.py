"""The text around a chunk, for full-text search only: what a 40-line window would also have held.

A syntax chunk holds one definition's body; BM25 over plain 40-line windows still finds a function
whose doc comment is gone, because its window holds the neighbours' doc comments, the enclosing
class/impl header and the file's package line (eval/README.md, "why our lexical side trails"). This
module builds that surrounding text for a fourth full-text column, ``fts_context``, searched with a
weight below the body's (``retrieval.settings.CONTEXT_BOOST``). The chunk's own lines are not repeated
there: the body column already holds them, and leaving them out halves what the column costs (the table
grows 14 % at 100k chunks instead of 29-33 %; bench/bench_query.py --no-context). It never touches ``embed_text``: the embedding cache (keyed by the
embedded text's hash) keeps hitting, so adding or retuning the column re-chunks but never re-embeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .types import Chunk

# Lines taken before and after the chunk. Tuned with CONTEXT_BOOST on the 11-corpus eval (hybrid doc
# chunk R@10, tune half; eval/README.md): 3 lines 0.795, 5 lines 0.799, 7 lines 0.799, 10 lines 0.793
# (0.780 without the column); the doc comment right after a chunk is usually within 5 lines.
CONTEXT_LINES = 5
# The file's own name for itself: Go/Java/Kotlin/Scala ``package``, C++/C#/PHP ``namespace``, ``module``.
_PACKAGE_LINE = re.compile(r"^\s*(package|namespace|module)\s+[\w.:\\]+")
_PACKAGE_SCAN_LINES = 100
# Lines that cannot be a header: blank, comments, brackets, decorators/attributes, a Rust ``where`` (the
# ``impl`` line above it is the header).
_NOT_A_HEADER = re.compile(r"^\s*($|//|/\*|\*|#|--|[()\[\]{}]|@|where\b)")


@dataclass(frozen=True)
class _FileLayout:
    """What every chunk of one file asks for, worked out once per file: its lines, the row of its
    package line (-1: none), and for each row the row of its enclosing header (-1: none)."""

    lines: tuple[str, ...]
    package_row: int
    header_rows: tuple[int, ...]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@lru_cache(maxsize=8)
def _layout(text: str) -> _FileLayout:
    """One pass over the file (every chunk of a file asks with the same string; a str caches its hash).

    A row's enclosing header is the nearest line above it indented less than the row's first non-blank
    line (a class, impl or namespace opening). A stack of candidate lines, popped while their indent is
    not below the current line's, finds it for every row in linear time."""
    lines = tuple(text.splitlines())
    package_row = next((i for i, line in enumerate(lines[:_PACKAGE_SCAN_LINES]) if _PACKAGE_LINE.match(line)), -1)
    header_rows = [-1] * len(lines)
    stack: list[tuple[int, int]] = []  # (indent, row) of header candidates, indents increasing
    pending: list[int] = []  # blank rows take the header of the next non-blank row
    for row, line in enumerate(lines):
        if not line.strip():
            pending.append(row)
            continue
        depth = _indent(line)
        if _NOT_A_HEADER.match(line):  # not a header itself, and closes nothing: the stack stays
            header = next((r for d, r in reversed(stack) if d < depth), -1) if depth else -1
        else:
            while stack and stack[-1][0] >= depth:
                stack.pop()
            header = stack[-1][1] if stack and depth else -1
            stack.append((depth, row))
        for blank in pending:
            header_rows[blank] = header
        pending.clear()
        header_rows[row] = header
    return _FileLayout(lines, package_row, tuple(header_rows))


def context_text(chunk: Chunk, text: str, context_lines: int = CONTEXT_LINES) -> str:
    """The file's package line, the chunk's enclosing header, and ``context_lines`` lines either side
    of the chunk (not the chunk itself). Without the file's text (``""``), nothing."""
    if not text:
        return ""
    layout = _layout(text)
    lines = layout.lines
    start, end = max(0, chunk.start_line - 1), min(len(lines), chunk.end_line)
    shown_from = max(0, start - context_lines)
    header_row = layout.header_rows[start] if start < len(lines) else -1
    extra = [lines[row].strip() for row in (layout.package_row, header_row)
             if row >= 0 and not shown_from <= row < end]  # not a line already in the shown range
    return "\n".join([*extra, *lines[shown_from:start], *lines[end:end + context_lines]])
