"""Reciprocal-rank fusion, overlap dedup and the per-file cap: pure functions on hand-made hits."""

from __future__ import annotations

import pytest

from ragpilot.retrieval.hits import Hit
from ragpilot.retrieval.fusion import (
    cap_per_file,
    dedup_overlapping,
    demote_kind,
    fill_capped,
    keep_sources_best,
    normalized,
    overlaps,
    rrf,
    score_fusion,
)


def hit(path: str, start: int, end: int, score: float = 0.0, *, kind: str = "function", cid: str = "") -> Hit:
    return Hit(path=path, start_line=start, end_line=end, score=score, symbol="", language="python",
               content=f"{path}:{start}", kind=kind, chunk_id=cid or f"{path}:{start}-{end}")


A, B, C, D = hit("a.py", 1, 5), hit("b.py", 1, 5), hit("c.py", 1, 5), hit("d.py", 1, 5)


def test_rrf_scores_are_the_sum_of_reciprocal_ranks():
    fused = rrf([[A, B], [B, C]], k=60)
    scores = {h.chunk_id: h.score for h in fused}
    assert scores[A.chunk_id] == pytest.approx(1 / 61)
    assert scores[B.chunk_id] == pytest.approx(1 / 62 + 1 / 61)
    assert scores[C.chunk_id] == pytest.approx(1 / 62)
    assert [h.chunk_id for h in fused] == [B.chunk_id, A.chunk_id, C.chunk_id]


def test_a_hit_found_by_both_sources_beats_a_hit_ranked_first_by_one():
    fused = rrf([[A, B, C], [D, C, B]])
    assert fused[0].chunk_id in (B.chunk_id, C.chunk_id)
    assert {fused[0].chunk_id, fused[1].chunk_id} == {B.chunk_id, C.chunk_id}


def test_rrf_weights_favour_one_source():
    lexical_first = rrf([[A], [B]], weights=[2.0, 1.0])
    dense_first = rrf([[A], [B]], weights=[1.0, 2.0])
    assert lexical_first[0].chunk_id == A.chunk_id
    assert dense_first[0].chunk_id == B.chunk_id


def test_rrf_ties_keep_first_appearance_and_results_are_deterministic():
    fused = rrf([[A, B], [C, D]])
    assert [h.chunk_id for h in fused] == [A.chunk_id, C.chunk_id, B.chunk_id, D.chunk_id]
    assert fused == rrf([[A, B], [C, D]])


def test_rrf_counts_a_chunk_listed_twice_in_one_source_once():
    fused = rrf([[A, A, B]], k=0)
    assert [h.chunk_id for h in fused] == [A.chunk_id, B.chunk_id]
    assert fused[0].score == pytest.approx(1.0)


def test_rrf_rejects_mismatched_weights_and_handles_empty_lists():
    with pytest.raises(ValueError):
        rrf([[A], [B]], weights=[1.0])
    assert rrf([[], []]) == []


def test_smaller_k_gives_the_top_ranks_more_weight():
    # A is first in one list; B is third in both. A small k lets rank 1 win, a large k rewards agreement.
    rankings = [[A, C, B], [D, hit("e.py", 1, 5), B]]

    def order(k: int) -> list[str]:
        return [h.chunk_id for h in rrf(rankings, k=k)]

    assert order(0).index(A.chunk_id) < order(0).index(B.chunk_id)
    assert order(60).index(B.chunk_id) < order(60).index(A.chunk_id)


def test_overlap_needs_the_same_file_and_a_real_share_of_lines():
    assert overlaps(hit("a.py", 1, 100, kind="collapsed"), hit("a.py", 10, 20))
    assert overlaps(hit("a.py", 10, 20), hit("a.py", 15, 25))
    assert not overlaps(hit("a.py", 1, 60), hit("a.py", 56, 110))  # windows sharing 5 context lines
    assert not overlaps(hit("a.py", 1, 10), hit("a.py", 11, 20))
    assert not overlaps(hit("a.py", 1, 10), hit("b.py", 1, 10))


def test_dedup_keeps_the_better_ranked_of_a_method_and_its_collapsed_class():
    method = hit("a.py", 10, 20, kind="function")
    parent = hit("a.py", 1, 100, kind="collapsed")
    other = hit("b.py", 1, 5)
    assert dedup_overlapping([method, other, parent]) == [method, other]
    assert dedup_overlapping([parent, method, other]) == [parent, other]


def test_dedup_keeps_separate_places_of_one_file_and_drops_exact_duplicates():
    first, second = hit("a.py", 1, 10), hit("a.py", 30, 40)
    assert dedup_overlapping([first, second, first]) == [first, second]


def test_cap_per_file_keeps_the_best_hits_of_each_file_in_order():
    hits = [hit("a.py", i * 10, i * 10 + 5) for i in range(5)] + [B]
    capped = cap_per_file(hits, 2)
    assert [h.path for h in capped] == ["a.py", "a.py", "b.py"]
    assert capped[:2] == hits[:2]
    assert cap_per_file(hits, 0) == hits  # 0 disables the cap


def test_the_file_cap_never_returns_fewer_hits_than_asked_when_one_file_holds_them_all():
    one_file = [hit("lodash.js", i * 10, i * 10 + 5) for i in range(12)]
    filled = fill_capped(one_file, 8, 10)
    assert filled == one_file  # nothing else to show: the capped-off hits come back, in order
    spread = one_file + [B, C]
    assert [h.path for h in fill_capped(spread, 8, 10)] == ["lodash.js"] * 8 + ["b.py", "c.py"]


def test_demoting_a_kind_scales_its_scores_and_keeps_the_rest_in_order():
    skeleton = hit("a.py", 1, 90, 3.0, kind="collapsed")
    method, other = hit("a.py", 10, 20, 2.0), hit("b.py", 1, 5, 1.0)
    out = demote_kind([skeleton, method, other], "collapsed", 0.5)
    assert [h.chunk_id for h in out] == [method.chunk_id, skeleton.chunk_id, other.chunk_id]
    assert demote_kind([skeleton, method], "collapsed", 1.0) == [skeleton, method]


def many(prefix: str, n: int) -> list[Hit]:
    return [hit(f"{prefix}{i}.py", 1, 5) for i in range(n)]


def ids(hits) -> list[str]:
    return [h.chunk_id for h in hits]


def test_rrf_buries_a_lexical_first_that_dense_misses_and_keep_sources_best_restores_it():
    """The failure keep_sources_best exists for: ten chunks both sources rank in the middle outscore the
    one chunk BM25 is sure of; kept, it takes the last place of the top k and the rest keep their order."""
    shared = many("shared", 10)
    sure = hit("sure.py", 1, 5)
    lexical = [sure, *many("lex", 9), *shared]
    dense = [*many("dense", 9), *shared]
    fused = rrf([lexical, dense], k=20, weights=[0.8, 1.0])
    assert sure.chunk_id not in ids(fused[:10])
    kept = keep_sources_best(fused, [lexical, dense], best=3, k=10)
    assert sure.chunk_id in ids(kept[:10])
    top = [h for h in kept[:10] if h.chunk_id not in {x.chunk_id for x in (*lexical[:3], *dense[:3])}]
    assert ids(top) == [h for h in ids(fused) if h in ids(top)]  # the others keep their fused order
    assert sorted(ids(kept)) == sorted(ids(fused))  # nothing lost, nothing repeated


def test_keep_sources_best_leaves_a_ranking_alone_when_the_best_are_already_in():
    fused = rrf([[A, B, C], [B, A, D]])
    assert ids(keep_sources_best(fused, [[A, B, C], [B, A, D]], best=2, k=3)) == ids(fused)
    assert ids(keep_sources_best(fused, [[A, B, C], [B, A, D]], best=0, k=1)) == ids(fused)


def test_keep_sources_best_moves_each_source_s_best_into_the_top_k_in_source_order():
    lexical, dense = many("l", 6), many("d", 6)
    fused = [*many("x", 6), *lexical, *dense]
    kept = keep_sources_best(fused, [lexical, dense], best=2, k=6)
    assert ids(kept[:6]) == ids([*fused[:2], lexical[0], lexical[1], dense[0], dense[1]])


def test_minmax_puts_each_list_on_zero_to_one():
    scored = [hit("a.py", 1, 5, 12.0), hit("b.py", 1, 5, 7.0), hit("c.py", 1, 5, 2.0)]
    assert [h.score for h in normalized(scored, "minmax")] == [1.0, 0.5, 0.0]
    assert [h.score for h in normalized([hit("a.py", 1, 5, 3.0)], "minmax")] == [1.0]
    z = [h.score for h in normalized(scored, "zscore")]
    assert z[1] == pytest.approx(3.0) and z[0] > z[1] > z[2]
    with pytest.raises(ValueError):
        normalized(scored, "softmax")


def test_score_fusion_lets_a_large_lead_win_where_rrf_would_not():
    """BM25 is far surer of ``sure`` than of anything else; dense ranks two other chunks close together."""
    sure, mid1, mid2 = hit("sure.py", 1, 5, 1.0), hit("m1.py", 1, 5, 0.1), hit("m2.py", 1, 5, 0.0)
    lexical = [sure, mid1, mid2]
    dense = [hit("m1.py", 1, 5, 0.55), hit("m2.py", 1, 5, 0.5)]
    assert ids(rrf([lexical, dense]))[0] == mid1.chunk_id
    fused = score_fusion([lexical, dense], [1.0, 1.0])
    assert ids(fused)[0] == sure.chunk_id
    assert fused[1].score == pytest.approx(0.65)
