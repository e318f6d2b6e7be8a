"""While an index is still being embedded, /health, /status and /search say how much of it is: the
HTTP side of search first, embed after. Real index (hashing embedder), real app via TestClient."""

from __future__ import annotations

import pytest
from servers import client_for

from ragpilot.indexer.pipeline import Indexer
from ragpilot.serve.repos import RepoSet


@pytest.fixture
def half_embedded(repo, index_settings):
    """The sample repository with one file's rows embedded and the others not yet, served as is."""
    indexer = Indexer(repo, index_settings).open()
    try:
        indexer.run_to_end(embed=False)
        indexer.embed_some(1)
        embedded, total = indexer.store.embedded_counts()
    finally:
        indexer.close()
    assert 0 < embedded < total
    repos = RepoSet.from_paths([repo], index_settings)
    repos.skip_indexing()
    with client_for(repos, index_settings) as client:
        yield client, embedded, total
    repos.close()


def test_health_status_and_search_report_how_much_is_embedded(half_embedded):
    client, embedded, total = half_embedded
    expected = {"chunks": embedded, "of": total, "complete": False}
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["embedded"] == expected
    (info,) = client.get("/status").json()["repos"]
    assert info["embedded"] == expected and info["chunks"] == total
    r = client.post("/search", json={"query": "retry policy backoff", "k": 5})
    assert r.status_code == 200
    hits = r.json()
    assert hits and all(h["embedded"] == expected for h in hits)
    assert {"path", "start_line", "score", "repo"} <= hits[0].keys()  # the existing fields are still there
    assert r.headers["X-Ragpilot-Embedded"] == f"{embedded}/{total}"


def test_hybrid_search_over_an_index_with_nothing_embedded_answers_lexically(repo, index_settings):
    indexer = Indexer(repo, index_settings).open()
    try:
        indexer.run_to_end(embed=False)
    finally:
        indexer.close()
    repos = RepoSet.from_paths([repo], index_settings)
    repos.skip_indexing()
    try:
        with client_for(repos, index_settings) as client:
            r = client.post("/search", json={"query": "RetryPolicy", "k": 3, "mode": "hybrid"})
            assert r.status_code == 200, r.text
            assert r.json()[0]["path"] == "src/http/retry.py"
            assert r.json()[0]["embedded"]["chunks"] == 0
    finally:
        repos.close()
