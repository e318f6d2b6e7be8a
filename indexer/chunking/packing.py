"""The rule for merging small neighbouring pieces (functions, sections, module code) into one chunk.

A lone class header or a two-line import block as its own chunk crowds real code out of the top k,
so adjacent siblings that each fit are packed greedily, left to right:

* a sibling joins the chunk being built when the estimated total stays within ``merge_cap`` (60 % of
  the room) and at least one side, the chunk so far or the newcomer, is *small* (under 20 % of the
  budget). Runs of short functions, or an import block plus the short function after it, become one
  chunk; two medium functions stay apart. MiniLM was trained on 128 word pieces, so merged chunks are
  kept near that size rather than filled to the window, which would drown each function's signal;
* a *tiny* side (under 10 % of the budget: a getter, a lone import) may join up to the full room;
* a sibling that does not fit the window on its own (size ``None``) is never merged; its caller
  collapses or splits it.
"""

from __future__ import annotations

from collections.abc import Sequence

MERGE_FILL = 0.6
SMALL_SHARE = 0.2
TINY_SHARE = 0.1


def pack(sizes: Sequence[int | None], room: int, budget: int) -> list[list[int]]:
    """Group consecutive indices of ``sizes`` (token estimates; None = too big) by the rule above."""
    merge_cap = room * MERGE_FILL
    small = budget * SMALL_SHARE
    tiny = budget * TINY_SHARE
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i, size in enumerate(sizes):
        if size is None:
            if current:
                groups.append(current)
            groups.append([i])
            current, total = [], 0
            continue
        joined = total + size
        if current and (
            (joined <= merge_cap and min(total, size) < small) or (joined <= room and min(total, size) < tiny)
        ):
            current.append(i)
            total = joined
        else:
            if current:
                groups.append(current)
            current, total = [i], size
    if current:
        groups.append(current)
    return groups
