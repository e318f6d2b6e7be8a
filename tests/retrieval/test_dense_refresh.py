"""Dense search after small commits: the in-memory vectors are brought up to date, not reloaded,
and answer exactly as a freshly opened index would."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from samples import write_files
from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.dense import DenseIndex

FILES = {
    f"src/mod{i}.py": "\n".join(
        f"def handler_{i}_{j}(request, session):\n    return route_{j}(request, session, {i * 10 + j})\n"
        for j in range(6)
    )
    for i in range(40)  # one chunk each: five one-file commits stay under the reload thresholds
}
QUERIES = ["handler route request", "session cache token", "def handler_3_2", "return route 41"]


def _answers(dense: DenseIndex, embedder) -> list[list[tuple]]:
    return [
        [(h.path, h.start_line, h.end_line, h.chunk_id, round(h.score, 5))
         for h in dense.search(embedder.embed_query(q), limit=15)]
        for q in QUERIES
    ]


def _fresh_answers(index_dir: Path, embedder) -> list[list[tuple]]:
    return _answers(DenseIndex(IndexStore.open(index_dir)), embedder)


def test_dense_results_after_small_commits_equal_a_fresh_load_without_reloading(tmp_path, fast_settings):
    repo = tmp_path / "repo"
    write_files(repo, FILES)
    embedder = create_embedder("hashing")
    # No compaction after each commit (a tiny table passes the default share at once): the watcher's
    # usual case at scale. The compaction is its own step below.
    settings = fast_settings.model_copy(update={"fts_rebuild_share": 100.0})
    indexer = Indexer(repo, settings, embedder=embedder).open()
    try:
        indexer.run_to_end()
        dense = DenseIndex(IndexStore.open(indexer.index_dir))
        assert _answers(dense, embedder) == _fresh_answers(indexer.index_dir, embedder)
        buffer = dense._snap.buffer
        edits = [
            ("src/mod1.py", FILES["src/mod1.py"] + "\ndef session_cache_token(a):\n    return a\n"),
            ("src/new.py", "def handler_route_request(x):\n    return x\n"),
            ("src/mod3.py", None),  # deleted
            ("src/mod1.py", "def only_one_left():\n    return 1\n"),
            ("src/new.py", None),
        ]
        refreshed = 0
        for path, text in edits:
            target = repo / path
            if text is None:
                target.unlink()
            else:
                target.write_text(text)
            indexer.update([path])
            got = _answers(dense, embedder)
            assert got == _fresh_answers(indexer.index_dir, embedder), path
            refreshed += dense._snap.buffer is buffer
        paths = {hit[0] for answer in _answers(dense, embedder) for hit in answer}
        assert "src/mod3.py" not in paths and "src/new.py" not in paths
        # The point of the change: these commits did not reload every vector.
        assert refreshed == len(edits)
        # A compaction gives every row a new id: still the same answers (through a full reload).
        indexer.store.optimize()
        assert _answers(dense, embedder) == _fresh_answers(indexer.index_dir, embedder)
    finally:
        indexer.close()


def test_a_snapshot_in_use_keeps_its_rows_when_a_later_version_appends(tmp_path, fast_settings):
    repo = tmp_path / "repo"
    write_files(repo, FILES)
    embedder = create_embedder("hashing")
    indexer = Indexer(repo, fast_settings, embedder=embedder).open()
    try:
        indexer.run_to_end()
        dense = DenseIndex(IndexStore.open(indexer.index_dir))
        dense.search(embedder.embed_query("x"), limit=1)
        old = dense._snap
        old_ids, old_vectors = old.row_ids.copy(), old.vectors.copy()
        (repo / "src/added.py").write_text("def brand_new_function(y):\n    return y * 2\n")
        indexer.update(["src/added.py"])
        dense.search(embedder.embed_query("x"), limit=1)
        assert dense._snap is not old and dense._snap.n > old.n
        assert np.array_equal(old.row_ids, old_ids) and np.array_equal(old.vectors, old_vectors)
    finally:
        indexer.close()
