"""Symbol index benchmark: what extraction adds to a cold index, how fast a one-file edit reaches the
symbol index, and how fast ``find_symbol`` answers on a large tree.

    python bench/bench_symbols.py [--package click] [--embedder minilm-onnx] [--files 10000]

(a) cold index of a real package with and without symbol extraction (``RAGPILOT_SYMBOLS`` /
    ``IndexSettings.symbols``), best of ``--repeats`` alternating runs, each in a fresh index folder (no
    embedding cache shared); also extraction's own CPU time over the same files. Target: <= 15 %.
(b) one-file edit -> symbols visible to a reader, through ``Indexer.update`` (what the watcher calls
    after its debounce), p50/p95 over ``--edits`` edits. Target: < 1 s.
(c) ``find_symbol`` on a synthetic ``--files``-file tree (symbols extracted by the real extractor from
    generated Python, Go and TypeScript): exact, qualified, case-insensitive, typo and unknown names,
    p50/p95, and the first fuzzy query's cost (the name table is built once per store version).
    Target: p50 < 20 ms.

Prints a table and writes bench/results/symbols.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.symbols.extract import extract_symbols
from ragpilot.indexer.symbols.store import SymbolStore
from ragpilot.indexer.symbols.writer import SymbolWriter
from ragpilot.retrieval.symbols import find_symbol

RESULTS = Path(__file__).parent / "results"


def package_source(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ----- (a) cold index overhead -------------------------------------------------------------------
def cold_overhead(package: str, embedder: str, repeats: int, work: Path) -> dict:
    repo = work / package
    shutil.copytree(package_source(package), repo, ignore=shutil.ignore_patterns("__pycache__"))
    walls: dict[bool, list[float]] = {True: [], False: []}
    summary = None
    for i in range(repeats):
        for symbols in (False, True) if i % 2 == 0 else (True, False):
            idx = work / f"idx-{symbols}-{i}"
            settings = IndexSettings(index_dir=idx, embedder=embedder, symbols=symbols)
            t = time.perf_counter()
            summary = index_repo(repo, settings)
            walls[symbols].append(time.perf_counter() - t)
            shutil.rmtree(idx)
    texts = [(p.relative_to(repo).as_posix(), p.read_text("utf-8", "replace")) for p in sorted(repo.rglob("*"))
             if p.is_file()]
    t = time.perf_counter()
    defs = refs = 0
    for rel, text in texts:
        found = extract_symbols(rel, text)
        defs, refs = defs + len(found.definitions), refs + len(found.references)
    extract_s = time.perf_counter() - t
    without, with_ = min(walls[False]), min(walls[True])
    assert summary is not None
    return {"package": package, "embedder": embedder, "files": summary.files_indexed,
            "chunks": summary.chunks_total, "definitions": defs, "references": refs,
            "wall_without_s": round(without, 2), "wall_with_s": round(with_, 2),
            "overhead_pct": round(100 * (with_ - without) / without, 1),
            "extraction_cpu_s": round(extract_s, 3), "extraction_share_pct": round(100 * extract_s / without, 1),
            "runs_without_s": [round(w, 2) for w in walls[False]], "runs_with_s": [round(w, 2) for w in walls[True]]}


# ----- (b) edit -> symbols latency ---------------------------------------------------------------
def edit_latency(package: str, embedder: str, edits: int, work: Path) -> dict:
    repo = work / f"{package}-edits"
    shutil.copytree(package_source(package), repo, ignore=shutil.ignore_patterns("__pycache__"))
    settings = IndexSettings(index_dir=work / "idx-edits", embedder=embedder)
    targets = sorted(p for p in repo.rglob("*.py") if p.stat().st_size > 2000)[:edits]
    latencies, symbol_parts = [], []
    with Indexer(repo, settings) as indexer:
        indexer.run_to_end()
        assert indexer.symbols is not None
        write = indexer.symbols.write

        def timed_write(*args, **kwargs):  # the symbol index's own share of each update
            t0 = time.perf_counter()
            write(*args, **kwargs)
            symbol_parts.append(time.perf_counter() - t0)

        indexer.symbols.write = timed_write  # type: ignore[method-assign]
        reader = SymbolStore(settings.index_dir, readonly=True)
        for i in range(edits):
            target = targets[i % len(targets)]
            rel = target.relative_to(repo).as_posix()
            name = f"bench_edit_{i}"
            t = time.perf_counter()
            target.write_text(target.read_text() + f"\n\ndef {name}(value):\n    return value\n")
            indexer.update([rel])
            seen = any(d.name == name for d in reader.definitions_named(name))
            latencies.append(time.perf_counter() - t)
            assert seen, f"{name} not in the symbol index after update"
        reader.close()
    return {"edits": edits, "embedder": embedder, "p50_ms": ms(statistics.median(latencies)),
            "p95_ms": ms(percentile(latencies, 0.95)), "max_ms": ms(max(latencies)),
            "symbols_part_p50_ms": ms(statistics.median(symbol_parts)),
            "symbols_part_p95_ms": ms(percentile(symbol_parts, 0.95))}


# ----- (c) find_symbol on a 10k-file tree ---------------------------------------------------------
WORDS = ("request", "response", "client", "server", "cache", "queue", "router", "handler", "session",
         "token", "parser", "reader", "writer", "buffer", "stream", "config", "policy", "retry", "event",
         "store", "index", "record", "batch", "worker", "task", "frame", "codec", "schema", "model", "view")


def _camel(*parts: str) -> str:
    return "".join(p.capitalize() for p in parts)


def synthetic_file(i: int, rng: random.Random) -> tuple[str, str]:
    a, b, c = rng.sample(WORDS, 3)
    cls = f"{_camel(a, b)}{i}"
    kind = i % 3
    if kind == 0:
        methods = "\n".join(
            f"    def {v}_{w}_{i}(self, {w}: int) -> int:\n        return helper_{c}_{i - 1}(self.{v}_{w}) + {w}\n"
            for v, w in zip(rng.sample(WORDS, 4), rng.sample(WORDS, 4), strict=True))
        text = (f"from .base import {_camel(c, 'Base')}\n\nLIMIT_{i} = {i}\n\n\nclass {cls}({_camel(c, 'Base')}):\n"
                f"{methods}\n\ndef helper_{c}_{i}(value):\n    return {cls}().{a}_{b}(value)\n")
        return f"pkg{i % 97}/mod_{a}_{i}.py", text
    if kind == 1:
        text = (f"package pkg{i % 97}\n\ntype {cls} struct {{\n\tcount int\n}}\n\n"
                + "".join(f"func (s *{cls}) {_camel(w, c)}(n int) int {{\n\treturn s.count + Helper{i}(n)\n}}\n\n"
                          for w in rng.sample(WORDS, 4))
                + f"func Helper{i}(n int) int {{\n\treturn n\n}}\n")
        return f"go/pkg{i % 97}/{a}_{i}.go", text
    text = (f"export interface {_camel(a, 'options')}{i} {{ {b}: number; }}\n\n"
            f"export class {cls} {{\n"
            + "".join(f"  {w}{_camel(c)}(x: number): number {{ return make{cls}(x); }}\n" for w in rng.sample(WORDS, 4))
            + f"}}\n\nexport function make{cls}(x: number): number {{ return x * {i}; }}\n")
    return f"web/pkg{i % 97}/{a}{i}.ts", text


def build_synthetic(files: int, work: Path) -> tuple[Path, float, tuple[int, int, int]]:
    index_dir = work / "idx-synthetic"
    index_dir.mkdir()
    rng = random.Random(14)
    writer = SymbolWriter(index_dir)
    t = time.perf_counter()
    batch = []
    for i in range(files):
        batch.append(synthetic_file(i, rng))
        if len(batch) == 500:
            writer.write(batch)
            batch = []
    writer.write(batch)
    build_s = time.perf_counter() - t
    counts = writer.store.counts()
    writer.close()
    return index_dir, build_s, counts


def query_latency(index_dir: Path, samples: int) -> dict:
    with SymbolStore(index_dir, readonly=True) as store:
        defs = store.definitions()
    rng = random.Random(7)
    picked = rng.sample(defs, samples)
    first = time.perf_counter()
    find_symbol(index_dir, "helper_cahce_1")  # builds the fuzzy name table for this store version
    first_fuzzy = time.perf_counter() - first

    def typo(name: str) -> str:
        j = rng.randrange(1, len(name) - 1)
        return name[:j] + name[j + 1] + name[j] + name[j + 2:]

    queries = {
        "exact name": [d.name for d in picked],
        "qualified name": [d.qualified for d in picked],
        "other case": [d.name.swapcase() for d in picked],
        "one typo": [typo(d.name) for d in picked],
        "unknown name": [f"NoSuchSymbol{i}" for i in range(samples)],
        "exact, fuzzy off": [d.name for d in picked],
    }
    out = {"first_fuzzy_query_ms": ms(first_fuzzy)}
    for label, names in queries.items():
        fuzzy = label != "exact, fuzzy off"
        times = []
        for name in names:
            t = time.perf_counter()
            find_symbol(index_dir, name, fuzzy=fuzzy)
            times.append(time.perf_counter() - t)
        out[label] = {"p50_ms": ms(statistics.median(times)), "p95_ms": ms(percentile(times, 0.95))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="click")
    parser.add_argument("--embedder", default="minilm-onnx")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-cold", action="store_true", help="Only (b) and (c).")
    args = parser.parse_args()
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_cold:
            result["cold"] = cold_overhead(args.package, args.embedder, args.repeats, work)
        result["edit"] = edit_latency(args.package, args.embedder, args.edits, work)
        index_dir, build_s, (files, defs, refs) = build_synthetic(args.files, work)
        result["synthetic"] = {"files": files, "definitions": defs, "references": refs,
                               "extract_and_store_s": round(build_s, 2),
                               "db_mb": round((index_dir / "symbols.sqlite").stat().st_size / 2**20, 1)}
        result["find_symbol"] = query_latency(index_dir, args.queries)
    result["machine"] = {  # the load average says how far timings are from an idle machine"cpus": os.cpu_count(), "python": platform.python_version(),
                         "load_avg_1m": round(os.getloadavg()[0], 2)}
    rows = []
    if "cold" in result:
        c = result["cold"]
        rows += [(f"cold index of {c['package']} ({c['files']} files, {c['chunks']} chunks, {c['embedder']})", ""),
                 ("  wall without symbols (s)", c["wall_without_s"]), ("  wall with symbols (s)", c["wall_with_s"]),
                 ("  overhead % (target <= 15)", c["overhead_pct"]),
                 ("  extraction CPU (s)", c["extraction_cpu_s"]),
                 ("  extraction / wall without %", c["extraction_share_pct"]),
                 ("  definitions / references", f"{c['definitions']}/{c['references']}")]
    e = result["edit"]
    rows += [(f"one-file edit -> symbols via Indexer.update ({e['embedder']})", ""),
             ("  p50 ms", e["p50_ms"]), ("  p95 ms (target < 1000)", e["p95_ms"]),
             ("  of which symbol extraction + store: p50 / p95 ms",
              f"{e['symbols_part_p50_ms']} / {e['symbols_part_p95_ms']}")]
    s = result["synthetic"]
    rows += [(f"synthetic tree: {s['files']} files, {s['definitions']} defs, {s['references']} refs", ""),
             ("  extract + store (s)", s["extract_and_store_s"]), ("  symbols.sqlite (MB)", s["db_mb"]),
             ("  first fuzzy query (builds name table) ms", result["find_symbol"]["first_fuzzy_query_ms"])]
    for label, v in result["find_symbol"].items():
        if isinstance(v, dict):
            rows.append((f"  find_symbol {label}: p50 / p95 ms (target p50 < 20)", f"{v['p50_ms']} / {v['p95_ms']}"))
    for name, value in rows:
        print(f"{name:<72}{value!s:>16}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "symbols.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
