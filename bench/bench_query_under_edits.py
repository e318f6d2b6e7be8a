"""Hybrid query latency at 100k chunks while the index takes one edit per second, as a server sees it:
a writer thread commits one file's new rows every second (``IndexStore.replace_files``, the watcher's
write) while the searcher answers queries back to back in the main thread. Prints a table, writes
bench/results/query_under_edits.json. Target: p95 < 100 ms.

    python bench/bench_query_under_edits.py [--chunks 100000] [--seconds 40]

Stores as in bench_query.py: synthetic code text, random unit vectors, the ``hashing`` embedder (so
model time is excluded; MiniLM's query embedding adds its own ~9-25 ms, see results/query.json). The
same queries are first timed with no writer, as the baseline. One thread for numpy/BLAS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from bench_query import DIM, build_store, make_queries, pct, synth_chunk  # noqa: E402

from ragpilot.indexer.embedders import create_embedder  # noqa: E402
from ragpilot.indexer.pipeline import fts_fields  # noqa: E402
from ragpilot.indexer.store import chunk_rows  # noqa: E402
from ragpilot.retrieval.searcher import Searcher  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "query_under_edits.json"


class Editor(threading.Thread):
    """One file rewritten (4 new chunks replacing its rows) and committed every ``period`` seconds; as the
    watcher does (Indexer._maybe_optimize), the new rows are folded into the indices every ``fold_every``
    commits (0: never)."""

    def __init__(self, store, vocab, chunks, period: float = 1.0, fold_every: int = 20):
        super().__init__(name="bench-editor", daemon=True)
        self.store, self.vocab, self.chunks, self.period = store, vocab, chunks, period
        self.stop = threading.Event()
        self.commit_ms: list[float] = []
        self.commits_at: list[float] = []  # perf_counter of each commit's end
        self.fold_every, self.fold_ms = fold_every, []

    def run(self) -> None:
        rng, nrng, serial = random.Random(11), np.random.default_rng(11), 0
        while not self.stop.is_set():
            started = time.perf_counter()
            path = rng.choice(self.chunks).path
            fresh = [replace(synth_chunk(self.vocab, 20_000_000 + serial * 10 + i, rng), path=path) for i in range(4)]
            vecs = nrng.standard_normal((len(fresh), DIM)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            self.store.replace_files(chunk_rows(fresh, vecs, [fts_fields(c) for c in fresh]), [path])
            done = time.perf_counter()
            self.commit_ms.append((done - started) * 1000)
            self.commits_at.append(done)
            serial += 1
            if self.fold_every and serial % self.fold_every == 0:
                t0 = time.perf_counter()
                self.store.optimize()
                self.fold_ms.append((time.perf_counter() - t0) * 1000)
            self.stop.wait(max(0.0, self.period - (done - started)))


def timed_queries(searcher: Searcher, queries: list[str], seconds: float,
                  stages: dict[str, list[float]] | None = None) -> list[tuple[float, float]]:
    """(start time, ms) of hybrid searches run back to back for ``seconds``; each stage's ms (the
    searcher's own timings) go into ``stages``."""
    out, i, end = [], 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        found = searcher.search(queries[i % len(queries)], k=10, mode="hybrid")
        out.append((t0, (time.perf_counter() - t0) * 1000))
        if stages is not None:
            for stage, secs in found.timings.items():
                stages.setdefault(stage, []).append(secs * 1000)
        i += 1
    return out


def summary(ms: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, 0.95), 1),
            "max_ms": round(max(ms), 1), "queries": len(ms)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--fold-every", type=int, default=20,
                        help="fold new rows into the indices every N commits, as the watcher does (0: never)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ragpilot-bench-edits-") as tmp:
        store, vocab, chunks, build = build_store(Path(tmp) / "idx", args.chunks)
        searcher = Searcher(store, create_embedder("hashing"))
        queries = make_queries(vocab, chunks, 300)
        searcher.search(queries[0], k=10)  # loads the vector snapshot once
        quiet_stages: dict[str, list[float]] = {}
        edit_stages: dict[str, list[float]] = {}
        baseline = [ms for _, ms in timed_queries(searcher, queries, min(10.0, args.seconds / 4), quiet_stages)]
        editor = Editor(store, vocab, chunks, fold_every=args.fold_every)
        editor.start()
        try:
            during = timed_queries(searcher, queries, args.seconds, edit_stages)
        finally:
            editor.stop.set()
            editor.join()
        # the same queries once the edits stopped: slow still means the index (stale full-text
        # indices, deletions), fast again means the concurrent commits (CPU, GIL)
        flat_rows_after_edits = store.unindexed_rows()
        after_stages: dict[str, list[float]] = {}
        stopped = [ms for _, ms in timed_queries(searcher, queries, min(10.0, args.seconds / 4), after_stages)]
        # and once the watcher, quiet for IDLE_FOLD_S, folded the new rows in
        t0 = time.perf_counter()
        store.optimize()
        idle_fold_ms = (time.perf_counter() - t0) * 1000
        folded_stages: dict[str, list[float]] = {}
        folded = [ms for _, ms in timed_queries(searcher, queries, min(10.0, args.seconds / 4), folded_stages)]
        # the first query to start after each commit pays the catch-up (new rows, refreshed vectors)
        firsts = []
        for at in editor.commits_at:
            after = next((ms for t0, ms in during if t0 >= at), None)
            if after is not None:
                firsts.append(after)
        result = {
            "chunks": args.chunks, "seconds": args.seconds,
            "build_s": {k: round(v, 1) for k, v in build.items()},
            "no_edits": summary(baseline),
            "one_edit_per_second": summary([ms for _, ms in during]),
            "first_query_after_each_commit": summary(firsts) if firsts else None,
            "after_the_edits_stopped": summary(stopped),
            "after_the_idle_fold_in": summary(folded),
            "stages_p50_ms": {"no_edits": {k: round(statistics.median(v), 1) for k, v in quiet_stages.items()},
                              "one_edit_per_second": {k: round(statistics.median(v), 1)
                                                      for k, v in edit_stages.items()},
                              "after_the_edits_stopped": {k: round(statistics.median(v), 1)
                                                          for k, v in after_stages.items()},
                              "after_the_idle_fold_in": {k: round(statistics.median(v), 1)
                                                         for k, v in folded_stages.items()}},
            "stages_p95_ms": {name: {k: round(pct(v, 0.95), 1) for k, v in st.items()}
                              for name, st in (("no_edits", quiet_stages), ("one_edit_per_second", edit_stages),
                                               ("after_the_edits_stopped", after_stages),
                                               ("after_the_idle_fold_in", folded_stages))},
            "fold_every": args.fold_every, "fold_ms": [round(ms) for ms in editor.fold_ms],
            "idle_fold_ms": round(idle_fold_ms), "flat_rows_when_the_edits_stopped": flat_rows_after_edits,
            "commits": len(editor.commit_ms), "commit_ms_p50": round(statistics.median(editor.commit_ms), 1),
            "target": "hybrid p95 < 100 ms while editing",
            "note": "hashing embedder (model time excluded), random vectors, one BLAS thread; shared 2-core machine",
            "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count(),
        }
    print(f"{'hybrid search at ' + str(args.chunks) + ' chunks':<34} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
          f"{'queries':>8}")
    for name in ("no_edits", "one_edit_per_second", "first_query_after_each_commit", "after_the_edits_stopped",
                 "after_the_idle_fold_in"):
        row = result[name]
        if row:
            print(f"{name:<34} {row['p50_ms']:>7} {row['p95_ms']:>7} {row['max_ms']:>7} {row['queries']:>8}")
    for name, stages in result["stages_p50_ms"].items():
        print(f"stages p50 ms, {name}: {stages}; p95: {result['stages_p95_ms'][name]}")
    print(f"fold-ins every {args.fold_every} commits: {result['fold_ms']} ms; idle fold-in {result['idle_fold_ms']} ms")
    print(f"{result['commits']} commits, {result['commit_ms_p50']} ms each (p50); load average before/after "
          f"{result['loadavg_1m_before_after']} on {result['cpus']} cpus")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
