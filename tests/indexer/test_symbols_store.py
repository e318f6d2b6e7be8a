"""The symbol store: per-file replacement in one transaction, deletion, lookups by name and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragpilot.indexer.errors import IndexMissingError
from ragpilot.indexer.symbols.store import SYMBOLS_FILE, SymbolStore
from ragpilot.indexer.symbols.types import Definition, Reference


def _def(path: str, name: str, line: int = 1, parent: str = "", kind: str = "function") -> Definition:
    qualified = f"{parent}.{name}" if parent else name
    return Definition(path, name, qualified, kind, line, line + 2, f"def {name}()", parent, "python")


def _ref(path: str, name: str, line: int = 5) -> Reference:
    return Reference(path, name, line, "call")


def test_replacing_a_file_drops_its_old_rows_and_keeps_other_files(tmp_path: Path):
    with SymbolStore(tmp_path) as store:
        store.replace_files({"a.py": [_def("a.py", "old")], "b.py": [_def("b.py", "keep")]},
                            {"a.py": [_ref("a.py", "keep")]})
        store.replace_files({"a.py": [_def("a.py", "new")]}, {"a.py": []})
        assert [d.name for d in store.definitions()] == ["new", "keep"]
        assert store.references() == []
        assert [d.path for d in store.definitions_named("keep")] == ["b.py"]
        assert store.definitions_named("old") == []


def test_a_deleted_file_loses_its_definitions_references_and_file_row(tmp_path: Path):
    with SymbolStore(tmp_path) as store:
        store.replace_files({"a.py": [_def("a.py", "f")], "b.py": []}, {"a.py": [_ref("a.py", "g")]})
        assert store.files() == ["a.py", "b.py"]
        store.replace_files({}, {}, deleted=["a.py"])
        assert store.files() == ["b.py"]
        assert store.definitions() == [] and store.references() == []


def test_lookups_by_name_path_and_case(tmp_path: Path):
    with SymbolStore(tmp_path) as store:
        store.replace_files(
            {"a.py": [_def("a.py", "Client", kind="class"), _def("a.py", "send", 3, parent="Client")],
             "b.py": [_def("b.py", "client")]},
            {"b.py": [_ref("b.py", "send", 9)]},
        )
        assert [d.qualified for d in store.definitions("a.py")] == ["Client", "Client.send"]
        assert {d.path for d in store.definitions_named_nocase("CLIENT")} == {"a.py", "b.py"}
        assert [d.path for d in store.definitions_qualified_nocase("client.SEND")] == ["a.py"]
        assert store.references_named("send") == [_ref("b.py", "send", 9)]
        assert store.definition_names() == ["Client", "client", "send"]
        assert store.counts() == (2, 3, 1)


def test_every_write_bumps_the_generation_readers_cache_against(tmp_path: Path):
    with SymbolStore(tmp_path) as store:
        before = store.generation()
        store.replace_files({"a.py": []}, {})
        assert store.generation() == before + 1


def test_a_reader_sees_the_writers_rows(tmp_path: Path):
    writer = SymbolStore(tmp_path)
    writer.replace_files({"a.py": [_def("a.py", "f")]}, {})
    with SymbolStore(tmp_path, readonly=True) as reader:
        assert [d.name for d in reader.definitions()] == ["f"]
    writer.close()


def test_opening_readonly_without_a_symbol_index_says_to_run_index(tmp_path: Path):
    with pytest.raises(IndexMissingError, match="ragpilot index"):
        SymbolStore(tmp_path, readonly=True)
    assert not (tmp_path / SYMBOLS_FILE).exists()
