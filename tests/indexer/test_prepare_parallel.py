"""Preparing files on worker processes changes nothing but the speed: the same rows, full-text
columns, symbols, catalog and skip counts as preparing them in the indexer's own process."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from planted_secrets import REDACTED_FILES, SKIPPED_FILES
from samples import SAMPLE_FILES, write_files

from ragpilot.indexer import prepare
from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.prepare import FilePreparer, resolve_index_workers
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.symbols.store import SymbolStore

OUR_CODE = Path(__file__).resolve().parents[2]


@pytest.fixture
def varied_repo(tmp_path: Path) -> Path:
    """This repository's own indexer and retrieval code, the multi-language samples, files holding
    planted secrets (redacted or skipped), a binary file and a non-UTF-8 one."""
    root = tmp_path / "repo"
    for package in ("indexer", "retrieval"):
        shutil.copytree(OUR_CODE / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    write_files(root, SAMPLE_FILES)
    write_files(root, {f"secrets/{k}": v for k, v in {**REDACTED_FILES, **SKIPPED_FILES}.items()})
    (root / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me br\xfbl\xe9e\n".encode("latin-1"))
    return root


def index_with(repo: Path, tmp_path: Path, workers: int):
    settings = IndexSettings(home=tmp_path / "home", index_dir=tmp_path / f"idx-{workers}",
                             embedder="minilm-onnx", index_workers=workers)
    indexer = Indexer(repo, settings).open()
    try:
        summary = indexer.run_to_end(embed=False)
    finally:
        indexer.close()
    return settings.index_dir, summary


def table_rows(index_dir: Path) -> list[dict]:
    rows = IndexStore.open(index_dir).table.to_arrow().to_pylist()
    return sorted(rows, key=lambda r: r["id"])


def catalog_rows(index_dir: Path) -> list[tuple]:
    with sqlite3.connect(index_dir / "catalog.sqlite") as conn:
        return sorted(conn.execute("SELECT path, size, sha256, chunks FROM files"))


def symbol_rows(index_dir: Path) -> tuple[list, list]:
    store = SymbolStore(index_dir)
    try:
        return sorted(store.definitions(), key=repr), sorted(store.references(), key=repr)
    finally:
        store.close()


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Small repositories go on the pool too; the list counts the runs that used it."""
    runs: list[int] = []
    real = FilePreparer._pooled

    def counting(self, work, batch_size):
        runs.append(len(work))
        yield from real(self, work, batch_size)

    monkeypatch.setattr(prepare, "POOL_MIN_FILES", 0)
    monkeypatch.setattr(FilePreparer, "_pooled", counting)
    return runs


def test_a_repository_prepared_by_two_workers_is_indexed_exactly_as_by_one(varied_repo, tmp_path, pooled):
    serial_dir, serial = index_with(varied_repo, tmp_path, workers=1)
    assert pooled == []  # one worker prepares in-process
    parallel_dir, parallel = index_with(varied_repo, tmp_path, workers=2)
    assert pooled and pooled[0] >= serial.files_indexed  # every candidate went through the workers

    assert serial.files_indexed > 50 and serial.files_redacted > 0
    assert (parallel.files_indexed, parallel.files_redacted, parallel.secrets_redacted, parallel.chunks_total) == \
        (serial.files_indexed, serial.files_redacted, serial.secrets_redacted, serial.chunks_total)
    assert parallel.skipped_by_reason == serial.skipped_by_reason
    assert parallel.skipped_examples == serial.skipped_examples
    serial_rows, parallel_rows = table_rows(serial_dir), table_rows(parallel_dir)
    assert len(serial_rows) == serial.chunks_total
    assert parallel_rows == serial_rows  # content, lines, symbol paths, every fts_* column
    assert catalog_rows(parallel_dir) == catalog_rows(serial_dir)
    definitions, references = symbol_rows(serial_dir)
    assert len(definitions) > 100 and len(references) > 1000
    assert symbol_rows(parallel_dir) == (definitions, references)


def test_a_second_run_over_unchanged_bytes_on_the_pool_only_refreshes_the_catalog(varied_repo, tmp_path, pooled):
    index_dir, first = index_with(varied_repo, tmp_path, workers=2)
    before = table_rows(index_dir)
    for path in varied_repo.rglob("*.py"):  # new mtimes, same bytes: hashed again, nothing rewritten
        path.touch()
    _, again = index_with(varied_repo, tmp_path, workers=2)
    assert len(pooled) == 2
    assert again.files_indexed == 0 and again.files_unchanged == first.files_indexed
    assert table_rows(index_dir) == before


def test_the_watchers_small_updates_prepare_in_process(sample_repo, tmp_path, monkeypatch):
    monkeypatch.setattr(FilePreparer, "_pooled", _no_pool)
    settings = IndexSettings(home=tmp_path / "home", index_dir=tmp_path / "idx", embedder="hashing",
                             index_workers=2)
    with Indexer(sample_repo, settings) as indexer:
        indexer.run_to_end()
        target = sample_repo / "src/http/retry.py"
        target.write_text(target.read_text() + "\n\ndef backoff_jitter(seconds):\n    return seconds\n")
        summary = indexer.update(["src/http/retry.py", "docs/guide.md"])
    assert summary.files_indexed == 1


def _no_pool(self, work, batch_size):
    raise AssertionError(f"a pool was started for {len(work)} files")


def test_index_workers_default_to_the_embedding_cap_then_to_every_core():
    assert resolve_index_workers(None, None, cores=16) == 16
    assert resolve_index_workers(None, 1, cores=16) == 1  # RAGPILOT_EMBED_THREADS=1: a shared machine
    assert resolve_index_workers(3, 1, cores=16) == 3
    with pytest.raises(UsageError):
        resolve_index_workers(0, None, cores=2)


def test_index_workers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAGPILOT_INDEX_WORKERS", "3")
    assert IndexSettings().index_workers == 3
