"""The text around a chunk, for full-text search only: what a 40-line window would also have held.

A syntax chunk holds one definition's body; BM25 over plain 40-line windows still finds a function
whose doc comment is gone, because its window holds the neighbours' doc comments, the enclosing
class/impl header and the file's package line (eval/README.md, "why our lexical side trails"). This
module builds that surrounding text for a fourth full-text column, searched with a weight below the
chunk's own. It never touches ``embed_text``: the embedding cache (keyed by the embedded text's hash)
keeps hitting, so adding or retuning the column re-chunks but never re-embeds.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .types import Chunk

# Lines taken before and after the chunk. Tuned with retrieval.settings.CONTEXT_BOOST on the tune half of
# the 11-corpus eval (hybrid doc chunk R@10; eval/README.md): 5 lines at 0.75 -> 0.775, 10 at 0.5 -> 0.772,
# 20 at 0.5 -> 0.772, none -> 0.761.
CONTEXT_LINES = 5
# How far back the enclosing header (a less-indented line above the chunk) is looked for.
HEADER_SCAN_LINES = 2000
# The file's own name for itself: Go/Java/Kotlin/Scala ``package``, C++/C#/PHP ``namespace``, ``module``.
_PACKAGE_LINE = re.compile(r"^\s*(package|namespace|module)\s+[\w.:\\]+")
_PACKAGE_SCAN_LINES = 100
# Lines that cannot be a header: blank, comments, closing brackets, decorators/attributes.
_NOT_A_HEADER = re.compile(r"^\s*($|//|/\*|\*|#|--|[)\]}]|@)")


@lru_cache(maxsize=8)
def _lines(text: str) -> tuple[str, ...]:
    """The file's lines, split once per file (every chunk of a file asks with the same string)."""
    return tuple(text.splitlines())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def enclosing_header(lines: tuple[str, ...], start: int) -> str:
    """The nearest line above 0-based ``start`` that is indented less than it (a class, impl or
    namespace opening), or "" when the chunk is not nested."""
    first = next((lines[i] for i in range(start, len(lines)) if lines[i].strip()), "")
    depth = _indent(first)
    if depth == 0:
        return ""
    for i in range(start - 1, max(-1, start - 1 - HEADER_SCAN_LINES), -1):
        line = lines[i]
        if not _NOT_A_HEADER.match(line) and _indent(line) < depth:
            return line.strip()
    return ""


def package_line(lines: tuple[str, ...]) -> str:
    """The file's package/namespace/module declaration, or ""."""
    for line in lines[:_PACKAGE_SCAN_LINES]:
        if _PACKAGE_LINE.match(line):
            return line.strip()
    return ""


def context_text(chunk: Chunk, text: str, context_lines: int = CONTEXT_LINES) -> str:
    """The chunk's text plus ``context_lines`` lines either side of it, its enclosing header and the
    file's package line. Without the file's text (``""``), the chunk's own content."""
    if not text:
        return chunk.content
    lines = _lines(text)
    start, end = max(0, chunk.start_line - 1), min(len(lines), chunk.end_line)
    before = lines[max(0, start - context_lines):start]
    after = lines[end:end + context_lines]
    extra = []
    shown_from = max(0, start - context_lines)
    header = enclosing_header(lines, start)
    package = package_line(lines)
    for line in (package, header):
        if line and line not in (s.strip() for s in lines[shown_from:end]):
            extra.append(line)
    return "\n".join([*extra, *before, chunk.content, *after])
