"""Stored chunks for the context-assembly tests (this module holds no tests): the sample files plus a
long function and a long class, chunked the way the index stores them."""

from __future__ import annotations

import textwrap

from samples import SAMPLE_FILES

from ragpilot.indexer.chunking import chunk_file
from ragpilot.indexer.types import Chunk
from ragpilot.retrieval.hits import Hit


def words(text: str) -> int:
    return len(text.split())


def _long_function() -> str:
    body = "\n".join(f"    value_{j} = compute_part(x, {j}) + adjust(x)" for j in range(80))
    return f"def long_pipeline(x):\n{body}\n    return x\n"


def _long_class() -> str:
    methods = []
    for i in range(6):
        body = "\n".join(f"        total_{j} = self.window_{j} * factor + {j}" for j in range(14))
        methods.append(f"    def rebalance_{i}(self, factor):\n{body}\n        return total_0\n")
    return "class Balancer:\n    \"\"\"Spreads keys.\"\"\"\n\n" + "\n".join(methods)


FILES = {
    **{rel: textwrap.dedent(text).lstrip("\n") for rel, text in SAMPLE_FILES.items()},
    "src/pipeline.py": _long_function(),
    "src/balancer.py": _long_class(),
}


def _hand_chunks(rel: str) -> list[Chunk]:
    """Chunks of the two long files cut by hand the way the chunker's contract says (indexer/types.py):
    a function too long for one chunk becomes windows sharing its symbol; a class too long becomes a
    ``collapsed`` skeleton (bodies elided) plus one chunk per method. Kept by hand so these tests pin
    context assembly, not the chunker's current heuristics."""
    lines = FILES[rel].rstrip("\n").split("\n")

    def chunk(start: int, end: int, symbol: str, kind: str, content: str | None = None) -> Chunk:
        text = "\n".join(lines[start - 1 : end]) if content is None else content
        return Chunk(rel, "python", start, end, symbol, kind, text, text)

    if rel == "src/pipeline.py":
        return [chunk(1, 28, "long_pipeline", "function"), chunk(29, 55, "long_pipeline", "function"),
                chunk(56, len(lines), "long_pipeline", "function")]
    starts = [n for n, line in enumerate(lines, start=1) if line.startswith("    def ")]
    methods = []
    for i, start in enumerate(starts):
        end = start
        while end < len(lines) and lines[end].strip():  # up to the blank line after the method
            end += 1
        methods.append(chunk(start, end, f"Balancer > rebalance_{i}", "method"))
    skeleton, n = [], 1  # the chunker's format: own lines verbatim, each method as "signature ..."
    while n <= len(lines):
        method = next((m for m in methods if m.start_line == n), None)
        skeleton.append(lines[n - 1] if method is None else lines[n - 1] + " ...")
        n = n + 1 if method is None else method.end_line + 1
    return [chunk(1, len(lines), "Balancer", "collapsed", "\n".join(skeleton)), *methods]


class ChunkedFiles:
    """Stored chunks as IndexStore.rows_for_path returns them: the real chunker's output for the small
    sample files, hand-cut (per the chunk contract) for the long ones."""

    def __init__(self, budget: int = 120):
        self.chunks = {
            rel: _hand_chunks(rel) if rel in ("src/pipeline.py", "src/balancer.py")
            else chunk_file(rel, text, budget=budget, count_tokens=words)
            for rel, text in FILES.items()
        }
        self.requests: list[str] = []

    def rows_for_path(self, path: str) -> list[dict]:
        self.requests.append(path)
        return [_row(c) for c in self.chunks.get(path, [])]

    def hit(self, path: str, index: int, score: float = 1.0) -> Hit:
        c = self.chunks[path][index]
        return Hit(c.path, c.start_line, c.end_line, score, c.symbol, c.language, c.content, c.kind)

    def find(self, path: str, **match) -> int:
        return next(i for i, c in enumerate(self.chunks[path])
                    if all(getattr(c, k) == v for k, v in match.items()))


def _row(c: Chunk) -> dict:
    return {"path": c.path, "start_line": c.start_line, "end_line": c.end_line, "symbol": c.symbol,
            "kind": c.kind, "content": c.content, "language": c.language}


def lines_of(path: str, start: int, end: int) -> str:
    return "\n".join(FILES[path].split("\n")[start - 1 : end])
