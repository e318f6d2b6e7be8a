"""Test code and questions about it: which paths hold tests, and which queries ask for them.

Tests repeat the names and words of the code they exercise, so a search for the implementation often
finds its tests first (seen on Go ``*_test.go`` files in an outside benchmark). Symbol lookups list
definitions outside tests first; chunk and file search demote test files unless the query asks about
tests (settings.TEST_FACTOR).
"""

from __future__ import annotations

import re
from functools import lru_cache

_TEST_PATH = re.compile(r"(^|/)(tests?|testing|__tests__|spec|specs)/|(^|/)test_[^/]*$|_test\.[^/.]+$"
                        r"|\.(test|spec)\.[^/.]+$|(^|/)conftest\.py$|Tests?\.(java|cs|kt|scala)$")
# Words only a question about tests uses, and test identifiers (test_send, TestRouter, send_test).
_ASKS_TESTS = re.compile(r"(?i)\b(tests?|tested|testing|unittests?|specs?|mocks?|mocked|mocking|fixtures?|"
                         r"conftest|pytest|jest|vitest|mocha|junit|assert\w*|benchmarks?|e2e)\b"
                         r"|\btest_\w|\w_test\b|\bTest[A-Z]|\bBenchmark[A-Z]")


@lru_cache(maxsize=1 << 16)  # asked for every candidate of every search: a repository's paths repeat
def is_test_path(path: str) -> bool:
    """``tests/test_x.py``, ``router_test.go``, ``a.spec.ts``, ``FooTest.java``, ``conftest.py``..."""
    return bool(_TEST_PATH.search(path))


def asks_about_tests(query: str) -> bool:
    """True when ``query`` is about tests ("where is the retry tested", ``TestRouter``), so test files
    keep their rank."""
    return bool(_ASKS_TESTS.search(query))
