"""The default offline embedder (the packaged MiniLM, ONNX int8) indexes a repository and a watched edit."""

from __future__ import annotations

from watching import Harness, token, wait_for

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore


def test_the_default_offline_embedder_indexes_a_repository(sample_repo, tmp_path):
    settings = IndexSettings(home=tmp_path / "home", index_dir=tmp_path / "idx")
    summary = index_repo(sample_repo, settings)
    assert summary.chunks_embedded == summary.chunks_total > 0
    meta = IndexStore.read_meta(tmp_path / "idx")
    assert meta.embedder_name == "minilm-onnx" and meta.dim == 384


def test_the_default_minilm_embedder_indexes_an_edit(sample_repo, tmp_path):
    settings = IndexSettings(home=tmp_path / "home", index_dir=tmp_path / "idx-minilm")
    h = Harness(sample_repo, settings)
    try:
        marker = token()
        target = sample_repo / "src/http/retry.py"
        target.write_text(target.read_text() + f"\n\ndef jitter():\n    return '{marker}'\n")
        wait_for(lambda: marker in h.text("src/http/retry.py") and h.settled(), "the edit", timeout=60)
        ok = [r for r in h.reports if r.ok]
        assert ok and 1 <= sum(r.chunks_embedded for r in ok) <= 3  # only the changed chunk(s)
        vectors = h._reader.table.to_arrow().column("vector").to_pylist()
        assert len(vectors[0]) == h.indexer.embedder.dim
    finally:
        h.close()
