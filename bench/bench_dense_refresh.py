"""First dense query after a small commit, at 100k synthetic chunks: a full vector reload (what every
commit cost before) against the incremental refresh (retrieval/dense.py), plus query p95 while one
one-file edit per second lands. Prints a table, writes bench/results/dense_refresh.json.

    python bench/bench_dense_refresh.py [--chunks 100000] [--commits 20]

Stores as in bench_query.py (random unit vectors, the hashing embedder); each commit replaces one
file's rows through IndexStore.replace_files, as the watcher does. Dense search only, one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from bench_query import DIM, build_store, pct, synth_chunk  # noqa: E402

from ragpilot.indexer.pipeline import fts_fields  # noqa: E402
from ragpilot.indexer.store import chunk_rows  # noqa: E402
from ragpilot.retrieval.dense import DenseIndex  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "dense_refresh.json"


def one_edit(store, vocab, chunks, rng, nrng, serial: int) -> None:
    path = rng.choice(chunks).path
    fresh = [replace(synth_chunk(vocab, 10_000_000 + serial * 10 + i, rng), path=path) for i in range(4)]
    vecs = nrng.standard_normal((len(fresh), DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.replace_files(chunk_rows(fresh, vecs, [fts_fields(c) for c in fresh]), [path])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=20)
    parser.add_argument("--queries-per-commit", type=int, default=10)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rng, nrng = random.Random(7), np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="ragpilot-bench-refresh-") as tmp:
        store, vocab, chunks, _ = build_store(Path(tmp) / "idx", args.chunks)
        dense = DenseIndex(store)
        query = lambda: nrng.standard_normal(DIM).astype(np.float32)  # noqa: E731
        dense.search(query(), limit=10)
        full_s, first_ms, other_ms = [], [], []
        for c in range(args.commits):
            one_edit(store, vocab, chunks, rng, nrng, c)
            t0 = time.perf_counter()
            dense._load(store.table.version)  # before: every commit reloaded every vector
            full_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            dense.search(query(), limit=10)  # after: the first query refreshes
            first_ms.append((time.perf_counter() - t0) * 1000)
            for _ in range(args.queries_per_commit - 1):
                t0 = time.perf_counter()
                dense.search(query(), limit=10)
                other_ms.append((time.perf_counter() - t0) * 1000)
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))  # about one edit per second
        every = first_ms + other_ms
        result = {
            "chunks": args.chunks, "commits": args.commits,
            "full_reload_ms_p50": round(1000 * statistics.median(full_s), 1),
            "first_query_after_commit_ms_p50": round(statistics.median(first_ms), 1),
            "first_query_after_commit_ms_max": round(max(first_ms), 1),
            "query_ms_p50_while_editing": round(statistics.median(every), 1),
            "query_ms_p95_while_editing": round(pct(every, 0.95), 1),
            "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count(),
        }
    print(f"{'chunks':>8} {'full reload ms':>15} {'1st query ms p50':>17} {'max':>7} {'all q p50':>10} "
          f"{'all q p95':>10}")
    print(f"{result['chunks']:>8} {result['full_reload_ms_p50']:>15} "
          f"{result['first_query_after_commit_ms_p50']:>17} {result['first_query_after_commit_ms_max']:>7} "
          f"{result['query_ms_p50_while_editing']:>10} {result['query_ms_p95_while_editing']:>10}")
    print(f"load average (1 min) before/after {result['loadavg_1m_before_after']} on {result['cpus']} cpus")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
