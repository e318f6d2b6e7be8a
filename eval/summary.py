"""Per-task search records -> per-mode averages, the JSON written by ``python -m eval``.

Modes that ran on a subset of the tasks (``hybrid+rerank`` is limited by ``--rerank-queries``) are
also compared with every other mode on that same subset, so a difference is never an artefact of
which tasks were asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import metrics

LEVELS = ("chunk", "file")


def aggregate(records: Sequence[dict], mode: str, ids: set[str] | None = None) -> dict | None:
    """Mean metrics of ``mode`` over the records that ran it (restricted to ``ids`` when given)."""
    runs = [r["modes"][mode] for r in records if mode in r["modes"] and (ids is None or r["id"] in ids)]
    if not runs:
        return None
    out: dict = {"n": len(runs)}
    for level in LEVELS:
        scored = [run[level] for run in runs if run[level] is not None]
        out[f"n_{level}"] = len(scored)
        out[level] = ({key: round(metrics.mean(s[key] for s in scored), 4) for key in scored[0]}
                      if scored else None)
    latencies = [run["ms"] for run in runs]
    out["tiny_share"] = round(metrics.mean(run["tiny"] for run in runs), 4)
    out["latency_ms"] = {"p50": round(metrics.percentile(latencies, 50), 2),
                         "p95": round(metrics.percentile(latencies, 95), 2),
                         "mean": round(metrics.mean(latencies), 2)}
    return out


def summarize(records: Sequence[dict], modes: Sequence[str], *, header: dict) -> dict:
    """The result document: header, per-mode aggregates, same-subset comparisons, every task record."""
    all_ids = {r["id"] for r in records}
    result = dict(header)
    result["n_tasks"] = len(records)
    result["modes"] = {m: agg for m in modes if (agg := aggregate(records, m)) is not None}
    subsets: dict[str, dict] = {}
    for mode in modes:
        ran = {r["id"] for r in records if mode in r["modes"]}
        if ran and ran != all_ids:
            subsets[mode] = {
                other: agg for other in modes if (agg := aggregate(records, other, ran)) is not None
            }
    result["same_subset"] = subsets
    result["verdict"] = verdict(result["modes"])
    result["diagnostics"] = diagnostics(records, modes)
    result["tasks"] = list(records)
    return result


def verdict(modes: dict) -> dict:
    """Does hybrid beat both single sources on Recall@10? At chunk level when there is line gold."""
    needed = ("lexical", "dense", "hybrid")
    if not all(m in modes for m in needed):
        return {}
    level = "chunk" if all(modes[m]["chunk"] for m in needed) else "file"
    r10 = {m: modes[m][level]["recall@10"] for m in needed}
    return {
        "level": level,
        "recall@10": r10,
        "hybrid_beats_lexical": r10["hybrid"] > r10["lexical"],
        "hybrid_beats_dense": r10["hybrid"] > r10["dense"],
    }


def diagnostics(records: Sequence[dict], modes: Sequence[str], *, against: str = "hybrid") -> dict:
    """Where fusion gains and loses: per mode, tasks it finds in the top 10 that ``against`` misses
    (``lost_by_<against>``) and the reverse (``won_by_<against>``); plus the share of top hits that
    are signature-only (``collapsed``) chunks, which look relevant but show no body."""
    out: dict = {}
    has_against = any(against in r["modes"] for r in records)
    for mode in modes:
        runs = [r["modes"][mode] for r in records if mode in r["modes"]]
        if not runs:
            continue
        kinds = [k for run in runs for k in run.get("kinds", [])]
        share = kinds.count(metrics.COLLAPSED) / len(kinds) if kinds else 0.0
        entry: dict = {"collapsed_share": round(share, 4)}
        if mode != against and has_against:
            both = [r for r in records if mode in r["modes"] and against in r["modes"]]
            found = {r["id"]: _found(r["modes"][mode]) for r in both}
            found_against = {r["id"]: _found(r["modes"][against]) for r in both}
            entry[f"lost_by_{against}"] = sorted(i for i in found if found[i] and not found_against[i])
            entry[f"won_by_{against}"] = sorted(i for i in found if found_against[i] and not found[i])
        out[mode] = entry
    return out


def _found(run: dict) -> bool:
    level = run["chunk"] if run["chunk"] is not None else run["file"]
    return level["recall@10"] > 0
