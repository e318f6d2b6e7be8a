"""The symbol graph behind repo maps is built once per symbol-store version (a real SymbolStore in a tmp dir)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ragpilot.indexer.errors import IndexMissingError
from ragpilot.indexer.symbols.store import SymbolStore
from ragpilot.indexer.symbols.types import Definition, Reference
from ragpilot.retrieval import repomap_index
from ragpilot.retrieval.repomap_index import graph_for_index, repo_map


def write(index_dir: Path, path: str, name: str, uses: tuple[str, ...] = ()) -> None:
    with SymbolStore(index_dir) as store:
        store.replace_files({path: [Definition(path, name, name, "function", 1, 3, f"def {name}()", "", "python")]},
                            {path: [Reference(path, used, 2, "call") for used in uses]})


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    write(tmp_path, "core.py", "dispatch_request")
    write(tmp_path, "a.py", "handle_a", ("dispatch_request",))
    return tmp_path


def test_an_unchanged_store_reuses_the_graph_and_a_write_rebuilds_it(index_dir):
    first = graph_for_index(index_dir)
    assert graph_for_index(index_dir) is first
    write(index_dir, "b.py", "handle_b", ("dispatch_request",))
    second = graph_for_index(index_dir)
    assert second is not first and "b.py" in second.files
    assert repo_map(index_dir, budget_tokens=200).paths[0] == "core.py"


def test_a_slow_graph_is_rebuilt_in_the_background_while_the_old_one_answers(index_dir, monkeypatch):
    first = graph_for_index(index_dir)
    monkeypatch.setattr(repomap_index, "BACKGROUND_BUILD_S", -1.0)  # every build counts as slow
    write(index_dir, "b.py", "handle_b", ("dispatch_request",))
    assert graph_for_index(index_dir) is first  # stale, while the rebuild runs
    deadline = time.monotonic() + 30
    while (graph := graph_for_index(index_dir)) is first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "b.py" in graph.files


def test_an_index_without_a_symbol_store_says_to_run_index(tmp_path):
    with pytest.raises(IndexMissingError, match="ragpilot index"):
        repo_map(tmp_path / "nothing", budget_tokens=200)
