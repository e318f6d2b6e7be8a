"""The symbol index is built and kept live with the chunks: same pass, same catalog, same watcher;
removed with a file, wiped by --rebuild, backfilled once for an index built before it existed."""

from __future__ import annotations

from planted_secrets import REDACTED_FILES, SKIPPED_FILES, VALUES, leaked
from samples import write_files
from watching import Harness, wait_for

from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.symbols.store import SYMBOLS_FILE, SymbolStore


def _symbols(settings) -> SymbolStore:
    return SymbolStore(settings.index_dir, readonly=True)


def _qualified(settings, path: str | None = None) -> set[str]:
    with _symbols(settings) as store:
        return {d.qualified for d in store.definitions(path)}


def test_indexing_fills_the_symbol_index_for_every_source_file(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    with _symbols(fast_settings) as store:
        assert {"src/http/retry.py", "src/storage/cache.go", "web/parseQuery.ts"} <= set(store.files())
        qualified = {d.qualified for d in store.definitions()}
        assert {"RetryPolicy.should_retry", "LRUCache.Get", "parseSearchQuery"} <= qualified
        assert ("src/http/retry.py", "delay") in {(r.path, r.name) for r in store.references_named("delay")}


def test_an_edited_file_has_its_symbols_replaced_through_update(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    (sample_repo / "src/http/retry.py").write_text("def jitter(seconds):\n    return seconds\n")
    with Indexer(sample_repo, fast_settings) as indexer:
        indexer.update(["src/http/retry.py"])
    assert _qualified(fast_settings, "src/http/retry.py") == {"jitter"}
    assert "LRUCache.Get" in _qualified(fast_settings)  # other files keep theirs


def test_a_deleted_file_takes_its_symbols_with_it(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    (sample_repo / "src/storage/cache.go").unlink()
    index_repo(sample_repo, fast_settings)
    with _symbols(fast_settings) as store:
        assert "src/storage/cache.go" not in store.files()
        assert store.definitions("src/storage/cache.go") == []
        assert store.references("src/storage/cache.go") == []


def test_a_file_that_becomes_skipped_loses_its_symbols(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    (sample_repo / "src/http/retry.py").write_bytes(b"\x00\x01binary now\x00" * 100)
    index_repo(sample_repo, fast_settings)
    assert _qualified(fast_settings, "src/http/retry.py") == set()


def test_rebuild_wipes_the_symbol_index_and_builds_it_again(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    with SymbolStore(fast_settings.index_dir) as store:  # a row no file has: only a wipe removes it
        store.replace_files({"ghost.py": []}, {})
    index_repo(sample_repo, fast_settings, rebuild=True)
    with _symbols(fast_settings) as store:
        assert "ghost.py" not in store.files()
        assert "src/http/retry.py" in store.files()


class _CountingEmbedder:
    """Wraps the hashing embedder and counts the texts it is asked to embed."""

    def __init__(self):
        self.inner = create_embedder("hashing")
        self.texts = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_documents(self, texts):
        self.texts += len(texts)
        return self.inner.embed_documents(texts)


def test_an_index_built_before_symbols_is_backfilled_once_without_embedding(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    for suffix in ("", "-wal", "-shm"):  # as an index built by a release without the symbol index
        (fast_settings.index_dir / (SYMBOLS_FILE + suffix)).unlink(missing_ok=True)
    counting = _CountingEmbedder()
    with Indexer(sample_repo, fast_settings, embedder=counting, embedder_name="hashing") as indexer:
        assert "LRUCache.EvictOldest" in _qualified(fast_settings)
        summary = indexer.run_to_end()
    assert counting.texts == 0 and summary.files_indexed == 0


def test_the_backfill_reads_the_working_tree_the_way_the_pipeline_does(tmp_path, fast_settings):
    repo = tmp_path / "secrets"
    write_files(repo, {**REDACTED_FILES, **SKIPPED_FILES})
    index_repo(repo, fast_settings)
    (fast_settings.index_dir / SYMBOLS_FILE).unlink()
    with Indexer(repo, fast_settings):
        pass
    with _symbols(fast_settings) as store:
        dumped = "\n".join([*map(repr, store.definitions()), *map(repr, store.references())])
        assert "DB_PASSWORD" in {d.name for d in store.definitions()}
    assert leaked(VALUES, dumped) == []


def test_no_planted_secret_reaches_a_signature_or_reference(tmp_path, fast_settings):
    repo = tmp_path / "secrets"
    write_files(repo, {**REDACTED_FILES, **SKIPPED_FILES})
    index_repo(repo, fast_settings)
    with _symbols(fast_settings) as store:
        defs = store.definitions()
        dumped = "\n".join([*map(repr, defs), *map(repr, store.references())])
    assert {"DB_PASSWORD", "API_TOKEN", "open_reporting_db"} <= {d.name for d in defs}
    assert leaked(VALUES, dumped) == []


def test_switching_symbols_off_builds_no_symbol_index(sample_repo, fast_settings):
    settings = fast_settings.model_copy(update={"symbols": False})
    index_repo(sample_repo, settings)
    assert not (settings.index_dir / SYMBOLS_FILE).exists()


def test_a_one_file_edit_under_the_watcher_updates_its_symbols(sample_repo, fast_settings):
    harness = Harness(sample_repo, fast_settings)
    try:
        target = sample_repo / "web/parseQuery.ts"
        target.write_text(target.read_text() + "\nexport function formatQuery(terms: string[]) {\n"
                          "  return parseSearchQuery(terms.join(' '), { caseSensitive: false });\n}\n")

        def updated():
            with _symbols(fast_settings) as store:
                defs = {d.qualified for d in store.definitions("web/parseQuery.ts")}
                calls = {(r.name, r.kind) for r in store.references("web/parseQuery.ts")}
            return "formatQuery" in defs and ("parseSearchQuery", "call") in calls

        wait_for(updated, "the watcher to extract formatQuery's symbols")
    finally:
        harness.close()



def test_symbols_from_an_older_extractor_are_extracted_again_once(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    with SymbolStore(fast_settings.index_dir) as store:
        store.replace_files({"src/http/retry.py": []}, {})  # what an older extractor did not find
        store.set_meta("extractor_version", "0")
    with Indexer(sample_repo, fast_settings):
        pass
    assert "RetryPolicy.delay" in _qualified(fast_settings, "src/http/retry.py")


def test_a_damaged_symbol_index_is_built_again_by_the_next_run(sample_repo, fast_settings, caplog):
    index_repo(sample_repo, fast_settings)
    for suffix in ("-wal", "-shm"):
        (fast_settings.index_dir / (SYMBOLS_FILE + suffix)).unlink(missing_ok=True)
    (fast_settings.index_dir / SYMBOLS_FILE).write_bytes(b"not a database at all" * 100)
    summary = index_repo(sample_repo, fast_settings)
    assert summary.files_indexed == 0  # nothing re-chunked or re-embedded
    assert "LRUCache.Get" in _qualified(fast_settings)
    assert "symbol index" in caplog.text and "damaged" in caplog.text
