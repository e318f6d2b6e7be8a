"""Shared fixtures: small real repositories in tmp dirs, index settings that never touch $HOME, and a fake
OpenAI-compatible upstream. Modules may override a fixture by name (several define their own ``repo``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from samples import SAMPLE_FILES, write_files
from servers import DEFAULT_REPLY, FakeUpstream, ThreadedServer, open_repos

from index_dirs import disk_full_after  # noqa: F401 - a fixture, shared by the index-dir failure tests

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A small multi-language repository (not a git repo)."""
    root = tmp_path / "repo"
    root.mkdir()
    write_files(root, SAMPLE_FILES)
    return root


@pytest.fixture
def git_repo(sample_repo: Path) -> Path:
    """The sample repository as a real git work tree with one commit."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q"], cwd=sample_repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=sample_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=sample_repo, check=True, env=env)
    return sample_repo


@pytest.fixture
def ragpilot_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every index of the test goes under tmp_path, never the user's data dir."""
    home = tmp_path / "ragpilot-home"
    monkeypatch.setenv("RAGPILOT_HOME", str(home))
    return home


@pytest.fixture
def fast_settings(tmp_path: Path):
    """Index settings with the deterministic hashing embedder: fast unit tests of the pipeline."""
    from ragpilot.indexer.settings import IndexSettings

    return IndexSettings(home=tmp_path / "home", index_dir=tmp_path / "idx", embedder="hashing")


@pytest.fixture
def repo(sample_repo: Path, tmp_path: Path) -> Path:
    """The sample repository in a folder whose name needs percent-encoding in a URI."""
    root = tmp_path / "my repo"
    shutil.copytree(sample_repo, root)
    return root


@pytest.fixture
def index_settings(tmp_path: Path):
    """Hashing-embedder settings for serving: each repository's index under ``home`` (no fixed index_dir)."""
    from ragpilot.indexer.settings import IndexSettings

    return IndexSettings(home=tmp_path / "home", embedder="hashing")


@pytest.fixture
def served(repo, index_settings):
    """The sample repository indexed and served (a RepoSet), closed after the test."""
    repos = open_repos([repo], index_settings)
    yield repos
    repos.close()


@pytest.fixture(scope="module")
def upstream():
    """A fake OpenAI-compatible server (servers.FakeUpstream) on a real uvicorn thread, one per module."""
    fake = FakeUpstream()
    with ThreadedServer(fake.app) as server:
        fake.url = server.url + "/v1"
        yield fake


@pytest.fixture
def fake(upstream):
    """The module's upstream, reset for each test: default reply, no failure, no gate, no recorded requests."""
    upstream.requests.clear()
    upstream.reply, upstream.fail_status, upstream.gate = DEFAULT_REPLY, None, None
    return upstream
