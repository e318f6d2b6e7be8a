"""Sustained load on a live server: retrieval and streaming chat while the repository is being edited.

Loopback only, bounded in time, stops by itself. Setup: a copy of the installed ``click`` package as
the repository, indexed beforehand with ``ragpilot index`` (default embedder ``minilm-onnx``), then a
real ``ragpilot serve`` subprocess on 127.0.0.1 (watching the repository) in front of a fake
OpenAI-compatible upstream (a second subprocess that streams a short reply at once, so chat measures
ragpilot's retrieval + prompt + relaying, not a model).

For ``--seconds`` (default 60): ``--retrieve-clients`` (32) loop on ``POST /retrieve``,
``--chat-clients`` (4) loop on streaming ``POST /v1/chat/completions``, and a thread edits a file of the
repository every ``--edit-every`` seconds (2), which the server's watcher applies. Reported: throughput
and p50/p99 per endpoint, errors (target 0; a stream without ``data: [DONE]`` counts), the server's RSS
at start and end, and whether the last edit became searchable.

    python bench/bench_load.py [--seconds 60] [--embedder minilm-onnx]

Prints a table, writes bench/results/load.json. The machine is shared (2 cores): treat as rough.
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
import threading
import time
from pathlib import Path

import httpx
from loopback import free_port, percentile, run_fake_upstream, wait_http  # bench/ sibling module

RESULTS = Path(__file__).parent / "results" / "load.json"

QUESTIONS = [
    "How does a command parse its options?", "Where are environment variables read for options?",
    "How is the help text formatted?", "How does click prompt for a password?",
    "What happens when a required argument is missing?", "How are subcommands of a group dispatched?",
    "How does the progress bar render?", "How is a file argument opened lazily?",
    "Where is shell completion implemented?", "How are choices validated?",
]


# ----- the upstream stand-in (run as: bench_load.py --fake-upstream PORT) ---------------------------
# ----- helpers -----------------------------------------------------------------------------------------
def wait_ready(base: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/status", timeout=30).json()
        phases = [r["indexing"]["phase"] for r in status["repos"]]
        if all(p == "ready" for p in phases):
            return status
        if any(p in ("failed", "read-only") for p in phases):
            raise RuntimeError(f"the server is not ready to watch: {status}")
        time.sleep(0.5)
    raise RuntimeError("start-up indexing did not finish")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stats(latencies_s: list[float], errors: int, seconds: float) -> dict:
    ms = [v * 1000 for v in latencies_s] or [float("nan")]
    return {"requests": len(latencies_s), "errors": errors, "throughput_rps": round(len(latencies_s) / seconds, 1),
            "p50_ms": round(statistics.median(ms), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1)}


def copy_fixture(dest: Path) -> Path:
    import click

    repo = dest / "click_repo"
    shutil.copytree(Path(click.__file__).parent, repo / "click", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


# ----- load ------------------------------------------------------------------------------------------
class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.error_samples: list[str] = []

    def fail(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:300])


async def retrieve_client(client: httpx.AsyncClient, base: str, stop_at: float, tally: Tally, seed: int) -> None:
    i = seed
    while time.monotonic() < stop_at:
        body = {"query": "", "fullInput": QUESTIONS[i % len(QUESTIONS)]}
        i += 1
        t0 = time.perf_counter()
        try:
            r = await client.post(f"{base}/retrieve", json=body)
            if r.status_code != 200 or not isinstance(r.json(), list):
                tally.fail(f"/retrieve {r.status_code}: {r.text}")
                continue
        except (httpx.HTTPError, ValueError) as err:
            tally.fail(f"/retrieve {type(err).__name__}: {err}")
            continue
        tally.latencies.append(time.perf_counter() - t0)


async def chat_client(client: httpx.AsyncClient, base: str, stop_at: float, tally: Tally, seed: int) -> None:
    i = seed
    while time.monotonic() < stop_at:
        body = {"model": "ragpilot", "stream": True, "max_tokens": 16,
                "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]}
        i += 1
        t0 = time.perf_counter()
        try:
            async with client.stream("POST", f"{base}/v1/chat/completions", json=body) as r:
                if r.status_code != 200:
                    tally.fail(f"chat {r.status_code}: {(await r.aread()).decode(errors='replace')}")
                    continue
                content, done = "", False
                async for line in r.aiter_lines():
                    if line == "data: [DONE]":
                        done = True
                    elif line.startswith("data: {"):
                        choices = json.loads(line[6:]).get("choices") or []
                        content += (choices[0].get("delta") or {}).get("content") or "" if choices else ""
                if not done or not content:
                    tally.fail(f"chat stream incomplete (done={done}, content={content!r})")
                    continue
        except (httpx.HTTPError, ValueError) as err:
            tally.fail(f"chat {type(err).__name__}: {err}")
            continue
        tally.latencies.append(time.perf_counter() - t0)


def editor(repo: Path, stop: threading.Event, every: float, log: list[str]) -> None:
    """Rewrite one file every ``every`` seconds with a fresh, searchable marker function."""
    target = repo / "click" / "bench_edits.py"
    n = 0
    while not stop.wait(every):
        n += 1
        marker = f"loadbench_marker_{n}"
        target.write_text(f'"""Edited by bench_load ({n})."""\n\n\ndef {marker}(value):\n'
                          f'    """Marker number {n}."""\n    return value + {n}\n')
        log.append(marker)


async def run_load(base: str, seconds: float, n_retrieve: int, n_chat: int) -> tuple[Tally, Tally]:
    retrieve, chat = Tally(), Tally()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=n_retrieve + n_chat + 4)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(
            *(retrieve_client(client, base, stop_at, retrieve, i) for i in range(n_retrieve)),
            *(chat_client(client, base, stop_at, chat, i) for i in range(n_chat)),
        )
    return retrieve, chat


def last_edit_searchable(base: str, marker: str, timeout: float = 30) -> float | None:
    """Seconds until the last edit's marker is the top search hit (None: not within ``timeout``)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        hits = httpx.post(f"{base}/search", json={"query": marker, "k": 3}, timeout=30).json()
        items = hits if isinstance(hits, list) else hits.get("hits", hits.get("results", []))
        if any(marker in (h.get("content") or "") for h in items):
            return time.monotonic() - t0
        time.sleep(0.25)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--embedder", default="minilm-onnx")
    parser.add_argument("--retrieve-clients", type=int, default=32)
    parser.add_argument("--chat-clients", type=int, default=4)
    parser.add_argument("--edit-every", type=float, default=2.0)
    parser.add_argument("--fake-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_upstream:
        run_fake_upstream(args.fake_upstream)
        return 0

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    procs: list[subprocess.Popen] = []
    stop_edits = threading.Event()
    try:
        repo, home = copy_fixture(work), work / "home"
        env = {**os.environ, "RAGPILOT_HOME": str(home)}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", "index", str(repo), "--embedder",
                        args.embedder, "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
        index_s = time.perf_counter() - t0

        up_port, rp_port = free_port(), free_port()
        upstream = f"http://127.0.0.1:{up_port}"
        procs.append(subprocess.Popen([sys.executable, __file__, "--fake-upstream", str(up_port)]))
        wait_http(f"{upstream}/v1/models", procs[-1])
        server = subprocess.Popen(
            [sys.executable, "-m", "ragpilot.serve.cli", "serve", "--embedder", args.embedder, "--host",
             "127.0.0.1", "--port", str(rp_port), "--upstream", f"{upstream}/v1", "--upstream-model",
             "bench-model", str(repo)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(server)
        base = f"http://127.0.0.1:{rp_port}"
        wait_http(f"{base}/health", server)
        status = wait_ready(base)
        (info,) = status["repos"]
        # Warm both paths once so the first measured requests do not pay model loading.
        httpx.post(f"{base}/retrieve", json={"query": "", "fullInput": QUESTIONS[0]}, timeout=120)
        rss_start = rss_mb(server.pid)

        rss_samples = [rss_start]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(1.0):
                rss_samples.append(rss_mb(server.pid))

        edits: list[str] = []
        threads = [threading.Thread(target=editor, args=(repo, stop_edits, args.edit_every, edits), daemon=True),
                   threading.Thread(target=sample, daemon=True)]
        for t in threads:
            t.start()
        t_load = time.perf_counter()
        retrieve, chat = asyncio.run(run_load(base, args.seconds, args.retrieve_clients, args.chat_clients))
        wall = time.perf_counter() - t_load
        stop_edits.set()
        sampling.set()
        for t in threads:
            t.join(timeout=10)
        rss_end = rss_mb(server.pid)
        lag = last_edit_searchable(base, edits[-1]) if edits else None
        alive = server.poll() is None

        result = {
            "seconds": round(wall, 1),
            "embedder": args.embedder,
            "chat_backend": "fake OpenAI-compatible upstream (subprocess, streams 6 words at once)",
            "fixture": {"repo": "copy of the installed click package", "files": info["files"],
                        "chunks": info["chunks"], "index_seconds": round(index_s, 1)},
            "clients": {"retrieve": args.retrieve_clients, "chat_stream": args.chat_clients},
            "retrieve": stats(retrieve.latencies, retrieve.errors, wall),
            "chat_stream": stats(chat.latencies, chat.errors, wall),
            "error_samples": retrieve.error_samples + chat.error_samples,
            "edits": {"made": len(edits), "every_s": args.edit_every,
                      "last_edit_searchable_after_s": None if lag is None else round(lag, 2)},
            "server_rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1),
                              "max": round(max(rss_samples), 1), "growth": round(rss_end - rss_start, 1)},
            "server_alive_at_end": alive,
            "machine": {"cpus": os.cpu_count(), "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        }
        print_table(result)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
        total_errors = retrieve.errors + chat.errors
        return 0 if total_errors == 0 and alive and lag is not None else 1
    finally:
        stop_edits.set()
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


def print_table(r: dict) -> None:
    print(f"\nload: {r['seconds']}s, {r['clients']['retrieve']} /retrieve + {r['clients']['chat_stream']} "
          f"streaming chat clients, edits every {r['edits']['every_s']}s; {r['fixture']['files']} files, "
          f"{r['fixture']['chunks']} chunks ({r['embedder']})")
    print(f"{'endpoint':<26}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for name, key in (("POST /retrieve", "retrieve"), ("POST /v1/chat (stream)", "chat_stream")):
        s = r[key]
        print(f"{name:<26}{s['requests']:>9}{s['throughput_rps']:>8}{s['p50_ms']:>9}{s['p99_ms']:>9}"
              f"{s['max_ms']:>9}{s['errors']:>8}")
    m = r["server_rss_mb"]
    print(f"server RSS MB: start {m['start']}, end {m['end']}, max {m['max']} (growth {m['growth']})")
    e = r["edits"]
    print(f"edits made: {e['made']}; last edit searchable after {e['last_edit_searchable_after_s']}s; "
          f"server alive at end: {r['server_alive_at_end']}")
    for sample in r["error_samples"]:
        print(f"  error: {sample}")


if __name__ == "__main__":
    sys.exit(main())
