"""The retrieval settings a server is started with reach the searchers of its repositories."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ragpilot.indexer.settings import IndexSettings
from ragpilot.retrieval.settings import DEFAULTS
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.settings import ServeSettings


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """One file of many functions that all match the query (so an uncapped search returns several)."""
    root = tmp_path / "repo"
    root.mkdir()
    body = "".join(f"    step_{j} = refresh_token(attempt, {j})\n" for j in range(30))
    functions = [f"def refresh_token_{i}(attempt):\n{body}    return attempt\n" for i in range(6)]
    (root / "tokens.py").write_text("\n\n".join(functions), encoding="utf-8")
    (root / "other.py").write_text("def refresh_token(attempt, step):\n    return attempt + step\n",
                                   encoding="utf-8")
    return root


def served(settings: ServeSettings) -> RepoSet:
    repos = RepoSet.from_settings(settings)
    repos.start(watch=False)
    assert repos.wait_ready(120)
    assert repos.repos[0].state.phase == "ready", repos.repos[0].state
    return repos


def files_per_query(repos: RepoSet, query: str) -> Counter:
    return Counter(h.path for _, h in repos.search(query, repos.repos, k=20, mode="lexical"))


def test_ragpilot_retrieval_variables_reach_the_searcher_of_a_served_repository(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGPILOT_RRF_K", "3")
    monkeypatch.setenv("RAGPILOT_MAX_PER_FILE", "1")
    monkeypatch.setenv("RAGPILOT_LEXICAL_WEIGHT", "0.25")
    settings = ServeSettings(repos=[repo], index=IndexSettings(home=tmp_path / "home", embedder="hashing"))
    assert settings.retrieval.rrf_k == 3 != DEFAULTS.rrf_k
    repos = served(settings)
    try:
        searcher = repos.repos[0].searcher
        assert (searcher.rrf_k, searcher.max_per_file, searcher.weights) == (3, 1, (0.25, DEFAULTS.dense_weight))
        # the per-file cap of 1 is applied: one hit per file first (the capped-off hits only fill up to k)
        ranked = [h.path for _, h in repos.search("refresh_token", repos.repos, k=20, mode="lexical")]
        spread = len(set(ranked))
        assert len(set(ranked[:spread])) == spread < len(ranked)
    finally:
        repos.close()


def test_a_served_repository_searches_with_the_default_knobs_when_none_are_set(
        repo: Path, tmp_path: Path) -> None:
    settings = ServeSettings(repos=[repo], index=IndexSettings(home=tmp_path / "home", embedder="hashing"))
    repos = served(settings)
    try:
        searcher = repos.repos[0].searcher
        assert (searcher.rrf_k, searcher.max_per_file) == (DEFAULTS.rrf_k, DEFAULTS.max_per_file)
        assert max(files_per_query(repos, "refresh_token").values()) > 1  # so the cap of 1 above is not a coincidence
    finally:
        repos.close()
