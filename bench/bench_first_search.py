"""Time to first search on a large tree (search first, embed after), and time to full hybrid.

    python bench/bench_first_search.py [--files 10000] [--embed-chunks 2000] [--embedder minilm-onnx]

Generates a synthetic Python tree (source, tests, docs and generated files in the proportions of a real
repository; identifiers from bench_query's Zipf-like vocabulary; functions sized so the real chunker
keeps ~10 chunks a file: >= 10k files, >= 100k chunks by default), then runs the real pipeline
(walk, tree-sitter, LanceDB, the real embedder) and records:

* **time to first search**: from the start of ``ragpilot index`` until the index is ready and a lexical
  search (in a separate reader, as another process would) returns hits; phases split out;
* **embedding**: chunks/s measured over the first ``--embed-chunks`` chunks of the embedding phase (with
  hybrid searches answered during it), and the time to full hybrid **extrapolated** from that rate
  (labelled as such: embedding 100k chunks with MiniLM takes over an hour on two cores). Pass
  ``--embed-chunks 0`` to embed everything and measure it.

``--tree PATH`` runs the same measurements on a real repository instead (e.g. one of the eval corpora,
``git archive``d from its mirror), with questions a developer would ask, and writes
bench/results/first_search-<folder name>.json.

Prints a table and writes bench/results/first_search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_query import WORDS, Vocabulary  # noqa: E402 - the same synthetic vocabulary

from ragpilot.indexer.embed_order import embed_priority  # noqa: E402
from ragpilot.indexer.pipeline import Indexer  # noqa: E402
from ragpilot.indexer.prepare import resolve_index_workers  # noqa: E402
from ragpilot.indexer.settings import IndexSettings  # noqa: E402
from ragpilot.retrieval.searcher import Searcher  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "first_search.json"
FUNCTIONS_PER_FILE = 10


def function_text(vocab: Vocabulary, rng: random.Random) -> tuple[str, str]:
    name, *args = vocab.pick(4)
    lines = [f"def {name}({', '.join(args)}):", f'    """{" ".join(rng.choices(WORDS, k=8))}."""']
    for _ in range(rng.randint(5, 9)):  # ~one MiniLM chunk each (256 tokens): ~10 chunks a file
        target, call, a, b = vocab.pick(4)
        lines.append(f"    {target} = {call}({a}, {b})")
    lines.append(f"    return {args[0]}")
    return name, "\n".join(lines)


def generate_tree(root: Path, files: int, seed: int = 0) -> dict:
    """``files`` files: 75 % source, 12 % tests, 8 % docs, 5 % generated-looking."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    kinds = {"source": 0, "tests": 0, "docs": 0, "generated": 0}
    for i in range(files):
        pkg = f"{rng.choice(WORDS)}_{i % 50}"
        roll = i % 100
        if roll < 75:
            rel, kind = f"src/{pkg}/{rng.choice(WORDS)}_{i}.py", "source"
        elif roll < 87:
            rel, kind = f"tests/{pkg}/test_{rng.choice(WORDS)}_{i}.py", "tests"
        elif roll < 95:
            rel, kind = f"docs/{pkg}/{rng.choice(WORDS)}_{i}.md", "docs"
        else:
            rel, kind = f"gen/{pkg}/{rng.choice(WORDS)}_{i}_pb2.py", "generated"
        kinds[kind] += 1
        if kind == "docs":
            sections = []
            for s in range(FUNCTIONS_PER_FILE):
                name, body = function_text(vocab, rng)
                sections.append(f"## {name} {s}\n\n{' '.join(rng.choices(WORDS, k=30))}\n\n```python\n{body}\n```\n")
            text = f"# {pkg}\n\n" + "\n".join(sections)
        else:
            text = "\n\n\n".join(function_text(vocab, rng)[1] for _ in range(FUNCTIONS_PER_FILE)) + "\n"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return kinds


def lexical_probe(index_dir: Path, queries: list[str]) -> dict:
    """Open the index as a separate reader would and search it lexically."""
    t0 = time.perf_counter()
    searcher = Searcher.for_index(index_dir)
    open_s = time.perf_counter() - t0
    ms, found = [], 0
    for q in queries:
        t = time.perf_counter()
        hits = searcher.search(q, k=10, mode="lexical")
        ms.append((time.perf_counter() - t) * 1000)
        found += bool(hits)
    searcher.close()
    return {"open_s": round(open_s, 2), "first_ms": round(ms[0], 1), "p50_ms": round(statistics.median(ms), 1),
            "queries_with_hits": f"{found}/{len(queries)}"}


def hybrid_probe(searcher: Searcher, queries: list[str]) -> dict:
    ms, dense_hits = [], 0
    for q in queries:
        t = time.perf_counter()
        results = searcher.search(q, k=10, mode="hybrid")
        ms.append((time.perf_counter() - t) * 1000)
        dense_hits += len(searcher.search(q, k=10, mode="dense")) > 0
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(statistics.quantiles(ms, n=20)[-1], 1),
            "max_ms": round(max(ms), 1),
            "hits": len(results), "queries_with_dense_hits": f"{dense_hits}/{len(queries)}"}


# Questions for a real tree (--tree): general enough to have answers in any code base.
REAL_QUERIES = ["parse a date string", "format the output", "handle an error", "read the configuration",
                "convert to a number", "compare two values", "add days to a date", "validate the input",
                "locale specific week start", "time zone offset", "round to the nearest", "check if valid",
                "difference between two dates", "start of the month", "end of the week", "is weekend",
                "parse ISO string", "format distance in words", "interval overlap", "set the hours"]


def run(files: int, embed_chunks: int, embedder: str, work: Path, tree: Path | None = None) -> dict:
    t0 = time.perf_counter()
    if tree is not None:
        repo = tree
        kinds: dict = {}
        for path in repo.rglob("*"):
            if path.is_file() and ".git" not in path.parts:
                kind = ("source", "tests", "docs", "generated")[min(embed_priority(path.relative_to(repo).as_posix()), 3)]
                kinds[kind] = kinds.get(kind, 0) + 1
        files = sum(kinds.values())
    else:
        repo = work / "tree"
        marker = work / f"tree-{files}.json"  # --keep: a tree generated before (deterministic) is reused
        if marker.exists():
            kinds = json.loads(marker.read_text())
        else:
            shutil.rmtree(repo, ignore_errors=True)
            kinds = generate_tree(repo, files)
            marker.write_text(json.dumps(kinds))
    generate_s = time.perf_counter() - t0
    index_dir = work / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder=embedder)
    rng = random.Random(7)
    vocab = Vocabulary(rng)
    queries = REAL_QUERIES if tree is not None else [" ".join(vocab.pick(2)) for _ in range(20)]

    start, cpu_start, split_start = time.perf_counter(), _cpu_s(), _cpu_split()
    indexer = Indexer(repo, settings).open(rebuild=True)
    open_s = time.perf_counter() - start
    phases: dict[str, float] = {}
    last_phase, last_at = "open", start
    result: dict = {"tree": str(tree) if tree else "synthetic", "files": files, "kinds": kinds, "generate_s": round(generate_s, 1), "embedder": embedder,
                    "index_workers": resolve_index_workers(settings.index_workers, settings.embed_threads)}
    embed_started = embed_rate_from = None
    embed_done = 0
    try:
        for event in indexer.run():
            now = time.perf_counter()
            if event.phase != last_phase:
                phases[last_phase] = phases.get(last_phase, 0.0) + now - last_at
                last_phase, last_at = event.phase, now
            if event.phase == "embed" and embed_started is None:
                embed_started = now
                ready_s = now - start
                ready_cpu_s = _cpu_s() - cpu_start
                split = [round(now - then, 1) for now, then in zip(_cpu_split(), split_start, strict=True)]
                probe = lexical_probe(index_dir, queries)
                first = time.perf_counter() - start
                embedded, total = indexer.store.embedded_counts()
                result.update(chunks=total, cached_at_ready=embedded, ready_s=round(ready_s, 1),
                              ready_cpu_s=round(ready_cpu_s, 1),
                              ready_cpu_s_writer_workers=split,
                              time_to_first_search_s=round(first, 1), lexical_at_ready=probe,
                              phases_to_ready_s={k: round(v, 1) for k, v in phases.items()} | {"open": round(open_s, 1)})
                print(f"ready in {ready_s:.1f}s, first lexical search at {first:.1f}s "
                      f"({total} chunks, {kinds})", flush=True)
                embed_rate_from = (time.perf_counter(),)  # the probe's time is not embedding time
            if event.phase == "embed":
                embed_done = event.embed_done  # the last event ("done") no longer counts them
                if embed_chunks and embed_done >= embed_chunks:
                    break
        end = time.perf_counter()
        if embed_rate_from is None:
            raise SystemExit("nothing to embed (the embedding cache already held every vector?)")
        done = embed_done
        rate = done / max(end - embed_rate_from[0], 1e-6)
        searcher = Searcher.for_index(index_dir, embedder=indexer.embedder)
        during = hybrid_probe(searcher, queries)
        covered = searcher.store.embedded_counts()
        searcher.close()
        total = result["chunks"] - result["cached_at_ready"]
        complete = done >= total
        result["embedding"] = {
            "measured_chunks": done, "seconds": round(end - embed_rate_from[0], 1), "chunks_per_s": round(rate, 2),
            "hybrid_during_embedding": during | {"embedded": {"chunks": covered[0], "of": covered[1]}},
            "first_embedded_are_source": all(embed_priority(p) == 0 for p in _embedded_paths(indexer)),
        }
        full = result["ready_s"] + (end - embed_rate_from[0] if complete else total / rate)
        result["time_to_full_hybrid_s"] = round(full, 1)
        result["time_to_full_hybrid_is"] = "measured" if complete else (
            f"extrapolated: ready_s + {total} chunks / {rate:.2f} chunks/s measured on the first {done} "
            "(the closing full-text rebuild, ~1 s per 10k chunks, not included)")
        result["before_search_first"] = {
            "time_to_first_search_s": round(full, 1),
            "is": "the old pipeline embedded before writing: its first search came at full hybrid",
        }
    finally:
        indexer.close()
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def _cpu_s() -> float:
    """CPU seconds of this process, all threads (LanceDB's included), and of its finished children (the
    prepare workers, counted once the pool has shut down): the work, whatever else runs."""
    return sum(_cpu_split())


def _cpu_split() -> tuple[float, float]:
    """(this process, its finished children): the writer's share is the floor of time to ready."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _embedded_paths(indexer: Indexer) -> set[str]:
    rows = indexer.store.table.search().where("embedded").select(["path"]).limit(None).to_arrow()
    return set(rows.column("path").to_pylist())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--embed-chunks", type=int, default=2000,
                        help="measure chunks/s on this many, then extrapolate (0: embed everything)")
    parser.add_argument("--embedder", default="minilm-onnx")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp dir)")
    parser.add_argument("--tree", type=Path, help="a real repository to index instead of the synthetic tree")
    args = parser.parse_args()
    global RESULTS
    if args.tree:
        args.tree = args.tree.resolve()
        RESULTS = RESULTS.with_name(f"first_search-{args.tree.name}.json")
    load_before = os.getloadavg()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(args.files, args.embed_chunks, args.embedder, args.keep, args.tree)
    else:
        with tempfile.TemporaryDirectory(prefix="ragpilot-first-search-") as tmp:
            result = run(args.files, args.embed_chunks, args.embedder, Path(tmp), args.tree)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    e = result["embedding"]
    rows = [
        ("files / chunks", f"{result['files']} / {result['chunks']}"),
        ("index ready (rows + full-text index)", f"{result['ready_s']} s"),
        ("time to first search (lexical, separate reader)", f"{result['time_to_first_search_s']} s"),
        ("CPU seconds to ready (all threads and workers)", f"{result['ready_cpu_s']} s ({result['index_workers']} workers; writer, workers: "
         f"{result['ready_cpu_s_writer_workers']})"),
        ("phases to ready", ", ".join(f"{k} {v} s" for k, v in result["phases_to_ready_s"].items())),
        ("lexical p50 at ready", f"{result['lexical_at_ready']['p50_ms']} ms"),
        ("embedding rate", f"{e['chunks_per_s']} chunks/s (first {e['measured_chunks']} chunks)"),
        ("hybrid p50 during embedding", f"{e['hybrid_during_embedding']['p50_ms']} ms"),
        ("time to full hybrid", f"{result['time_to_full_hybrid_s']} s ({result['time_to_full_hybrid_is'][:12]})"),
        ("peak RSS", f"{result['peak_rss_mb']} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
