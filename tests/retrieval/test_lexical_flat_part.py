"""Rows written since the last fold-in are searched apart from the indexed rows (LanceDB 0.40 loses the
indexed part's top-k pruning once the index has deletions and rows searched flat): the split search
returns exactly what one query over both returns, and an edited file's new words are found at once."""

from __future__ import annotations

from pathlib import Path

from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.lexical import lexical_search

QUERIES = ["worker run", "helper values total", "module", "zebracorn stampede", "retry"]


def module(i: int, extra: str = "") -> str:
    return (f'"""Module {i} {extra}."""\n\n\nclass Worker{i}:\n    def run_{i}(self, x):\n        return x * {i}\n\n\n'
            f"def helper_{i}(values):\n    total = 0\n    for v in values:\n        total += v + {i}\n    return total\n")


def edited_index(tmp_path: Path) -> tuple[IndexStore, Indexer, str]:
    repo = tmp_path / "repo"
    for i in range(30):
        (repo / f"pkg{i % 3}").mkdir(parents=True, exist_ok=True)
        (repo / f"pkg{i % 3}" / f"mod_{i}.py").write_text(module(i))
    settings = IndexSettings(index_dir=tmp_path / "idx", embedder="hashing", fts_rebuild_share=0.9)
    index_repo(repo, settings)
    indexer = Indexer(repo, settings).open()
    rel = "pkg1/mod_4.py"
    (repo / rel).write_text(module(4, "zebracorn stampede worker"))  # one file rewritten: rows deleted + added
    indexer.update([rel])
    return IndexStore.open(tmp_path / "idx"), indexer, rel


def hits(store: IndexStore, query: str) -> list[tuple[float, str, int]]:
    return [(round(h.score, 4), h.path, h.start_line) for h in lexical_search(store, query, limit=200)]


def test_after_a_single_file_commit_only_that_file_is_searched_flat(tmp_path):
    store, indexer, rel = edited_index(tmp_path)
    try:
        assert store.unindexed_rows() > 0
        part = store.flat_part()
        assert part is not None and part[1] == [rel]
    finally:
        indexer.close()


def test_the_split_search_returns_the_same_hits_and_scores_as_one_query(tmp_path, monkeypatch):
    store, indexer, rel = edited_index(tmp_path)
    try:
        split = {q: hits(store, q) for q in QUERIES}
        monkeypatch.setattr(store, "flat_part", lambda most=0: None)  # one LanceDB query over both
        assert split == {q: hits(store, q) for q in QUERIES}
        assert split["zebracorn stampede"] and {p for _, p, _ in split["zebracorn stampede"]} == {rel}
    finally:
        indexer.close()


def test_once_folded_in_no_row_is_searched_flat(tmp_path):
    store, indexer, _ = edited_index(tmp_path)
    try:
        indexer.store.optimize()
        assert store.unindexed_rows() == 0 and store.flat_part() is None
        assert hits(store, "zebracorn stampede")
    finally:
        indexer.close()
