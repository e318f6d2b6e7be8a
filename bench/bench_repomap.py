"""Repo map latency on a synthetic 10k-file symbol index: the graph build (once per store version), then
``repo_map`` with a 2k-token budget, plain and personalised. Prints a table, writes bench/results/repomap.json.

The symbol store is written directly (``SymbolStore.replace_files``), not extracted from files: each file
defines a class with methods and a few functions, and calls names drawn from the other files with a
Zipf-like popularity (a few hub files are used everywhere, as in real code), plus a few names every
layer defines (``get``, ``run``, ``__init__``). Personalised maps are given 10 searched files (what chunk
search contributes) rather than running a search, whose own latency is bench_query.py's. networkx's
``pagerank`` on the same graph is timed for comparison with the numpy power iteration (repomap_rank.py).

    python bench/bench_repomap.py [--files 10000] [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from ragpilot.indexer.symbols.store import SymbolStore  # noqa: E402
from ragpilot.indexer.symbols.types import Definition, Reference  # noqa: E402
from ragpilot.retrieval.repomap_index import graph_for_index, repo_map  # noqa: E402
from ragpilot.retrieval.repomap_rank import pagerank  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "repomap.json"
BUDGET = 2048
COMMON = ("get", "run", "__init__", "close")


def synthetic_store(index_dir: Path, n_files: int, seed: int = 1) -> tuple[int, int]:
    """Write the store; returns (definitions, references)."""
    rng = random.Random(seed)
    paths = [f"pkg{i % 100:02d}/mod_{i:05d}.py" for i in range(n_files)]
    functions = [[f"do_{i}_{j}" for j in range(4)] for i in range(n_files)]
    popularity = [1.0 / (rank + 1) ** 1.1 for rank in range(n_files)]  # Zipf-like: file 0 is the hub
    rng_order = list(range(n_files))
    rng.shuffle(rng_order)
    defs_by_path: dict[str, list[Definition]] = {}
    refs_by_path: dict[str, list[Reference]] = {}
    n_defs = n_refs = 0
    for i, path in enumerate(paths):
        cls = f"Thing{i}"
        defs = [Definition(path, cls, cls, "class", 1, 40, f"class {cls}(Base)", "", "python")]
        defs += [Definition(path, m, f"{cls}.{m}", "method", 2 + 5 * k, 5 + 5 * k, f"def {m}(self, key: str)",
                            cls, "python") for k, m in enumerate(COMMON)]
        defs += [Definition(path, name, name, "function", 50 + 10 * j, 58 + 10 * j,
                            f"def {name}(request: Request, *, timeout: float = 1.0) -> Response", "", "python")
                 for j, name in enumerate(functions[i])]
        targets = rng.choices(rng_order, weights=popularity, k=20)
        refs = [Reference(path, rng.choice(functions[t]) if rng.random() < 0.8 else f"Thing{t}", 60 + n, "call")
                for n, t in enumerate(targets) if t != i]
        refs += [Reference(path, rng.choice(COMMON), 100 + n, "call") for n in range(5)]
        defs_by_path[path], refs_by_path[path] = defs, refs
        n_defs += len(defs)
        n_refs += len(refs)
    with SymbolStore(index_dir) as store:
        store.replace_files(defs_by_path, refs_by_path)
    return n_defs, n_refs


def timed(fn, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp)
        t = time.perf_counter()
        n_defs, n_refs = synthetic_store(index_dir, args.files)
        write_s = time.perf_counter() - t

        t = time.perf_counter()
        graph = graph_for_index(index_dir)
        build_ms = (time.perf_counter() - t) * 1000
        searched = [graph.files[i] for i in range(500, 5000, 450)]
        rows = {
            "plain (no question)": timed(lambda: repo_map(index_dir, budget_tokens=BUDGET), args.runs),
            "question naming identifiers": timed(lambda: repo_map(
                index_dir, question="how does do_17_2 reach Thing42 and the router?", budget_tokens=BUDGET),
                args.runs),
            "question + 10 searched files": timed(lambda: repo_map(
                index_dir, question="how are requests handled?", budget_tokens=BUDGET, search_paths=searched),
                args.runs),
        }
        sample = repo_map(index_dir, budget_tokens=BUDGET)
        n = len(graph.files)
        rank_ms = timed(lambda: pagerank(n, graph.src, graph.dst, graph.weight), 10)
        networkx_ms = None
        try:
            import networkx as nx

            g = nx.DiGraph()
            g.add_nodes_from(range(n))
            for s, d, w in zip(graph.src.tolist(), graph.dst.tolist(), graph.weight.tolist(), strict=True):
                g.add_edge(s, d, weight=w)
            networkx_ms = timed(lambda: nx.pagerank(g, weight="weight"), 3)
        except ImportError:
            pass

    result = {
        "files": args.files, "definitions": n_defs, "references": n_refs, "edges": int(graph.edge_count),
        "budget_tokens": BUDGET, "store_write_s": round(write_s, 1), "graph_build_ms": round(build_ms),
        "repo_map": rows, "pagerank_numpy": rank_ms, "pagerank_networkx": networkx_ms,
        "map_files_shown": len(sample.files), "map_tokens": sample.tokens,
        "cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
        "numpy": np.__version__,
    }
    print(f"{args.files} files, {n_defs} definitions, {n_refs} references -> {graph.edge_count} edges")
    print(f"graph build (once per store version): {build_ms:.0f} ms")
    print(f"{'repo_map, 2k tokens':32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in rows.items():
        print(f"{name:32} {row['p50_ms']:>8} {row['p95_ms']:>8}")
    print(f"pagerank numpy p50 {rank_ms['p50_ms']} ms; networkx {networkx_ms and networkx_ms['p50_ms']} ms")
    print(f"map shows {len(sample.files)} files in {sample.tokens} tokens")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
