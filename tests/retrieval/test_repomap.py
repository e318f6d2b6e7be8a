"""The repo map's ranking and rendering on small hand-made symbol graphs (no index, no store)."""

from __future__ import annotations

import numpy as np
import pytest

from ragpilot.indexer.symbols.types import Definition, Reference
from ragpilot.indexer.types import approx_tokens
from ragpilot.retrieval.repomap import build_repo_map
from ragpilot.retrieval.repomap_graph import MAX_DEFINERS, build_graph, name_weight
from ragpilot.retrieval.repomap_mentions import mentioned_files, mentioned_names
from ragpilot.retrieval.repomap_rank import pagerank


def d(path: str, name: str, line: int = 1, *, kind: str = "function", parent: str = "", end: int | None = None,
      signature: str | None = None) -> Definition:
    qualified = f"{parent}.{name}" if parent else name
    return Definition(path, name, qualified, kind, line, end or line + 2,
                      signature if signature is not None else f"def {name}()", parent, "python")


def r(path: str, name: str, line: int = 1) -> Reference:
    return Reference(path, name, line, "call")


def hub_and_spokes():
    """core/hub.py defines dispatch_request, used by five handlers; a lone leaf defines charge_card."""
    defs = [d("core/hub.py", "dispatch_request", 3), d("core/hub.py", "Router", 10, kind="class"),
            d("billing/payments.py", "charge_card", 5)]
    refs = []
    for i in range(5):
        path = f"handlers/h{i}.py"
        defs.append(d(path, f"handle_{i}", 1))
        refs += [r(path, "dispatch_request", 2), r(path, "Router", 3)]
    return build_graph(defs, refs)


def order(repo_map) -> list[str]:
    return [f.path for f in repo_map.files]


def test_the_file_every_other_file_depends_on_ranks_first():
    ranked = order(build_repo_map(hub_and_spokes(), budget_tokens=2000))
    assert ranked[0] == "core/hub.py"
    assert set(ranked) == {"core/hub.py", "billing/payments.py", *(f"handlers/h{i}.py" for i in range(5))}


def test_naming_an_identifier_in_the_question_moves_its_file_up():
    graph = hub_and_spokes()
    plain = order(build_repo_map(graph, budget_tokens=2000))
    asked = order(build_repo_map(graph, budget_tokens=2000, question="how is a card charged? see charge_card"))
    assert plain.index("billing/payments.py") > 0
    assert asked[0] == "billing/payments.py"


def test_naming_a_file_or_searching_for_it_moves_it_up():
    graph = hub_and_spokes()
    assert order(build_repo_map(graph, budget_tokens=2000, question="what is in payments.py?"))[0] == \
        "billing/payments.py"
    searched = build_repo_map(graph, budget_tokens=2000, question="billing", search_paths=["handlers/h3.py"])
    assert searched.personalized
    assert order(searched)[0] == "handlers/h3.py"


def test_a_question_that_names_nothing_gives_the_plain_ranking():
    graph = hub_and_spokes()
    asked = build_repo_map(graph, budget_tokens=2000, question="how are things organised here?")
    assert not asked.personalized
    assert order(asked) == order(build_repo_map(graph, budget_tokens=2000))


def test_a_name_defined_in_many_files_splits_its_vote():
    # Six files define `get`; one file defines `load_settings`. Each is referenced by the same three users.
    defs = [d(f"stores/s{i}.py", "get") for i in range(6)] + [d("config/settings.py", "load_settings")]
    refs = [r(f"app/u{i}.py", name) for i in range(3) for name in ("get", "load_settings")]
    defs += [d(f"app/u{i}.py", f"main_{i}") for i in range(3)]
    ranked = order(build_repo_map(build_graph(defs, refs), budget_tokens=2000))
    assert ranked[0] == "config/settings.py"
    assert name_weight("get", 6) < name_weight("get", 1) < name_weight("load_settings", 1)
    assert name_weight("_private", 1) < name_weight("private", 1)


def test_a_name_defined_in_very_many_files_gets_no_edges_at_all():
    defs = [d(f"m{i}.py", "close") for i in range(MAX_DEFINERS + 1)] + [d("db.py", "connect_pool")]
    refs = [r(f"u{i}.py", name) for i in range(5) for name in ("close", "connect_pool")]
    graph = build_graph(defs, refs)
    assert graph.edge_count == 5 and set(graph.names) == {"connect_pool"}


def test_a_file_using_its_own_definitions_gets_no_edge():
    graph = build_graph([d("a.py", "helper_function")], [r("a.py", "helper_function", 9)])
    assert graph.edge_count == 0


def test_a_file_lists_its_most_used_definitions_first_and_shows_them_in_line_order():
    defs = [d("lib.py", "rare", 1), d("lib.py", "popular_call", 20), d("lib.py", "Thing", 40, kind="class"),
            d("lib.py", "method", 41, parent="Thing", signature="def method(self)"),
            d("lib.py", "attr", 42, kind="field", parent="Thing")]
    refs = [r(f"u{i}.py", "popular_call") for i in range(4)] + [r("u0.py", "Thing"), r("u2.py", "Thing")]
    refs += [r("u1.py", "rare")]
    m = build_repo_map(build_graph(defs, refs), budget_tokens=2000)
    lib = next(f for f in m.files if f.path == "lib.py")
    assert [x.name for x in lib.definitions][:2] == ["popular_call", "Thing"]
    assert "attr" not in {x.name for x in lib.definitions}  # fields are not key signatures
    block = m.text.split("\n\n")[0] if "\n\n" in m.text else m.text
    assert "lib.py\n  1: def rare()\n  20: def popular_call()\n  40: def Thing()\n  41:   def method(self)" \
        in block


@pytest.mark.parametrize("budget", [64, 100, 250, 1000])
def test_the_rendered_map_never_exceeds_its_budget(budget):
    defs, refs = [], []
    for i in range(60):
        path = f"pkg/module_{i}.py"
        defs += [d(path, f"function_number_{i}_{j}", 10 * j, signature=f"def function_number_{i}_{j}(x, y, z)")
                 for j in range(6)]
        refs += [r(path, f"function_number_{(i + 1) % 60}_{j}") for j in range(6)]
    m = build_repo_map(build_graph(defs, refs), budget_tokens=budget)
    assert m.text and m.tokens == approx_tokens(m.text) <= budget
    assert m.files_total == 60
    bigger = build_repo_map(build_graph(defs, refs), budget_tokens=budget * 2)
    assert len(bigger.files) >= len(m.files) and len(bigger.text) > len(m.text)


def test_a_file_that_does_not_fit_whole_shows_its_most_important_signatures():
    defs = [d("big.py", f"function_{j}", j * 10, signature=f"def function_{j}(argument_one, argument_two)")
            for j in range(8)]
    m = build_repo_map(build_graph(defs, []), budget_tokens=64)
    (only,) = m.files
    assert 1 <= len(only.definitions) < 8 and m.tokens <= 64


def test_an_empty_graph_gives_an_empty_map():
    m = build_repo_map(build_graph([], []), budget_tokens=512, question="anything at all")
    assert m.text == "" and m.files == [] and m.tokens == 0


def test_questions_mention_names_loosely_but_not_by_common_words():
    graph = hub_and_spokes()
    assert mentioned_names("how does the router reach dispatch_request?", graph) == {"Router", "dispatch_request"}
    assert mentioned_names("which code calls the function?", graph) == set()
    assert mentioned_files("look in core/ and payments", graph) == {"core/hub.py", "billing/payments.py"}
    assert mentioned_files("handlers/h1.py", graph) == {"handlers/h1.py"}


def test_pagerank_agrees_with_networkx():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(7)
    n, m = 40, 160
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    src, dst = src[keep].astype(np.int32), dst[keep].astype(np.int32)
    weight = rng.random(src.size) + 0.1
    restart = np.zeros(n)
    restart[[3, 5]] = [2.0, 1.0]
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for s, t, w in zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True):
        g.add_edge(s, t, weight=g.get_edge_data(s, t, {"weight": 0})["weight"] + w)
    for personal in (None, restart):
        ours = pagerank(n, src, dst, weight, personal, tol=1e-10, max_iter=500)
        theirs = nx.pagerank(g, weight="weight", tol=1e-10, max_iter=500,
                             personalization=None if personal is None else dict(enumerate(personal)))
        assert np.allclose(ours, [theirs[i] for i in range(n)], atol=1e-6)
        assert ours.sum() == pytest.approx(1.0)
