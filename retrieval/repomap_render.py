"""A repo map as text: each file's path, then its key signatures (with their line numbers), within a budget.

Files come best first and are added while they fit; a file that does not fit whole is shown with as
many of its most important signatures as fit, and the map ends there. Signatures are listed in line
order, indented by nesting, so a class's methods read under it. Lines give the model something to
cite (``path:line``) and the user somewhere to jump.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..indexer.symbols.types import Definition
from ..indexer.types import TokenCounter

MAX_SIGNATURE_CHARS = 200  # a signature is a line, not a paragraph (default arguments can be long)


@dataclass(frozen=True)
class MapFile:
    """One file of a map: its rank and the definitions shown (most important first)."""

    path: str
    rank: float
    definitions: tuple[Definition, ...]

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "rank": round(self.rank, 6),
            "definitions": [{"name": d.name, "qualified": d.qualified, "kind": d.kind,
                             "line_start": d.line_start, "line_end": d.line_end,
                             "signature": d.signature} for d in in_line_order(self.definitions)],
        }


def in_line_order(definitions: Sequence[Definition]) -> list[Definition]:
    return sorted(definitions, key=lambda d: (d.line_start, d.line_end))


def signature_line(d: Definition) -> str:
    depth = d.parent.count(".") + 1 if d.parent else 0
    text = " ".join((d.signature or f"{d.kind} {d.qualified}").split())
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return f"  {d.line_start}: {'  ' * depth}{text}"


def file_block(path: str, definitions: Sequence[Definition]) -> str:
    return "\n".join([path, *(signature_line(d) for d in in_line_order(definitions))])


def render_map(files: Sequence[MapFile], budget_tokens: int,
               count_tokens: TokenCounter) -> tuple[str, list[MapFile]]:
    """The map text within ``budget_tokens`` and the files (with the definitions) it shows."""
    shown: list[MapFile] = []
    blocks: list[str] = []
    used = 0
    for f in files:
        block = file_block(f.path, f.definitions)
        cost = count_tokens(block + "\n")
        if used + cost <= budget_tokens:
            shown.append(f)
            blocks.append(block)
            used += cost
            continue
        partial = _most_that_fit(f, budget_tokens - used, count_tokens)
        if partial is not None:
            shown.append(partial)
            blocks.append(file_block(partial.path, partial.definitions))
        break
    # Costs were counted per block; a tokenizer may count the joined text slightly differently.
    while blocks and count_tokens("\n".join(blocks)) > budget_tokens:
        blocks.pop()
        shown.pop()
    return "\n".join(blocks), shown


def _most_that_fit(f: MapFile, room: int, count_tokens: TokenCounter) -> MapFile | None:
    """``f`` with its most important definitions that fit in ``room`` tokens (at least one), or None."""
    lo, hi, best = 1, len(f.definitions) - 1, None
    while lo <= hi:  # binary search on how many definitions are shown
        mid = (lo + hi) // 2
        if count_tokens(file_block(f.path, f.definitions[:mid]) + "\n") <= room:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return MapFile(f.path, f.rank, f.definitions[:best]) if best else None
