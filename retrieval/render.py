"""The one rendering of retrieved code: ``path:start-end`` citations and fences that cannot be closed early.

Used for the context budget (retrieval/context.py), the chat prompt, ``/retrieve``, MCP and the CLI, so
what the budget was counted on is exactly what is sent. Works on anything with ``path``,
``start_line``, ``end_line``, ``text``, ``symbol`` and ``language`` (a :class:`ContextPiece`).
A leaf of retrieval: it imports nothing of ours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


def citation(path: str, start_line: int, end_line: int) -> str:
    """``path:start-end``, lines 1-based and inclusive: how every answer cites code."""
    return f"{path}:{start_line}-{end_line}"


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text`` (so it cannot be closed early)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def fenced(text: str, info: str = "") -> str:
    """``text`` in a code fence with ``info`` (a language or a path) after the opening backticks."""
    fence = fence_for(text)
    return f"{fence}{info}\n{text}\n{fence}"


def render_piece(number: int, piece: Any) -> str:
    """``[n] path:start-end (symbol)`` over the fenced text."""
    label = f"[{number}] {piece.citation}" + (f" ({piece.symbol})" if piece.symbol else "")
    return f"{label}\n{fenced(piece.text, piece.language)}"


def render_pieces(pieces: Sequence[Any]) -> str:
    """Numbered, fenced snippets, each headed by its citation, separated by blank lines."""
    return "\n\n".join(render_piece(n, p) for n, p in enumerate(pieces, start=1))
