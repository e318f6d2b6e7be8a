"""Chunk Markdown and reStructuredText by headings.

A section that fits the budget (subsections included) is one chunk whose symbol is its heading path
(``Install > From source``). A larger one becomes its own text before the first subsection plus its
subsections, recursively; small neighbours merge by the rule in :mod:`.packing`, and text too long
for one chunk falls back to line windows. Headings inside fenced code or YAML front matter are not
headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..types import SYMBOL_SEPARATOR, Chunk
from .lines import block_pieces
from .packing import pack
from .source import Source

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`*+#:.<>_!$%&(),/;?@\[\\\]{|}])\1+\s*$")


@dataclass
class _Section:
    title: str
    level: int
    start: int
    end: int = -1
    children: list[_Section] = field(default_factory=list)

    @property
    def own_end(self) -> int:
        """Last row before the first subsection."""
        return self.children[0].start - 1 if self.children else self.end


def markdown_headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(row, level, title) of each ATX or setext heading, skipping code fences and front matter."""
    out: list[tuple[int, int, str]] = []
    fence: str | None = None
    row = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        row = end + 1 if end is not None else 0
    for i in range(row, len(lines)):
        line = lines[i]
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            out.append((i, len(atx.group(1)), (atx.group(2) or "").strip()))
            continue
        setext = _SETEXT.match(line)
        prev = lines[i - 1] if i > row else ""
        if (
            setext
            and prev.strip()
            and not (out and out[-1][0] == i - 1)
            and not _FENCE.match(prev)
            and not prev.lstrip().startswith(("-", "*", "+", ">", "|"))  # a list item or quote, not a title
        ):
            out.append((i - 1, 1 if setext.group(1)[0] == "=" else 2, prev.strip()))
    return out


def rst_headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(row, level, title) of reStructuredText titles; levels follow the order adornments appear."""
    styles: list[tuple[str, bool]] = []
    out: list[tuple[int, int, str]] = []
    for i in range(len(lines) - 1):
        title, under = lines[i], lines[i + 1]
        adorn = _RST_ADORNMENT.match(under)
        if not adorn or not title.strip() or title[0].isspace() or _RST_ADORNMENT.match(title):
            continue
        if len(under.rstrip()) < min(len(title.rstrip()), 3) or (out and out[-1][0] >= i - 1):
            continue
        over = i > 0 and lines[i - 1].rstrip() == under.rstrip()
        style = (adorn.group(1), over)
        if style not in styles:
            styles.append(style)
        out.append((i - 1 if over else i, styles.index(style) + 1, title.strip()))
    return out


def _tree(headings: list[tuple[int, int, str]], n: int) -> _Section:
    root = _Section("", 0, 0, n - 1)
    stack = [root]
    for row, level, title in headings:
        while stack[-1].level >= level:
            stack.pop().end = row - 1
        section = _Section(title, level, row)
        stack[-1].children.append(section)
        stack.append(section)
    for section in stack[1:]:
        section.end = n - 1
    return root


def chunk_markdown(source: Source) -> list[Chunk]:
    """Chunks of a Markdown (or, for language "rst", reStructuredText) file by heading."""
    n = len(source.lines)
    if n == 0:
        return []
    find = rst_headings if source.language == "rst" else markdown_headings
    out: list[Chunk] = []
    _section(source, _tree(find(source.lines), n), [], out)
    return out


def _section(source: Source, sec: _Section, path: list[str], out: list[Chunk]) -> None:
    symbol = SYMBOL_SEPARATOR.join(path)
    header = source.header(symbol)
    # (start, end, title or None for the section's own text, subsection)
    parts: list[tuple[int, int, str | None, _Section | None]] = []
    if sec.own_end >= sec.start:
        parts.append((sec.start, sec.own_end, None, None))
    parts.extend((c.start, c.end, c.title, c) for c in sec.children)
    sizes: list[int | None] = []
    for start, end, title, _ in parts:
        head = source.header(SYMBOL_SEPARATOR.join(path + [title]) if title is not None else symbol)
        content = source.text(start, end)
        tokens = None if source.cannot_fit(content) else source.count(f"{head.text}\n{content}")
        sizes.append(tokens - head.tokens if tokens is not None and tokens <= source.budget else None)
    for group in pack(sizes, source.budget - header.tokens, source.budget):
        titles = [parts[i][2] for i in group if parts[i][2] is not None]
        first = parts[group[0]]
        if len(group) == 1 and sizes[group[0]] is None and first[3] is not None:
            _section(source, first[3], path + [first[2]], out)
            continue
        group_symbol = SYMBOL_SEPARATOR.join(path + ([", ".join(titles)] if titles else []))
        head = source.header(group_symbol)
        for p in block_pieces(source, first[0], parts[group[-1]][1], head):
            out.append(
                source.make(
                    p.start, p.end, symbol=group_symbol, kind="section", content=p.content, header=p.header
                )
            )
