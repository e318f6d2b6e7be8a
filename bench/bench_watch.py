"""How live is the live index? Edit->searchable latency and checkout-sized bursts through the watcher.

(1) latency: a repo of ~200 real source files copied from installed packages, a running watcher, one
    function edited N times (a unique token inserted each time); we time each edit until a separate
    reader finds the token in the store (p50/p95; target p95 < 1 s).
(2) burst: N files (default 500) rewritten at once, like a checkout; timed until the watcher is idle and
    every new token is stored, then proven consistent: the store's (path, start, end, content_hash) set
    equals that of a fresh index of the same tree into another directory. Then the "checkout" is undone
    (switch back): the embedding cache should make that embed ~nothing.

The fresh reference index starts from a copy of the watcher's embedding cache: vectors do not enter
the compared keys, and it saves re-embedding thousands of chunks. Rows are chunked and written anew.

    python bench/bench_watch.py [--embedder minilm-onnx] [--files 200] [--burst-files 500] [--edits 25]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path

from ragpilot.indexer.catalog import CACHE_FILE
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.walk import IgnoreRules
from ragpilot.indexer.watcher import BatchReport, RepoWatcher

PACKAGES = ["rich", "starlette", "uvicorn", "httpx", "watchdog", "click", "fastapi", "pydantic", "setuptools",
            "pygments", "pip", "markdown_it", "detect_secrets", "numpy"]
RESULTS = Path(__file__).resolve().parent / "results" / "watch.json"
DEF_LINE = re.compile(r"^(\s*)def \w+\(.*\).*:\s*$")


def collect_sources(count: int, *, min_bytes: int = 1000, max_bytes: int = 5000) -> list[tuple[Path, str]]:
    """(absolute source, repo-relative path) for ``count`` real .py files with a one-line ``def``."""
    site = Path(sysconfig.get_paths()["purelib"])
    rules = IgnoreRules(site)  # e.g. pip/_internal/operations/build/ would be skipped in the copy too
    picked: list[tuple[Path, str]] = []
    for pkg in PACKAGES:
        for src in sorted((site / pkg).rglob("*.py")):
            rel = str(src.relative_to(site))
            if rules.skip_reason(rel, False) or not (min_bytes <= src.stat().st_size <= max_bytes):
                continue
            text = src.read_text("utf-8", errors="replace")
            if any(DEF_LINE.match(line) for line in text.splitlines()):
                picked.append((src, rel))
            if len(picked) == count:
                return picked
    raise SystemExit(f"only {len(picked)} suitable source files found in {site}")


def with_marker(text: str, marker: str) -> str:
    """``text`` with ``marker`` as a string statement at the top of its first one-line-signature def."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = DEF_LINE.match(line)
        if m:
            lines.insert(i + 1, f'{m.group(1)}    _bench_marker = "{marker}"\n')
            return "".join(lines)
    return text + f'\n_bench_marker = "{marker}"\n'


def new_marker() -> str:
    return "benchtok" + uuid.uuid4().hex[:16]


def wait_until(cond, timeout: float, poll: float = 0.01) -> float | None:
    """Seconds until ``cond()`` held, or None on timeout."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if cond():
            return time.perf_counter() - t0
        time.sleep(poll)
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stored_contains(reader: IndexStore, rel: str, marker: str) -> bool:
    rows = reader.table.search().where(f"path = '{rel}'").select(["content"]).limit(10_000).to_list()
    return any(marker in r["content"] for r in rows)


def all_contents(reader: IndexStore) -> str:
    return "\n".join(reader.table.to_arrow().column("content").to_pylist())


def fresh_keys(repo: Path, settings: IndexSettings, idx: Path, cache_from: Path) -> tuple[set, float]:
    """The keys of an independent index of ``repo`` (seeded with a copy of the embedding cache)."""
    if idx.exists():
        shutil.rmtree(idx)
    idx.mkdir(parents=True)
    for f in cache_from.glob(CACHE_FILE + "*"):
        shutil.copy2(f, idx / f.name)
    t0 = time.perf_counter()
    index_repo(repo, settings.model_copy(update={"index_dir": idx}))
    return set(IndexStore.open(idx).all_keys()), time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", default="minilm-onnx")
    ap.add_argument("--files", type=int, default=200, help="repository size for the latency run")
    ap.add_argument("--burst-files", type=int, default=500, help="files rewritten at once")
    ap.add_argument("--edits", type=int, default=25)
    ap.add_argument("--debounce", type=float, default=0.25)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    sources = collect_sources(max(args.files, args.burst_files))
    work = Path(tempfile.mkdtemp(prefix="ragpilot-bench-watch-"))
    repo, idx = work / "repo", work / "idx"
    for src, rel in sources[: args.files]:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, repo / rel)
    settings = IndexSettings(home=work / "home", index_dir=idx, embedder=args.embedder)
    results: dict = {"embedder": args.embedder, "files": args.files, "burst_files": args.burst_files,
                     "debounce_s": args.debounce, "cpus": os.cpu_count(), "python": platform.python_version()}
    reports: list[BatchReport] = []
    indexer = Indexer(repo, settings).open()
    try:
        t0 = time.perf_counter()
        initial = indexer.run_to_end()
        results["initial_index"] = {"seconds": round(time.perf_counter() - t0, 2),
                                    "files": initial.files_indexed, "chunks": initial.chunks_total,
                                    "embedded": initial.chunks_embedded}
        print(f"initial index: {initial.files_indexed} files, {initial.chunks_total} chunks in "
              f"{results['initial_index']['seconds']} s", file=sys.stderr)
        reader = IndexStore.open(idx)
        with RepoWatcher(indexer, debounce_s=args.debounce, on_batch=reports.append) as watcher:
            results["backend"] = watcher.state().backend
            results["latency"] = edit_latency(repo, sources, args, reader, watcher, reports)
            print(f"latency: {results['latency']}", file=sys.stderr)
            results["burst"] = burst(repo, sources, args, reader, watcher, reports, settings, work)
    finally:
        indexer.close()
    report_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if results["burst"]["consistent"] and results["burst"]["switch_back_consistent"] else 1


def edit_latency(repo, sources, args, reader, watcher, reports) -> dict:
    rel = sources[0][1]
    original = (repo / rel).read_text("utf-8")
    latencies, batch_ms, embedded = [], [], []
    for _ in range(args.edits):
        wait_until(watcher.idle, 60)
        marker = new_marker()
        before = len(reports)
        t0 = time.perf_counter()
        (repo / rel).write_text(with_marker(original, marker), "utf-8")
        seen = wait_until(lambda m=marker: stored_contains(reader, rel, m), 60)
        if seen is None:
            raise SystemExit(f"edit never became searchable: {rel}")
        latencies.append(time.perf_counter() - t0)
        wait_until(lambda b=before: len(reports) > b and watcher.idle(), 60)
        batch = [r for r in reports[before:] if r.ok]
        batch_ms.append(sum(r.ms for r in batch))
        embedded.append(sum(r.chunks_embedded for r in batch))
    (repo / rel).write_text(original, "utf-8")
    wait_until(lambda: watcher.idle() and not stored_contains(reader, rel, "benchtok"), 60)
    return {
        "file": rel, "edits": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "batch_p50_ms": round(statistics.median(batch_ms), 1),
        "chunks_embedded_per_edit": statistics.median(embedded),
        "target_p95_ms": 1000,
    }


def burst(repo, sources, args, reader, watcher, reports, settings, work) -> dict:
    out: dict = {}
    extra = sources[args.files: args.burst_files]
    if extra:  # grow the repository to --burst-files through the watcher (new content: all embedded)
        before, t0 = len(reports), time.perf_counter()
        for src, rel in extra:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
        wait_until(lambda: watcher.idle() and len(reports) > before, 3600, poll=0.2)
        out["grow"] = _phase(reports[before:], time.perf_counter() - t0, len(extra))
        print(f"grew the repository to {args.burst_files} files in {out['grow']['seconds']} s", file=sys.stderr)
    targets = [rel for _, rel in sources[: args.burst_files]]
    originals = {rel: (repo / rel).read_text("utf-8") for rel in targets}
    markers = {rel: new_marker() for rel in targets}

    def rewrite(contents: dict[str, str], expect_present: list[str], expect_absent: str) -> dict:
        before, t0 = len(reports), time.perf_counter()
        for rel, text in contents.items():
            (repo / rel).write_text(text, "utf-8")

        def missing() -> list[str]:
            text = all_contents(reader)
            return [m for m in expect_present if m not in text] + (
                [expect_absent] if expect_absent and expect_absent in text else [])

        def consistent() -> bool:
            return watcher.idle() and len(reports) > before and not missing()

        if wait_until(consistent, 1800, poll=0.1) is None:
            raise SystemExit(f"the burst never became consistent: {missing()[:5]} (state {watcher.state()})")
        return _phase(reports[before:], time.perf_counter() - t0, len(contents))

    print(f"rewriting {len(targets)} files at once", file=sys.stderr)
    out["checkout"] = rewrite({rel: with_marker(originals[rel], markers[rel]) for rel in targets},
                              list(markers.values()), "")
    ours = set(reader.all_keys())
    theirs, fresh_s = fresh_keys(repo, settings, work / "idx-fresh", settings.index_dir)
    out["consistent"] = ours == theirs
    out["rows"], out["fresh_index_s"] = len(ours), round(fresh_s, 2)
    out["diff"] = {"only_watcher": len(ours - theirs), "only_fresh": len(theirs - ours)}
    out["switch_back"] = rewrite(originals, [], "benchtok")
    ours = set(reader.all_keys())
    theirs, _ = fresh_keys(repo, settings, work / "idx-fresh", settings.index_dir)
    out["switch_back_consistent"] = ours == theirs
    return out


def _phase(batch: list[BatchReport], seconds: float, files: int) -> dict:
    ok = [r for r in batch if r.ok]
    return {"files": files, "seconds": round(seconds, 2), "batches": len(ok),
            "failed_batches": len(batch) - len(ok), "files_indexed": sum(r.files_indexed for r in ok),
            "chunks_embedded": sum(r.chunks_embedded for r in ok),
            "chunks_cached": sum(r.chunks_cached for r in ok)}


def report_table(r: dict) -> None:
    lat, b = r["latency"], r["burst"]
    rows = [
        ("embedder / backend", f"{r['embedder']} / {r['backend']}"),
        ("initial index", f"{r['initial_index']['files']} files, {r['initial_index']['chunks']} chunks, "
                          f"{r['initial_index']['seconds']} s"),
        ("edit->searchable p50", f"{lat['p50_ms']} ms ({lat['edits']} edits)"),
        ("edit->searchable p95", f"{lat['p95_ms']} ms (target < {lat['target_p95_ms']} ms)"),
        ("edit->searchable max", f"{lat['max_ms']} ms"),
        ("batch time p50", f"{lat['batch_p50_ms']} ms, {lat['chunks_embedded_per_edit']} chunk(s) embedded"),
    ]
    if "grow" in b:
        g = b["grow"]
        rows.append(("grow (new files)", f"{g['files']} files in {g['seconds']} s, {g['batches']} batches, "
                                         f"{g['chunks_embedded']} embedded"))
    for key, label in (("checkout", "burst rewrite"), ("switch_back", "switch back")):
        p = b[key]
        rows.append((label, f"{p['files']} files consistent in {p['seconds']} s, {p['batches']} batches, "
                            f"{p['chunks_embedded']} embedded / {p['chunks_cached']} cached"))
    rows.append(("consistent with fresh index", f"{b['consistent']} ({b['rows']} rows; diff {b['diff']}); "
                                                f"after switch back: {b['switch_back_consistent']}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    sys.exit(main())
