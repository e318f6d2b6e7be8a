"""Hand-written IDE questions on the pinned corpora, scored beside the doc and git tasks.

When ``eval/tasks/<corpus>.jsonl`` exists (the format of :mod:`eval.tasks`), ``--corpora`` also asks
those questions of every ragpilot mode and of the BM25 baselines, on the **unmodified** pinned tree:
the doc-task tree has some doc comments deleted, which would shift the hand-read gold lines. The
question index gets its own folder next to the doc index and starts from the doc index's embedding
cache (keyed by content), so only the chunks whose doc comments differ are embedded again.

Gold paths are relative to the repository root (``tree.go``, ``packages/zod/src/v4/core/errors.ts``).
A task file written for an installed-package copy (``click.jsonl``: ``click/core.py``) is read relative
to the parent of a source path instead (``src/`` + ``click/core.py``), whichever root holds every gold
file.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.table import Table

from ragpilot.indexer.catalog import CACHE_FILE
from ragpilot.indexer.errors import UsageError

from .baselines import BASELINES, build_baselines
from .corpora import sync_tree
from .engine import FILES_MODE, Engine
from .multilang import run_baselines
from .pinned import PinnedCorpus, corpus_tree
from .runner import EvalConfig, index_tree, run_tasks, work_dir_for
from .summary import summarize
from .tasks import Task, load_task_file

TASKS_DIR = Path(__file__).with_name("tasks")
COLUMNS = (("chunk", "recall@1", "R@1"), ("chunk", "recall@10", "R@10"), ("chunk", "mrr@10", "MRR"),
           ("file", "recall@10", "fR@10"))
HEAD = ["corpus", "lang", "method", "n", *(c[2] for c in COLUMNS)]


def question_file(corpus: PinnedCorpus, tasks_dir: Path = TASKS_DIR) -> Path | None:
    """``<tasks_dir>/<corpus>.jsonl`` when it exists: the corpus has hand-written questions."""
    path = tasks_dir / f"{corpus.name}.jsonl"
    return path if path.is_file() else None


def load_questions(path: Path, tree_root: Path, corpus: PinnedCorpus) -> list[Task]:
    """The tasks of ``path`` with gold paths relative to ``tree_root`` (the synced pinned tree).

    Tried roots: the tree itself, then the parent folder of each source path; the first under which
    every gold file exists wins, and its prefix is added to every gold path.
    """
    problems = []
    for prefix in _candidate_prefixes(corpus):
        try:
            tasks = load_task_file(path, tree_root / prefix if prefix else tree_root)
        except UsageError as err:
            problems.append(str(err))
            continue
        if prefix:
            for task in tasks:
                task.gold = [replace(g, path=f"{prefix}/{g.path}") for g in task.gold]
        return tasks
    raise UsageError(f"{path}: gold paths fit no root of corpus {corpus.name} ({problems[0]})")


def _candidate_prefixes(corpus: PinnedCorpus) -> list[str]:
    out = [""]
    for source in corpus.source:
        parent = Path(source.rstrip("/")).parent.as_posix()
        if parent not in (".", "") and parent not in out:
            out.append(parent)
    return out


def eval_questions(corpus: PinnedCorpus, engine: Engine, cfg: EvalConfig, *, mirrors: Path,
                   tasks_dir: Path = TASKS_DIR) -> dict | None:
    """Every mode and baseline on the corpus's hand-written questions; None when it has none."""
    path = question_file(corpus, tasks_dir)
    if path is None:
        return None
    label = f"{corpus.name}-questions"
    work = work_dir_for(cfg, engine, corpus.work_label, f"{corpus.repo}@{corpus.commit}")
    src, index_dir = work / "questions-src", work / "questions-index"
    sync_tree(corpus_tree(corpus, mirrors), src)
    tasks = load_questions(path, src, corpus)
    cfg.notify(f"{label}: {len(tasks)} hand-written questions from {path}")
    seed_cache = work / "doc-index" / CACHE_FILE
    if not (index_dir / CACHE_FILE).exists() and seed_cache.exists():
        index_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(seed_cache, index_dir / CACHE_FILE)  # content-keyed vectors stay valid
    summary = index_tree(engine, src, index_dir, cfg, label)
    records, timing = run_tasks(engine, index_dir, tasks, cfg)
    t0 = time.perf_counter()
    run_baselines(records, tasks, build_baselines(src), k=cfg.k)
    timing["baseline_seconds"] = time.perf_counter() - t0
    timing["index_seconds"] = summary.seconds
    for record in records:
        for mode in record["modes"]:  # one place per file: file level only, as in the doc tasks
            if mode.partition("@")[0] == FILES_MODE:
                record["modes"][mode]["chunk"] = None
    methods = [*BASELINES, *cfg.modes]
    header = {
        "corpus": corpus.name, "language": corpus.language, "source": f"{corpus.repo}@{corpus.commit}",
        "kind": "handwritten", "tasks_file": str(path), "embedder": engine.embedder_name, "k": cfg.k,
        "modes_requested": methods, "index": summary.to_json(),
        "timing": {k: round(v, 3) for k, v in timing.items()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    return summarize(records, methods, header=header)


# ----- the questions table (one row per corpus and method, then the mean over corpora) -------------
def rows(results: Sequence[dict]) -> list[list[str]]:
    """Rows for the corpora of ``results`` that have a ``questions`` part; [] when none has."""
    scored = [r for r in results if r.get("questions")]
    methods: dict[str, None] = {}
    for res in scored:
        for m in res["questions"]["modes"]:
            methods.setdefault(m, None)
    out: list[list[str]] = []
    per_method: dict[str, list[list[float | None]]] = {m: [] for m in methods}
    for res in scored:
        q = res["questions"]
        for i, method in enumerate(methods):
            values = _values(q["modes"].get(method))
            per_method[method].append(values)
            first = i == 0
            out.append([res["corpus"] if first else "", res["language"] if first else "", method,
                        str(q["n_tasks"]) if first else "", *_fmt(values)])
    if len(scored) > 1:
        for i, method in enumerate(methods):
            cols = zip(*per_method[method], strict=True)
            out.append(["mean" if i == 0 else "", "", method, "", *_fmt(_mean(c) for c in cols)])
    return out


def rich_table(results: Sequence[dict], title: str) -> Table | None:
    body = rows(results)
    if not body:
        return None
    table = Table(title=title, title_justify="left")
    for h in HEAD:
        table.add_column(h, justify="left" if h in ("corpus", "lang", "method") else "right")
    for r in body:
        table.add_row(*r)
    return table


def markdown(results: Sequence[dict]) -> str:
    """The questions table as markdown under its own heading; "" when no corpus has questions."""
    body = rows(results)
    if not body:
        return ""
    lines = ["## Hand-written questions (eval/tasks/<corpus>.jsonl, unmodified pinned tree)", "",
             "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _values(agg: dict | None) -> list[float | None]:
    return [agg[level][metric] if agg and agg.get(level) else None for level, metric, _ in COLUMNS]


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _fmt(values) -> list[str]:
    return ["—" if v is None else f"{v:.3f}" for v in values]
