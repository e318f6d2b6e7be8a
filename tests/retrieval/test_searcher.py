"""The Searcher end to end: a real repository indexed by the real pipeline into LanceDB, then searched."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from search_corpus import index, make_repo, paths

from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.errors import IndexIncompatibleError, IndexMissingError, UsageError
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.fusion import overlaps
from ragpilot.retrieval.lexical import lexical_search, names_an_identifier
from ragpilot.retrieval.rerankers import Reranker
from ragpilot.retrieval.searcher import Searcher

@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("search")
    root = make_repo(base / "repo")
    return root, index(root, base / "idx")


@pytest.fixture(scope="module")
def searcher(indexed) -> Searcher:
    return Searcher.for_index(indexed[1])


# ----- what each source is good at ---------------------------------------------------------------
def test_an_identifier_query_finds_its_definition_first_in_hybrid_mode(searcher):
    for query, path in [("compute_crc32_checksum", "src/util/checksum.rs"),
                        ("applyPendingMigrations", "src/db/SchemaMigrator.java"),
                        ("parseSearchQuery", "web/parseQuery.ts")]:
        assert paths(searcher.search(query, mode="lexical", k=5))[0] == path
        assert paths(searcher.search(query, mode="hybrid", k=5))[0] == path


def test_a_camel_case_query_matches_a_snake_case_identifier(searcher):
    assert paths(searcher.search("computeCrc32Checksum", mode="lexical", k=3))[0] == "src/util/checksum.rs"


# ----- the shape of the results -----------------------------------------------------------------
def test_hits_carry_repo_relative_paths_and_the_exact_1_based_inclusive_lines(searcher, indexed):
    root, _ = indexed
    hits = searcher.search("retry backoff delay attempts", k=10)
    assert hits
    for h in hits:
        assert not Path(h.path).is_absolute() and "\\" not in h.path
        assert 1 <= h.start_line <= h.end_line
        if h.kind != "collapsed":
            lines = (root / h.path).read_text().split("\n")
            assert h.content == "\n".join(lines[h.start_line - 1 : h.end_line])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_no_file_floods_the_results(indexed):
    _, idx = indexed
    capped = Searcher.for_index(idx, max_per_file=2).search("retry", k=10)
    uncapped = Searcher.for_index(idx, max_per_file=0).search("retry", k=10)
    assert paths(uncapped).count("src/http/client.py") > 2  # precondition: the file would flood
    assert max(paths(capped).count(p) for p in set(paths(capped))) <= 2
    assert len(set(paths(capped))) > len(set(paths(uncapped)))


def test_a_method_and_its_collapsed_class_are_not_both_returned(searcher):
    store = searcher.store
    raw = lexical_search(store, "rebalance_shard_3", limit=20)
    balancer = [h for h in raw if h.path == "src/shards/balancer.py"]
    assert any(h.kind == "collapsed" for h in balancer)  # precondition: both chunks match
    assert any(overlaps(a, b) for a in balancer for b in balancer if a is not b)
    for mode in ("lexical", "hybrid"):
        found = searcher.search("rebalance_shard_3", k=10, mode=mode)
        hits = [h for h in found if h.path == "src/shards/balancer.py"]
        assert hits
        assert not any(overlaps(a, b) for a in hits for b in hits if a is not b)
    best = searcher.search("rebalance_shard_3", k=1, mode="lexical")[0]
    assert best.symbol == "ShardBalancer > rebalance_shard_3"


# ----- queries that must never break --------------------------------------------------------------
@pytest.mark.parametrize("query", ['"', "((", "*:*", "\\", "-- ; --", "ä ö ü", "!@#$%^&*()[]{}<>?/|~`"])
def test_a_query_with_nothing_searchable_gives_an_empty_lexical_answer_not_an_error(searcher, query):
    assert searcher.search(query, k=5, mode="lexical") == []
    assert len(searcher.search(query, k=5, mode="hybrid")) == 5  # the dense side still answers


@pytest.mark.parametrize("query", ['"unbalanced AND (', "-- ; DROP TABLE chunks; --", "path:src/* OR NOT x^2",
                                   "' OR 1=1 --", "field:value~2 +must -not"])
def test_query_syntax_characters_never_cause_an_error(searcher, query):
    for mode in ("lexical", "hybrid", "dense"):
        assert isinstance(searcher.search(query, k=5, mode=mode), list)


def test_query_syntax_in_a_real_query_is_treated_as_words(searcher):
    hits = searcher.search('"SendEmail" AND (relay OR subject:', k=3, mode="lexical")
    assert paths(hits)[0] == "src/mail/smtp.go"


def test_a_one_megabyte_query_is_cut_not_refused(searcher):
    huge = ("median values sorted " * 60_000)[: 1 << 20]
    hits = searcher.search(huge, k=3)
    assert paths(hits)[0] == "src/stats/median.ts"


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_a_usage_error(searcher, query):
    with pytest.raises(UsageError, match="empty"):
        searcher.search(query)


def test_bad_arguments_are_usage_errors(searcher):
    with pytest.raises(UsageError, match="mode"):
        searcher.search("retry", mode="semantic")
    with pytest.raises(UsageError, match="k must"):
        searcher.search("retry", k=0)
    with pytest.raises(UsageError, match="reranker"):
        searcher.search("retry", rerank=True)


# ----- index compatibility ------------------------------------------------------------------------
def test_for_index_uses_the_embedder_recorded_in_the_index(indexed):
    _, idx = indexed
    s = Searcher.for_index(idx)
    assert s.embedder.id == IndexStore.open(idx).meta.embedder_id == "hashing-384"


def test_a_different_embedder_is_refused_with_the_reindex_command(indexed):
    _, idx = indexed
    with pytest.raises(IndexIncompatibleError, match=r"ragpilot index --rebuild --embedder"):
        Searcher.for_index(idx, embedder=create_embedder("hashing", dim=256))


def test_searching_a_directory_that_was_never_indexed_says_so(tmp_path):
    with pytest.raises(IndexMissingError):
        Searcher.for_index(tmp_path / "nothing")


# ----- reranking ------------------------------------------------------------------------------------
class _Reverse(Reranker):
    id = "reverse"

    def __init__(self):
        self.seen: list[int] = []

    def score(self, query, passages):
        self.seen.append(len(passages))
        return [float(i) for i in range(len(passages))]  # the last candidate scores best


class _Failing(Reranker):
    id = "failing"

    def score(self, query, passages):
        raise RuntimeError("model exploded")


def test_reranking_reorders_an_over_fetch_of_three_times_k(indexed):
    _, idx = indexed
    reranker = _Reverse()
    s = Searcher.for_index(idx, reranker=reranker)
    fused = s.search("retry", k=4)
    reranked = s.search("retry", k=4, rerank=True)
    assert reranker.seen == [12]
    assert reranked.reranked and reranked.rerank_error is None
    assert len(reranked) == 4
    assert [(h.path, h.start_line) for h in reranked] != [(h.path, h.start_line) for h in fused]


def test_a_failing_reranker_falls_back_to_the_fused_order_and_says_so(indexed, caplog):
    _, idx = indexed
    s = Searcher.for_index(idx, reranker=_Failing())
    with caplog.at_level(logging.WARNING, logger="ragpilot.retrieval.searcher"):
        hits = s.search("retry backoff", k=5, rerank=True)
    plain = s.search("retry backoff", k=5)
    assert [(h.path, h.start_line) for h in hits] == [(h.path, h.start_line) for h in plain]
    assert not hits.reranked
    assert "model exploded" in hits.rerank_error
    assert any("model exploded" in r.getMessage() for r in caplog.records)


# ----- a live index ---------------------------------------------------------------------------------
def test_searches_see_changes_and_deletions_after_reindexing(tmp_path):
    root = make_repo(tmp_path / "repo")
    idx = index(root, tmp_path / "idx")
    s = Searcher.for_index(idx)
    assert "src/stats/median.ts" in paths(s.search("median", mode="dense", k=3))
    (root / "src/stats/median.ts").unlink()
    (root / "src/new_feature.py").write_text("def quantile_sketch_merge(a, b):\n    return a + b\n")
    index(root, idx)
    for mode in ("lexical", "dense", "hybrid"):
        found = paths(s.search("quantile_sketch_merge", mode=mode, k=3))
        assert found[0] == "src/new_feature.py", mode
        assert "src/stats/median.ts" not in paths(s.search("median", mode=mode, k=20)), mode


def test_searching_while_the_index_is_being_written_never_fails(tmp_path):
    root = make_repo(tmp_path / "repo")
    idx = index(root, tmp_path / "idx")
    s = Searcher.for_index(idx)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer():
        try:
            i = 0
            while not stop.is_set() and i < 8:
                (root / "src/churn.py").write_text(f"def churn_{i}(x):\n    return x * {i}\n")
                index(root, idx)
                i += 1
        except BaseException as err:  # noqa: BLE001 - reported by the test
            errors.append(err)

    thread = threading.Thread(target=writer)
    thread.start()
    searched = 0
    deadline = time.monotonic() + 60
    try:
        while thread.is_alive() and time.monotonic() < deadline:
            for mode in ("hybrid", "dense", "lexical"):
                hits = s.search("compute_crc32_checksum", mode=mode, k=3)
                assert paths(hits)[0] == "src/util/checksum.rs", mode
                searched += 1
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert searched > 0


def test_dense_search_above_the_in_memory_limit_uses_lancedb_and_agrees(searcher):
    from ragpilot.retrieval.dense import DenseIndex

    vector = searcher.embedder.embed_query("sorted values middle element")
    in_memory = DenseIndex(searcher.store).search(vector, limit=8)
    via_lancedb = DenseIndex(searcher.store, max_rows=0).search(vector, limit=8)
    assert [h.score for h in via_lancedb] == pytest.approx([h.score for h in in_memory], abs=1e-5)
    assert via_lancedb[0].chunk_id == in_memory[0].chunk_id  # (lower ranks may order ties differently)
    assert {h.chunk_id: round(h.score, 4) for h in via_lancedb if h.score > in_memory[-1].score + 1e-4} == {
        h.chunk_id: round(h.score, 4) for h in in_memory if h.score > in_memory[-1].score + 1e-4}


def test_an_unreadable_vector_snapshot_is_reloaded_not_reported(searcher):
    from ragpilot.retrieval.dense import DenseIndex

    dense = DenseIndex(searcher.store)
    vector = searcher.embedder.embed_query("median")
    expected = [h.chunk_id for h in dense.search(vector, limit=3)]
    stale = dense._snap

    class Vanished:
        def take_row_ids(self, ids):
            raise OSError("version files were cleaned up")

    stale.table = Vanished()
    assert [h.chunk_id for h in dense.search(vector, limit=3)] == expected
    assert dense._snap is not stale


# ----- query-aware fusion -------------------------------------------------------------------------
@pytest.mark.parametrize("query, named", [
    ("compute_crc32_checksum of the payload", True), ("where is applyPendingMigrations called", True),
    ("NewMux returns a router", True), ("what does Foo::bar do", True), ("self.retries", True),
    ("why does run() hang", True), ("Convert a string to a boolean value", False),
    ("Middlewares returns a slice", False), ("version 1.2 is out. Next", False),
])
def test_a_query_names_an_identifier_only_when_it_holds_a_token_only_code_has(query, named):
    assert names_an_identifier(query) is named


def test_a_query_naming_an_identifier_is_fused_with_the_identifier_lexical_weight(indexed):
    _, idx = indexed
    dense_only = Searcher.for_index(idx, weights=(0.0, 1.0), identifier_lexical_weight=None)
    leaning = Searcher.for_index(idx, weights=(0.0, 1.0), identifier_lexical_weight=2.0)
    query = "compute_crc32_checksum"
    assert paths(leaning.search(query, mode="hybrid", k=1)) == paths(leaning.search(query, mode="lexical", k=1))
    assert leaning.search(query, k=5) != dense_only.search(query, k=5)
    prose = "sorted values middle element"  # no identifier: lexical weight 0 leaves the dense order
    assert [h.chunk_id for h in leaning.search(prose, k=5)] == [h.chunk_id for h in dense_only.search(prose, k=5)]


def test_each_source_s_best_hit_stays_in_the_top_k_however_the_fusion_weighs_it(indexed):
    """A lexical rank 1 survives fusion even when lexical carries no weight at all (settings.SOURCES_BEST);
    turned off, the same search is the dense order."""
    _, idx = indexed
    keeping = Searcher.for_index(idx, weights=(0.0, 1.0), sources_best=3)
    dense_only = Searcher.for_index(idx, weights=(0.0, 1.0), sources_best=0)
    query = "retry"  # lexical finds src/http/retry.py; the test embedder ranks three other chunks higher
    first_lexical = keeping.search(query, mode="lexical", k=1)[0].chunk_id
    dense_top = [h.chunk_id for h in keeping.search(query, mode="dense", k=4)]
    assert first_lexical not in dense_top  # precondition: only lexical is sure of it
    assert [h.chunk_id for h in dense_only.search(query, k=4)] == dense_top
    kept = [h.chunk_id for h in keeping.search(query, k=4)]
    assert kept == [*dense_top[:3], first_lexical]  # 30 % of k=4 rounds down to one kept hit per source
    # a short list is left to the fusion: at k=1 the fused first is not replaced by a source's pick
    assert [h.chunk_id for h in keeping.search(query, k=1)] == dense_top[:1]
