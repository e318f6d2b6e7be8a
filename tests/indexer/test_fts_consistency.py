"""Full-text statistics follow the rows: after churn (creates, renames, deletes, rewrites) the lexical
scores equal those of a fresh index of the same tree, so ranking never drifts with the index's history."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.lexical import lexical_search

QUERIES = ["worker run", "helper values total", "retry policy", "module", "parse query options"]


def module(i: int, flavour: str = "") -> str:
    return (
        f'"""Module {i} {flavour}."""\n\n\nclass Worker{i}:\n    def run_{i}(self, x):\n        return x * {i}\n\n\n'
        f"def helper_{i}(values):\n    total = 0\n    for v in values:\n        total += v + {i}\n    return total\n"
    )


def make_repo(root: Path, files: int) -> None:
    for i in range(files):
        path = root / f"pkg{i % 5}" / f"mod_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module(i))
    (root / "retry.py").write_text("class RetryPolicy:\n    def retry(self):\n        return 'retry policy'\n")


def churn(indexer: Indexer, repo: Path, rounds: int) -> None:
    """What a watcher sees during branch switches and refactors, applied batch by batch."""
    for r in range(rounds):
        changed: list[str] = []
        for i in range(r, 60, 7):  # rewrite some
            rel = f"pkg{i % 5}/mod_{i}.py"
            (repo / rel).write_text(module(i, flavour=f"round {r} worker helper"))
            changed.append(rel)
        for i in range(r, 60, 11):  # rename some
            old, new = repo / f"pkg{i % 5}/mod_{i}.py", repo / f"pkg{i % 5}/renamed_{r}_{i}.py"
            if old.exists():
                os.rename(old, new)
                changed += [old.relative_to(repo).as_posix(), new.relative_to(repo).as_posix()]
        for i in range(r + 3, 60, 13):  # delete some
            victim = repo / f"pkg{i % 5}/mod_{i}.py"
            if victim.exists():
                victim.unlink()
                changed.append(victim.relative_to(repo).as_posix())
        for j in range(4):  # create some
            rel = f"new/r{r}_{j}.py"
            (repo / rel).parent.mkdir(exist_ok=True)
            (repo / rel).write_text(module(1000 + 10 * r + j, flavour="fresh worker"))
            changed.append(rel)
        indexer.update(changed)


def scores(index_dir: Path) -> dict[str, list[tuple[float, str, int]]]:
    """Every match of each query with its BM25 score, best first (ties, equal in any order, by path)."""
    store = IndexStore.open(index_dir)
    return {q: sorted((-round(h.score, 4), h.path, h.start_line) for h in lexical_search(store, q, limit=200))
            for q in QUERIES}


def fresh_scores(repo: Path, tmp: Path) -> dict:
    fresh_dir = tmp / "fresh"
    shutil.rmtree(fresh_dir, ignore_errors=True)
    index_repo(repo, IndexSettings(index_dir=fresh_dir, embedder="hashing"))
    return scores(fresh_dir)


def test_with_exact_statistics_lexical_scores_after_churn_equal_a_fresh_index(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 60)
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing", fts_rebuild_share=0)
    index_repo(repo, settings)
    indexer = Indexer(repo, settings).open()
    try:
        churn(indexer, repo, rounds=6)
    finally:
        indexer.close()
    expected = fresh_scores(repo, tmp_path)
    assert IndexStore.open(index_dir).all_keys() == IndexStore.open(tmp_path / "fresh").all_keys()
    assert scores(index_dir) == expected


def test_the_watcher_rebuilds_full_text_statistics_once_enough_rows_went_stale(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 60)
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing", fts_rebuild_share=0.5)
    index_repo(repo, settings)
    indexer = Indexer(repo, settings).open()
    try:
        churn(indexer, repo, rounds=1)  # a few deletions and rewrites: below the threshold
        assert 0 < indexer.store.meta.fts_stale_rows < 0.5 * indexer.store.count_chunks()
        rewritten = [f"pkg{i % 5}/mod_{i}.py" for i in range(60) if (repo / f"pkg{i % 5}/mod_{i}.py").exists()]
        for rel in rewritten:
            (repo / rel).write_text((repo / rel).read_text() + "\n# touched\n")
        indexer.update(rewritten)  # most rows rewritten: past the threshold
        assert indexer.store.meta.fts_stale_rows == 0
        indexer.store.optimize()  # fold in the rows added since (what the watcher does every 20 commits)
    finally:
        indexer.close()
    assert scores(index_dir) == fresh_scores(repo, tmp_path)


def test_a_plain_index_run_after_churn_restores_fresh_lexical_scores(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 60)
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing")
    index_repo(repo, settings)
    indexer = Indexer(repo, settings).open()
    try:
        churn(indexer, repo, rounds=3)
    finally:
        indexer.close()
    summary = index_repo(repo, settings)  # nothing changed on disk since the churn
    assert summary.files_indexed == summary.files_deleted == 0
    assert scores(index_dir) == fresh_scores(repo, tmp_path)
