"""Run tasks against an index in every mode, side by side, and record what each search returned.

Three entry points, one per kind of task: :func:`eval_docstrings` (a corpus with docstrings removed),
:func:`eval_task_file` (hand-written JSONL against a folder or corpus) and :func:`eval_git` (commit
subjects against their parent trees). Each returns the same result dict (see :func:`summarize`).
"""

from __future__ import annotations

import hashlib
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ragpilot.indexer.pipeline import IndexSummary, Progress

from . import metrics
from .corpora import corpus_files, corpus_label, python_sources, sync_tree
from .docstrings import build_docstring_tasks
from .engine import DEFAULT_MODES, Engine, parse_mode
from .git_tasks import build_git_tasks, tree_files
from .summary import summarize
from .tasks import Task, load_task_file

log = logging.getLogger(__name__)

Notify = Callable[[str], None]


@dataclass
class EvalConfig:
    """What to compare and how much of it: the knobs of ``python -m eval``."""

    modes: Sequence[str] = DEFAULT_MODES
    k: int = 10
    max_tasks: int = 150
    seed: int = 0
    rerank_queries: int = 50  # the cross-encoder costs ~1.6 s per query: rerank only the first N tasks
    strip_all: bool = False  # docstring tasks: remove every function docstring, not just the queried ones
    reuse_index: bool = False  # multi-language doc tasks: search the index a previous run left, as is
    work_dir: Path | None = None
    notify: Notify = field(default=lambda msg: None)
    on_progress: Callable[[Progress], None] | None = None

    def __post_init__(self) -> None:
        for mode in self.modes:
            parse_mode(mode)


def work_dir_for(cfg: EvalConfig, engine: Engine, label: str, source: str) -> Path:
    """A stable per-corpus, per-embedder folder: reruns reuse its index and embedding cache."""
    base = cfg.work_dir or (engine.settings(Path(".")).home.expanduser() / "eval")
    digest = hashlib.sha1(source.encode()).hexdigest()[:8]
    return (base / f"{label}-{engine.embedder_name}-{digest}").resolve()


# ----- the three kinds of evaluation ------------------------------------------------------------------
def eval_docstrings(corpus: str, engine: Engine, cfg: EvalConfig) -> dict:
    """Docstring -> function tasks on ``corpus`` (a package name, ``stdlib[:...]`` or a folder)."""
    label = corpus_label(corpus) + ("-stripall" if cfg.strip_all else "")
    files = corpus_files(corpus)
    tasks, rewritten = build_docstring_tasks(python_sources(files), max_tasks=cfg.max_tasks, seed=cfg.seed,
                                             strip_all=cfg.strip_all)
    cfg.notify(f"{label}: {len(files)} files, {len(tasks)} docstring tasks")
    for rel, text in rewritten.items():
        files[rel] = text.encode("utf-8")
    work = work_dir_for(cfg, engine, label, corpus)
    src = work / "src"
    sync_tree(files, src)
    summary = index_tree(engine, src, work / "index", cfg, label)
    records, timing = run_tasks(engine, work / "index", tasks, cfg)
    timing["index_seconds"] = summary.seconds
    kind = "docstring-stripall" if cfg.strip_all else "docstring"
    header = _header(label, corpus, kind, engine, cfg, summary, timing)
    return summarize(records, cfg.modes, header=header)


def eval_task_file(tasks_file: str | Path, engine: Engine, cfg: EvalConfig, *, repo: str | Path | None = None,
                   corpus: str | None = None) -> dict:
    """Hand-written tasks whose gold paths are relative to ``repo`` (indexed in place) or to a corpus
    copy (``corpus``: a package name or ``stdlib``, copied unchanged)."""
    if (repo is None) == (corpus is None):
        raise ValueError("give exactly one of repo or corpus")
    label = f"{Path(tasks_file).stem}-handwritten"  # never the name of a docstring corpus result
    if corpus is not None:
        work = work_dir_for(cfg, engine, label, f"corpus:{corpus}")
        src = work / "src"
        sync_tree(corpus_files(corpus), src)
    else:
        src = Path(repo).expanduser().resolve()  # type: ignore[arg-type]
        work = work_dir_for(cfg, engine, label, str(src))
    tasks = load_task_file(tasks_file, src)[: cfg.max_tasks]
    cfg.notify(f"{label}: {len(tasks)} hand-written tasks on {src}")
    summary = index_tree(engine, src, work / "index", cfg, label)
    records, timing = run_tasks(engine, work / "index", tasks, cfg)
    timing["index_seconds"] = summary.seconds
    return summarize(records, cfg.modes,
                     header=_header(label, str(corpus or src), "handwritten", engine, cfg, summary, timing))


def eval_git(repo: str | Path, engine: Engine, cfg: EvalConfig, *, max_commits: int = 2000) -> dict:
    """"Which files would I change" tasks from ``repo``'s history, each searched in its parent tree."""
    repo = Path(repo).expanduser().resolve()
    label = f"{repo.name}-git"
    tasks = build_git_tasks(repo, max_tasks=cfg.max_tasks, seed=cfg.seed, max_commits=max_commits)
    cfg.notify(f"{label}: {len(tasks)} commit tasks")
    work = work_dir_for(cfg, engine, label, str(repo))
    src, index_dir = work / "src", work / "index"
    records: list[dict] = []
    timing = {"index_seconds": 0.0, "search_seconds": 0.0}
    summary: IndexSummary | None = None
    by_parent: dict[str, list[Task]] = {}
    for task in tasks:  # oldest first: consecutive parents differ little, so indexing is incremental
        by_parent.setdefault(task.meta["parent"], []).append(task)
    done = 0
    for parent, group in by_parent.items():
        tree = tree_files(repo, parent)
        group = [t for t in group if all(g.path in tree for g in t.gold)]
        if not group:
            continue
        sync_tree(tree, src)
        summary = index_tree(engine, src, index_dir, cfg, label, quiet=True)
        timing["index_seconds"] += summary.seconds
        # the rerank budget is spent on the first tasks overall, not the first of each commit
        budget = max(0, cfg.rerank_queries - done)
        group_records, group_timing = run_tasks(engine, index_dir, group, cfg, rerank_budget=budget)
        records.extend(group_records)
        timing["search_seconds"] += group_timing["search_seconds"]
        done += len(group)
        cfg.notify(f"{label}: {done}/{len(tasks)} tasks ({parent[:10]})")
    header = _header(label, str(repo), "git", engine, cfg, summary, timing)
    return summarize(records, cfg.modes, header=header)


# ----- shared machinery ---------------------------------------------------------------------------
def index_tree(engine: Engine, src: Path, index_dir: Path, cfg: EvalConfig, label: str, *,
               quiet: bool = False) -> IndexSummary:
    """Index ``src`` into ``index_dir`` with the engine's embedder, saying what it did unless ``quiet``."""
    if not quiet:
        cfg.notify(f"{label}: indexing {src} -> {index_dir}")
    summary = engine.index(src, index_dir, None if quiet else cfg.on_progress)
    if not quiet:
        cfg.notify(f"{label}: {summary.chunks_total} chunks ({summary.chunks_embedded} embedded now) "
                   f"in {summary.seconds:.1f}s")
    return summary


def run_tasks(engine: Engine, index_dir: Path, tasks: Sequence[Task], cfg: EvalConfig, *,
              rerank_budget: int | None = None) -> tuple[list[dict], dict]:
    """Search every task in every mode; returns one record per task and the time spent searching."""
    budget = cfg.rerank_queries if rerank_budget is None else rerank_budget
    records = [{"id": t.id, "query": t.query, "kind": t.kind, "gold": [g.to_json() for g in t.gold],
                "meta": t.meta, "modes": {}} for t in tasks]
    t_all = time.perf_counter()
    for mode in cfg.modes:
        _, rerank, _ = parse_mode(mode)
        todo = list(range(min(budget, len(tasks)) if rerank else len(tasks)))
        if not todo:
            continue
        searcher = engine.searcher(index_dir, mode)
        engine.search(searcher, tasks[todo[0]].query, mode=mode, k=cfg.k)  # warm-up: model and table loads
        for i in todo:
            task = tasks[i]
            t0 = time.perf_counter()
            hits = engine.search(searcher, task.query, mode=mode, k=cfg.k)
            ms = (time.perf_counter() - t0) * 1000
            records[i]["modes"][mode] = score_hits(hits, task, ms=ms, k=cfg.k)
    return records, {"search_seconds": time.perf_counter() - t_all}


def score_hits(hits: Sequence, task: Task, *, ms: float, k: int) -> dict:
    """Everything the summary and a failure analysis need about one search."""
    top = list(hits)[:k]
    files = metrics.file_ranking(top)
    fgold = metrics.file_gold(task.gold)
    return {
        "ms": round(ms, 3),
        "hits": [f"{h.path}:{h.start_line}-{h.end_line}" for h in top],
        "kinds": [getattr(h, "kind", "") for h in top],
        "chunk": metrics.task_metrics(top, task.gold, k=k) if task.has_line_gold else None,
        "file": metrics.task_metrics(files, fgold, k=k),
        "rank": metrics.first_relevant_rank(top, task.gold),
        "tiny": metrics.tiny_share(top, k=k),
    }


def _header(label: str, source: str, kind: str, engine: Engine, cfg: EvalConfig,
            summary: IndexSummary | None, timing: dict) -> dict:
    return {
        "corpus": label,
        "source": source,
        "kind": kind,
        "embedder": engine.embedder_name,
        "k": cfg.k,
        "seed": cfg.seed,
        "max_tasks": cfg.max_tasks,
        "rerank_queries": cfg.rerank_queries,
        "modes_requested": list(cfg.modes),
        "index": summary.to_json() if summary else None,
        "timing": {k: round(v, 3) for k, v in timing.items()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
