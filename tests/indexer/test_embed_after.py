"""Search first, embed after: rows and the full-text index are written before any chunk is embedded, the
vectors are filled in afterwards (likely-useful files first), and a stopped run resumes with exactly the
rows still missing. Real walk, tree-sitter, LanceDB; the hashing embedder."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from ragpilot.indexer.embed_order import DOCS, GENERATED, SOURCE, TESTS, embed_priority
from ragpilot.indexer.live import LiveIndex
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.store import EMBEDDED, IndexStore
from ragpilot.retrieval.searcher import Searcher
from ragpilot.serve.status import repo_status


def write_tree(root: Path) -> None:
    """Source, tests, docs and generated files, each with a word of its own."""
    files = {
        "src/billing/invoice.py": "def total_invoice(lines):\n    return sum(l.price for l in lines)\n",
        "src/billing/refund.py": "def refund_payment(p):\n    return p.amount * -1\n",
        "tests/test_invoice.py": "def test_total_invoice():\n    assert total_invoice([]) == 0\n",
        "docs/billing.md": "# Billing\n\nInvoices are totalled nightly by the scheduler.\n",
        "vendor/lib/thing.min.js": "function a(b){return b+1}\n",
        "api/service_pb2.py": "class ServiceStub:\n    pass\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    write_tree(root)
    return root


def opened(root: Path, settings) -> Indexer:
    return Indexer(root, settings).open()


def embedded_paths(store: IndexStore) -> set[str]:
    rows = store.table.to_arrow().select(["path", EMBEDDED]).to_pylist()
    return {r["path"] for r in rows if r[EMBEDDED]}


# ----- search before embedding ---------------------------------------------------------------------
def test_rows_are_searchable_by_text_before_any_chunk_is_embedded(tree, fast_settings):
    indexer = opened(tree, fast_settings)
    try:
        phases = [event.phase for event in indexer.run(embed=False)]
    finally:
        indexer.close()
    assert "embed" not in phases
    store = IndexStore.open(fast_settings.index_dir_for(tree))  # ready for readers
    assert store.embedded_counts() == (0, store.count_chunks())
    searcher = Searcher.for_index(fast_settings.index_dir_for(tree))
    hits = searcher.search("refund_payment", k=3)  # hybrid with nothing embedded: lexical, no error
    assert hits and hits[0].path == "src/billing/refund.py"
    assert searcher.search("refund_payment", k=3, mode="dense") == []


def test_a_full_run_fills_every_vector_and_leaves_the_full_text_statistics_exact(tree, fast_settings):
    summary = index_repo(tree, fast_settings)
    store = IndexStore.open(fast_settings.index_dir_for(tree))
    assert summary.chunks_pending == 0
    assert store.embedded_counts() == (store.count_chunks(), store.count_chunks())
    assert store.meta.fts_stale_rows == 0 and store.unindexed_rows() == 0
    rows = store.table.to_arrow().select(["vector"]).to_pylist()
    assert all(abs(np.linalg.norm(r["vector"]) - 1.0) < 1e-3 for r in rows)  # real vectors, not the zeros


def test_vectors_found_in_the_embedding_cache_are_written_with_their_rows(tree, fast_settings):
    index_repo(tree, fast_settings)
    indexer = Indexer(tree, fast_settings).open(rebuild=True)  # --rebuild keeps the cache
    try:
        summary = indexer.run_to_end(embed=False)
        counts = indexer.store.embedded_counts()
    finally:
        indexer.close()
    assert counts[0] == counts[1] > 0
    assert summary.chunks_embedded == 0 and summary.chunks_pending == 0


def test_hybrid_search_ranks_densely_only_what_is_embedded_so_far(tree, fast_settings):
    indexer = opened(tree, fast_settings)
    try:
        indexer.run_to_end(embed=False)
        indexer.embed_some(1)  # one whole file: the first in priority order
        done = embedded_paths(indexer.store)
    finally:
        indexer.close()
    assert len(done) == 1
    searcher = Searcher.for_index(fast_settings.index_dir_for(tree))
    dense = searcher.search("invoice refund billing scheduler", k=10, mode="dense")
    assert dense and {h.path for h in dense} <= done
    hybrid = searcher.search("scheduler", k=10)
    assert any(h.path == "docs/billing.md" for h in hybrid)  # not embedded, found by its words


# ----- what goes first -----------------------------------------------------------------------------
@pytest.mark.parametrize("path, expected", [
    ("src/billing/invoice.py", SOURCE),
    ("lib/parser.go", SOURCE),
    ("tests/test_invoice.py", TESTS),
    ("pkg/invoice_test.go", TESTS),
    ("web/app.spec.ts", TESTS),
    ("README.md", DOCS),
    ("docs/guide/index.py", DOCS),
    ("vendor/lib/thing.js", GENERATED),
    ("static/app.min.js", GENERATED),
    ("api/service_pb2.py", GENERATED),
    ("node_modules/x/index.js", GENERATED),
])
def test_source_is_embedded_before_tests_docs_and_generated_looking_files(path, expected):
    assert embed_priority(path) == expected


def test_the_embedding_phase_takes_source_files_first(tree, fast_settings):
    indexer = opened(tree, fast_settings)
    try:
        indexer.run_to_end(embed=False)
        indexer.embed_some(2)
        first = embedded_paths(indexer.store)
    finally:
        indexer.close()
    assert first == {"src/billing/invoice.py", "src/billing/refund.py"}


# ----- stopping and resuming -----------------------------------------------------------------------
def test_a_run_stopped_during_embedding_resumes_with_only_the_rows_still_missing(tree, fast_settings):
    indexer = opened(tree, fast_settings)
    try:
        indexer.run_to_end(embed=False)
        left = indexer.embed_some(2)
    finally:
        indexer.close()
    assert left > 0
    again = index_repo(tree, fast_settings)
    assert again.files_indexed == 0  # nothing re-chunked into new rows
    assert again.chunks_embedded == left
    store = IndexStore.open(fast_settings.index_dir_for(tree))
    assert store.pending_count() == 0


def test_a_file_changed_before_its_rows_were_embedded_is_indexed_again(tree, fast_settings):
    indexer = opened(tree, fast_settings)
    try:
        indexer.run_to_end(embed=False)
        (tree / "docs/billing.md").write_text("# Billing\n\nRefunds are approved by finance.\n")
        for _ in indexer.embed_pending():
            pass
        store = indexer.store
        assert store.pending_count() == 0
        content = [r["content"] for r in store.rows_for_path("docs/billing.md")]
    finally:
        indexer.close()
    assert any("approved by finance" in c for c in content)


def test_an_index_from_before_the_embedded_flag_counts_as_fully_embedded(tree, fast_settings):
    index_repo(tree, fast_settings)
    index_dir = fast_settings.index_dir_for(tree)
    IndexStore.open(index_dir).table.drop_columns([EMBEDDED])
    old = IndexStore.open(index_dir)
    assert old.embedded_counts() == (old.count_chunks(), old.count_chunks())
    assert Searcher.for_index(index_dir).search("refund_payment", k=3, mode="dense")
    again = index_repo(tree, fast_settings)  # the writer adds the column, all true
    assert again.chunks_embedded == 0
    assert EMBEDDED in IndexStore.open(index_dir).table.schema.names


# ----- coverage is reported ------------------------------------------------------------------------
def test_status_says_how_much_is_embedded(tree, fast_settings):
    indexer = opened(tree, fast_settings)
    try:
        indexer.run_to_end(embed=False)
        indexer.embed_some(1)
    finally:
        indexer.close()
    info = repo_status(tree, fast_settings.index_dir_for(tree))
    assert info["indexed"] is True
    assert 0 < info["embedded"]["chunks"] < info["embedded"]["of"] == info["chunks"]
    assert info["embedded"]["complete"] is False


# ----- serve / watch: in the background ------------------------------------------------------------
def test_a_watcher_embeds_in_the_background_after_a_start_up_pass_that_only_wrote_rows(tree, fast_settings):
    live = LiveIndex(tree, fast_settings, debounce_s=0.05)
    events = []
    try:
        live.start(watch=True, on_progress=events.append)
        assert "embed" not in [e.phase for e in events]  # the pass ended with the rows written
        assert live.state.phase == "ready"
        deadline = time.monotonic() + 30
        while not live.watcher.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
        store = live.indexer.store
        assert store.pending_count() == 0
        (tree / "src/billing/tax.py").write_text("def tax_rate(country):\n    return 0.2\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(r["path"] == "src/billing/tax.py"
                                                      for r in store.rows_for_path("src/billing/tax.py")):
            time.sleep(0.05)
        while not live.watcher.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.pending_count() == 0  # a small edit is embedded with its rows
    finally:
        live.close()


def test_without_a_watcher_the_start_up_pass_embeds_before_it_ends(tree, fast_settings):
    live = LiveIndex(tree, fast_settings)
    events = []
    try:
        live.start(watch=False, on_progress=events.append)
    finally:
        live.close()
    embeds = [e for e in events if e.phase == "embed"]
    assert embeds and embeds[-1].embed_done == embeds[-1].embed_total > 0
    assert live.state.embed_done == live.state.embed_total
    assert IndexStore.open(fast_settings.index_dir_for(tree)).pending_count() == 0
