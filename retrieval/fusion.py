"""Pure functions that combine and tidy ranked lists of hits. No I/O, no models: easy to reason about.

Reciprocal-rank fusion uses ranks only, so BM25 scores (unbounded) and cosine similarities (-1..1)
never need calibrating against each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .hits import Hit, hit_key
from .settings import RRF_K

# Two chunks of one file are "the same place" when at least this share of the smaller one overlaps
# the other: a method inside its collapsed class, or two splits of one long line. Line-window chunks
# that share a few context lines stay separate.
OVERLAP_SHARE = 0.5


def rrf(
    rankings: Sequence[Sequence[Hit]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[Hit]:
    """Reciprocal-rank fusion: each list adds ``weight / (k + rank)`` (rank from 1) to a hit's score.

    Hits are identified by chunk id; the first list that holds a hit supplies its fields. Ties keep
    the order of first appearance (list order, then rank), so the result is deterministic.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    if k < 0:
        raise ValueError("k must be >= 0")
    return _summed(rankings, weights, lambda weight, rank, hit: weight / (k + rank))


def _summed(rankings: Sequence[Sequence[Hit]], weights: Sequence[float],
            share: Callable[[float, int, Hit], float]) -> list[Hit]:
    """Each list adds ``share(weight, rank, hit)`` to a hit's score (rank from 1), best first.

    A list naming a chunk twice counts it once, at its best rank; the first list that holds a hit
    supplies its fields; sorted() is stable, so ties keep the order of first appearance.
    """
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[str] = set()
        for rank, hit in enumerate(ranking, start=1):
            key = hit_key(hit)
            if key in seen:
                continue
            seen.add(key)
            first.setdefault(key, hit)
            scores[key] = scores.get(key, 0.0) + share(weight, rank, hit)
    order = sorted(first, key=lambda key: -scores[key])
    return [replace(first[key], score=scores[key]) for key in order]


def normalized(hits: Sequence[Hit], method: str) -> list[Hit]:
    """``hits`` with scores mapped onto a common scale, so scores of different sources can be added.

    ``minmax``: (s - min) / (max - min) over the list, so the list's best is 1 and its last 0;
    ``zscore``: (s - mean) / std over the list, shifted so that mean - 3 std is 0 (distribution-based
    score fusion). BM25 scores are unbounded and cosine similarities are not, hence a per-list scale.
    """
    if not hits:
        return []
    scores = [hit.score for hit in hits]
    if method == "minmax":
        low, span = min(scores), max(scores) - min(scores)
        return [replace(hit, score=(hit.score - low) / span if span > 0 else 1.0) for hit in hits]
    if method == "zscore":
        mean = sum(scores) / len(scores)
        std = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
        if std == 0:
            return [replace(hit, score=1.0) for hit in hits]
        return [replace(hit, score=(hit.score - mean) / std + 3.0) for hit in hits]
    raise ValueError(f"unknown score normalisation {method!r}")


def score_fusion(rankings: Sequence[Sequence[Hit]], weights: Sequence[float]) -> list[Hit]:
    """Weighted sum of each source's (already normalised) score; a source that misses a hit adds 0.

    Unlike :func:`rrf` the size of a lead counts: a chunk far ahead in BM25 and absent from the
    dense list is not overtaken by chunks both sources rank in the middle.
    """
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    return _summed(rankings, weights, lambda weight, rank, hit: weight * hit.score)


def keep_sources_best(fused: Sequence[Hit], rankings: Sequence[Sequence[Hit]], *, best: int, k: int) -> list[Hit]:
    """``fused`` with each source's ``best`` first hits moved into its top ``k``, in place of its last ones.

    Rank fusion can bury a chunk one source is sure of: a lexical rank 1 that the dense list does not
    hold scores below any chunk both lists rank in the middle. A hit already in the top ``k``, or
    absent from ``fused`` (dropped as overlapping a better one), is left where it is. The moved hits
    go last in the top ``k``, in source order then rank, so the fused order above them stands.
    """
    if best <= 0:
        return list(fused)
    keys = [hit_key(hit) for hit in fused]
    position = {key: i for i, key in enumerate(keys)}
    moved: list[str] = []
    for ranking in rankings:
        for hit in ranking[:best]:
            key = hit_key(hit)
            if position.get(key, -1) >= k and key not in moved:
                moved.append(key)
    if not moved:
        return list(fused)
    head = list(range(min(len(fused), max(0, k - len(moved)))))  # the fused top k, less the places needed
    order = head + [position[key] for key in moved]
    chosen = set(order)
    order += [i for i in range(len(fused)) if i not in chosen]
    return [fused[i] for i in order]


def with_unembedded(dense: Sequence[Hit], lexical: Sequence[Hit]) -> list[Hit]:
    """``dense`` with each lexical hit that has no vector yet put at its lexical rank.

    While an index is still embedding (search first, embed after), dense search cannot see the rows
    without a vector: in the fusion they would collect one source's score while embedded rows collect
    two, and a chunk that is lexical rank 1 could fall below the top 10 behind any chunk that merely
    appears in both lists. Ranking the missing rows in the dense list as the lexical list does fuses
    them as if both sources agreed, which is all that is known about them. Fully embedded: unchanged."""
    ranked = list(dense)
    for rank, hit in enumerate(lexical):
        if not hit.embedded:
            ranked.insert(min(rank, len(ranked)), hit)
    return ranked


def overlaps(a: Hit, b: Hit, *, share: float = OVERLAP_SHARE) -> bool:
    """Same file and at least ``share`` of the shorter range lies inside the other."""
    if a.path != b.path:
        return False
    common = min(a.end_line, b.end_line) - max(a.start_line, b.start_line) + 1
    if common <= 0:
        return False
    shorter = min(a.end_line - a.start_line + 1, b.end_line - b.start_line + 1)
    return common >= share * max(shorter, 1)


def dedup_overlapping(hits: Sequence[Hit], *, share: float = OVERLAP_SHARE) -> list[Hit]:
    """Drop every hit that overlaps a better-ranked hit of the same file (input is best first).

    A method and its collapsed parent class, or two splits of one long line, show the same place:
    the better-ranked one stays. Exact duplicates (same chunk id) go too.
    """
    kept: list[Hit] = []
    by_path: dict[str, list[Hit]] = {}
    seen: set[str] = set()
    for hit in hits:
        key = hit_key(hit)
        if key in seen:
            continue
        same_file = by_path.setdefault(hit.path, [])
        if any(overlaps(hit, other, share=share) for other in same_file):
            continue
        seen.add(key)
        same_file.append(hit)
        kept.append(hit)
    return kept


def cap_per_file(hits: Sequence[Hit], max_per_file: int) -> list[Hit]:
    """Keep at most ``max_per_file`` hits of each file, in order, so no one file floods the results."""
    if max_per_file <= 0:
        return list(hits)
    counts: dict[str, int] = {}
    out: list[Hit] = []
    for hit in hits:
        n = counts.get(hit.path, 0)
        if n < max_per_file:
            counts[hit.path] = n + 1
            out.append(hit)
    return out


def fill_capped(hits: Sequence[Hit], max_per_file: int, k: int) -> list[Hit]:
    """:func:`cap_per_file`, then, when fewer than ``k`` hits remain, the capped-off ones in order.

    The cap spreads results over files when other files have something to offer; it should never
    return fewer results than asked for. In a repository that is one big file (lodash.js) or a few
    (cJSON) a hard cap of 8 answered a k=10 search with 8 hits and lost the gold at ranks 9-10.
    """
    capped = cap_per_file(hits, max_per_file)
    if len(capped) >= k or len(capped) == len(hits):
        return capped
    kept = {id(hit) for hit in capped}
    return capped + [hit for hit in hits if id(hit) not in kept]


def demote(hits: Sequence[Hit], demoted: Callable[[Hit], bool], factor: float) -> list[Hit]:
    """Multiply the score of the hits ``demoted`` picks by ``factor`` (< 1 demotes) and re-sort
    (stable: equal scores keep their order)."""
    picked = [demoted(hit) for hit in hits] if factor != 1.0 else []
    if not any(picked):
        return list(hits)
    out = [replace(hit, score=hit.score * factor) if pick else hit for hit, pick in zip(hits, picked, strict=True)]
    return sorted(out, key=lambda hit: -hit.score)


def demote_kind(hits: Sequence[Hit], kind: str, factor: float) -> list[Hit]:
    """Multiply the score of hits of ``kind`` by ``factor`` (< 1 demotes) and re-sort.

    Used on class skeletons (``collapsed`` chunks): they list every method's signature and the doc
    comments of all of them, so a question about one method matches its class skeleton as well as the
    method, and the skeleton (which does not show the code) would take the method's place.
    """
    return demote(hits, lambda hit: hit.kind == kind, factor)
