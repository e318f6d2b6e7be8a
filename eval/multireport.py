"""The cross-corpus table of the multi-language eval: one row per corpus and method, tune and confirm
halves side by side, and the mean over corpora (macro average: each corpus weighs the same).
Builds a rich table and the same table as markdown; the CLI prints or writes them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from .summary import aggregate

DOC_COLUMNS = (("chunk", "recall@1", "R@1"), ("chunk", "recall@10", "R@10"),
               ("chunk", "mrr@10", "MRR"), ("file", "recall@10", "fR@10"))
HEAD = ["corpus", "lang", "method", "doc n (t/c)"] + [f"{s} {c[2]}" for s in ("tune", "conf") for c in DOC_COLUMNS] \
    + ["git n", "git fR@10", "git fR@10 t/c"]


def rows(results: Sequence[dict]) -> list[list[str]]:
    """Table rows: every corpus x method, then (for several corpora) the per-method mean over corpora."""
    out: list[list[str]] = []
    methods = _methods(results)
    means: dict[str, list[list[float | None]]] = {m: [] for m in methods}
    for res in results:
        doc, git = res.get("docstring") or {}, res.get("git") or {}
        for i, method in enumerate(methods):
            values = _doc_values(doc, method) + _git_values(git, method)
            means[method].append(values)
            n_doc = f"{doc['splits']['tune']['n']}/{doc['splits']['confirm']['n']}" if doc else "—"
            out.append([res["corpus"] if i == 0 else "", res["language"] if i == 0 else "", method,
                        n_doc if i == 0 else "", *_fmt(values[:8]),
                        str(git.get("n_tasks", "—")) if i == 0 else "", *_fmt(values[8:9]),
                        _pair(values[9:11])])
    for i, method in enumerate(methods if len(results) > 1 else []):
        cols = list(zip(*means[method], strict=True)) if means[method] else []
        avg = [_mean(c) for c in cols]
        out.append(["mean" if i == 0 else "", "", method, "", *_fmt(avg[:8]), "", *_fmt(avg[8:9]),
                    _pair(avg[9:11])])
    return out


def rich_table(results: Sequence[dict], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for h in HEAD:
        table.add_column(h, justify="left" if h in ("corpus", "lang", "method") else "right")
    for r in rows(results):
        table.add_row(*r)
    return table


def markdown(results: Sequence[dict]) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    return "\n".join(lines) + "\n"


def _methods(results: Sequence[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for res in results:
        for part in ("docstring", "git"):
            for m in (res.get(part) or {}).get("modes", {}):
                seen.setdefault(m, None)
    return list(seen)


def _doc_values(doc: dict, method: str) -> list[float | None]:
    out: list[float | None] = []
    for split in ("tune", "confirm"):
        agg = (doc.get("splits", {}).get(split, {}).get("modes", {}) or {}).get(method) if doc else None
        for level, metric, _ in DOC_COLUMNS:
            out.append(agg[level][metric] if agg and agg.get(level) else None)
    return out


def _git_values(git: dict, method: str) -> list[float | None]:
    if not git or method not in git.get("modes", {}):
        return [None, None, None]
    out: list[float | None] = [git["modes"][method]["file"]["recall@10"]]
    for split in ("tune", "confirm"):
        ids = {r["id"] for r in git["tasks"] if r.get("split") == split}
        agg = aggregate(git["tasks"], method, ids) if ids else None
        out.append(agg["file"]["recall@10"] if agg else None)
    return out


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _fmt(values) -> list[str]:
    return ["—" if v is None else f"{v:.3f}" for v in values]


def _pair(values) -> str:
    return "/".join(_fmt(values))
