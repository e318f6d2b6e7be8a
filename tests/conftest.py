"""Shared fixtures: small real repositories in tmp dirs and index settings that never touch $HOME."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SAMPLE_FILES = {
    "src/http/retry.py": '''
        """Retry policies for the HTTP client."""

        import time


        class RetryPolicy:
            """Decides whether a failed request is retried and how long to wait."""

            def __init__(self, attempts: int = 3, backoff: float = 0.5):
                self.attempts = attempts
                self.backoff = backoff

            def should_retry(self, status_code: int, attempt: int) -> bool:
                """Retry server errors and throttling until the attempts run out."""
                return attempt < self.attempts and (status_code >= 500 or status_code == 429)

            def delay(self, attempt: int) -> float:
                """Exponential backoff between attempts."""
                return self.backoff * (2 ** attempt)


        def sleep_before_retry(policy: RetryPolicy, attempt: int) -> None:
            time.sleep(policy.delay(attempt))
        ''',
    "src/storage/cache.go": '''
        package storage

        // LRUCache keeps the most recently used entries in memory.
        type LRUCache struct {
            capacity int
            items    map[string]string
        }

        // Get returns the cached value for key.
        func (c *LRUCache) Get(key string) (string, bool) {
            v, ok := c.items[key]
            return v, ok
        }

        // EvictOldest drops the least recently used entry when the cache is full.
        func (c *LRUCache) EvictOldest() {
            for k := range c.items {
                delete(c.items, k)
                return
            }
        }
        ''',
    "web/parseQuery.ts": '''
        export interface QueryOptions {
          caseSensitive: boolean;
        }

        export function parseSearchQuery(raw: string, opts: QueryOptions): string[] {
          const text = opts.caseSensitive ? raw : raw.toLowerCase();
          return text.split(/\\s+/).filter((t) => t.length > 0);
        }
        ''',
    "docs/guide.md": '''
        # Guide

        Intro text for the project.

        ## Installing

        Run the installer and configure the database connection string.

        ## Troubleshooting

        If the connection times out, raise the timeout in settings.
        ''',
}


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


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
