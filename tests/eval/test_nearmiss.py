"""The near-miss report: of the doc tasks a baseline finds and a method misses, those where the method's top
k still holds a hit next to the gold (the neighbouring function) are told apart from misses elsewhere."""

from __future__ import annotations

import json

from ragpilot.eval.nearmiss import is_near, main, near_misses

GOLD = [{"path": "a/buf.h", "start_line": 100, "end_line": 102}]


def _task(hybrid_rank, hits, window_rank=1):
    return {"gold": GOLD, "modes": {"hybrid": {"rank": hybrid_rank, "hits": hits},
                                    "bm25-window40": {"rank": window_rank, "hits": []}}}


def test_a_hit_is_near_only_in_the_gold_file_and_within_the_distance():
    assert is_near(["a/buf.h:60-70"], GOLD, 40)  # ends 30 lines before the gold
    assert is_near(["a/buf.h:140-150"], GOLD, 40)  # starts 38 lines after it
    assert not is_near(["a/buf.h:150-160"], GOLD, 40)  # 48 lines after
    assert not is_near(["b/buf.h:100-102"], GOLD, 40)  # another file
    assert not is_near(["a/buf.h:150-160"], GOLD, 10)


def test_only_tasks_the_baseline_finds_and_the_method_misses_are_counted():
    result = {"corpus": "fmt", "docstring": {"tasks": [
        _task(None, ["a/buf.h:90-99", "z.h:1-5"]),  # missed, a neighbour in the top k: near
        _task(None, ["a/other.h:90-99"]),  # missed, nothing close: far
        _task(3, ["a/buf.h:100-102"]),  # found by both: not a miss
        _task(None, ["a/buf.h:90-99"], window_rank=None),  # missed by both: not counted
    ]}}
    counted = near_misses(result)
    assert (counted.corpus, counted.misses, counted.near) == ("fmt", 2, 1)
    assert near_misses(result, k=1).near == 1 and near_misses(result, lines=0).near == 0


def test_the_command_reads_a_results_folder_and_prints_the_totals(tmp_path, capsys):
    result = {"corpus": "fmt", "docstring": {"tasks": [_task(None, ["a/buf.h:90-99"])]}}
    (tmp_path / "fmt.json").write_text(json.dumps(result))
    (tmp_path / "summary.json").write_text("[]")
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| fmt | 1 | 1 |" in out and "| **all** | 1 | 1 |" in out
