"""Line windows: the fallback for text, unknown languages and unparsable files, and the splitter every
other strategy uses when a piece is over the budget.

Token counting is the expensive part, so a block is counted once, per-line costs are estimated from
its characters, and each window is verified with one more count (shrunk and re-counted only when the
estimate was wrong). A line that alone exceeds the budget is cut into pieces (same line number each).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..types import Chunk
from .source import Header, Source

#: Windows are filled to this share of the room by estimate, leaving slack for estimation error.
FILL = 0.9
#: Prefer to end a window at a blank line or before a statement at the block's base indentation, if
#: one lies in the window's last 40 %.
BREAK_SEARCH = 0.4
_SOFT_BREAK = re.compile(r"[\s,;)\]}>]")


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a block: rows ``start..end`` (0-based, inclusive) and the header it is embedded with."""

    start: int
    end: int
    content: str
    header: Header
    elided: bool = False  # holds a row standing for several (a collapsed child), so not verbatim

    @property
    def embed_text(self) -> str:
        return f"{self.header.text}\n{self.content}"


def block_pieces(
    source: Source,
    start: int,
    end: int,
    first: Header,
    rest: Header | None = None,
    *,
    body: int | None = None,
) -> list[Piece]:
    """Rows ``start..end`` as one piece if they fit under ``first``, else as line windows.

    Windows that start at or after row ``body`` (default: the second row) use the ``rest`` header,
    e.g. one that adds the function's own signature, which those windows no longer show.
    """
    content = source.text(start, end)
    known = None
    if not source.cannot_fit(content):
        total = source.count(f"{first.text}\n{content}")
        if total <= source.budget:
            return [Piece(start, end, content, first)]
        known = total - first.tokens
    return row_windows(source, start, end, first, rest or first, body=body, known_tokens=known)


def row_windows(
    source: Source,
    start: int,
    end: int,
    first: Header,
    rest: Header,
    *,
    body: int | None = None,
    known_tokens: int | None = None,
) -> list[Piece]:
    """File rows ``start..end`` as line windows (see :func:`split_rows`); ``body`` is a file row."""
    rows = source.lines[start : end + 1]
    spans = [(r, r) for r in range(start, end + 1)]
    offset = 1 if body is None else max(1, body - start)
    return split_rows(source, rows, spans, first, rest, body=offset, known_tokens=known_tokens)


def split_rows(
    source: Source,
    rows: Sequence[str],
    spans: Sequence[tuple[int, int]],
    first: Header,
    rest: Header,
    *,
    body: int = 1,
    known_tokens: int | None = None,
) -> list[Piece]:
    """Cut ``rows`` into windows that fit the budget. ``spans[i]`` is the file rows row ``i`` stands
    for: itself, or for an elision marker the rows it replaces. Windows starting at index ``body`` or
    later are embedded under ``rest`` instead of ``first``."""
    n = len(rows)
    if n == 0:
        return []
    chars = [len(r.strip()) for r in rows]
    total_chars = sum(chars)
    if known_tokens is None:
        known_tokens = source.count("\n".join(rows)) if total_chars else 0
    ratio = known_tokens / total_chars if total_chars else 0.0
    prefix = [0.0]
    for c in chars:
        prefix.append(prefix[-1] + c * ratio)
    base_indent = _base_indent(rows[body:] or rows)
    pieces: list[Piece] = []
    i = 0
    while i < n:
        header = first if i < body else rest
        room = source.budget - header.tokens
        remaining = prefix[n] - prefix[i]
        windows_left = max(1, math.ceil(remaining / (room * FILL)))
        target = min(room * FILL, remaining / windows_left * 1.05)
        j = i + 1
        while j < n and prefix[j + 1] - prefix[i] <= target:
            j += 1
        if j < n:
            j = _best_break(rows, i, j, base_indent, body)
        attempts = 0
        while True:
            content = "\n".join(rows[i:j])
            lo, hi = spans[i][0], max(s[1] for s in spans[i:j])
            tokens = source.count(f"{header.text}\n{content}")
            elided = any(s[0] != s[1] for s in spans[i:j])
            if tokens <= source.budget:
                pieces.append(Piece(lo, hi, content, header, elided))
                break
            if j - i == 1:
                pieces.extend(
                    _split_long_row(source, rows[i], lo, hi, header, tokens - header.tokens, elided)
                )
                break
            keep = int((j - i) * room / max(1, tokens - header.tokens) * FILL)
            attempts += 1
            if attempts > 2:  # the estimate keeps missing (a counter that saturates?): halve instead
                keep = min(keep, (j - i) // 2)
            j = i + max(1, min(keep, j - i - 1))
        i = j
    return pieces


def _base_indent(rows: Sequence[str]) -> int:
    """Indentation of the block's top-level statements."""
    indents = [len(r) - len(r.lstrip()) for r in rows if r.strip()]
    return min(indents) if indents else 0


def _best_break(rows: Sequence[str], i: int, j: int, base_indent: int, body: int) -> int:
    """Where to end the window ``rows[i:j]``: after a blank line, else before a base-level statement
    (never inside the leading rows before ``body``: a signature stays with the code after it)."""
    floor = max(body + 1, i + max(1, int((j - i) * (1 - BREAK_SEARCH))))
    fallback = None
    for b in range(j, floor - 1, -1):
        if not rows[b - 1].strip():
            return b
        row = rows[b] if b < len(rows) else ""
        if fallback is None and row.strip() and len(row) - len(row.lstrip()) <= base_indent:
            fallback = b
    return fallback or j


def _split_long_row(
    source: Source, row: str, lo: int, hi: int, header: Header, row_tokens: int, elided: bool
) -> list[Piece]:
    """Cut one over-long line into pieces that fit, preferring to cut after spaces or punctuation."""
    room = source.budget - header.tokens
    chars_per_token = max(1.0, len(row) / max(1, row_tokens))
    pieces: list[Piece] = []
    pos = 0
    while pos < len(row):
        size = max(1, int(room * chars_per_token * FILL))
        while True:
            end = min(len(row), pos + size)
            if end < len(row):
                end = _soft_cut(row, pos, end)
            piece = row[pos:end]
            tokens = source.count(f"{header.text}\n{piece}")
            if tokens <= source.budget:
                break
            if end - pos == 1:
                raise ValueError(f"{source.path}:{lo + 1}: one character exceeds the token budget")
            size = max(1, min(end - pos - 1, int((end - pos) * room / max(1, tokens - header.tokens) * FILL)))
        pieces.append(Piece(lo, hi, piece, header, elided))
        pos = end
    return pieces


def _soft_cut(row: str, pos: int, end: int) -> int:
    """Move ``end`` back to just after a space or punctuation mark in the piece's last quarter."""
    floor = pos + max(1, (end - pos) * 3 // 4)
    for k in range(end, floor, -1):
        if _SOFT_BREAK.match(row[k - 1]):
            return k
    return end


def chunk_lines(source: Source) -> list[Chunk]:
    """The whole file as line windows: for text, unknown languages and files that fail to parse."""
    if not source.lines:
        return []
    header = source.header()
    return [
        source.make(p.start, p.end, symbol="", kind="lines", content=p.content, header=p.header)
        for p in block_pieces(source, 0, len(source.lines) - 1, header)
    ]
