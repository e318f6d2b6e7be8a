"""Where a method misses what a baseline finds: far away, or next door.

A 40-line window counts as a find when it shares one line with the target, so it also "finds" a function
whose neighbour is what matched. This report takes the doc tasks a baseline finds and a method misses,
and counts those where the method's top k still holds a hit in the gold file within ``lines`` lines of the
gold range: the right place, the neighbouring function. Read from the per-corpus JSON files a
multi-language run writes (``python -m eval --corpora ... --out DIR``)::

    python -m eval.nearmiss eval/results/multilang [--method hybrid] [--baseline bm25-window40] [--lines 40]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NearMisses:
    corpus: str
    misses: int  # doc tasks the baseline finds in its top k and the method does not
    near: int  # of those, tasks where the method's top k has a hit within ``lines`` lines of the gold


def _span(hit: str) -> tuple[str, int, int]:
    """``"path/to/file.go:12-40"`` -> ``("path/to/file.go", 12, 40)``."""
    path, _, lines = hit.rpartition(":")
    start, _, end = lines.partition("-")
    return path, int(start), int(end)


def is_near(hits: Iterable[str], gold: Iterable[dict], lines: int) -> bool:
    """Whether a hit lies in a gold file within ``lines`` lines of that gold range."""
    spans = [_span(h) for h in hits]
    return any(path == g["path"] and start <= g["end_line"] + lines and end >= g["start_line"] - lines
               for g in gold for path, start, end in spans)


def near_misses(result: dict, *, method: str = "hybrid", baseline: str = "bm25-window40",
                lines: int = 40, k: int = 10) -> NearMisses:
    """Count one corpus's doc tasks that ``baseline`` finds and ``method`` misses, and how many are near."""
    misses = near = 0
    for task in result["docstring"]["tasks"]:
        ours, theirs = task["modes"].get(method), task["modes"].get(baseline)
        if not ours or not theirs or ours.get("rank") or not theirs.get("rank"):
            continue
        misses += 1
        near += is_near(ours["hits"][:k], task["gold"], lines)
    return NearMisses(result["corpus"], misses, near)


def markdown(rows: list[NearMisses], method: str, baseline: str, lines: int) -> str:
    out = [f"| corpus | {baseline} finds, {method} misses | of those, a {method} hit within {lines} lines |",
           "|---|---|---|"]
    out += [f"| {r.corpus} | {r.misses} | {r.near} |" for r in rows]
    out.append(f"| **all** | {sum(r.misses for r in rows)} | {sum(r.near for r in rows)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="folder of per-corpus JSON files from a multi-language run")
    parser.add_argument("--method", default="hybrid")
    parser.add_argument("--baseline", default="bm25-window40")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args(argv)
    files = sorted(p for p in args.results.glob("*.json") if p.name != "summary.json")
    results = [json.loads(p.read_text(encoding="utf-8")) for p in files]
    rows = [near_misses(r, method=args.method, baseline=args.baseline, lines=args.lines)
            for r in results if r.get("docstring")]
    if not rows:
        parser.error(f"no per-corpus results with doc tasks in {args.results}")
    print(markdown(rows, args.method, args.baseline, args.lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
