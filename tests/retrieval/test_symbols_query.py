"""find_symbol / find_references: exact, case-insensitive, qualified and fuzzy matches in a fixed order;
bad input is a UsageError, an unknown name an empty answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragpilot.indexer.errors import IndexMissingError, UsageError
from ragpilot.indexer.symbols.store import SymbolStore
from ragpilot.indexer.symbols.types import Definition, Reference
from ragpilot.retrieval.symbols import find_references, find_symbol, is_test_path


def _def(path, qualified, kind="function", line=1, signature=""):
    parent, _, name = qualified.rpartition(".")
    return Definition(path, name, qualified, kind, line, line + 3, signature or f"def {name}()", parent, "python")


@pytest.fixture
def index(tmp_path: Path) -> Path:
    defs = [
        _def("src/client.py", "Client", "class", 10, "class Client"),
        _def("src/client.py", "Client.send", "method", 20, "def send(self, request)"),
        _def("src/mail.py", "send", "function", 5, "def send(message)"),
        _def("tests/test_mail.py", "send", "function", 3, "def send()"),
        _def("src/mail.py", "SEND_TIMEOUT", "constant", 1, "SEND_TIMEOUT = 3"),
        _def("src/mail.py", "Send", "class", 40, "class Send"),
        _def("src/mail.py", "sender", "function", 60),
        _def("src/mail.py", "resend", "function", 70),
        _def("src/http.py", "http.Client.send", "method", 7),
        _def("src/queue.py", "Queue.Push", "method", 9, "func (q *Queue) Push(v int)"),
    ]
    refs = [Reference("tests/test_mail.py", "send", 8, "call"), Reference("src/app.py", "send", 12, "call"),
            Reference("src/app.py", "send", 3, "name"), Reference("src/app.py", "sender", 4, "call")]
    by_path: dict[str, list[Definition]] = {}
    for d in defs:
        by_path.setdefault(d.path, []).append(d)
    refs_by_path: dict[str, list[Reference]] = {}
    for r in refs:
        refs_by_path.setdefault(r.path, []).append(r)
    with SymbolStore(tmp_path) as store:
        store.replace_files(by_path, refs_by_path)
    return tmp_path


def _found(index, name, **kw):
    return [(m.location, m.match) for m in find_symbol(index, name, **kw)]


def test_exact_beats_case_insensitive_beats_fuzzy_and_code_beats_tests(index):
    assert _found(index, "send") == [
        ("src/mail.py:5", "exact"),        # the least nested first, test files last
        ("src/client.py:20", "exact"),
        ("src/http.py:7", "exact"),
        ("tests/test_mail.py:3", "exact"),
        ("src/mail.py:40", "case-insensitive"),
        ("src/mail.py:60", "prefix"),       # shorter names first: sender, then SEND_TIMEOUT
        ("src/mail.py:1", "prefix"),
        ("src/mail.py:70", "substring"),
    ]


def test_the_answer_is_the_same_every_time(index):
    assert _found(index, "sendr") == _found(index, "sendr")


def test_a_qualified_name_finds_its_method_and_longer_qualifications_rank_after(index):
    assert _found(index, "Client.send", fuzzy=False) == [("src/client.py:20", "exact"),
                                                        ("src/http.py:7", "qualified")]
    assert _found(index, "client::SEND", fuzzy=False)[0] == ("src/client.py:20", "case-insensitive")
    assert _found(index, "Queue.Push") == [("src/queue.py:9", "exact")]


def test_one_typo_is_forgiven_only_when_fuzzy(index):
    assert ("src/mail.py:60", "fuzzy") in _found(index, "sendre")
    assert _found(index, "sendre", fuzzy=False) == []


def test_the_kind_filter_keeps_only_that_kind(index):
    assert _found(index, "send", kind="class") == [("src/mail.py:40", "case-insensitive")]


def test_the_limit_keeps_the_best(index):
    assert _found(index, "send", limit=2) == [("src/mail.py:5", "exact"), ("src/client.py:20", "exact")]


def test_an_unknown_name_is_an_empty_answer(index):
    assert find_symbol(index, "nothingLikeThis") == []
    assert find_references(index, "nothingLikeThis") == []


def test_references_list_uses_with_code_before_tests(index):
    found = [(m.location, m.reference.kind) for m in find_references(index, "send")]
    assert found == [("src/app.py:3", "name"), ("src/app.py:12", "call"), ("tests/test_mail.py:8", "call")]
    assert [m.location for m in find_references(index, "Client.send", limit=1)] == ["src/app.py:3"]


def test_a_match_serialises_with_its_location_and_signature(index):
    data = find_symbol(index, "Queue.Push")[0].to_json()
    assert data["location"] == "src/queue.py:9" and data["signature"] == "func (q *Queue) Push(v int)"
    assert (data["kind"], data["qualified"], data["line_end"]) == ("method", "Queue.Push", 12)


@pytest.mark.parametrize(("name", "kw", "message"), [
    ("", {}, "empty"),
    ("   ", {}, "empty"),
    ("x" * 201, {}, "at most 200"),
    ("two words", {}, "whitespace"),
    ("..", {}, "not a name"),
    ("send", {"limit": 0}, "limit"),
    ("send", {"limit": 10**9}, "limit"),
    ("send", {"kind": "widget"}, "unknown symbol kind"),
])
def test_bad_input_is_a_usage_error_that_says_what_is_wrong(index, name, kw, message):
    with pytest.raises(UsageError, match=message):
        find_symbol(index, name, **kw)


def test_an_index_without_symbols_says_to_run_index(tmp_path):
    with pytest.raises(IndexMissingError, match="ragpilot index"):
        find_symbol(tmp_path, "send")


def test_a_changed_store_is_seen_by_the_fuzzy_table(index):
    assert _found(index, "deliverr") == []
    with SymbolStore(index) as store:
        store.replace_files({"src/deliver.py": [_def("src/deliver.py", "deliver", line=2)]}, {})
    assert _found(index, "delivr") == [("src/deliver.py:2", "fuzzy")]


@pytest.mark.parametrize(("path", "is_test"), [
    ("tests/test_x.py", True), ("pkg/x_test.go", True), ("web/a.spec.ts", True), ("src/FooTest.java", True),
    ("conftest.py", True), ("src/testing_utils.py", False), ("src/contest.py", False), ("src/x.py", False),
])
def test_test_files_are_recognised_by_path(path, is_test):
    assert is_test_path(path) is is_test


def test_the_typo_lookup_finds_exactly_the_names_one_edit_away():
    import random

    from ragpilot.retrieval.symbols import _Names, _within_one_edit

    rng = random.Random(3)
    names = sorted({"".join(rng.choice("abcde_") for _ in range(rng.randint(3, 9))) for _ in range(3000)})
    table = _Names(names)
    for query in rng.sample(names, 200) + ["abcd", "eeeee", "a_b_c"]:
        brute = sorted(n for n in names if n != query and _within_one_edit(query, n))
        assert table._one_typo(query) == brute, query
