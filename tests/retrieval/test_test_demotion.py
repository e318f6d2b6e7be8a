"""Tests outrank the code they test (they repeat its names and words); search demotes test files unless
the query asks about tests (retrieval/testpaths.py, settings.TEST_FACTOR). Real index, real LanceDB."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from search_corpus import index, paths

from ragpilot.retrieval.searcher import Searcher
from ragpilot.retrieval.testpaths import asks_about_tests, is_test_path

IMPLEMENTATION = '''
    def rotate_ledger_segment(ledger, segment_size):
        """Close the current segment and open a fresh one."""
        ledger.close()
        return ledger.open(segment_size)
    '''
# The test names the function in every line: plain BM25 and the test embedder both rank it first.
TESTS = '''
    from ledger.rotation import rotate_ledger_segment


    def test_rotate_ledger_segment_closes_segment():
        ledger = FakeLedger()
        rotate_ledger_segment(ledger, segment_size=8)  # rotate ledger segment
        assert ledger.closed  # the ledger segment was rotated: rotate_ledger_segment closes the segment


    def test_rotate_ledger_segment_opens_segment_of_size():
        ledger = FakeLedger()
        assert rotate_ledger_segment(ledger, segment_size=4).size == 4  # ledger segment size
    '''
IMPL, TEST = "src/ledger/rotation.py", "tests/test_rotation.py"


@pytest.fixture(scope="module")
def idx(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tests-demoted")
    root = base / "repo"
    for rel, text in {IMPL: IMPLEMENTATION, TEST: TESTS}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return index(root, base / "idx")


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_the_implementation_comes_before_its_tests(idx, mode):
    query = "ledger segment size"
    plain = Searcher.for_index(idx, test_factor=1.0)
    assert paths(plain.search(query, k=2, mode=mode))[0] == TEST  # precondition: the test wins undemoted
    assert paths(Searcher.for_index(idx).search(query, k=2, mode=mode)) == [IMPL, TEST]


def test_file_search_puts_the_implementation_first(idx):
    query = "ledger segment size"
    assert [f.path for f in Searcher.for_index(idx, test_factor=1.0).search_files(query, k=2)][0] == TEST
    assert [f.path for f in Searcher.for_index(idx).search_files(query, k=2)] == [IMPL, TEST]


@pytest.mark.parametrize("query", ["where is rotate ledger segment tested",
                                   "test_rotate_ledger_segment_closes_segment"])
def test_a_query_about_tests_keeps_the_tests_first(idx, query):
    demoting, plain = Searcher.for_index(idx), Searcher.for_index(idx, test_factor=1.0)
    assert paths(demoting.search(query, k=2)) == paths(plain.search(query, k=2))
    assert paths(demoting.search(query, k=2))[0] == TEST


@pytest.mark.parametrize(("path", "is_test"), [
    ("tests/test_rotation.py", True), ("router_test.go", True), ("src/a.spec.ts", True),
    ("gson/src/test/java/com/google/gson/FooTest.java", True), ("conftest.py", True),
    ("__tests__/x.js", True), ("src/latest.py", False), ("src/contest/rules.go", False),
    ("testdata/input.json", False), ("src/attestation.rs", False),
])
def test_test_paths(path, is_test):
    assert is_test_path(path) is is_test


@pytest.mark.parametrize(("query", "asks"), [
    ("how is the router tested", True), ("TestRouter", True), ("test_send", True), ("send_test", True),
    ("jest mock for fetch", True), ("benchmarks of the parser", True),
    ("Returns the size of this buffer", False), ("latest value of the counter", False),
    ("where are contests stored", False), ("attestation of the token", False),
])
def test_queries_about_tests(query, asks):
    assert asks_about_tests(query) is asks
