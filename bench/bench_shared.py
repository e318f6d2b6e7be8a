"""A shared index on S3 (moto's server on 127.0.0.1, as tests/shared use) against a local-folder index:
query latency after warm-up, replica freshness, and index size. Prints a table, writes
bench/results/shared.json.

- **Query latency**: the same tree indexed twice (``--index-dir`` and ``--index-uri s3://...``); hybrid
  and lexical queries with the ``hashing`` embedder (model time excluded: the index is what differs),
  after a warm-up, one thread, by three kinds of reader: a replica as ``serve --read-only`` runs it
  (pinned; an object-store index read from its local copy, store_mirror.py), a replica reading the
  store directly (``RAGPILOT_REPLICA_LOCAL_COPY=false``), and a reader that follows the latest commit.
  Target: the object-store index within 2x of the local one.
- **Replica freshness**: two ``ragpilot serve --read-only --refresh-seconds R`` replicas of the S3 index;
  the writer adds a file with a new marker and commits (an incremental ``index``); each replica is
  polled every 50 ms until its ``/search`` returns the file. Freshness = first visible - the writer's
  first commit of the new rows. Target: p95 within the configured delay R.

moto keeps objects in memory on loopback: this measures ragpilot's request pattern and Lance's reads,
not a real network's latency (S3 adds ~10-30 ms per request in the same region).

    python bench/bench_shared.py [--tree DIR] [--queries 100] [--rounds 10] [--refresh 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from object_store import S3Server  # noqa: E402

from loopback import percentile  # noqa: E402
from ragpilot.indexer.embedders import create_embedder  # noqa: E402
from ragpilot.indexer.pipeline import index_repo  # noqa: E402
from ragpilot.indexer.settings import IndexSettings  # noqa: E402
from ragpilot.indexer.store import IndexStore  # noqa: E402
from ragpilot.retrieval.searcher import Searcher  # noqa: E402
from ragpilot.serve.replica import PinnedView  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "shared.json"
ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["index store table version", "embed pending rows", "lease holder writer", "search lexical fts",
           "replica refresh pinned", "catalog mark done", "watch debounce events", "chunk syntax tree",
           "rerank candidates", "status counts embedded", "OpenAI chat completions", "continue provider"]


def copy_tree(dest: Path, source: Path | None) -> Path:
    if source is not None:
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git"))
        return dest
    for part in ("indexer", "retrieval", "serve"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def searcher_for(index_dir: Path, reader: str) -> Searcher:
    """How each kind of reader searches: ``replica`` as ``serve --read-only`` does (pinned; an index on
    object storage read from its local copy), ``replica-direct`` pinned but reading the store itself,
    ``latest`` as a writer's host does (every read checks for a newer version)."""
    if reader == "latest":
        return Searcher.for_index(index_dir)
    embedder = create_embedder("hashing")
    view = PinnedView(index_dir, lambda: embedder, None, mirror=reader == "replica")
    view.refresh()
    return view.searcher()


def latencies(searcher: Searcher, mode: str, queries: int) -> dict:
    """p50/p95 of searches after a warm-up."""
    for q in QUERIES:  # warm-up: open files, load vectors, fill caches
        searcher.search(q, k=10, mode=mode)
    times = []
    for i in range(queries):
        t = time.perf_counter()
        searcher.search(QUERIES[i % len(QUERIES)], k=10, mode=mode)
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2)}


def start_replica(home: Path, uri: str, refresh: float, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    from object_store import free_port  # noqa: PLC0415

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ragpilot.serve.cli", "serve", "--read-only", "--index-uri", uri,
         "--refresh-seconds", str(refresh), "--port", str(port)],
        env={**env, "RAGPILOT_HOME": str(home)}, stdout=open(log, "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"replica did not start: {log.read_text()}")


def visible(url: str, marker: str) -> bool:
    hits = httpx.post(f"{url}/search", json={"query": marker, "k": 3, "mode": "lexical"}, timeout=30).json()
    return any(marker in h.get("symbol", "") or marker in h.get("content", "") for h in hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, help="Repository to index (default: a copy of ragpilot's source).")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10, help="Commits whose freshness is measured.")
    parser.add_argument("--refresh", type=float, default=2.0, help="The replicas' --refresh-seconds.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ragpilot-bench-shared-"))
    server = S3Server(work)
    os.environ.update(server.env)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    uri = f"s3://{server.bucket()}/team/repo"
    replicas: list[subprocess.Popen] = []
    try:
        tree = copy_tree(work / "repo", args.tree)
        local = IndexSettings(home=work / "home", index_dir=work / "local-index", embedder="hashing")
        shared = IndexSettings(home=work / "home", index_uri=uri, embedder="hashing")
        t = time.perf_counter()
        summary = index_repo(tree, local)
        local_s = time.perf_counter() - t
        t = time.perf_counter()
        index_repo(tree, shared)
        shared_s = time.perf_counter() - t
        shared_dir = shared.index_dir_for(tree)
        chunks = IndexStore.open(shared_dir).count_chunks()
        size_mb = sum(o.stat().st_size for o in (work / "local-index").rglob("*") if o.is_file()) / 1e6

        rows = []
        readers = {"replica": "replica (local copy)", "replica-direct": "replica, reads S3", "latest": "latest"}
        for mode in ("hybrid", "lexical"):
            for reader, label in readers.items():
                a = latencies(searcher_for(local.index_dir_for(tree), reader), mode, args.queries)
                b = latencies(searcher_for(shared_dir, reader), mode, args.queries)
                rows.append({"mode": mode, "reader": label, "local": a, "s3": b,
                             "ratio_p50": round(b["p50_ms"] / a["p50_ms"], 2)})

        for i in (1, 2):
            proc, url = start_replica(work / f"replica-{i}", uri, args.refresh, env, work / f"replica-{i}.log")
            replicas.append(proc)
            proc.url = url  # type: ignore[attr-defined]
        fresh: dict[str, list[float]] = {"replica-1": [], "replica-2": []}
        commit_s = []
        probe = IndexStore.open(shared_dir)  # follows the latest commit: tells when the writer's landed
        for r in range(args.rounds):
            marker = f"freshness_marker_{r}_{int(time.time())}"
            (tree / f"fresh_{r}.py").write_text(f"def {marker}():\n    return {r}\n")
            before = probe.table.version
            t = time.perf_counter()
            writer = threading.Thread(target=index_repo, args=(tree, shared))
            writer.start()
            while probe.table.version == before:  # the writer's first commit (the new file's rows)
                time.sleep(0.01)
            committed = time.perf_counter()
            pending = {f"replica-{i + 1}": p.url for i, p in enumerate(replicas)}  # type: ignore[attr-defined]
            while pending:
                for name, url in list(pending.items()):
                    if visible(url, marker):
                        fresh[name].append(time.perf_counter() - committed)
                        del pending[name]
                if time.perf_counter() - committed > 120:
                    raise RuntimeError(f"not visible after 120 s on {sorted(pending)}")
                time.sleep(0.05)
            writer.join()
            commit_s.append(time.perf_counter() - t)
            time.sleep(args.refresh * (r % 3) / 3)  # commits at different phases of the refresh cycle

        result = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
            "tree": str(args.tree or "ragpilot source"), "files": summary.files_indexed, "chunks": chunks,
            "index_s": {"local": round(local_s, 2), "s3": round(shared_s, 2)}, "index_mb": round(size_mb, 2),
            "query": rows,
            "freshness": {name: {"p50_s": round(statistics.median(v), 2), "p95_s": round(percentile(v, 95), 2),
                                 "max_s": round(max(v), 2)} for name, v in fresh.items()},
            "refresh_s": args.refresh, "writer_run_s_p50": round(statistics.median(commit_s), 2),
        }
    finally:
        for proc in replicas:
            proc.terminate()
            proc.wait(timeout=30)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"{result['chunks']} chunks ({result['files']} files); index: local {result['index_s']['local']} s, "
          f"S3 {result['index_s']['s3']} s; {result['index_mb']} MB on disk")
    print(f"{'mode':8} {'reader':21} {'local p50':>10} {'local p95':>10} {'S3 p50':>8} {'S3 p95':>8} {'S3/local':>9}")
    for row in rows:
        print(f"{row['mode']:8} {row['reader']:21} {row['local']['p50_ms']:>10} {row['local']['p95_ms']:>10} "
              f"{row['s3']['p50_ms']:>8} {row['s3']['p95_ms']:>8} {row['ratio_p50']:>9}")
    print(f"freshness (refresh every {args.refresh} s, {args.rounds} commits):")
    for name, f in result["freshness"].items():
        print(f"  {name}: p50 {f['p50_s']} s, p95 {f['p95_s']} s, max {f['max_s']} s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
