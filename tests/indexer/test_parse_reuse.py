"""Preparing a file parses it once: symbol extraction re-uses the tree the chunker just parsed (tree.py
keeps the last tree per thread), and the symbols are those of a fresh parse of the whole file."""

from __future__ import annotations

import random
import sysconfig
import threading
from pathlib import Path

import pytest
import tree_sitter

from ragpilot.indexer.chunking import chunk_file
from ragpilot.indexer.chunking import tree as tree_module
from ragpilot.indexer.chunking.dispatch import detect_language
from ragpilot.indexer.languages import spec_for
from ragpilot.indexer.symbols import extract

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "langs"


def _words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def parses(monkeypatch) -> list[int]:
    """Counts the real tree-sitter parses from here on."""
    calls: list[int] = []

    real = tree_sitter.Parser

    class CountingParser:
        def __init__(self, *args):
            self.parser = real(*args)

        def parse(self, *args):
            calls.append(1)
            return self.parser.parse(*args)

    monkeypatch.setattr(tree_sitter, "Parser", CountingParser)
    tree_module._last_parse.__dict__.clear()
    return calls


def _sample_files() -> list[Path]:
    rng = random.Random(13)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    python = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    ours = sorted(p for d in ("indexer", "retrieval") for p in (REPO / d).rglob("*.py"))
    return sorted(FIXTURES.iterdir()) + ours + rng.sample(python, min(60, len(python)))


@pytest.mark.parametrize("ending", ["\n", "", "\n\n", "\r\n"])
def test_extracting_symbols_after_chunking_parses_nothing_again(parses, ending):
    for path in sorted(FIXTURES.iterdir()):
        text = path.read_text(encoding="utf-8").rstrip("\n") + ending
        language = detect_language(path.name, text)
        if spec_for(language) is None or language not in extract.SPECS:
            continue
        before = len(parses)
        chunk_file(path.name, text, budget=254, count_tokens=_words)
        assert extract.extract_symbols(path.name, text).definitions, path.name
        assert len(parses) == before + 1, f"{path.name} was parsed {len(parses) - before} times"


def test_symbols_from_the_reused_tree_equal_those_of_a_fresh_parse(parses):
    compared = 0
    for path in _sample_files():
        text = path.read_text(encoding="utf-8")
        language = detect_language(path.name, text)
        spec, sym = spec_for(language), extract.SPECS.get(language)
        if spec is None or sym is None or not text.strip():
            continue
        chunk_file(path.name, text, budget=254, count_tokens=_words)
        got = extract.extract_symbols(path.name, text)
        parser = tree_sitter.Parser(tree_module._language(spec.grammar))
        root = parser.parse(text.encode("utf-8", "surrogatepass")).root_node
        want = extract._Extractor(path.name, language, spec, sym, text).run(root)
        assert (got.definitions, got.reference_rows) == (want.definitions, want.reference_rows), path
        compared += 1
    assert compared >= 100


def test_a_different_text_or_grammar_is_parsed_afresh(parses):
    python, javascript = spec_for("python"), spec_for("javascript")
    first = tree_module.parse(python, "def a():\n    pass")
    assert tree_module.parse(python, "def a():\n    pass") == first and len(parses) == 1
    assert "b" in tree_module.node_text(tree_module.parse(python, "def b():\n    pass"))
    tree_module.parse(javascript, "def b():\n    pass")
    assert len(parses) == 3


def test_each_thread_keeps_its_own_last_tree(parses):
    python = spec_for("python")
    tree_module.parse(python, "x = 1")
    seen = []
    worker = threading.Thread(target=lambda: seen.append(tree_module.parse(python, "x = 1")))
    worker.start()
    worker.join()
    assert len(parses) == 2 and tree_module.node_text(seen[0]) == "x = 1"
