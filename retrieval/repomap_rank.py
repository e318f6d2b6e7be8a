"""Personalised PageRank over the symbol graph, and each definition's share of its file's importance.

A short numpy power iteration rather than networkx: numpy is already a base dependency, while
networkx's fast path needs scipy (not one) and its pure-Python path takes seconds on a 10k-file graph.
It computes what ``networkx.pagerank`` does (same damping, dangling files' rank spread by the
personalisation, L1 tolerance scaled by the node count); tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .repomap_graph import SymbolGraph

DAMPING = 0.85
TOLERANCE = 1e-6  # per node, as networkx
MAX_ITERATIONS = 100


def pagerank(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray,
             personalization: np.ndarray | None = None, *, alpha: float = DAMPING,
             tol: float = TOLERANCE, max_iter: int = MAX_ITERATIONS) -> np.ndarray:
    """Rank of each of ``n`` nodes (summing to 1) over weighted edges ``src[i] -> dst[i]``.

    ``personalization`` (non-negative, any scale) is where a random walk restarts, and where the rank of
    nodes without out-edges goes; None or all zeros means uniformly."""
    if n == 0:
        return np.zeros(0)
    p = np.full(n, 1.0 / n)
    if personalization is not None and personalization.sum() > 0:
        p = personalization / personalization.sum()
    out = np.bincount(src, weights=weight, minlength=n)
    share = weight / out[src] if src.size else weight  # each edge's fraction of its source's out-weight
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        flow = np.bincount(dst, weights=last[src] * share, minlength=n)
        x = alpha * flow + (alpha * last[dangling].sum() + 1.0 - alpha) * p
        if np.abs(x - last).sum() < n * tol:
            break
    return x


def definition_scores(graph: SymbolGraph, rank: np.ndarray, weight: np.ndarray,
                      files: Sequence[int]) -> dict[tuple[str, str], float]:
    """For the definitions of ``files``: (path, name) -> the rank flowing to it along its edges.

    Each file passes its rank along its out-edges in proportion to their weights (as PageRank does);
    what reaches a file through identifier ``name`` is that name's score there, so a file's signatures
    can be listed most-depended-on first."""
    if not len(files) or not graph.edge_count:
        return {}
    keep = np.isin(graph.dst, np.asarray(files, dtype=np.int32))
    if not keep.any():
        return {}
    out = np.bincount(graph.src, weights=weight, minlength=len(graph.files))
    src, dst, ident, w = graph.src[keep], graph.dst[keep], graph.ident[keep], weight[keep]
    flow = rank[src] * w / out[src]
    keys = dst.astype(np.int64) * max(len(graph.names), 1) + ident
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=flow)
    n_names = max(len(graph.names), 1)
    return {(graph.files[int(k // n_names)], graph.names[int(k % n_names)]): float(s)
            for k, s in zip(unique, sums, strict=True)}
