"""`ragpilot index --engine ray` as a user runs it: a real subprocess joining the session's Ray cluster
(``--ray-address``), the same JSON summary and index as ``--engine local``, ``--repos-file``, and one-line
errors for a cluster that is not there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_bulk_repo
from engine_runs import RUN_FIELDS, rows, socket_nobody_listens
from samples import SAMPLE_FILES, write_files


def ragpilot(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAGPILOT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def address(ray_cluster) -> str:
    """The session cluster's address, for a CLI process to join rather than start its own Ray."""
    return ray_cluster.get_runtime_context().gcs_address


def summaries(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_engine_ray_prints_the_local_engines_summary_and_builds_the_same_index(tmp_path, address):
    (tmp_path / "repo").mkdir()
    repo = write_bulk_repo(tmp_path / "repo")
    [local] = summaries(ragpilot("index", str(repo), "--embedder", "hashing", "--json", "--index-dir",
                                 str(tmp_path / "local"), home=tmp_path / "home"))
    [ray] = summaries(ragpilot("index", str(repo), "--engine", "ray", "--ray-address", address, "--embedder",
                               "hashing", "--json", "--index-dir", str(tmp_path / "ray"), home=tmp_path / "home"))
    assert ray.keys() == local.keys()
    assert {k: v for k, v in ray.items() if k not in RUN_FIELDS} == \
        {k: v for k, v in local.items() if k not in RUN_FIELDS}
    assert ray["files_indexed"] > 60 and ray["chunks_pending"] == 0
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")


def test_repos_file_indexes_each_repository_into_its_own_index(tmp_path, address):
    for name in ("alpha", "beta"):
        write_files(tmp_path / "repos" / name, SAMPLE_FILES)
    (tmp_path / "repos" / "beta" / "extra.py").write_text("def extra():\n    return 42\n")
    listing = tmp_path / "repos" / "list.txt"
    listing.write_text("# the team's repositories\nalpha\n\nbeta\n")
    home = tmp_path / "home"
    first = summaries(ragpilot("index", "--repos-file", str(listing), "--engine", "ray", "--ray-address", address,
                               "--embedder", "hashing", "--json", home=home))
    assert [s["files_indexed"] for s in first] == [4, 5]
    assert len({s["index_dir"] for s in first}) == 2
    assert all(Path(s["index_dir"]).parent == home / "indexes" for s in first)
    again = summaries(ragpilot("index", "--repos-file", str(listing), "--embedder", "hashing", "--json",
                               home=home))  # the local engine continues the Ray engine's indexes
    assert [(s["files_unchanged"], s["chunks_embedded"]) for s in again] == [(4, 0), (5, 0)]
    assert [s["index_dir"] for s in again] == [s["index_dir"] for s in first]


def test_a_bad_ray_address_is_one_clear_line(tmp_path, sample_repo):
    with socket_nobody_listens() as port:
        result = ragpilot("index", str(sample_repo), "--engine", "ray", "--ray-address", f"127.0.0.1:{port}",
                          "--embedder", "hashing", home=tmp_path / "home", timeout=60)
    assert result.returncode == 2
    assert f"error: no Ray cluster answers at --ray-address 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "indexes").exists()  # refused before any index was made


def test_usage_mistakes_are_refused(tmp_path, sample_repo):
    result = ragpilot("index", str(sample_repo), "--ray-address", "auto", home=tmp_path)
    assert result.returncode == 2 and "--ray-address is for --engine ray" in result.stderr
    result = ragpilot("index", str(sample_repo), str(tmp_path), "--index-dir", str(tmp_path / "idx"), home=tmp_path)
    assert result.returncode == 2 and "index several repositories without them" in result.stderr
    listing = tmp_path / "list.txt"
    listing.write_text("missing-repo\n")
    result = ragpilot("index", "--repos-file", str(listing), home=tmp_path)
    assert result.returncode == 2 and "list.txt:1: missing-repo is not a directory" in result.stderr


def test_the_cli_imports_ray_only_for_engine_ray():
    code = ("import sys\nfrom ragpilot.serve.cli import main\n"
            "for argv in (['--version'], ['index', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('ray' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
