"""A first index loads the symbol store in bulk: its lookup indexes are dropped while files are written and
built once at the end. Lookups answer the same either way, later runs never drop the indexes, and a run
that dies in bulk mode has them built again by the next writer to open the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.symbols.extract import extract_symbols
from ragpilot.indexer.symbols.store import SYMBOLS_FILE, SymbolStore

REPO = Path(__file__).resolve().parents[2]
LOOKUP_INDEXES = {"definitions_name", "definitions_name_nocase", "definitions_qualified_nocase",
                  "definitions_path", "refs_name", "refs_path"}


def _indexes(index_dir: Path) -> set[str]:
    """The lookup indexes on disk, read through a connection of its own (as another process would)."""
    conn = sqlite3.connect(index_dir / SYMBOLS_FILE)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
                if not r[0].startswith("sqlite_autoindex")}
    finally:
        conn.close()


def test_a_first_index_writes_without_lookup_indexes_and_ends_with_all_of_them(sample_repo, fast_settings):
    during: list[tuple[str, set[str]]] = []
    with Indexer(sample_repo, fast_settings) as indexer:
        for event in indexer.run():
            during.append((event.phase, _indexes(fast_settings.index_dir)))
    first_embed = [phase for phase, _ in during].index("embed")
    writing = during[1 : first_embed + 1]  # after the scan, up to the event that says search is ready
    assert writing and all(found == set() for _, found in writing), during
    # Built right after that first embed event (search need not wait for it), before any vector.
    after = during[first_embed + 1 :]
    assert after and all(found == LOOKUP_INDEXES for _, found in after), during
    assert _indexes(fast_settings.index_dir) == LOOKUP_INDEXES


def test_a_later_run_keeps_the_lookup_indexes_throughout(sample_repo, fast_settings):
    with Indexer(sample_repo, fast_settings) as indexer:
        indexer.run_to_end()
    (sample_repo / "src/http/retry.py").write_text("def jitter(seconds):\n    return seconds\n")
    (sample_repo / "src/new.py").write_text("def fresh():\n    return jitter(1)\n")
    seen = []
    with Indexer(sample_repo, fast_settings) as indexer:
        assert indexer.symbols is not None
        for _ in indexer.run():
            seen.append(_indexes(fast_settings.index_dir))
            assert not indexer.symbols.store.bulk
        assert indexer.symbols.begin_bulk() is False  # a store holding files is never bulk-loaded
    assert seen and all(found == LOOKUP_INDEXES for found in seen)
    with SymbolStore(fast_settings.index_dir, readonly=True) as store:
        assert [d.path for d in store.definitions_named("jitter")] == ["src/http/retry.py"]
        assert [r.path for r in store.references_named("jitter")] == ["src/new.py"]


def test_a_run_that_dies_in_bulk_mode_has_its_indexes_built_by_the_next_writer(sample_repo, fast_settings):
    indexer = Indexer(sample_repo, fast_settings).open()
    run = indexer.run()
    for event in run:
        if event.phase == "index":
            break  # the files are written; the run goes no further (as if killed)
    run.close()
    indexer.close()
    assert _indexes(fast_settings.index_dir) == set()
    with SymbolStore(fast_settings.index_dir, readonly=True) as store:  # readers still answer, by scanning
        assert [d.path for d in store.definitions_named("RetryPolicy")] == ["src/http/retry.py"]
    with Indexer(sample_repo, fast_settings) as indexer:
        assert _indexes(fast_settings.index_dir) == LOOKUP_INDEXES
        indexer.run_to_end()
    with SymbolStore(fast_settings.index_dir, readonly=True) as store:
        assert [d.path for d in store.definitions_named("RetryPolicy")] == ["src/http/retry.py"]
        assert len(store.definitions_named("RetryPolicy")) == 1  # the second run added no duplicates


def _real_symbols() -> dict[str, tuple]:
    files = sorted(p for d in ("indexer", "retrieval", "serve") for p in (REPO / d).rglob("*.py"))
    files += sorted((REPO / "tests" / "fixtures" / "langs").iterdir())
    out = {}
    for path in files:
        rel = path.relative_to(REPO).as_posix()
        found = extract_symbols(rel, path.read_text(encoding="utf-8"))
        out[rel] = (found.definitions, found.reference_rows)
    return out


def _load(store: SymbolStore, symbols: dict[str, tuple]) -> None:
    """The same writes for both stores: batches, one file written twice, one deleted."""
    paths = sorted(symbols)
    for start in range(0, len(paths), 25):
        part = paths[start : start + 25]
        store.replace_file_rows({p: symbols[p][0] for p in part}, {p: symbols[p][1] for p in part})
    store.replace_file_rows({paths[0]: symbols[paths[0]][0]}, {paths[0]: symbols[paths[0]][1]})
    store.replace_file_rows({}, {}, deleted=[paths[1]])


def _answers(store: SymbolStore, names: list[str]) -> list:
    out = [store.files(), store.counts(), store.definition_names(), store.definitions(), store.references(),
           store.definitions_in(names)]
    for name in names:
        out += [store.definitions_named(name), store.definitions_named_nocase(name.upper()),
                store.references_named(name)]
    for d in store.definitions()[:: 37]:
        out += [store.definitions_qualified_nocase(d.qualified.lower()), store.definitions(d.path),
                store.references(d.path)]
    return out


def test_lookups_answer_the_same_with_and_without_bulk_mode(tmp_path: Path):
    symbols = _real_symbols()
    (tmp_path / "plain").mkdir()
    (tmp_path / "bulk").mkdir()
    with SymbolStore(tmp_path / "plain") as plain:
        _load(plain, symbols)
        names = plain.definition_names()[:: 7] + ["run", "__init__", "missing_name"]
        want = _answers(plain, names)
    assert want[1][1] > 1000 and want[1][2] > 10_000  # a real load: definitions, references
    with SymbolStore(tmp_path / "bulk") as bulk:
        assert bulk.begin_bulk() is True
        _load(bulk, symbols)
        assert _indexes(tmp_path / "bulk") == set()
        assert _answers(bulk, names) == want  # while loading, by scanning
        bulk.end_bulk()
        assert not bulk.bulk and _indexes(tmp_path / "bulk") == LOOKUP_INDEXES
        assert _answers(bulk, names) == want
