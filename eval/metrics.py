"""Retrieval metrics as pure functions of a ranked hit list and the gold: no I/O, no state.

Chunk level: a hit is relevant when it is in a gold file and its lines overlap a gold range. A
signature-only chunk (kind ``collapsed``: a long class or function with its bodies elided) spans
every method of its class without showing their code, so it is relevant only to a gold range that
encloses its first line (the class or function it summarises), not to each method inside it.
File level: the ranking is the distinct files of the hits, in the order they first appear.
A gold item counts once: a second chunk of an already-found function adds nothing (binary gain, as
in CodeSearchNet / BEIR), so splitting a function into many chunks cannot inflate the scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Protocol

K_VALUES = (1, 5, 10)
TINY_LINES = 5
COLLAPSED = "collapsed"


class Span(Protocol):
    path: str
    start_line: int
    end_line: int


class GoldLike(Protocol):
    path: str
    start_line: int | None
    end_line: int | None


def overlaps(hit: Span, gold: GoldLike) -> bool:
    """Same file and (for a ranged gold) at least one shared line; ranges are 1-based inclusive."""
    if hit.path != gold.path:
        return False
    if gold.start_line is None or gold.end_line is None:
        return True
    if getattr(hit, "kind", "") == COLLAPSED:
        return gold.start_line <= hit.start_line <= gold.end_line
    return hit.start_line <= gold.end_line and gold.start_line <= hit.end_line


def gains(hits: Sequence[Span], gold: Sequence[GoldLike]) -> list[int]:
    """1 at each rank whose hit finds a gold item not found by an earlier hit, else 0."""
    found: set[int] = set()
    out: list[int] = []
    for hit in hits:
        new = {i for i, g in enumerate(gold) if i not in found and overlaps(hit, g)}
        out.append(1 if new else 0)
        found |= new
    return out


def found_within(hits: Sequence[Span], gold: Sequence[GoldLike], k: int) -> int:
    """How many distinct gold items the top ``k`` hits find."""
    return sum(1 for g in gold if any(overlaps(h, g) for h in hits[:k]))


def recall_at(hits: Sequence[Span], gold: Sequence[GoldLike], k: int) -> float:
    return found_within(hits, gold, k) / len(gold) if gold else 0.0


def mrr_at(hits: Sequence[Span], gold: Sequence[GoldLike], k: int = 10) -> float:
    """Reciprocal rank of the first relevant hit within the top ``k`` (0 when there is none)."""
    for rank, gain in enumerate(gains(hits[:k], gold), 1):
        if gain:
            return 1.0 / rank
    return 0.0


def ndcg_at(hits: Sequence[Span], gold: Sequence[GoldLike], k: int = 10) -> float:
    """Binary-gain nDCG: the ideal ranking puts one new gold item at each of the first ranks."""
    if not gold:
        return 0.0
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(gains(hits[:k], gold), 1))
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal


class _FileHit:
    __slots__ = ("path", "start_line", "end_line")

    def __init__(self, path: str):
        self.path, self.start_line, self.end_line = path, 1, 1


class _FileGold:
    __slots__ = ("path", "start_line", "end_line")

    def __init__(self, path: str):
        self.path, self.start_line, self.end_line = path, None, None


def file_ranking(hits: Iterable[Span]) -> list[_FileHit]:
    """Distinct files in order of first appearance: the answer to "which files?"."""
    seen: dict[str, None] = {}
    for h in hits:
        seen.setdefault(h.path, None)
    return [_FileHit(p) for p in seen]


def file_gold(gold: Iterable[GoldLike]) -> list[_FileGold]:
    return [_FileGold(p) for p in dict.fromkeys(g.path for g in gold)]


def task_metrics(hits: Sequence[Span], gold: Sequence[GoldLike], *, k: int = 10) -> dict[str, float]:
    """Recall@1/5/10, MRR@k and nDCG@k for one ranked list."""
    out = {f"recall@{n}": recall_at(hits, gold, n) for n in K_VALUES}
    out[f"mrr@{k}"] = mrr_at(hits, gold, k)
    out[f"ndcg@{k}"] = ndcg_at(hits, gold, k)
    return out


def tiny_share(hits: Sequence[Span], *, k: int = 10, min_lines: int = TINY_LINES) -> float:
    """Share of the top ``k`` hits shorter than ``min_lines`` lines (import/header crumbs)."""
    top = hits[:k]
    if not top:
        return 0.0
    return sum(1 for h in top if h.end_line - h.start_line + 1 < min_lines) / len(top)


def first_relevant_rank(hits: Sequence[Span], gold: Sequence[GoldLike]) -> int | None:
    """1-based rank of the first relevant hit, or ``None``: handy for failure analysis."""
    for rank, h in enumerate(hits, 1):
        if any(overlaps(h, g) for g in gold):
            return rank
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100), like numpy's default; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0
