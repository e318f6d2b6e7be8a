"""Rebuild a file's lines from its stored chunks, so context never has to read the file from disk.

Ordinary chunks hold their lines verbatim. A ``collapsed`` chunk (a class too long for one chunk)
holds a skeleton: its own lines verbatim (class header, blank lines between methods) with each
nested definition replaced by its signature and a ``...`` marker. Aligning the skeleton with the
nested chunks recovers the lines only the skeleton holds; an alignment that does not check out
exactly is dropped, and those lines stay unknown. Text is only ever returned for fully known ranges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..indexer.types import SYMBOL_SEPARATOR

COLLAPSED = "collapsed"  # the chunker's kind for a node whose children's bodies were elided
ELISION = "..."


@dataclass(frozen=True, slots=True)
class _Row:
    start: int
    end: int
    kind: str
    content: str


class FileLines:
    """A file's lines as far as its stored chunks tell them, and its symbols' line ranges."""

    def __init__(self, rows: Sequence[Mapping]):
        self.symbols: dict[str, tuple[int, int]] = {}
        self.n_lines = 0
        parsed: list[_Row] = []
        for row in rows:
            start, end = int(row["start_line"]), int(row["end_line"])
            self.n_lines = max(self.n_lines, end)
            symbol = row.get("symbol") or ""
            if symbol:
                lo, hi = self.symbols.get(symbol, (start, end))
                self.symbols[symbol] = (min(lo, start), max(hi, end))
            parsed.append(_Row(start, end, row.get("kind") or "", row.get("content") or ""))
        self.lines = _verbatim_lines(r for r in parsed if r.kind != COLLAPSED)
        collapsed = sorted((r for r in parsed if r.kind == COLLAPSED), key=lambda r: r.end - r.start)
        for row in collapsed:  # innermost first: an outer skeleton is matched against inner results
            self.lines.update(_align_skeleton(row, parsed, self.lines))

    def text(self, start: int, end: int) -> str | None:
        """Lines ``start..end`` exactly as in the file, or None when the chunks do not cover them all."""
        if start < 1 or end < start:
            return None
        out = []
        for ln in range(start, end + 1):
            line = self.lines.get(ln)
            if line is None:
                return None
            out.append(line)
        return "\n".join(out)

    def symbol_range(self, symbol: str) -> tuple[int, int] | None:
        """Lines spanned by ``symbol`` and everything nested in it (``A`` covers ``A > b``)."""
        spans = [r for s, r in self.symbols.items() if s == symbol or s.startswith(symbol + SYMBOL_SEPARATOR)]
        if not spans:
            return None
        return min(s for s, _ in spans), max(e for _, e in spans)


def _verbatim_lines(rows) -> dict[int, str]:
    lines: dict[int, str] = {}
    conflicts: set[int] = set()
    for row in rows:
        parts = row.content.split("\n")
        if len(parts) != row.end - row.start + 1:
            continue
        for offset, text in enumerate(parts):
            ln = row.start + offset
            if lines.setdefault(ln, text) != text:
                conflicts.add(ln)  # e.g. the pieces of one over-long line: not a whole line
    for ln in conflicts:
        del lines[ln]
    return lines


def _align_skeleton(row: _Row, rows: Sequence[_Row], known: Mapping[int, str]) -> dict[int, str]:
    """Lines of ``row``'s range that only its skeleton holds; empty if the alignment does not check out."""
    skeleton = row.content.split("\n")
    children = _top_level_children(row, rows)
    found: dict[int, str] = {}
    pos, ln = 0, row.start
    while ln <= row.end and pos < len(skeleton):
        child = children.get(ln)
        if child is None:  # a line of the collapsed node itself: verbatim in the skeleton
            line = skeleton[pos]
            if known.get(ln, line) != line:
                return {}
            found[ln] = line
            pos, ln = pos + 1, ln + 1
            continue
        used = _match_child(skeleton, pos, [known.get(n) for n in range(child.start, child.end + 1)])
        if used is None:
            return {}
        pos, ln = pos + used, child.end + 1
    if pos < len(skeleton):
        return {}
    for rest in range(ln, row.end + 1):  # the skeleton ends early only by dropping trailing blank lines
        if known.get(rest, "").strip():
            return {}
        found[rest] = ""
    return found


def _top_level_children(row: _Row, rows: Sequence[_Row]) -> dict[int, _Row]:
    """Chunks nested in ``row`` and not inside another nested chunk, by first line."""
    nested = sorted(
        (r for r in rows if r is not row and row.start <= r.start and r.end <= row.end
         and (r.end - r.start) < (row.end - row.start)),
        key=lambda r: (r.start, -r.end),
    )
    out: dict[int, _Row] = {}
    last_end = row.start - 1
    for r in nested:
        if r.start > last_end:
            out[r.start] = r
            last_end = r.end
    return out


def _match_child(skeleton: list[str], pos: int, child: list[str | None]) -> int | None:
    """Skeleton lines standing for a nested chunk: its signature lines verbatim, then ``sig ...``.

    Leading comment lines of the child may be elided from the skeleton. Returns how many skeleton
    lines were used, or None when they do not match the child's lines.
    """
    if any(line is None for line in child):
        return None
    lines: list[str] = child  # type: ignore[assignment]
    first = next((j for j, line in enumerate(lines) if _same_or_marker(skeleton[pos], line)), None)
    if first is None:
        return None
    used, j = 0, first
    while pos + used < len(skeleton) and j < len(lines):
        current = skeleton[pos + used]
        if current == lines[j]:
            used, j = used + 1, j + 1
        elif _is_marker(current, lines[j]):
            return used + 1
        else:
            return None
    return used if j == len(lines) else None  # nothing was elided: the child appears verbatim


def _same_or_marker(skeleton_line: str, line: str) -> bool:
    return skeleton_line == line or _is_marker(skeleton_line, line)


def _is_marker(skeleton_line: str, line: str) -> bool:
    head = line.rstrip()
    return bool(head) and skeleton_line.startswith(head) and ELISION in skeleton_line[len(head):]
