"""Symbol navigation gold and its scorer: the gold files against the pinned trees, the scoring rules on
hand-made answers, and a run through the real query layer once it is in the build."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from mirrors import bare_mirror

from ragpilot.eval import symbolcheck
from ragpilot.eval.engine import Engine
from ragpilot.eval.git_tasks import tree_files
from ragpilot.eval.pinned import PinnedCorpus, load_registry, mirror_status, mirrors_root
from ragpilot.eval.runner import EvalConfig
from ragpilot.eval.symbolcheck import (
    GOLD_DIR,
    SymbolGold,
    aggregate,
    check_index,
    load_gold,
    run_symbolcheck,
    score_symbol,
)
from ragpilot.indexer.errors import UsageError

GOLD_FILES = sorted(GOLD_DIR.glob("*.json"))
REGISTRY = {c.name: c for c in load_registry()}


def test_there_are_ten_symbols_or_more_for_each_of_three_corpora_not_all_python():
    per_corpus = {p.stem: load_gold(p) for p in GOLD_FILES}
    assert len(per_corpus) >= 3 and all(len(g) >= 10 for g in per_corpus.values())
    assert len({REGISTRY[name].language for name in per_corpus}) >= 3
    for name, gold in per_corpus.items():
        assert json.loads((GOLD_DIR / f"{name}.json").read_text())["commit"] == REGISTRY[name].commit
        assert sum(len(g.references) for g in gold) >= 20, name


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_every_gold_site_is_a_line_of_the_indexed_tree_that_names_the_symbol(path: Path):
    corpus = REGISTRY[path.stem]
    problem = mirror_status(corpus, mirrors_root())
    if problem:
        pytest.skip(f"no mirror to check against: {problem}")
    files = tree_files(corpus.mirror_dir(mirrors_root()), corpus.commit)
    for g in load_gold(path):
        bare = g.query.rsplit(".", 1)[-1]
        for rel, line in (*g.definitions, *g.references):
            assert corpus.wants(rel), (g.query, rel)
            text = files[rel].decode("utf-8").split("\n")[line - 1]
            assert re.search(rf"(?<![\w$]){re.escape(bare)}(?![\w$])", text), (g.query, rel, line, text)
        assert not set(g.definitions) & g.references, g.query


def test_a_gold_entry_without_a_definition_is_refused(tmp_path: Path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"symbols": [{"query": "f", "definitions": [], "references": []}]}))
    with pytest.raises(UsageError, match="symbol #1"):
        load_gold(path)


# ----- scoring on hand-made answers --------------------------------------------------------------------
GOLD = SymbolGold("Mux.Mount", (("mux.go", 295),), frozenset({("mux.go", 284), ("mux.go", 10)}))


def _def(path: str, start: int, end: int):
    return SimpleNamespace(path=path, line_start=start, line_end=end)


def _ref(path: str, line: int):
    return SimpleNamespace(path=path, name="Mount", line=line, kind="call")


def test_the_definition_counts_at_rank_one_when_its_lines_hold_the_gold_line():
    right = score_symbol(GOLD, [_def("mux.go", 288, 347), _def("chi.go", 86, 86)], [])
    assert right["def_at_1"] and right["def_recall_at_5"] == 1.0
    second = score_symbol(GOLD, [_def("chi.go", 86, 86), _def("mux.go", 295, 347)], [])
    assert not second["def_at_1"] and second["def_recall_at_5"] == 1.0
    beyond = score_symbol(GOLD, [_def("x.go", n, n) for n in range(5)] + [_def("mux.go", 295, 347)], [])
    assert beyond["def_recall_at_5"] == 0.0


def test_references_are_scored_by_line_and_the_definition_line_is_not_a_false_reference():
    refs = [_ref("mux.go", 284), _ref("mux.go", 295), _ref("chi.go", 86), _ref("mux.go", 284)]
    scored = score_symbol(GOLD, [], refs)
    assert scored["refs_predicted"] == 2 and scored["refs_hit"] == 1
    assert scored["ref_precision"] == 0.5 and scored["ref_recall"] == 0.5
    assert scored["false_refs"] == ["chi.go:86"] and scored["missed_refs"] == ["mux.go:10"]


def test_a_symbol_with_no_references_is_perfect_only_when_none_are_reported():
    lonely = SymbolGold("DigestAuth", (("auth.py", 175),), frozenset())
    assert score_symbol(lonely, [], [])["ref_precision"] == 1.0
    assert score_symbol(lonely, [], [_ref("init.py", 52)])["ref_precision"] == 0.0


def test_matches_wrapping_a_definition_or_reference_are_read_too():
    wrapped = SimpleNamespace(definition=_def("mux.go", 295, 347), score=1.0)
    ref = SimpleNamespace(reference=_ref("mux.go", 284), signature="")
    scored = score_symbol(GOLD, [wrapped], [ref])
    assert scored["def_at_1"] and scored["refs_hit"] == 1


def test_micro_averages_pool_lines_and_macro_averages_symbols():
    a = {"def_at_1": True, "def_recall_at_5": 1.0, "refs_hit": 9, "refs_predicted": 10, "refs_gold": 10,
         "ref_precision": 0.9, "ref_recall": 0.9}
    b = {"def_at_1": False, "def_recall_at_5": 0.0, "refs_hit": 0, "refs_predicted": 10, "refs_gold": 1,
         "ref_precision": 0.0, "ref_recall": 0.0}
    agg = aggregate([a, b])
    assert agg["def_at_1"] == 0.5 and agg["ref_precision_micro"] == 0.45 and agg["ref_precision_macro"] == 0.45
    assert agg["ref_recall_micro"] == round(9 / 11, 4) and agg["ref_recall_macro"] == 0.45


def test_the_check_asks_the_query_layer_for_each_symbol_and_scores_its_answers(monkeypatch, tmp_path: Path):
    asked = []

    def find_symbol(index_dir, name, *, limit):
        asked.append((index_dir, name))
        return [_def("mux.go", 295, 347)]

    def find_references(index_dir, name, *, limit):
        return [_ref("mux.go", 284)]

    monkeypatch.setattr(symbolcheck, "symbol_queries", lambda: (find_symbol, find_references))
    [scored] = check_index(tmp_path, [GOLD])
    assert asked == [(tmp_path, "Mux.Mount")]
    assert scored["def_at_1"] and scored["ref_recall"] == 0.5 and scored["ref_precision"] == 1.0


# ----- through the real symbol index -----------------------------------------------------------------
MIDDLEWARE = '''def compose(middlewares, endpoint):
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = middleware(handler)
    return handler
'''
SERVER = '''from app.middleware import compose


class Server:
    def __init__(self, middlewares, router):
        self.compose = None
        self.handler = compose(middlewares, router)
'''


def test_a_run_indexes_the_pinned_tree_and_scores_the_real_queries(tmp_path: Path, ragpilot_home):
    mirrors, head = bare_mirror(tmp_path, "o/tiny", {"app/middleware.py": MIDDLEWARE, "app/server.py": SERVER})
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "tiny.json").write_text(json.dumps({"commit": head, "symbols": [
        {"query": "compose", "definitions": [{"path": "app/middleware.py", "line": 1}],
         "references": [{"path": "app/server.py", "line": 1}, {"path": "app/server.py", "line": 7}]}]}))
    corpus = PinnedCorpus("tiny", "python", "o/tiny", head, source=("app",))
    cfg = EvalConfig(modes=["hybrid"], work_dir=tmp_path / "w")
    out = tmp_path / "out"
    [result] = run_symbolcheck([corpus], Engine("hashing"), cfg, mirrors=mirrors, out_dir=out, gold_dir=gold_dir)
    [scored] = result["symbols"]
    assert scored["def_at_1"] and scored["top"][0].startswith("app/middleware.py:1-")
    assert scored["ref_recall"] == 1.0
    # the attribute `self.compose` (server.py:6) is another symbol: a name-only index reports it
    assert set(scored["false_refs"]) <= {"app/server.py:6"}
    assert json.loads((out / "summary.json").read_text())[0]["aggregate"]["n"] == 1
    assert "| tiny (python, 1) | 1.00 | 1.00 |" in (out / "summary.md").read_text()
