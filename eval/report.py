"""Render an eval result as rich tables and write it as JSON. Builds renderables; the CLI prints them."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
_SHORT = {"recall@1": "R@1", "recall@5": "R@5", "recall@10": "R@10", "mrr@10": "MRR", "ndcg@10": "nDCG"}


def results_table(result: dict) -> Table:
    """One row per mode: chunk-level and file-level metrics, tiny-hit share, latency."""
    title = (f"{result['corpus']} — {result['kind']} tasks, n={result['n_tasks']}, "
             f"embedder {result['embedder']}")
    table = Table(title=title, title_justify="left")
    table.add_column("mode")
    table.add_column("n", justify="right")
    for m in _METRICS:
        table.add_column(_SHORT[m], justify="right")
    for m in _METRICS:
        table.add_column(f"file {_SHORT[m]}", justify="right")
    for name in ("tiny", "p50 ms", "p95 ms"):
        table.add_column(name, justify="right")
    best = _best(result["modes"])
    for mode, agg in result["modes"].items():
        cells = [mode, str(agg["n"])]
        for level in ("chunk", "file"):
            for m in _METRICS:
                value = agg[level][m] if agg[level] else None
                cells.append(_cell(value, bold=value is not None and best.get((level, m)) == value))
        lat = agg["latency_ms"]
        cells += [f"{agg['tiny_share']:.0%}", f"{lat['p50']:.1f}", f"{lat['p95']:.1f}"]
        table.add_row(*cells)
    return table


def subset_tables(result: dict) -> list[Table]:
    """For a mode run on a subset (rerank), every mode's Recall@10/MRR on that same subset."""
    tables = []
    for mode, others in result.get("same_subset", {}).items():
        level = "chunk" if all(a["chunk"] for a in others.values()) else "file"
        n = others[mode]["n"]
        table = Table(title=f"same {n} tasks as {mode} ({level} level)", title_justify="left")
        for col in ("mode", "R@1", "R@10", "MRR", "nDCG"):
            table.add_column(col, justify="left" if col == "mode" else "right")
        for other, agg in others.items():
            vals = agg[level]
            table.add_row(other, *(_cell(vals[m]) for m in ("recall@1", "recall@10", "mrr@10", "ndcg@10")))
        tables.append(table)
    return tables


def verdict_line(result: dict) -> str:
    v = result.get("verdict") or {}
    if not v:
        return ""
    r = v["recall@10"]
    ok = v["hybrid_beats_lexical"] and v["hybrid_beats_dense"]
    mark = "[green]hybrid wins[/]" if ok else "[yellow]hybrid does not beat both[/]"
    return (f"{mark} on {v['level']} Recall@10: hybrid {r['hybrid']:.3f}, lexical {r['lexical']:.3f}, "
            f"dense {r['dense']:.3f}")


def diagnostics_lines(result: dict) -> list[str]:
    """One line per mode: tasks it finds that hybrid misses, and the reverse."""
    lines = []
    for mode, entry in result.get("diagnostics", {}).items():
        if "lost_by_hybrid" in entry:
            lines.append(f"{mode}: finds {len(entry['lost_by_hybrid'])} tasks hybrid misses, "
                         f"misses {len(entry['won_by_hybrid'])} hybrid finds; "
                         f"signature-only hits {entry['collapsed_share']:.0%}")
    return lines


def write_json(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _best(modes: dict) -> dict:
    best: dict = {}
    for agg in modes.values():
        for level in ("chunk", "file"):
            for m in _METRICS:
                if agg[level] is not None:
                    best[(level, m)] = max(best.get((level, m), -1.0), agg[level][m])
    return best


def _cell(value: float | None, *, bold: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:.3f}"
    return f"[bold]{text}[/]" if bold else text
