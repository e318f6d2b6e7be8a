"""Shared by the index-directory failure tests (in process and through the CLI): a small repository,
what a reader sees of an index, and a disk that fills up after N writes."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import lancedb.merge
import pytest

from ragpilot.indexer.catalog import CATALOG_FILE
from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import META_FILE, IndexStore


def make_repo(root: Path, files: int) -> None:
    for i in range(files):
        (root / f"pkg{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"pkg{i % 3}" / f"mod_{i}.py").write_text(
            f"def helper_{i}(values):\n    return sum(v + {i} for v in values)\n\n\n"
            f"class Worker{i}:\n    def run(self):\n        return helper_{i}([{i}])\n"
        )


def settings(index_dir: Path, **kw) -> IndexSettings:
    return IndexSettings(index_dir=index_dir, embedder="hashing", **kw)


def state(index_dir: Path, *, unfinished: bool = False) -> tuple[list, dict]:
    """What a reader sees: every row key, and the catalog's records (``unfinished``: what is on disk of
    a first index that did not complete, which readers refuse)."""
    store = IndexStore(index_dir, IndexStore.read_meta(index_dir)) if unfinished else IndexStore.open(index_dir)
    keys = store.all_keys()
    with closing(sqlite3.connect(index_dir / CATALOG_FILE)) as conn:  # closed now, not at the next GC
        catalog = {r[0]: r[1:] for r in conn.execute("SELECT path, mtime_ns, size, sha256, chunks FROM files")}
    return keys, catalog


def meta(index_dir: Path) -> dict:
    """meta.json without its timestamp (opening an index for writing refreshes ``updated_at``)."""
    data = json.loads((index_dir / META_FILE).read_text())
    data.pop("updated_at")
    return data


def fresh_keys(repo: Path, tmp: Path) -> list:
    fresh = tmp / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    index_repo(repo, settings(fresh))
    return IndexStore.open(fresh).all_keys()


def no_dac_override() -> None:
    """Root ignores file modes; dropping these capabilities in the child makes chmod bind it too."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(97)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    if result.returncode == 97:
        pytest.skip("running as root without CAP_SETPCAP: file modes cannot be made to bind")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert all(n in errors[0] for n in needles), result.stderr


@pytest.fixture
def disk_full_after(monkeypatch):
    """Make the n-th and later LanceDB commits (merges, and the appends of a first index) fail as a
    full disk does."""
    budget = {"calls_left": 10**9}

    def failing(real):
        def commit(self, *args, **kwargs):
            if budget["calls_left"] <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            budget["calls_left"] -= 1
            return real(self, *args, **kwargs)
        return commit

    def install(n_ok: int) -> None:
        budget["calls_left"] = n_ok

    monkeypatch.setattr(lancedb.merge.LanceMergeInsertBuilder, "execute",
                        failing(lancedb.merge.LanceMergeInsertBuilder.execute))
    monkeypatch.setattr(lancedb.table.LanceTable, "add", failing(lancedb.table.LanceTable.add))
    return install
