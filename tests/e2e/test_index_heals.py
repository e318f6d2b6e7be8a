"""A damaged or half-made index heals on the next command, or is named with the one command that fixes it.

Real CLI subprocesses, real LanceDB and SQLite files damaged the way disks and kills damage them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import lancedb

from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import TABLE, IndexStore, schema

FULL_SETUP_STATE_FILES = ("meta.json", "catalog.sqlite")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], capture_output=True, text=True,
                          timeout=300)


def index_cli(repo: Path, index_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return cli("index", str(repo), "--index-dir", str(index_dir), "--embedder", "hashing", "--json", *extra)


def search_cli(repo: Path, index_dir: Path, query: str = "retry policy") -> subprocess.CompletedProcess:
    return cli("search", query, "--repo", str(repo), "--index-dir", str(index_dir), "--json")


def settings(index_dir: Path) -> IndexSettings:
    return IndexSettings(index_dir=index_dir, embedder="hashing")


def fresh_keys(repo: Path, tmp: Path) -> list:
    fresh = tmp / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    index_repo(repo, settings(fresh))
    return IndexStore.open(fresh).all_keys()


def current_data_file(index_dir: Path) -> Path:
    """The data file the table's current version reads (a fresh index is compacted into one)."""
    files = sorted((index_dir / "lance" / f"{TABLE}.lance" / "data").glob("*.lance"), key=lambda p: p.stat().st_mtime)
    return files[-1]


# ----- item 2: a damaged embedding cache is disposable ---------------------------------------------


def test_rebuild_with_a_damaged_embedding_cache_moves_it_aside_and_completes(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    (index_dir / "embed_cache.sqlite").write_bytes(b"this is not a database " * 400)

    rebuilt = index_cli(sample_repo, index_dir, "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    summary = json.loads(rebuilt.stdout)
    assert summary["files_indexed"] == 4
    assert any("embed_cache.sqlite" in w and "moved it to" in w for w in summary["warnings"])
    assert "embed_cache.sqlite" in rebuilt.stderr  # the log line says so too
    assert len(list(index_dir.glob("embed_cache.sqlite.damaged-*"))) == 1

    found = search_cli(sample_repo, index_dir)
    assert found.returncode == 0, found.stderr
    assert any(hit["path"] == "src/http/retry.py" for hit in json.loads(found.stdout))


def test_an_embedding_cache_damaged_inside_is_replaced_during_a_plain_index(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    cache = index_dir / "embed_cache.sqlite"
    data = bytearray(cache.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # the header survives; every table page is garbage
    cache.write_bytes(bytes(data))
    (sample_repo / "src/http/retry.py").write_text("def retry_once():\n    return 'again'\n")

    summary = index_repo(sample_repo, settings(index_dir))
    assert summary.files_indexed == 1
    assert summary.warnings and "moved it to" in summary.warnings[0]
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(sample_repo, tmp_path)


def test_search_over_an_index_whose_first_run_failed_names_the_command_not_no_results(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    indexer = Indexer(sample_repo, IndexSettings(index_dir=index_dir, embedder="hashing", files_per_batch=1))
    indexer.open(rebuild=True)
    try:
        for event in indexer.run():
            if event.phase == "index":
                break  # the run dies after its first batch, as a failed --rebuild would
    finally:
        indexer.close()

    found = search_cli(sample_repo, index_dir)
    assert found.returncode != 0
    assert "did not finish" in found.stderr and "ragpilot index" in found.stderr
    assert "Traceback" not in found.stderr
    status = cli("status", str(sample_repo), "--index-dir", str(index_dir), "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["indexed"] is False and info["state"] == "building" and "ragpilot index" in info["message"]

    assert index_cli(sample_repo, index_dir).returncode == 0  # the next run completes it
    assert search_cli(sample_repo, index_dir).returncode == 0


# ----- item 3: a first index killed during set-up --------------------------------------------------


def test_a_chunk_table_without_meta_json_is_an_unfinished_setup_the_next_index_starts_over(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    # Exactly what a kill between creating the table and writing meta.json used to leave.
    lancedb.connect(str(index_dir / "lance")).create_table(TABLE, schema=schema(384), mode="create")
    assert not (index_dir / "meta.json").exists()

    for command in (search_cli(sample_repo, index_dir),
                    cli("status", str(sample_repo), "--index-dir", str(index_dir))):
        assert command.returncode != 0 or "not indexed" in command.stdout
        assert "Traceback" not in command.stderr
        assert "--rebuild" not in command.stderr + command.stdout  # a plain `index` is the fix
    healed = index_cli(sample_repo, index_dir)
    assert healed.returncode == 0, healed.stderr
    assert "starting it over" in healed.stderr
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(sample_repo, tmp_path)


def test_a_table_whose_creation_was_killed_before_its_first_version_is_created_again(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    # What a kill inside create_table leaves: meta.json says "building", chunks.lance/ has no version.
    shutil.rmtree(index_dir / "lance" / f"{TABLE}.lance" / "_versions")
    meta = json.loads((index_dir / "meta.json").read_text())
    (index_dir / "meta.json").write_text(json.dumps({**meta, "state": "building"}))

    healed = index_cli(sample_repo, index_dir)
    assert healed.returncode == 0, healed.stderr
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(sample_repo, tmp_path)


def make_repo(root: Path, files: int) -> None:
    for i in range(files):
        (root / f"pkg{i % 5}").mkdir(parents=True, exist_ok=True)
        (root / f"pkg{i % 5}" / f"mod_{i}.py").write_text(
            f"def helper_{i}(values):\n    return sum(v + {i} for v in values)\n")


def test_a_first_index_killed_as_soon_as_its_files_appear_heals_on_the_next_run(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 120)
    for attempt in range(3):  # the kill lands at a slightly different point each time
        index_dir = tmp_path / f"idx{attempt}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragpilot.serve.cli", "index", str(repo), "--index-dir", str(index_dir),
             "--embedder", "hashing", "--json"],
            env={**os.environ, "RAGPILOT_FILES_PER_BATCH": "2"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not (index_dir / ("meta.json", "lance")[attempt % 2]).exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "the index never started"
            time.sleep(0.001 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

        found = search_cli(repo, index_dir, "helper values")
        assert "Traceback" not in found.stderr
        if found.returncode != 0:
            assert "ragpilot index" in found.stderr and "--rebuild" not in found.stderr
        assert index_cli(repo, index_dir).returncode == 0
        assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)


# ----- item 5: damage that index and status did not notice -----------------------------------------


def assert_named_with_rebuild(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "/rustc/" not in result.stderr and ".rs:" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert needle in errors[0] and "ragpilot index --rebuild" in errors[0], result.stderr


def test_a_truncated_data_file_is_named_by_index_status_and_search(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    damaged = current_data_file(index_dir)
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])

    assert_named_with_rebuild(index_cli(sample_repo, index_dir), damaged.name)
    assert_named_with_rebuild(cli("status", str(sample_repo), "--index-dir", str(index_dir)), damaged.name)
    assert_named_with_rebuild(search_cli(sample_repo, index_dir), damaged.name)
    assert index_cli(sample_repo, index_dir, "--rebuild").returncode == 0
    assert search_cli(sample_repo, index_dir).returncode == 0


def test_a_deleted_full_text_index_folder_is_named_by_index_status_and_search(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    shutil.rmtree(index_dir / "lance" / f"{TABLE}.lance" / "_indices")

    assert_named_with_rebuild(index_cli(sample_repo, index_dir), "_indices/")
    assert_named_with_rebuild(cli("status", str(sample_repo), "--index-dir", str(index_dir)), "_indices/")
    assert_named_with_rebuild(search_cli(sample_repo, index_dir), "_indices/")
    assert index_cli(sample_repo, index_dir, "--rebuild").returncode == 0
    assert search_cli(sample_repo, index_dir).returncode == 0
