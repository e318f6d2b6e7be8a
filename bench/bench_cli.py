"""CLI start-up and answer times, as a user's shell sees them: ``python -c pass`` (the floor), ``ragpilot
--version``, ``ragpilot status`` (small files only) and ``ragpilot status --deep`` (opens the table), and
``ragpilot search`` with no process holding the repository (it opens the index itself) and with a
``ragpilot serve`` or ``ragpilot watch`` holding it (one loopback request). Also ``import lancedb`` plain
and through ``indexer/lancedb_import.py`` (the REST namespace client's ``__init__`` deferred), the part
of a direct search that start-up costs. Prints a table (median, ratio to ``python -c pass``), writes
bench/results/cli.json.

    python bench/bench_cli.py [--runs 10] [--source indexer,retrieval]

The repository is a copy of some of ragpilot's own source folders, indexed with the default embedder
(MiniLM int8 ONNX) under a temporary RAGPILOT_HOME. Timed with hyperfine when it is installed
(``apt-get install hyperfine``), otherwise by running each command ``--runs`` times here. The holders
run on the same two cores, idle between searches.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "cli.json"
ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RAGPILOT = str(Path(sys.executable).with_name("ragpilot"))
QUERY = "where is the reciprocal rank fusion computed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_repo(dest: Path, folders: list[str]) -> Path:
    for folder in folders:
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def time_commands(commands: dict[str, list[str]], runs: int, tmp: Path) -> dict[str, dict]:
    """Median, mean, min and max wall seconds per command."""
    if shutil.which("hyperfine"):
        out = tmp / "hyperfine.json"
        names = list(commands)
        subprocess.run(["hyperfine", "-N", "--warmup", "2", "--runs", str(runs), "--export-json", str(out),
                        *(shlex.join(commands[n]) for n in names)], check=True, stdout=subprocess.DEVNULL)
        results = json.loads(out.read_text())["results"]
        return {n: {"median_s": r["median"], "mean_s": r["mean"], "min_s": r["min"], "max_s": r["max"],
                    "runs": len(r["times"]), "tool": "hyperfine"} for n, r in zip(names, results, strict=True)}
    timings = {}
    for name, cmd in commands.items():
        for _ in range(2):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        secs = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            secs.append(time.perf_counter() - t0)
        timings[name] = {"median_s": statistics.median(secs), "mean_s": statistics.fmean(secs), "min_s": min(secs),
                         "max_s": max(secs), "runs": runs, "tool": "subprocess loop"}
    return timings


class Holder:
    """A ``ragpilot serve`` or ``ragpilot watch`` holding the repository until the block ends."""

    def __init__(self, cmd: list[str], index_dir: Path, log: Path):
        self.cmd, self.index_dir, self.log = cmd, index_dir, log

    def __enter__(self) -> Holder:
        self.proc = subprocess.Popen(self.cmd, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while not list(self.index_dir.glob("server-*.json")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.cmd[1]} did not come up:\n{self.log.read_text()}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def answered_by_holder(repo: Path) -> bool:
    """One search with the client's debug log on: did the holder answer it?"""
    result = subprocess.run([RAGPILOT, "-vv", "search", QUERY, "--repo", str(repo), "--json"], capture_output=True,
                            text=True, check=True)
    return "answered by" in result.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--source", default="indexer,retrieval", help="ragpilot folders copied as the repository")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ragpilot-bench-cli-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["RAGPILOT_HOME"] = str(tmp / "home")
        os.environ.pop("RAGPILOT_NO_SERVER", None)
        repo = make_repo(tmp / "repo", args.source.split(","))
        t0 = time.perf_counter()
        summary = json.loads(subprocess.run([RAGPILOT, "index", str(repo), "--json"], capture_output=True, text=True,
                                            check=True).stdout)
        index_s = time.perf_counter() - t0
        index_dir = Path(summary["index_dir"])
        search = [RAGPILOT, "search", QUERY, "--repo", str(repo), "--json"]
        timings = time_commands({
            "python -c pass": [PYTHON, "-c", "pass"],
            "ragpilot --version": [RAGPILOT, "--version"],
            "ragpilot status": [RAGPILOT, "status", str(repo)],
            "ragpilot status --deep": [RAGPILOT, "status", str(repo), "--deep"],
            "import lancedb (plain)": [PYTHON, "-c", "import lancedb"],
            "import lancedb (lancedb_import)": [PYTHON, "-c", "from ragpilot.indexer.lancedb_import import lancedb"],
            "ragpilot search (no holder)": search,
        }, args.runs, tmp)
        broken = tmp / "no-chat.gguf"  # serve without a chat model: retrieval only, as in the tests
        broken.write_bytes(b"not a GGUF file")
        serve = [RAGPILOT, "serve", str(repo), "--no-index", "--model", str(broken), "--port", str(free_port())]
        holders = {"serve": serve, "watch": [RAGPILOT, "watch", str(repo)]}
        via = {}
        for name, cmd in holders.items():
            with Holder(cmd, index_dir, tmp / f"{name}.log"):
                via[name] = answered_by_holder(repo)
                timings.update(time_commands({f"ragpilot search (held by {name})": search}, args.runs, tmp))
    floor = timings["python -c pass"]["median_s"]
    for row in timings.values():
        row["x_python"] = round(row["median_s"] / floor, 1)
        for key in ("median_s", "mean_s", "min_s", "max_s"):
            row[key] = round(row[key], 3)
    result = {
        "note": "wall time per command; the machine is shared (2 cores, other jobs running): see loadavg",
        "repository": {"source": args.source, "files": summary["files_indexed"], "chunks": summary["chunks_total"],
                       "embedder": "minilm-onnx (default)", "index_s": round(index_s, 1)},
        "answered_by_holder": via,
        "timings": timings,
        "targets": {"--version and status (not --deep)": "<= 5x python -c pass", "search held": "<= 0.5 s",
                    "search not held": "<= 1.5 s (idle machine)"},
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    print(f"{'command':<32} {'median s':>9} {'min s':>7} {'max s':>7} {'x python':>9}")
    for name, row in timings.items():
        print(f"{name:<32} {row['median_s']:>9.3f} {row['min_s']:>7.3f} {row['max_s']:>7.3f} {row['x_python']:>9}")
    print(f"answered by the holder: {via}; {summary['chunks_total']} chunks; load average before/after "
          f"{result['loadavg_1m_before_after']} on {result['cpus']} cpus")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
