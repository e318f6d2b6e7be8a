"""Hybrid search while an index is still embedding: a row without a vector is ranked by what lexical
search says of it, not pushed below every row both sources happen to list (fusion.with_unembedded)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.fusion import with_unembedded
from ragpilot.retrieval.hits import Hit
from ragpilot.retrieval.searcher import Searcher

SOURCE = Path(__file__).resolve().parents[2] / "indexer" / "chunking"


def hit(name: str, embedded: bool = True) -> Hit:
    return Hit(path=f"{name}.py", start_line=1, end_line=2, score=0.0, symbol=name, language="python",
               content=name, chunk_id=name, embedded=embedded)


def test_rows_without_a_vector_take_their_lexical_rank_in_the_dense_list():
    dense = [hit("a"), hit("b"), hit("c")]
    lexical = [hit("new", embedded=False), hit("b"), hit("late", embedded=False)]
    assert [h.chunk_id for h in with_unembedded(dense, lexical)] == ["new", "a", "late", "b", "c"]
    assert with_unembedded(dense, [hit("b"), hit("a")]) == dense  # all embedded: unchanged
    assert [h.chunk_id for h in with_unembedded([], lexical)] == ["new", "late"]


def test_a_new_file_not_yet_embedded_is_the_top_hybrid_hit_for_its_own_name(tmp_path, fast_settings):
    tree = tmp_path / "tree"
    shutil.copytree(SOURCE, tree / "chunking", ignore=shutil.ignore_patterns("__pycache__"))
    index_repo(tree, fast_settings)
    (tree / "chunking" / "fresh.py").write_text("def freshmark_split_chunks(text):\n    return text.split()\n")
    indexer = Indexer(tree, fast_settings).open()
    try:
        indexer.run_to_end(embed=False)  # its rows are written and searchable, not embedded
    finally:
        indexer.close()
    done, total = IndexStore.open(fast_settings.index_dir_for(tree)).embedded_counts()
    assert done == total - 1
    searcher = Searcher.for_index(fast_settings.index_dir_for(tree))
    assert searcher.search("freshmark_split_chunks", k=3, mode="lexical")[0].path == "chunking/fresh.py"
    hybrid = searcher.search("freshmark_split_chunks", k=3)
    assert hybrid[0].path == "chunking/fresh.py"  # was outside the top 3: a single source's score
    files = searcher.search_files("freshmark_split_chunks", k=3)
    assert files[0].path == "chunking/fresh.py"
