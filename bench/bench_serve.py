"""Serving overhead: what the RAG layer adds to time-to-first-token, and /retrieve latency under load.

Everything runs on loopback as real processes: a minimal OpenAI-compatible upstream (first token at
once, so the backend costs nothing) and ``ragpilot serve`` in front of it, over an index of real code
(this repository's own Python packages, copied to a temp dir) with the chosen embedder.

1. Time to first token, one request at a time: the upstream called directly, through ``ragpilot-raw``
   (proxy only) and through ``ragpilot`` (retrieval + prompt + proxy). Overhead = p50 difference.
2. ``POST /retrieve`` latency p50/p95 with 8 concurrent clients (bounded: --retrieve-requests total).
3. Optionally (--llama) the packaged SmolLM2 in process: TTFT raw vs RAG, where the difference is
   mostly the model reading the added context (prompt eval), not the RAG layer.

    python bench/bench_serve.py [--embedder minilm-onnx] [--ttft-requests 40] [--retrieve-requests 240]

Prints a table, writes bench/results/serve.json. The machine is shared (2 cores): treat as rough.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from loopback import free_port, percentile, run_fake_upstream, wait_http  # bench/ sibling module

RESULTS = Path(__file__).parent / "results" / "serve.json"
ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "How does the watcher debounce and coalesce file events?",
    "Where is the writer lock taken and released?",
    "How are search results fused from lexical and dense rankings?",
    "What happens when the reranker fails?",
    "How is a chunk's embedding cached by content hash?",
    "How does the index remember which embedder built it?",
    "Where are over-long functions collapsed into signatures?",
    "How is the context budget enforced when assembling snippets?",
    "How are secrets detected and skipped during indexing?",
    "How does the OpenAI streaming response end?",
    "Where is the Continue context provider request parsed?",
    "How are upstream errors mapped to HTTP status codes?",
]


# ----- the upstream stand-in (run as: bench_serve.py --fake-upstream PORT) --------------------------
# ----- helpers -----------------------------------------------------------------------------------------
def wait_indexed(base: str, timeout: float = 1800) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/status", timeout=30).json()
        if all(r["indexing"]["phase"] in ("ready", "read-only") for r in status["repos"]):
            return status
        if any(r["indexing"]["phase"] == "failed" for r in status["repos"]):
            raise RuntimeError(f"indexing failed: {status}")
        time.sleep(0.5)
    raise RuntimeError("indexing did not finish")


def summary(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
            "mean_ms": round(statistics.fmean(ms), 1), "min_ms": round(min(ms), 1)}


def ttft(client: httpx.Client, url: str, body: dict) -> float:
    """Seconds from sending the request to the first non-empty content delta."""
    t0 = time.perf_counter()
    with client.stream("POST", url, json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line[6:])["choices"]
                if delta and delta[0].get("delta", {}).get("content"):
                    return time.perf_counter() - t0
    raise RuntimeError("no content arrived")


def measure_ttft(url: str, model: str, n: int, warmup: int = 3, **extra) -> list[float]:
    out = []
    with httpx.Client(timeout=600) as client:
        for i in range(n + warmup):
            body = {"model": model, "stream": True, "max_tokens": 8,
                    "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}], **extra}
            value = ttft(client, url, body)
            if i >= warmup:
                out.append(value)
    return out


async def retrieve_load(base: str, total: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            body = {"query": "", "fullInput": QUESTIONS[i % len(QUESTIONS)]}
            t0 = time.perf_counter()
            r = await client.post(f"{base}/retrieve", json=body)
            latencies.append(time.perf_counter() - t0)
            r.raise_for_status()

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:
        for _ in range(concurrency):  # warm every connection once
            await client.post(f"{base}/retrieve", json={"query": "", "fullInput": QUESTIONS[0]})
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return latencies, wall


def copy_corpus(dest: Path) -> Path:
    repo = dest / "corpus"
    for pkg in ("indexer", "retrieval", "serve", "eval"):
        shutil.copytree(ROOT / pkg, repo / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return repo


def llama_ttft(repo: Path, home: Path, embedder: str, n: int) -> dict:
    """SmolLM2 in process behind ragpilot: TTFT for the raw model and with retrieval."""
    port = free_port()
    env = {**os.environ, "RAGPILOT_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "ragpilot.serve.cli", "serve", "--embedder", embedder,
                             "--no-watch", "--no-index", "--n-ctx", "2048", "--context-tokens", "600",
                             "--port", str(port), str(repo)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/health", proc)
        raw = measure_ttft(f"{base}/v1/chat/completions", "ragpilot-raw", n, warmup=1)
        rag = measure_ttft(f"{base}/v1/chat/completions", "ragpilot", n, warmup=1)
        return {"raw": summary(raw), "rag": summary(rag)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="minilm-onnx")
    parser.add_argument("--ttft-requests", type=int, default=40)
    parser.add_argument("--retrieve-requests", type=int, default=240)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--llama", action="store_true", help="also measure the packaged SmolLM2 in process")
    parser.add_argument("--llama-requests", type=int, default=5)
    parser.add_argument("--fake-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_upstream:
        run_fake_upstream(args.fake_upstream)
        return 0

    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    procs: list[subprocess.Popen] = []
    try:
        repo, home = copy_corpus(work), work / "home"
        up_port, rp_port = free_port(), free_port()
        upstream = f"http://127.0.0.1:{up_port}"
        procs.append(subprocess.Popen([sys.executable, __file__, "--fake-upstream", str(up_port)]))
        wait_http(f"{upstream}/v1/models", procs[-1])
        env = {**os.environ, "RAGPILOT_HOME": str(home)}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "ragpilot.serve.cli", "serve", "--embedder", args.embedder, "--no-watch",
             "--upstream", f"{upstream}/v1", "--upstream-model", "bench-model", "--port", str(rp_port), str(repo)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{rp_port}"
        wait_http(f"{base}/health", procs[-1])
        t0 = time.perf_counter()
        status = wait_indexed(base)
        index_s = time.perf_counter() - t0
        (info,) = status["repos"]
        print(f"indexed {info['indexing']['summary']['chunks_total']} chunks of "
              f"{info['indexing']['files_total']} files with {args.embedder} in {index_s:.0f}s", file=sys.stderr)

        n = args.ttft_requests
        direct = measure_ttft(f"{upstream}/v1/chat/completions", "bench-model", n)
        raw = measure_ttft(f"{base}/v1/chat/completions", "ragpilot-raw", n)
        rag = measure_ttft(f"{base}/v1/chat/completions", "ragpilot", n)
        latencies, wall = asyncio.run(retrieve_load(base, args.retrieve_requests, args.concurrency))

        ttft_rows = {"direct upstream": summary(direct), "ragpilot-raw (proxy)": summary(raw),
                     "ragpilot (RAG, no rerank)": summary(rag)}
        overhead_p50 = ttft_rows["ragpilot (RAG, no rerank)"]["p50_ms"] - ttft_rows["direct upstream"]["p50_ms"]
        proxy_p50 = ttft_rows["ragpilot-raw (proxy)"]["p50_ms"] - ttft_rows["direct upstream"]["p50_ms"]
        retrieve = {**summary(latencies), "concurrency": args.concurrency,
                    "throughput_rps": round(len(latencies) / wall, 1)}
        result = {
            "embedder": args.embedder,
            "corpus": {"files": info["indexing"]["files_total"],
                       "chunks": info["indexing"]["summary"]["chunks_total"]},
            "machine": {"cpus": os.cpu_count(), "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
            "ttft": ttft_rows,
            "rag_overhead_p50_ms": round(overhead_p50, 1),
            "proxy_overhead_p50_ms": round(proxy_p50, 1),
            "rag_overhead_target_ms": 100,
            "retrieve": retrieve,
        }
        if args.llama:
            result["llama_cpp_smollm2"] = llama_ttft(repo, home, args.embedder, args.llama_requests)

        print(f"\nTime to first token ({n} sequential requests each; upstream answers at once)")
        print(f"{'path':<28}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
        for name, row in ttft_rows.items():
            print(f"{name:<28}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['mean_ms']:>9.1f}")
        print(f"RAG overhead (p50): {overhead_p50:.1f} ms (target < 100 ms); proxy alone: {proxy_p50:.1f} ms")
        print(f"\nPOST /retrieve, {args.concurrency} concurrent clients, {len(latencies)} requests")
        print(f"p50 {retrieve['p50_ms']:.1f} ms   p95 {retrieve['p95_ms']:.1f} ms   "
              f"{retrieve['throughput_rps']:.1f} req/s")
        if args.llama:
            llama = result["llama_cpp_smollm2"]
            print(f"\nSmolLM2-135M in process, TTFT p50: raw {llama['raw']['p50_ms']:.0f} ms, "
                  f"RAG {llama['rag']['p50_ms']:.0f} ms (difference = reading ~600 tokens of context)")
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {RESULTS}")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
