"""Chunk source code along its syntax tree (tree-sitter grammars from tree-sitter-language-pack).

The file is cut into *units*: top-level definitions (with the comments and attributes right above
them) and the module code between them. A unit that fits the budget is one chunk, small neighbours
are merged (see :mod:`.packing`), and module code too long for one chunk becomes line windows.
A definition too long for the budget yields a **collapsed** chunk (its own lines with each nested
definition reduced to its signature: ``def send(self, request): ...``, ``void f() { ... }``) and its
nested definitions are chunked the same way, recursively; a long definition without nested ones is
cut into line windows. Every chunk's embed text carries the signatures of its enclosing definitions,
so a method knows its class. Tree reading (what is a definition, its name, its signature rows) lives
in :mod:`.tree`.

Every row of the file lies in some chunk's line range; the only content not copied verbatim into a
chunk is what a collapsed chunk elides, and that lies in its nested definitions' chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..languages import LanguageSpec, Node
from ..types import SYMBOL_SEPARATOR, Chunk
from .lines import row_windows, split_rows
from .packing import pack
from .source import Header, Source
from .tree import Def, find_defs, leading_start, parse, signature_rows

_CLOSER = re.compile(r"^[)\]}>;,]*\s*(end|fi|done|esac)?\s*[)\]}>;,]*$")


@dataclass
class _Unit:
    """Rows ``start..end`` holding one definition, several on shared rows, or none (module code)."""

    start: int
    end: int
    defs: list[Def] = field(default_factory=list)
    #: For one definition over the budget: its nested definitions, and its rows with theirs elided.
    children: list[_Unit] = field(default_factory=list)
    outline: list[tuple[str, tuple[int, int]]] | None = None
    #: Tokens of the unit's rows when they were counted (and found over the budget).
    tokens: int | None = None

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.defs]


@dataclass(frozen=True, slots=True)
class Definition:
    """A definition as the chunker sees it: symbol path, kind, and 1-based lines (leading comments,
    decorators and attributes included)."""

    symbol: str
    kind: str
    start_line: int
    end_line: int


def definitions(source: Source, spec: LanguageSpec) -> list[Definition]:
    """Every definition in ``source``, nested ones included, in document order."""
    out: list[Definition] = []

    def walk(container: Node, kind: str | None, path: list[str], lo: int, hi: int) -> None:
        for unit in _units(find_defs(container, spec, kind), spec, lo, hi):
            for d in unit.defs:
                out.append(Definition(SYMBOL_SEPARATOR.join([*path, d.name]), d.kind, unit.start + 1, unit.end + 1))
                walk(d.node, d.kind, [*path, d.name], unit.start, unit.end)

    if source.lines:
        walk(parse(spec, "\n".join(source.lines)), None, [], 0, len(source.lines) - 1)
    return out


def chunk_syntax(source: Source, spec: LanguageSpec) -> list[Chunk]:
    """Chunks of ``source`` following its syntax tree; raises :class:`ParseError` if it cannot parse."""
    root = parse(spec, "\n".join(source.lines))
    return _Chunker(source, spec).run(root)


class _Chunker:
    def __init__(self, source: Source, spec: LanguageSpec):
        self.src = source
        self.spec = spec
        self.out: list[Chunk] = []

    def run(self, root: Node) -> list[Chunk]:
        n = len(self.src.lines)
        if n == 0:
            return []
        units = _units(find_defs(root, self.spec), self.spec, 0, n - 1)
        self._level(self._with_module_code(units, n), ancestors=[])
        return self.out

    def _with_module_code(self, units: list[_Unit], n: int) -> list[_Unit]:
        """Fill the rows between definitions with module-code units; blank-only gaps join a neighbour."""
        out: list[_Unit] = []
        row = 0
        for unit in [*units, _Unit(n, n - 1)]:
            if unit.start > row:
                if any(self.src.lines[r].strip() for r in range(row, unit.start)):
                    out.append(_Unit(row, unit.start - 1))
                elif out:
                    out[-1].end = unit.start - 1
                elif unit.start < n:
                    unit.start = row
            if unit.start < n:
                out.append(unit)
                row = unit.end + 1
        if out and out[-1].end < n - 1:
            out[-1].end = n - 1
        return out

    # -- chunks ---------------------------------------------------------------------------------

    def _level(self, units: list[_Unit], ancestors: list[Def]) -> None:
        """Chunk sibling units: merge the small ones, collapse or split the big ones.

        A definition over the budget that has nested definitions is represented here by its collapsed
        outline, so a small outline (a namespace around one class) merges with its neighbours too.
        """
        signatures = self._signatures(ancestors)
        base = self.src.header(_symbol(ancestors, []), signatures)
        sizes: list[int | None] = []
        for unit in units:
            header = self.src.header(_symbol(ancestors, unit.names), signatures)
            size = self._size(header, self.src.text(unit.start, unit.end), unit)
            if size is None and len(unit.defs) == 1:
                d = unit.defs[0]
                unit.children = _units(find_defs(d.node, self.spec, d.kind), self.spec, unit.start, unit.end)
                outline = self._outline(unit) if unit.children else []
                if any(lo != hi for _, (lo, hi) in outline):
                    unit.outline = outline
                    size = self._size(header, "\n".join(row for row, _ in outline))
                else:
                    unit.children = []  # nothing to elide (one-line children): plain windows instead
            sizes.append(size)
        for group in pack(sizes, self.src.budget - base.tokens, self.src.budget):
            if len(group) == 1 and sizes[group[0]] is None:
                self._big(units[group[0]], ancestors, signatures)
            else:
                self._group([units[i] for i in group], ancestors, signatures, verified=len(group) == 1)

    def _size(self, header: Header, content: str, unit: _Unit | None = None) -> int | None:
        """Tokens of ``content`` under ``header`` if the two fit the budget, else None (noting the
        count on ``unit`` so its line windows need not count it again)."""
        if self.src.cannot_fit(content):
            return None
        tokens = self.src.count(f"{header.text}\n{content}") - header.tokens
        if unit is not None:
            unit.tokens = tokens
        return tokens if tokens + header.tokens <= self.src.budget else None

    def _group(self, units: list[_Unit], ancestors: list[Def], signatures: list[str], verified: bool) -> None:
        """Siblings as one chunk (re-counted unless ``verified``), halved again if they do not fit."""
        names = [name for u in units for name in u.names]
        symbol = _symbol(ancestors, names)
        header = self.src.header(symbol, signatures)
        parts: list[str] = []
        for prev, unit in zip([None, *units], units, strict=False):
            if prev is not None and unit.start > prev.end + 1:
                parts.append(self.src.text(prev.end + 1, unit.start - 1))
            parts.append(
                "\n".join(row for row, _ in unit.outline)
                if unit.outline
                else self.src.text(unit.start, unit.end)
            )
        content = "\n".join(parts)
        if not verified and self.src.count(f"{header.text}\n{content}") > self.src.budget:
            half = len(units) // 2
            for part in (units[:half], units[half:]):
                if len(part) == 1:
                    self._level(part, ancestors)
                else:
                    self._group(part, ancestors, signatures, verified=False)
            return
        kinds = {d.kind for u in units for d in u.defs}
        if any(u.outline for u in units):
            kind = "collapsed"
        else:
            kind = kinds.pop() if len(kinds) == 1 else ("module" if not kinds else "group")
        self.out.append(
            self.src.make(
                units[0].start, units[-1].end, symbol=symbol, kind=kind, content=content, header=header
            )
        )
        for unit in units:
            if unit.outline:
                self._level(unit.children, [*ancestors, unit.defs[0]])

    def _big(self, unit: _Unit, ancestors: list[Def], signatures: list[str]) -> None:
        """A unit over the budget: its outline in windows plus its children, else line windows."""
        symbol = _symbol(ancestors, unit.names)
        first = rest = self.src.header(symbol, signatures)
        kind = unit.defs[0].kind if unit.defs else "module"
        body = unit.start + 1
        if len(unit.defs) == 1:
            d = unit.defs[0]
            rest = self.src.header(symbol, signatures + self._signatures([d]))
            body = signature_rows(d, self.src.lines)[1] + 1
        if unit.outline:
            rows = [row for row, _ in unit.outline]
            spans = [span for _, span in unit.outline]
            offset = next((i for i, s in enumerate(spans) if s[0] >= body), len(rows))
            pieces = split_rows(self.src, rows, spans, first, rest, body=max(1, offset))
            for p in pieces:
                self.out.append(
                    self.src.make(
                        p.start,
                        p.end,
                        symbol=symbol,
                        kind="collapsed" if p.elided else kind,
                        content=p.content,
                        header=p.header,
                    )
                )
            self._level(unit.children, [*ancestors, unit.defs[0]])
            return
        for p in row_windows(
            self.src, unit.start, unit.end, first, rest, body=body, known_tokens=unit.tokens
        ):
            self.out.append(
                self.src.make(p.start, p.end, symbol=symbol, kind=kind, content=p.content, header=p.header)
            )

    def _outline(self, unit: _Unit) -> list[tuple[str, tuple[int, int]]]:
        """The unit's rows with each child's body elided, each row paired with the file rows it stands
        for."""
        out: list[tuple[str, tuple[int, int]]] = []
        row = unit.start
        for child in unit.children:
            out.extend((self.src.lines[r], (r, r)) for r in range(row, child.start))
            out.extend(self._placeholder(child))
            row = child.end + 1
        out.extend((self.src.lines[r], (r, r)) for r in range(row, unit.end + 1))
        return out

    def _placeholder(self, child: _Unit) -> list[tuple[str, tuple[int, int]]]:
        """A child as its signature rows with the body elided: ``def send(self): ...``,
        ``void f() { ... }``, ``def add ... end``; each row paired with the file rows it stands for."""
        lines = self.src.lines
        if len(child.defs) != 1:
            first_row, last_sig = child.start, child.start
        else:
            first_row, last_sig = signature_rows(child.defs[0], self.src.lines)
        last_sig = min(last_sig, child.end)
        closer = child.end if child.end > last_sig and _CLOSER.match(lines[child.end].strip()) else None
        elided_end = child.end - 1 if closer is not None else child.end
        if elided_end <= last_sig:  # no body to elide: keep the rows
            out = [(lines[r], (r, r)) for r in range(first_row, child.end + 1)]
        else:
            out = [(lines[r], (r, r)) for r in range(first_row, last_sig)]
            tail = f" ... {lines[closer].strip()}" if closer is not None else " ..."
            out.append((lines[last_sig].rstrip() + tail, (last_sig, child.end)))
        if child.start < first_row:  # leading comments are elided: they stay with the child's chunk
            out[0] = (out[0][0], (child.start, out[0][1][1]))
        return out

    def _signatures(self, defs: list[Def]) -> list[str]:
        rows: list[str] = []
        for d in defs:
            first, last = signature_rows(d, self.src.lines)
            rows.extend(line.rstrip() for line in self.src.lines[first : last + 1])
        return rows


def _units(defs: list[Def], spec: LanguageSpec, lo: int, hi: int) -> list[_Unit]:
    """One unit per definition (leading comments included, clipped to rows ``lo..hi``), merging
    definitions that share rows."""
    units: list[_Unit] = []
    for d in defs:
        start = max(lo, leading_start(d.outer, spec))
        end = min(hi, d.outer.end_point.row)
        if units and start <= units[-1].end:
            units[-1].end = max(units[-1].end, end)
            units[-1].defs.append(d)
        else:
            units.append(_Unit(start, end, [d]))
    return units


def _symbol(ancestors: list[Def], names: list[str]) -> str:
    """``Session > send``; siblings merged into one chunk read ``Session > get, post``."""
    return SYMBOL_SEPARATOR.join([d.name for d in ancestors] + ([", ".join(names)] if names else []))
