"""The multi-language eval: pinned corpora, doc -> function and git-history tasks, ragpilot's modes
and the plain BM25 baselines on the same trees, reported per tune/confirm half.

For each corpus of ``corpora_pinned.toml`` whose mirror is present:

1. **doc tasks**: the indexed tree at the pinned commit, with the sampled functions' docs deleted
   (:mod:`eval.doctasks`), is indexed by ragpilot; every task is searched in every ragpilot mode and
   by both baselines (:mod:`eval.baselines`), built over the very same files.
2. **git tasks**: the newest N fix/feature commits before the pin (:func:`eval.git_tasks.recent_git_tasks`);
   each is searched in its parent's tree. Parents are visited oldest first and synced into one work
   folder, so the index is updated incrementally (only the files that changed between two parents are
   re-chunked), and the git index starts from the doc index's embedding cache (content-keyed), so
   almost nothing is embedded twice. The baselines are rebuilt for each parent tree (BM25 is cheap).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ragpilot.indexer.catalog import CACHE_FILE
from ragpilot.indexer.languages import language_for
from ragpilot.indexer.pipeline import IndexSummary

from .baselines import BASELINES, BM25Index, build_baselines
from .corpora import sync_tree
from .doctasks import SPLITS, build_doc_tasks, split_of
from .engine import FILES_MODE, Engine
from .git_tasks import recent_git_tasks
from .pinned import PinnedCorpus, corpus_tree, mirror_status
from .runner import EvalConfig, index_tree, run_tasks, score_hits, work_dir_for
from .summary import aggregate, summarize
from .tasks import Task

log = logging.getLogger(__name__)


def eval_pinned(corpus: PinnedCorpus, engine: Engine, cfg: EvalConfig, *, mirrors: Path,
                doc_tasks: int = 40, git_tasks: int = 20) -> dict | None:
    """Both kinds of task on one pinned corpus; None (after saying why) when its mirror is missing."""
    problem = mirror_status(corpus, mirrors)
    if problem:
        cfg.notify(f"skipped {problem}")
        return None
    work = work_dir_for(cfg, engine, corpus.work_label, f"{corpus.repo}@{corpus.commit}")
    out: dict = {"corpus": corpus.name, "language": corpus.language, "repo": corpus.repo,
                 "commit": corpus.commit, "source": list(corpus.source)}
    out["docstring"] = _doc_eval(corpus, engine, cfg, mirrors, work, doc_tasks)
    if git_tasks > 0:
        out["git"] = _git_eval(corpus, engine, cfg, mirrors, work, git_tasks)
    return out


def language_reader(corpus: PinnedCorpus) -> Callable[[str], str]:
    """The indexer's extension table, except ``.h`` read as ``corpus.header`` (fmt's headers are C++)."""
    def language_of(rel: str) -> str:
        if corpus.header and rel.endswith(".h"):
            return corpus.header
        return language_for(rel)
    return language_of


def _doc_eval(corpus: PinnedCorpus, engine: Engine, cfg: EvalConfig, mirrors: Path, work: Path,
              max_tasks: int) -> dict:
    label = corpus.name
    files = corpus_tree(corpus, mirrors)
    sources = _texts(files)
    tasks, rewritten, stats = build_doc_tasks(sources, max_tasks=max_tasks, seed=cfg.seed,
                                              language_of=language_reader(corpus))
    cfg.notify(f"{label}: {len(files)} files, {stats.eligible} eligible documented functions, "
               f"{stats.leaked} leaked queries dropped, {len(tasks)} doc tasks")
    for rel, text in rewritten.items():
        files[rel] = text.encode("utf-8")
    src, index_dir = work / "doc-src", work / "doc-index"
    if cfg.reuse_index and (index_dir / "meta.json").exists():
        # Ranking studies: the tree and the tasks are a fixed function of the pin and the seed, so the
        # index a previous run left is searched as is (no sync, no index pass).
        summary = None
    else:
        sync_tree(files, src)
        summary = index_tree(engine, src, index_dir, cfg, label)
    records, timing = run_tasks(engine, index_dir, tasks, cfg)
    t0 = time.perf_counter()
    run_baselines(records, tasks, build_baselines(src), k=cfg.k)
    timing["baseline_seconds"] = time.perf_counter() - t0
    timing["index_seconds"] = summary.seconds if summary else 0.0
    result = _summarize(records, cfg, _header(corpus, "docstring", engine, cfg, summary, timing))
    result["selection"] = stats.to_json()
    return result


def _git_eval(corpus: PinnedCorpus, engine: Engine, cfg: EvalConfig, mirrors: Path, work: Path,
              n: int) -> dict:
    label = f"{corpus.name}-git"
    gitdir = corpus.mirror_dir(mirrors)
    tasks = recent_git_tasks(gitdir, corpus.commit, n=n, wants=corpus.wants)
    for t in tasks:
        t.meta["split"] = split_of(t.id)
    cfg.notify(f"{label}: {len(tasks)} commit tasks (newest before {corpus.commit[:12]})")
    src, index_dir = work / "git-src", work / "git-index"
    seed_cache = work / "doc-index" / CACHE_FILE
    if not (index_dir / CACHE_FILE).exists() and seed_cache.exists():
        index_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(seed_cache, index_dir / CACHE_FILE)  # content-keyed vectors stay valid
    records: list[dict] = []
    timing = {"index_seconds": 0.0, "search_seconds": 0.0, "baseline_seconds": 0.0}
    summary: IndexSummary | None = None
    for i, task in enumerate(tasks):
        tree = corpus_tree(corpus, mirrors, task.meta["parent"])
        if not all(g.path in tree for g in task.gold):
            continue  # the file was added under another name: nothing to find in the parent
        sync_tree(tree, src)
        summary = index_tree(engine, src, index_dir, cfg, label, quiet=True)
        timing["index_seconds"] += summary.seconds
        recs, t = run_tasks(engine, index_dir, [task], cfg, rerank_budget=max(0, cfg.rerank_queries - i))
        timing["search_seconds"] += t["search_seconds"]
        t0 = time.perf_counter()
        run_baselines(recs, [task], build_baselines(src), k=cfg.k)
        timing["baseline_seconds"] += time.perf_counter() - t0
        records.extend(recs)
        cfg.notify(f"{label}: {i + 1}/{len(tasks)} ({task.meta['parent'][:10]}, "
                   f"{summary.chunks_embedded} chunks embedded)")
    return _summarize(records, cfg, _header(corpus, "git", engine, cfg, summary, timing))


def run_baselines(records: list[dict], tasks: Sequence[Task], indexes: dict[str, BM25Index], *,
                  k: int) -> None:
    """Add each baseline's hits and scores to the task records, scored like the ragpilot modes."""
    for name, index in indexes.items():
        for record, task in zip(records, tasks, strict=True):
            t0 = time.perf_counter()
            hits = index.search(task.query, k=k)
            scored = score_hits(hits, task, ms=(time.perf_counter() - t0) * 1000, k=k)
            if name == "bm25-file":
                scored["chunk"] = None  # a whole file overlaps every range: file level only
            record["modes"][name] = scored


def _summarize(records: list[dict], cfg: EvalConfig, header: dict) -> dict:
    for r in records:
        r["split"] = r["meta"].get("split") or split_of(r["id"])
        for mode in r["modes"]:  # one place per file: file level only, like bm25-file
            if mode.partition("@")[0] == FILES_MODE:
                r["modes"][mode]["chunk"] = None
    methods = [*BASELINES, *cfg.modes]
    result = summarize(records, methods, header=header)
    result["splits"] = {}
    for split in SPLITS:
        ids = {r["id"] for r in records if r["split"] == split}
        result["splits"][split] = {"n": len(ids), "modes": {
            m: agg for m in methods if ids and (agg := aggregate(records, m, ids)) is not None}}
    return result


def _texts(files: dict[str, bytes]) -> dict[str, str]:
    out = {}
    for rel, data in files.items():
        try:
            out[rel] = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    return out


def _header(corpus: PinnedCorpus, kind: str, engine: Engine, cfg: EvalConfig,
            summary: IndexSummary | None, timing: dict) -> dict:
    return {
        "corpus": corpus.name, "language": corpus.language, "source": f"{corpus.repo}@{corpus.commit}",
        "kind": kind, "embedder": engine.embedder_name, "k": cfg.k, "seed": cfg.seed,
        "modes_requested": [*BASELINES, *cfg.modes],
        "index": summary.to_json() if summary else None,
        "timing": {k: round(v, 3) for k, v in timing.items()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
