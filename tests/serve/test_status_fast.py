"""`ragpilot status` answers from small files, says what the lancedb path says, and names damage the same way.

Real indexes (hashing embedder) in tmp dirs; the quick answer is compared with ``serve.status.repo_status``,
the lancedb answer it replaces.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ragpilot.indexer import status_read
from ragpilot.indexer.errors import IndexIncompatibleError
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.status_read import (
    COUNTS_FILE,
    READ_SCHEMA_VERSION,
    quick_status,
    read_table_version,
)
from ragpilot.indexer.store import SCHEMA_VERSION, TABLE, IndexStore
from ragpilot.serve.status import repo_status


def settings(index_dir: Path) -> IndexSettings:
    return IndexSettings(index_dir=index_dir, embedder="hashing")


def table_dir(index_dir: Path) -> Path:
    return index_dir / "lance" / f"{TABLE}.lance"


@pytest.fixture
def indexed(tmp_path, sample_repo) -> tuple[Path, Path]:
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    return sample_repo, index_dir


def test_the_quick_status_says_what_the_lancedb_status_says(indexed):
    root, index_dir = indexed
    assert quick_status(root, index_dir) == repo_status(root, index_dir)


def test_the_quick_status_counts_chunks_still_waiting_for_their_vectors(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    index_repo(sample_repo, settings(index_dir))
    (sample_repo / "src" / "added.py").write_text("def added():\n    return 'not embedded yet'\n")
    indexer = Indexer(sample_repo, settings(index_dir))
    indexer.open()
    try:
        indexer.run_to_end(embed=False)
    finally:
        indexer.close()

    quick = quick_status(sample_repo, index_dir)
    assert quick is not None and quick["embedded"]["complete"] is False
    assert quick == repo_status(sample_repo, index_dir)


def test_the_manifest_row_count_subtracts_deleted_rows(indexed):
    root, index_dir = indexed
    store = IndexStore.open(index_dir)
    some_path = store.all_keys()[0][0]
    store.replace_files([], [some_path])  # a deletion file, not a rewrite: rows are only marked deleted
    assert read_table_version(table_dir(index_dir)).rows == store.count_chunks()
    assert quick_status(root, index_dir)["chunks"] == store.count_chunks()


def test_status_reads_no_lancedb_when_the_quick_answer_is_possible(indexed):
    root, index_dir = indexed
    code = ("import sys, json\n"
            "from ragpilot.serve.cli import main\n"
            f"sys.argv = ['ragpilot', 'status', {str(root)!r}, '--index-dir', {str(index_dir)!r}, '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('LANCEDB' if 'lancedb' in sys.modules else 'NO-LANCEDB')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "NO-LANCEDB"
    assert json.loads(lines[0])["chunks"] == repo_status(root, index_dir)["chunks"]


def test_a_truncated_data_file_of_the_current_version_is_named(indexed):
    root, index_dir = indexed
    files = read_table_version(table_dir(index_dir)).data_files
    damaged = table_dir(index_dir) / "data" / files[0]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])

    with pytest.raises(IndexIncompatibleError) as err:
        quick_status(root, index_dir)
    assert f"lance/{TABLE}.lance/data/{files[0]} is damaged or missing" in str(err.value)
    assert "ragpilot index --rebuild" in str(err.value)


def test_a_deleted_or_emptied_full_text_index_folder_is_named(indexed):
    root, index_dir = indexed
    indices = read_table_version(table_dir(index_dir)).indices
    assert {name for name, _ in indices} >= {"fts_path_idx", "fts_symbol_idx", "fts_body_idx"}
    (_, gone), (_, emptied) = indices[0], indices[1]
    shutil.rmtree(table_dir(index_dir) / "_indices" / gone)
    with pytest.raises(IndexIncompatibleError, match=f"_indices/{gone} is missing"):
        quick_status(root, index_dir)

    shutil.copytree(table_dir(index_dir) / "_indices" / emptied, table_dir(index_dir) / "_indices" / gone)
    for part in (table_dir(index_dir) / "_indices" / emptied).iterdir():
        part.unlink()
    with pytest.raises(IndexIncompatibleError, match=f"_indices/{emptied} is missing"):
        quick_status(root, index_dir)


def test_without_a_usable_count_record_the_quick_status_defers_to_the_table(indexed):
    root, index_dir = indexed
    counts = index_dir / COUNTS_FILE
    record = json.loads(counts.read_text())
    counts.write_text(json.dumps({**record, "chunks": record["chunks"] + 1}))  # another version's rows
    assert quick_status(root, index_dir) is None
    counts.unlink()  # an index written before the counts were recorded
    assert quick_status(root, index_dir) is None


def test_an_index_not_ready_or_missing_is_left_to_the_store_s_messages(tmp_path, indexed):
    root, index_dir = indexed
    assert quick_status(root, tmp_path / "nothing-here") is None
    meta = json.loads((index_dir / "meta.json").read_text())
    (index_dir / "meta.json").write_text(json.dumps({**meta, "state": "building"}))
    assert quick_status(root, index_dir) is None


def test_the_quick_reader_knows_the_schema_version_the_store_writes():
    assert READ_SCHEMA_VERSION == SCHEMA_VERSION


def test_a_file_cleaned_up_after_a_newer_version_was_committed_is_not_damage(indexed, monkeypatch):
    root, index_dir = indexed
    current = read_table_version(table_dir(index_dir))
    superseded = status_read.TableVersion(current.version - 1, current.rows, ("cleaned-up-by-optimize.lance",), ())
    answers = iter([superseded, current])
    monkeypatch.setattr(status_read, "read_table_version", lambda _dir: next(answers))
    assert quick_status(root, index_dir) == repo_status(root, index_dir)

    answers = iter([superseded, superseded])  # the version lacking the file is still the current one
    monkeypatch.setattr(status_read, "read_table_version", lambda _dir: next(answers))
    with pytest.raises(IndexIncompatibleError, match="cleaned-up-by-optimize.lance is damaged or missing"):
        quick_status(root, index_dir)
