"""File-level search: one ranked entry per file, with its best places, over a real indexed repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from search_corpus import index, make_repo, paths

from ragpilot.indexer.errors import UsageError
from ragpilot.retrieval.fusion import overlaps
from ragpilot.retrieval.hits import FileHit
from ragpilot.retrieval.searcher import Searcher
from ragpilot.retrieval.settings import FILE_PLACES


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> Searcher:
    base = tmp_path_factory.mktemp("files")
    idx: Path = index(make_repo(base / "repo"), base / "idx")
    return Searcher.for_index(idx)


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_each_file_appears_once_best_first_and_k_counts_files(searcher, mode):
    files = searcher.search_files("retry backoff delay attempts", k=5, mode=mode)
    if mode != "lexical":  # the dense side always answers; BM25 matches only a few files here
        assert len(files) == 5
    assert files and len(searcher.search_files("retry backoff delay attempts", k=1, mode=mode)) == 1
    assert all(isinstance(f, FileHit) for f in files)
    assert len(set(paths(files))) == len(files)
    assert [f.score for f in files] == sorted((f.score for f in files), reverse=True)


def test_a_file_that_floods_chunk_search_leaves_room_for_other_files(searcher):
    chunks = Searcher.for_index(searcher.store.index_dir, max_per_file=0).search("retry", k=5)
    assert paths(chunks).count("src/http/client.py") >= 3  # precondition: chunk search is flooded
    files = searcher.search_files("retry", k=5)
    assert paths(files)[0] == "src/http/client.py"
    assert len(files) == 5


def test_places_are_the_files_own_non_overlapping_chunks_best_first(searcher):
    files = searcher.search_files("retry", k=5)
    client = files[0]
    assert 1 < len(client.places) <= FILE_PLACES
    assert all(p.path == client.path and p.language == client.language for p in client.places)
    assert [p.score for p in client.places] == sorted((p.score for p in client.places), reverse=True)
    assert not any(overlaps(a, b) for a in client.places for b in client.places if a is not b)
    for f in files:
        assert 1 <= len(f.places) <= FILE_PLACES and all(p.path == f.path for p in f.places)


def test_an_identifier_query_ranks_its_defining_file_first(searcher):
    for query, path in [("compute_crc32_checksum", "src/util/checksum.rs"),
                        ("applyPendingMigrations", "src/db/SchemaMigrator.java")]:
        assert paths(searcher.search_files(query, k=3))[0] == path


def test_the_json_shape_is_the_file_with_its_places_as_hits(searcher):
    best = searcher.search_files("compute_crc32_checksum", k=1)[0]
    data = best.to_json()
    assert set(data) == {"path", "score", "language", "places"}
    assert data["path"] == "src/util/checksum.rs" and data["language"] == "rust"
    assert data["places"][0] == best.places[0].to_json()


def test_file_search_does_not_change_chunk_search(searcher):
    before = [(h.chunk_id, h.score) for h in searcher.search("retry backoff", k=10)]
    searcher.search_files("retry backoff", k=10)
    assert [(h.chunk_id, h.score) for h in searcher.search("retry backoff", k=10)] == before


def test_bad_arguments_are_usage_errors(searcher):
    with pytest.raises(UsageError, match="empty"):
        searcher.search_files("  ")
    with pytest.raises(UsageError, match="mode"):
        searcher.search_files("retry", mode="semantic")
    with pytest.raises(UsageError, match="k must"):
        searcher.search_files("retry", k=0)
