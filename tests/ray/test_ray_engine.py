"""The Ray engine builds the very index the local engine builds: same chunk ids, texts and vectors, and
the same incremental runs (only edited, added and deleted files re-done), on a real 2-CPU Ray cluster."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import module_source
from engine_runs import both, build, rows, settings, socket_nobody_listens, split

from ragpilot.indexer.errors import MissingExtraError, UsageError
from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.ray_engine import ClusterPlan, RayIndexer, RayOptions, check_address, connect, import_ray
from ragpilot.indexer.settings import IndexSettings

pytestmark = pytest.mark.usefixtures("ray_cluster")


def test_ray_engine_stores_the_same_rows_and_vectors_as_the_local_engine(bulk_repo, tmp_path):
    local, ray = both(bulk_repo, tmp_path, files_per_batch=16)
    assert ray == local
    assert local["files_indexed"] > 60 and local["chunks_total"] > 2 * 128  # several tasks and batches
    assert local["files_skipped"] > 0 and local["files_redacted"] > 0  # skips and redactions compared too
    assert ray["chunks_pending"] == 0
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")  # ids, texts, full-text columns, vectors


def test_a_second_run_redoes_only_the_edited_added_and_deleted_files(bulk_repo, tmp_path):
    first_local, first_ray = both(bulk_repo, tmp_path)
    assert first_ray == first_local
    edited = bulk_repo / "pkg1" / "mod_5.py"
    edited.write_text(edited.read_text().replace("return None", "return 'stopped'"))
    (bulk_repo / "pkg2" / "mod_6.py").unlink()
    (bulk_repo / "pkg3" / "mod_new.py").write_text(module_source(999))
    local, ray = both(bulk_repo, tmp_path)
    assert ray == local
    assert (ray["files_indexed"], ray["files_deleted"]) == (2, 1)
    assert ray["files_unchanged"] == first_ray["files_indexed"] - 2
    assert 0 < ray["chunks_embedded"] < first_ray["chunks_embedded"]
    stored = rows(tmp_path / "ray")
    assert stored == rows(tmp_path / "local")
    assert not any(r["path"] == "pkg2/mod_6.py" for r in stored)
    assert any("stopped" in r["content"] for r in stored if r["path"] == "pkg1/mod_5.py")


def test_a_run_with_no_change_prepares_and_embeds_nothing(bulk_repo, tmp_path):
    build(RayIndexer, bulk_repo, settings(tmp_path / "ray"))
    again = build(RayIndexer, bulk_repo, settings(tmp_path / "ray"))
    assert (again.files_indexed, again.chunks_embedded, again.files_deleted) == (0, 0, 0)
    assert again.files_unchanged > 60


def test_rows_the_local_engine_left_unembedded_are_filled_by_the_ray_engine(bulk_repo, tmp_path):
    """Resuming another engine's index: the embedding phase works from the table alone."""
    indexer = Indexer(bulk_repo, settings(tmp_path / "ray"))
    indexer.open()
    try:
        for _ in indexer.run(embed=False):
            pass
    finally:
        indexer.close()
    resumed = build(RayIndexer, bulk_repo, settings(tmp_path / "ray"))
    build(Indexer, bulk_repo, settings(tmp_path / "local"))
    assert resumed.files_indexed == 0 and resumed.chunks_embedded > 200 and resumed.chunks_pending == 0
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")


def test_ray_engine_writes_a_shared_index_like_the_local_engine(bulk_repo, tmp_path):
    """--index-uri (here a shared folder): the driver writes the Lance tables there, the workers only read files."""
    home = tmp_path / "home"

    def shared(name: str) -> IndexSettings:
        return IndexSettings(home=home, index_uri=str(tmp_path / name), embedder="hashing")

    local = build(Indexer, bulk_repo, shared("shared-local"))
    ray = build(RayIndexer, bulk_repo, shared("shared-ray"))
    assert ray.chunks_total == local.chunks_total > 200
    assert (tmp_path / "shared-ray").is_dir()
    assert rows(Path(ray.index_dir)) == rows(Path(local.index_dir))


def test_a_file_edited_during_the_embedding_phase_ends_as_the_local_engine_indexes_it(bulk_repo, tmp_path, caplog):
    """The workers find its bytes changed: the driver indexes it again (locally) and embeds its rows."""
    caplog.set_level(logging.INFO, logger="ragpilot.indexer.pipeline")
    edited = bulk_repo / "pkg1" / "mod_9.py"
    indexer = RayIndexer(bulk_repo, settings(tmp_path / "ray"))
    indexer.open()
    try:
        for event in indexer.run():
            if event.phase == "embed" and event.embed_done == 0:  # files written, no vector computed yet
                edited.write_text(edited.read_text().replace("return None", "return 'edited mid-run'"))
        summary = event.summary
    finally:
        indexer.close()
    build(Indexer, bulk_repo, settings(tmp_path / "local"))
    assert summary is not None and summary.chunks_pending == 0
    stored = rows(tmp_path / "ray")
    assert any("edited mid-run" in r["content"] for r in stored)
    assert "1 file(s) changed since their rows were written" in caplog.text
    assert stored == rows(tmp_path / "local")


@pytest.mark.timeout(300)
def test_default_minilm_vectors_match_the_local_engine(tmp_path):
    """The real default embedder (ONNX MiniLM) on both engines: same ids and texts; vectors equal up to
    float rounding (the actors run one ONNX thread each, the local engine two)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for i in range(12):
        (repo / f"mod_{i}.py").write_text(module_source(i))
    local, ray = both(repo, tmp_path, embedder="minilm-onnx")
    assert ray == local and local["chunks_embedded"] > 60
    (plain_local, vec_local), (plain_ray, vec_ray) = split(rows(tmp_path / "local")), split(rows(tmp_path / "ray"))
    assert plain_ray == plain_local
    assert np.abs(vec_ray - vec_local).max() < 1e-4
    assert np.all(np.linalg.norm(vec_ray, axis=1) > 0.5)  # real vectors, not the placeholder zeros


def test_plan_gives_one_embedding_actor_per_gpu_else_per_core():
    assert ClusterPlan.for_cluster({"CPU": 8, "GPU": 2}, RayOptions()) == ClusterPlan(2, 1.0, 1.0)
    assert ClusterPlan.for_cluster({"CPU": 2}, RayOptions()) == ClusterPlan(2, 1.0, 0.0)
    assert ClusterPlan.for_cluster({"CPU": 8}, RayOptions(actor_cpus=4)) == ClusterPlan(2, 4.0, 0.0)


def test_an_address_where_nothing_listens_is_refused_at_once(tmp_path):
    with socket_nobody_listens() as port:
        with pytest.raises(UsageError, match=f"no Ray cluster answers at --ray-address 127.0.0.1:{port}"):
            check_address(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(UsageError, match="expected host:port"):
        check_address("nonsense")


def test_a_missing_ray_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'ragpilot\[ray\]'"):
        import_ray()
    with pytest.raises(MissingExtraError):
        connect()
