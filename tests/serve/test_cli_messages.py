"""What the CLI and the server say in the corner cases: an unfinished index, repairs made, a client's ``~``.

In-process (``main([...])`` with captured output), real indexes in temp dirs, the hashing embedder.
"""

from __future__ import annotations


import pytest

from ragpilot.indexer.errors import RepoNotServedError, UsageError
from ragpilot.indexer.pipeline import Indexer, IndexSummary
from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.cli import main
from ragpilot.serve.cli.output import print_summary
from ragpilot.serve.repos import RepoSet, path_from_uri


def test_status_of_an_index_whose_first_run_did_not_finish_says_so_not_not_indexed(sample_repo, tmp_path, capsys):
    index_dir = tmp_path / "idx"
    indexer = Indexer(sample_repo, IndexSettings(index_dir=index_dir, embedder="hashing", files_per_batch=1))
    indexer.open(rebuild=True)
    try:
        for event in indexer.run():
            if event.phase == "index":
                break  # the run dies after its first batch
    finally:
        indexer.close()

    assert main(["status", str(sample_repo), "--index-dir", str(index_dir)]) == 0
    printed = capsys.readouterr().out
    assert "did not finish" in printed and "ragpilot index" in printed
    assert "not indexed yet" not in printed


def test_the_index_summary_prints_what_was_repaired(tmp_path, capsys):
    summary = IndexSummary(index_dir=str(tmp_path / "idx"))
    summary.warnings = ["the embedding cache embed_cache.sqlite was damaged: moved it to embed_cache.sqlite.damaged-1"]
    print_summary(summary)
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "moved it to embed_cache.sqlite.damaged-1" in captured.err


def test_a_client_path_starting_with_tilde_is_not_expanded_to_the_server_users_home(sample_repo, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.setenv("HOME", str(sample_repo.parent))  # "~/<repo name>" would name the served repo
    repos = RepoSet.from_paths([sample_repo], IndexSettings(index_dir=tmp_path / "idx", embedder="hashing"))
    tilde = f"~/{sample_repo.name}"
    with pytest.raises(UsageError):
        path_from_uri(tilde)
    with pytest.raises(RepoNotServedError):  # a 404 naming the served repositories
        repos.by_name_or_path(tilde)
    assert repos.by_name_or_path(str(sample_repo)).root == sample_repo.resolve()
