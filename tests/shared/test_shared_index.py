"""A shared index on S3 (moto's server on 127.0.0.1): everything in the store, any machine continues it,
one writer at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragpilot.indexer.errors import IndexBusyError, RagpilotError, UsageError
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.store_uri import BINDING_FILE, normalise_uri, storage_options
from ragpilot.retrieval.searcher import Searcher
from ragpilot.serve.status import repo_status


def settings_for(home: Path, uri: str) -> IndexSettings:
    return IndexSettings(home=home, index_uri=uri, embedder="hashing")


def test_an_index_on_s3_keeps_everything_in_the_store(sample_repo, s3_server, s3_uri, machine_a):
    settings = settings_for(machine_a, s3_uri)
    summary = index_repo(sample_repo, settings)
    assert summary.files_indexed > 0 and summary.chunks_total > 0

    local = settings.index_dir_for(sample_repo)
    # This machine keeps only its binding and its writer lock: no catalog, cache, meta or table here.
    assert {p.name for p in local.iterdir()} <= {BINDING_FILE, "writer.lock", "writer.pid"}
    assert json.loads((local / BINDING_FILE).read_text())["uri"] == s3_uri
    bucket = s3_uri.split("/")[2]
    tables = {key.split("/")[2] for key in s3_server.keys(bucket)}  # team/repo/<table>/...
    assert {"chunks.lance", "files.lance", "embed_cache.lance", "meta.lance", "writer_lease.lance"} <= tables

    hits = Searcher.for_index(local).search("RetryPolicy should_retry", k=3)
    assert hits and hits[0].path == "src/http/retry.py"
    status = repo_status(sample_repo, local)
    assert status["indexed"] and status["files"] == summary.files_indexed
    assert status["chunks"] == summary.chunks_total


def test_another_machine_continues_the_same_index(sample_repo, s3_uri, machine_a, machine_b):
    first = index_repo(sample_repo, settings_for(machine_a, s3_uri))

    # Machine B has never seen this index: the catalog in the store tells it nothing changed.
    again = index_repo(sample_repo, settings_for(machine_b, s3_uri))
    assert again.files_indexed == 0 and again.files_unchanged == first.files_indexed

    (sample_repo / "src" / "auth.py").write_text("def login(user):\n    return 'sso:' + user\n")
    (sample_repo / "docs" / "guide.md").unlink()
    edited = index_repo(sample_repo, settings_for(machine_b, s3_uri))
    assert (edited.files_indexed, edited.files_deleted, edited.files_unchanged) == (1, 1, first.files_indexed - 1)

    # A rebuild on machine A drops the tables but not the store's embedding cache.
    rebuilt = index_repo(sample_repo, settings_for(machine_a, s3_uri), rebuild=True)
    assert rebuilt.chunks_total == edited.chunks_total
    assert rebuilt.chunks_cached == rebuilt.chunks_total  # every vector came from the cache in the store
    hits = Searcher.for_index(settings_for(machine_a, s3_uri).index_dir_for(sample_repo)).search("sso login", k=1)
    assert "sso:" in hits[0].content


def test_a_second_writer_is_refused_naming_the_holder(sample_repo, s3_uri, machine_a, machine_b):
    index_repo(sample_repo, settings_for(machine_a, s3_uri))
    holder = Indexer(sample_repo, settings_for(machine_a, s3_uri)).open()
    try:
        with pytest.raises(IndexBusyError) as refused:
            Indexer(sample_repo, settings_for(machine_b, s3_uri)).open()
        message = str(refused.value)
        assert s3_uri in message and f"pid {__import__('os').getpid()}" in message
    finally:
        holder.close()
    # Released: the other machine writes at once (no waiting for the lease to run out).
    later = Indexer(sample_repo, settings_for(machine_b, s3_uri)).open()
    later.close()


def test_readers_need_no_lease(sample_repo, s3_uri, machine_a, machine_b):
    index_repo(sample_repo, settings_for(machine_a, s3_uri))
    holder = Indexer(sample_repo, settings_for(machine_a, s3_uri)).open()
    try:
        reader_dir = settings_for(machine_b, s3_uri).index_dir_for(sample_repo)
        assert Searcher.for_index(reader_dir).search("parseQuery", k=1)
    finally:
        holder.close()


def test_a_store_that_cannot_be_reached_is_one_clear_error(sample_repo, machine_a, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("RAGPILOT_STORAGE_OPTIONS", json.dumps({"connect_timeout": "2s", "timeout": "5s"}))
    settings = settings_for(machine_a, "s3://ragpilot-nowhere/repo")
    with pytest.raises(RagpilotError) as failed:
        IndexStore.read_meta(settings.index_dir_for(sample_repo))
    assert "cannot read the shared index at s3://ragpilot-nowhere/repo" in str(failed.value)


@pytest.mark.parametrize("value, expected", [
    ("s3://bucket/team/repo/", "s3://bucket/team/repo"),
    ("gs://bucket/x", "gs://bucket/x"),
    ("az://container/x", "az://container/x"),
])
def test_uris_are_normalised(value, expected):
    assert normalise_uri(value) == expected


@pytest.mark.parametrize("value", ["", "s3://", "http://host/bucket", "ftp://x/y"])
def test_unusable_uris_are_refused(value):
    with pytest.raises(UsageError):
        normalise_uri(value)


def test_a_path_is_a_shared_folder(tmp_path):
    assert normalise_uri(str(tmp_path / "a" / ".." / "shared")) == str(tmp_path / "shared")
    assert normalise_uri(f"file://{tmp_path}/shared") == str(tmp_path / "shared")


def test_storage_options_come_from_the_environment():
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1",
           "RAGPILOT_STORAGE_OPTIONS": '{"timeout": "30s"}'}
    assert storage_options("s3://b/p", env) == {
        "aws_endpoint": "http://127.0.0.1:9000", "allow_http": "true", "aws_region": "eu-west-1", "timeout": "30s"}
    assert storage_options("gs://b/p", {"AWS_ENDPOINT_URL": "http://x"}) == {}
    with pytest.raises(UsageError):
        storage_options("s3://b/p", {"RAGPILOT_STORAGE_OPTIONS": "[1]"})
