"""Query latency: hybrid / lexical / dense search on synthetic stores of 10k and 100k chunks, the
MiniLM query embedding, and reranking 30 candidates with the ONNX cross-encoder. Prints a table,
writes bench/results/query.json.

The stores hold random-ish code text (identifiers drawn from a Zipf-like vocabulary) and **random
unit vectors** (not model embeddings: search cost is the same, rankings are meaningless). Searches
use the ``hashing`` embedder so that model time is excluded; MiniLM's ``embed_query`` is timed on
its own. Everything runs on one thread.

The files' text around each chunk fills the lexical context column (indexer/lexical_context.py);
``--no-context`` leaves it empty and unsearched, to measure what the column costs.

    python bench/bench_query.py [--sizes 10000,100000] [--queries 200] [--rerank-runs 5] [--no-context]
"""

from __future__ import annotations

import argparse
import itertools
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

from ragpilot.indexer.embedders import create_embedder  # noqa: E402
from ragpilot.indexer.pipeline import fts_fields  # noqa: E402
from ragpilot.indexer.store import CONTEXT_COLUMN, IndexMeta, IndexStore, chunk_rows  # noqa: E402
from ragpilot.indexer.types import Chunk  # noqa: E402
from ragpilot.retrieval.lexical import DEFAULT_BOOSTS  # noqa: E402
from ragpilot.retrieval.rerankers import create_reranker  # noqa: E402
from ragpilot.retrieval.searcher import Searcher  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "query.json"
DIM = 384
WORDS = (
    "get set parse load save read write open close send recv retry cache index query token chunk "
    "file path user session request response client server config build run start stop update delete "
    "insert merge split join sort filter map reduce encode decode hash sign verify check validate "
    "render format print log trace debug error warn info handle process queue worker thread lock wait "
    "notify event listen bind route match search rank score vector embed model batch stream buffer "
    "offset limit page cursor table column row schema migrate commit rollback flush sync async task"
).split()


class Vocabulary:
    """Identifiers like ``parse_session_token`` / ``loadCacheIndex``, frequent ones far more common."""

    def __init__(self, rng: random.Random, size: int = 6000):
        self.rng = rng
        self.names = []
        for i in range(size):
            parts = [rng.choice(WORDS) for _ in range(rng.choice((1, 2, 2, 3)))]
            name = "_".join(parts) if i % 2 else parts[0] + "".join(p.title() for p in parts[1:])
            self.names.append(f"{name}{i % 97 if i % 5 == 0 else ''}")
        self.cum_weights = list(itertools.accumulate(1.0 / (r + 10) for r in range(size)))

    def pick(self, k: int = 1) -> list[str]:
        return self.rng.choices(self.names, cum_weights=self.cum_weights, k=k)


def synth_chunk(vocab: Vocabulary, i: int, rng: random.Random) -> Chunk:
    path = f"src/{rng.choice(WORDS)}/{rng.choice(WORDS)}_{i // 20}.py"
    name, *args = vocab.pick(4)
    lines = [f"def {name}({', '.join(args)}):", f'    """{" ".join(rng.choices(WORDS, k=10))}."""']
    for _ in range(rng.randint(8, 30)):
        target, call, a, b = vocab.pick(4)
        lines.append(f"    {target} = {call}({a}, {b})")
    lines.append(f"    return {args[0]}")
    content = "\n".join(lines)
    start = (i % 20) * 40 + 1
    end = start + len(lines) - 1
    return Chunk(path, "python", start, end, name, "function", content, f"{path}\n{content}")


def file_texts(vocab: Vocabulary, chunks: list[Chunk]) -> dict[str, str]:
    """Each synthetic file's text: its chunks at their lines, the lines between them filled with
    statements, so the lexical context column (the lines around a chunk) holds as much as in real code."""
    by_path: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_path.setdefault(c.path, []).append(c)
    texts = {}
    for path, parts in by_path.items():
        count = max(c.end_line for c in parts) + 5
        names = vocab.pick(4 * count)
        lines = [f"{names[j]} = {names[j + 1]}({names[j + 2]}, {names[j + 3]})" for j in range(0, 4 * count, 4)]
        for c in parts:
            lines[c.start_line - 1 : c.end_line] = c.content.split("\n")
        texts[path] = "\n".join(lines)
    return texts


def build_store(root: Path, n: int, seed: int = 0, *, context: bool = True
                ) -> tuple[IndexStore, Vocabulary, list[Chunk], dict]:
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    nrng = np.random.default_rng(seed)
    hashing = create_embedder("hashing")
    meta = IndexMeta(repo_root="/bench", embedder_name="hashing", embedder_options={}, embedder_id=hashing.id,
                     dim=DIM, chunker_version="bench")
    store = IndexStore.create_or_open(root, meta)
    timings = {}
    t0 = time.perf_counter()
    chunks = [synth_chunk(vocab, i, rng) for i in range(n)]
    texts = file_texts(vocab, chunks) if context else {}
    timings["generate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    step = 20_000
    for s in range(0, n, step):
        part = chunks[s : s + step]
        vecs = nrng.standard_normal((len(part), DIM)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        rows = chunk_rows(part, vecs, [fts_fields(c, texts.get(c.path, "")) for c in part])
        # Unique paths per batch: each replace_files call owns its paths.
        store.table.add(rows)
    timings["insert_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.optimize()
    timings["fts_index_and_optimize_s"] = time.perf_counter() - t0
    return store, vocab, chunks, timings


def make_queries(vocab: Vocabulary, chunks: list[Chunk], count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        c = rng.choice(chunks)
        if i % 3 == 0:
            out.append(c.symbol)  # identifier
        elif i % 3 == 1:
            out.append(" ".join(rng.choices(WORDS, k=rng.randint(3, 7))))  # words
        else:
            out.append(f"where is {rng.choice(vocab.names)} used with {rng.choice(vocab.names)}")
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def time_search(searcher: Searcher, queries: list[str], mode: str, k: int = 10) -> dict:
    searcher.search(queries[0], k=k, mode=mode)  # warm-up (loads the vector snapshot once)
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        searcher.search(q, k=k, mode=mode)
        ms.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(pct(ms, 0.95), 2),
            "min_ms": round(min(ms), 2), "mean_ms": round(statistics.fmean(ms), 2), "queries": len(ms)}


def bench_size(n: int, queries_n: int, *, context: bool = True) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"ragpilot-bench-{n}-") as tmp:
        store, vocab, chunks, build = build_store(Path(tmp) / "idx", n, context=context)
        boosts = DEFAULT_BOOSTS if context else {**DEFAULT_BOOSTS, CONTEXT_COLUMN: 0.0}
        searcher = Searcher(store, create_embedder("hashing"), boosts=boosts)
        t0 = time.perf_counter()
        searcher.dense.search(np.ones(DIM, np.float32) / np.sqrt(DIM), limit=1)
        snapshot_s = time.perf_counter() - t0
        queries = make_queries(vocab, chunks, queries_n)
        size_mb = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 1e6
        result = {"chunks": n, "build": {k: round(v, 2) for k, v in build.items()}, "context_column": context,
                  "index_mb": round(size_mb, 1),
                  "vector_snapshot_load_s": round(snapshot_s, 3)}
        for mode in ("hybrid", "lexical", "dense"):
            result[mode] = time_search(searcher, queries, mode)
        # Stage split of hybrid searches, from the searcher's own timings.
        stages: dict[str, list[float]] = {}
        for q in queries[:100]:
            for stage, secs in searcher.search(q, k=10).timings.items():
                stages.setdefault(stage, []).append(secs * 1000)
        result["hybrid_stages_p50_ms"] = {s: round(statistics.median(v), 2) for s, v in stages.items()}
        return result


def bench_embed_query(runs: int = 50) -> dict:
    embedder = create_embedder("minilm-onnx", threads=1)
    queries = ["how is the retry backoff computed", "parse_session_token", "where do we close the db pool"]
    embedder.embed_query(queries[0])
    ms = []
    for i in range(runs):
        t0 = time.perf_counter()
        embedder.embed_query(queries[i % len(queries)])
        ms.append((time.perf_counter() - t0) * 1000)
    return {"embedder": embedder.id, "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(pct(ms, 0.95), 2)}


def bench_rerank(runs: int, candidates: int = 30) -> dict:
    rng = random.Random(3)
    vocab = Vocabulary(rng)
    passages = [synth_chunk(vocab, i, rng) for i in range(candidates)]
    texts = [f"{c.path} {c.symbol}\n{c.content}" for c in passages]
    t0 = time.perf_counter()
    reranker = create_reranker("onnx-cross-encoder", threads=1)
    load_s = time.perf_counter() - t0
    query = "how is the session token validated before the request is retried"
    reranker.score(query, texts[:2])
    secs = []
    for _ in range(runs):
        t0 = time.perf_counter()
        reranker.score(query, texts)
        secs.append(time.perf_counter() - t0)
    return {"reranker": reranker.id, "candidates": candidates, "max_length": reranker.max_length,
            "load_s": round(load_s, 2), "p50_s": round(statistics.median(secs), 3),
            "p95_s": round(pct(secs, 0.95), 3), "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rerank-runs", type=int, default=5)
    parser.add_argument("--no-context", action="store_true",
                        help="leave the lexical context column empty and unsearched (the cost of the column)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()
    sizes = {}
    for n in (int(s) for s in args.sizes.split(",")):
        sizes[str(n)] = bench_size(n, args.queries, context=not args.no_context)
    result = {
        "note": "synthetic code text, random unit vectors (not model embeddings); searches use the hashing "
                "embedder so model time is excluded; one thread",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "search": sizes,
        "embed_query": bench_embed_query(),
        "rerank": bench_rerank(args.rerank_runs),
    }

    print(f"{'chunks':>8} {'mode':>8} {'p50 ms':>8} {'p95 ms':>8} {'min ms':>8}")
    for n, r in sizes.items():
        for mode in ("hybrid", "lexical", "dense"):
            row = r[mode]
            print(f"{n:>8} {mode:>8} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['min_ms']:>8.2f}")
        print(f"{n:>8} {'stages':>8} {r['hybrid_stages_p50_ms']}  (hybrid, p50 ms)")
        print(f"{n:>8} {'build':>8} {r['build']}  vector snapshot load {r['vector_snapshot_load_s']} s, "
              f"index {r['index_mb']} MB, context column {'on' if r['context_column'] else 'off'}")
    e = result["embed_query"]
    print(f"embed_query {e['embedder']}: p50 {e['p50_ms']} ms, p95 {e['p95_ms']} ms")
    rr = result["rerank"]
    print(f"rerank {rr['candidates']} candidates with {rr['reranker']} (max {rr['max_length']} tokens): "
          f"p50 {rr['p50_s']} s, p95 {rr['p95_s']} s (load {rr['load_s']} s)")
    print(result["note"])
    print(f"load average (1 min) before/after: {result['machine']['loadavg_1m_before_after']} on "
          f"{os.cpu_count()} cpus: other work on the machine inflates every number")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
