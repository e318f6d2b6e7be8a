"""Plain reference methods run on the same tree and tasks as ragpilot: what a simple search gets.

- ``bm25-window40``: BM25 over fixed, non-overlapping 40-line windows of every indexed file (lines
  1-40, 41-80, ...). Its hits are scored by exactly the rule the ragpilot modes are scored by
  (:func:`eval.metrics.overlaps`: same file, at least one shared line), and its file ranking is the
  distinct files of its top windows, as for ragpilot.
- ``bm25-file``: BM25 over whole files; file level only (a whole-file "hit" would overlap every gold
  range, so it gets no chunk-level score).

Both use ``bm25s`` (Lucene BM25, k1=1.5, b=0.75) with :func:`code_tokens`, a deliberately plain
tokenizer: split on anything that is not a letter or digit (so ``snake_case`` splits), split each
run at camelCase / digit boundaries, lower-case the parts, and also keep the whole run lower-cased
when it split (``getUserName`` -> ``get``, ``user``, ``name``, ``getusername``). No stop words, no
stemming. The file list is the indexer's own walk of the tree, so every method sees the same files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.walk import walk_repo

log = logging.getLogger(__name__)

WINDOW_LINES = 40
BASELINES = ("bm25-window40", "bm25-file")
_RUN = re.compile(r"[A-Za-z0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def code_tokens(text: str) -> list[str]:
    """Plain code tokens (see the module doc)."""
    out: list[str] = []
    for run in _RUN.findall(text):
        parts = _PART.findall(run)
        out.extend(p.lower() for p in parts)
        if len(parts) > 1:
            out.append(run.lower())
    return out


@dataclass(frozen=True, slots=True)
class SpanHit:
    """A baseline hit: a window (or a whole file) of one file, 1-based inclusive lines."""

    path: str
    start_line: int
    end_line: int
    kind: str
    score: float = 0.0


def windows(rel: str, text: str, size: int = WINDOW_LINES) -> list[tuple[SpanHit, str]]:
    """Fixed ``size``-line windows of one file, each with its text; an empty file has none."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [(SpanHit(rel, start + 1, min(start + size, len(lines)), "window"),
             "\n".join(lines[start: start + size])) for start in range(0, len(lines), size)]


def read_tree(root: Path) -> dict[str, str]:
    """The text of every file the indexer would index under ``root``."""
    out: dict[str, str] = {}
    for entry in walk_repo(root).files:
        try:
            out[entry.rel] = entry.abs.read_bytes().decode("utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            continue
    return out


class BM25Index:
    """BM25 over a fixed list of spans; search returns the top spans with a positive score."""

    def __init__(self, spans: Sequence[SpanHit], texts: Sequence[str]):
        try:
            import bm25s  # optional (the ``test`` extra): imported only when a baseline runs
        except ImportError:
            raise UsageError("the eval baselines need bm25s: pip install 'ragpilot[test]' "
                             "(or pip install bm25s)") from None
        self.spans = list(spans)
        self._model = bm25s.BM25()
        corpus = [code_tokens(t) or ["\x00empty"] for t in texts]
        if self.spans:
            self._model.index(corpus, show_progress=False)

    def search(self, query: str, k: int = 10) -> list[SpanHit]:
        if not self.spans:
            return []
        vocab = self._model.vocab_dict
        terms = [t for t in code_tokens(query) if t in vocab]
        if not terms:
            return []
        scores = np.asarray(self._model.get_scores(terms), dtype=np.float64)
        order = np.argsort(-scores, kind="stable")[:k]
        return [SpanHit(self.spans[i].path, self.spans[i].start_line, self.spans[i].end_line,
                        self.spans[i].kind, float(scores[i])) for i in order if scores[i] > 0]


def window_index(files: dict[str, str], size: int = WINDOW_LINES) -> BM25Index:
    pairs = [pair for rel in sorted(files) for pair in windows(rel, files[rel], size)]
    return BM25Index([p[0] for p in pairs], [p[1] for p in pairs])


def file_index(files: dict[str, str]) -> BM25Index:
    rels = sorted(files)
    spans = [SpanHit(rel, 1, max(1, files[rel].count("\n") + 1), "file") for rel in rels]
    return BM25Index(spans, [files[rel] for rel in rels])


def build_baselines(root: Path) -> dict[str, BM25Index]:
    """Both baselines over the files the indexer sees under ``root``."""
    files = read_tree(root)
    return {"bm25-window40": window_index(files), "bm25-file": file_index(files)}
