"""Once the tree goes quiet the watcher folds the rows it wrote into the full-text indices, so lexical
search stops reading them flat (real watchdog, real files, real LanceDB, hashing embedder)."""

from __future__ import annotations

from watching import Harness, py_source, token, wait_for

from ragpilot.indexer import watcher as watcher_module
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.lexical import lexical_search


def test_after_the_watcher_goes_quiet_no_row_is_left_unindexed(sample_repo, fast_settings, monkeypatch):
    monkeypatch.setattr(watcher_module, "IDLE_FOLD_S", 0.3)
    settings = fast_settings.model_copy(update={"fts_rebuild_share": 0.9})  # no fold-in forced by each commit
    harness = Harness(sample_repo, settings)
    try:
        marker = token()
        harness.write("src/quiet_module.py", py_source("quiet", marker))
        wait_for(lambda: marker in harness.text("src/quiet_module.py"), "the new file to be indexed")
        reader = IndexStore.open(harness.index_dir)
        wait_for(lambda: reader.unindexed_rows() == 0, "the new rows to be folded into the full-text indices")
        assert any(h.path == "src/quiet_module.py" for h in lexical_search(reader, marker, limit=5))
    finally:
        harness.close()
