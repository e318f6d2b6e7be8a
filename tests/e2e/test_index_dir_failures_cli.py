"""The index directory fails under the indexer: not creatable, read-only, disk full.

Each failure is one clear error (never a traceback), the index keeps its last complete state (no
half-written file is visible), and the next run, once the problem is gone, completes and equals a
fresh index of the same tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.store import IndexStore

from index_dirs import (
    assert_one_line_error,
    fresh_keys,
    make_repo,
    no_dac_override,
    settings,
    state,
)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], capture_output=True, text=True,
                          timeout=300, preexec_fn=no_dac_override if os.geteuid() == 0 else None)


# ----- cannot be created / written -----------------------------------------------------------------


def test_an_index_dir_under_a_regular_file_is_a_clear_error(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 3)
    (tmp_path / "a_file").write_text("not a directory\n")
    result = cli("index", str(repo), "--embedder", "hashing", "--index-dir", str(tmp_path / "a_file" / "idx"))
    assert_one_line_error(result, "cannot use", "Not a directory", "--index-dir")


def test_a_read_only_parent_of_a_new_index_dir_is_a_clear_error(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 3)
    parent = tmp_path / "readonly"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        result = cli("index", str(repo), "--embedder", "hashing", "--index-dir", str(parent / "idx"))
    finally:
        parent.chmod(0o755)
    assert_one_line_error(result, "Permission denied", "--index-dir")
    assert not (parent / "idx").exists()


def test_a_read_only_index_is_left_unchanged_and_the_next_writable_run_completes(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, 6)
    index_dir = tmp_path / "idx"
    index_repo(repo, settings(index_dir))
    before = state(index_dir)
    (repo / "pkg0" / "mod_0.py").write_text("def edited_while_read_only():\n    return 0\n")
    (repo / "pkg1" / "mod_1.py").unlink()

    modes = {p: p.stat().st_mode for p in [index_dir, *index_dir.rglob("*")]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        result = cli("index", str(repo), "--embedder", "hashing", "--index-dir", str(index_dir))
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert_one_line_error(result, "Permission denied")
    assert state(index_dir) == before

    index_repo(repo, settings(index_dir))
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)


# ----- disk full -------------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MiB file system (tmpfs); skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_really_full_disk_is_one_error_line_and_the_next_run_with_room_completes(tmp_path, tiny_disk):
    repo = tmp_path / "repo"
    make_repo(repo, 400)
    index_dir = tiny_disk / "idx"
    result = subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", "index", str(repo), "--embedder",
                             "hashing", "--index-dir", str(index_dir)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "full" in errors[0].lower() or "No space" in errors[0]

    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    again = subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", "index", str(repo), "--embedder",
                            "hashing", "--index-dir", str(index_dir), "--json"], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["files_indexed"] + json.loads(again.stdout)["files_unchanged"] == 400
    assert IndexStore.open(index_dir).all_keys() == fresh_keys(repo, tmp_path)

