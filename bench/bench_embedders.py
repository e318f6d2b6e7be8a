"""Embedder speed and agreement: int8 ONNX MiniLM (the default) vs fp32 PyTorch MiniLM on real code.

Chunks are ~300 functions from the stdlib's pure-Python modules (via ``ast``), truncated to 1,500
characters. For each runtime and thread count: chunks/s at batch 32 and single-query latency; then
the cosine between the two runtimes' vectors and the overlap of each chunk's top-10 neighbours.
``--threads`` is the embedder's ``threads`` option: ONNX workers (each a thread running whole
sub-batches on a 1-thread session), PyTorch intra-op threads. Each row records the 1-minute load
average when it was measured: a 2-worker speed-up needs idle cores to show.

    python bench/bench_embedders.py [--chunks 300] [--queries 50] [--threads 1 2] [--batch 32]
                                    [--runtimes minilm-onnx minilm] [--repeat 1]

Writes bench/results/embedders.json (bench/results/embedders-<runtimes>.json with --runtimes). The machine is shared: treat the numbers as rough. Chunks per
CPU-second (process time) is steadier than wall-clock chunks/s when other jobs load the cores.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import os
import platform
import statistics
import sysconfig
import time
from pathlib import Path

import numpy as np

from ragpilot.indexer.embedders import create_embedder

RESULTS = Path(__file__).parent / "results" / "embedders.json"
QUERIES = [
    "read a configuration file",
    "parse command line arguments",
    "retry a network request after a timeout",
    "convert a date string to a datetime",
    "walk a directory tree recursively",
    "compress data with zlib",
    "format a number with thousands separators",
    "escape special characters in html",
    "split a path into directory and file name",
    "compute a hash of a file",
]


def stdlib_chunks(limit: int, max_chars: int = 1500) -> list[str]:
    """Function sources from top-level stdlib modules, one module after another in name order."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    chunks: list[str] = []
    for path in sorted(stdlib.glob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError):
            continue
        per_file = 0
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                text = ast.get_source_segment(source, node) or ""
                if len(text) >= 200 and per_file < 4:  # spread over many modules
                    chunks.append(text[:max_chars])
                    per_file += 1
        if len(chunks) >= limit:
            break
    return chunks[:limit]


def measure(
    name: str, threads: int, batch: int, chunks: list[str], n_queries: int
) -> tuple[dict, np.ndarray]:
    t0 = time.perf_counter()
    emb = create_embedder(name, threads=threads, batch_size=batch)
    load_s = time.perf_counter() - t0
    emb.embed_documents(chunks[:32])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    vecs = emb.embed_documents(chunks)
    embed_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    queries = [QUERIES[i % len(QUERIES)] for i in range(n_queries)]
    emb.embed_query(queries[0])
    latencies = []
    for query in queries:
        t0 = time.perf_counter()
        emb.embed_query(query)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    row = {
        "embedder": name,
        "id": emb.id,
        "threads": threads,
        "batch": batch,
        "load_s": round(load_s, 2),
        "chunks_per_s": round(len(chunks) / embed_s, 2),
        "chunks_per_cpu_s": round(len(chunks) / cpu_s, 2),
        "query_ms_p50": round(statistics.median(latencies), 2),
        "query_ms_p90": round(latencies[int(0.9 * (len(latencies) - 1))], 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    return row, vecs


def agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> dict:
    cos = np.sum(a * b, axis=1)
    sim_a, sim_b = a @ a.T, b @ b.T
    np.fill_diagonal(sim_a, -np.inf)
    np.fill_diagonal(sim_b, -np.inf)
    top_a = np.argsort(-sim_a, axis=1)[:, :k]
    top_b = np.argsort(-sim_b, axis=1)[:, :k]
    overlap = [len(set(x) & set(y)) / k for x, y in zip(top_a, top_b, strict=True)]
    return {
        "cosine_mean": round(float(cos.mean()), 5),
        "cosine_min": round(float(cos.min()), 5),
        "cosine_p01": round(float(np.percentile(cos, 1)), 5),
        f"top{k}_neighbour_overlap": round(float(np.mean(overlap)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=300)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, nargs="+", default=[32])
    parser.add_argument("--runtimes", nargs="+", default=["minilm-onnx", "minilm"])
    parser.add_argument("--repeat", type=int, default=1, help="Measure every combination this many times.")
    args = parser.parse_args()
    results = RESULTS
    if sorted(args.runtimes) != ["minilm", "minilm-onnx"]:
        results = RESULTS.with_name(f"embedders-{'-'.join(args.runtimes)}.json")

    chunks = stdlib_chunks(args.chunks)
    counter = create_embedder("minilm-onnx")
    tokens = np.array([counter.count_tokens(c) for c in chunks])
    print(
        f"{len(chunks)} chunks, word pieces: median {int(np.median(tokens))}, "
        f"{100 * np.mean(tokens > 254):.0f} % over the 256 window; load avg {os.getloadavg()[0]:.2f}"
    )

    rows, vectors = [], {}
    for _, batch, threads, name in itertools.product(range(args.repeat), args.batch, args.threads, args.runtimes):
        row, vecs = measure(name, threads, batch, chunks, args.queries)
        rows.append(row)
        vectors.setdefault(name, vecs)
        print(f"  measured {name} threads={threads} batch={batch}: {row['chunks_per_s']} chunks/s "
              f"(load {row['load_avg_1m']})", flush=True)

    header = (
        f"{'embedder':<13}{'id':<18}{'thr':>4}{'batch':>6}{'load s':>8}"
        f"{'chunks/s':>10}{'/cpu s':>8}{'q p50 ms':>10}{'q p90 ms':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['embedder']:<13}{r['id']:<18}{r['threads']:>4}{r['batch']:>6}{r['load_s']:>8}"
            f"{r['chunks_per_s']:>10}{r['chunks_per_cpu_s']:>8}"
            f"{r['query_ms_p50']:>10}{r['query_ms_p90']:>10}{r['load_avg_1m']:>6}"
        )
    agree = {}
    if {"minilm-onnx", "minilm"} <= vectors.keys():
        agree = agreement(vectors["minilm-onnx"], vectors["minilm"])
        print("int8 ONNX vs fp32 PyTorch:", ", ".join(f"{k} {v}" for k, v in agree.items()))

    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "chunks": len(chunks),
                "chunk_max_chars": 1500,
                "tokens_median": int(np.median(tokens)),
                "tokens_over_window_pct": round(100 * float(np.mean(tokens > 254)), 1),
                "queries": args.queries,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "load_avg_1m": round(os.getloadavg()[0], 2)},
                "runs": rows,
                "onnx_vs_pytorch": agree,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {results}")


if __name__ == "__main__":
    main()
