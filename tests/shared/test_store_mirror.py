"""A replica's local copy of an index on S3 (moto's server): the same rows, only new objects copied,
objects the writer removed dropped one sync later, and a replica serving from it."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from object_store import CREDENTIALS

from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.errors import IndexMissingError
from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.store_mirror import StoreMirror
from ragpilot.indexer.store_uri import binding
from ragpilot.serve.replica import PinnedView


def settings_for(home: Path, uri: str) -> IndexSettings:
    return IndexSettings(home=home, index_uri=uri, embedder="hashing")


def rows(index_dir: Path) -> list[tuple]:
    table = IndexStore.open(index_dir).table.to_arrow().select(["id", "path", "content", "start_line"])
    return sorted(tuple(r.values()) for r in table.to_pylist())


def s3_client(server):
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        region_name=CREDENTIALS["AWS_REGION"])


def test_the_copy_holds_the_same_rows_and_a_sync_copies_only_new_objects(sample_repo, s3_uri, machine_a, tmp_path):
    settings = settings_for(machine_a, s3_uri)
    index_repo(sample_repo, settings)
    shared_dir = settings.index_dir_for(sample_repo)
    mirror = StoreMirror(binding(shared_dir), tmp_path / "copy")

    first = mirror.sync()
    assert first.copied > 0 and first.copied_bytes > 0
    assert rows(mirror.view_dir) == rows(shared_dir)
    assert mirror.sync().copied == 0  # nothing new: nothing copied

    (sample_repo / "src" / "auth.py").write_text("def login(user):\n    return 'sso:' + user\n")
    index_repo(sample_repo, settings)
    again = mirror.sync()
    assert 0 < again.copied < first.copied + again.copied  # the new version's objects, not the whole table
    assert rows(mirror.view_dir) == rows(shared_dir)
    assert IndexStore.open(mirror.view_dir).table.version == IndexStore.open(shared_dir).table.version


def test_objects_gone_from_the_store_are_removed_one_sync_later(sample_repo, s3_server, s3_uri, machine_a, tmp_path):
    settings = settings_for(machine_a, s3_uri)
    index_repo(sample_repo, settings)
    bucket, prefix = s3_uri[len("s3://"):].split("/", 1)
    key = f"{prefix}/chunks.lance/_transactions/999-old.txn"  # an object the writer's cleanup will remove
    client = s3_client(s3_server)
    client.put_object(Bucket=bucket, Key=key, Body=b"old")
    mirror = StoreMirror(binding(settings.index_dir_for(sample_repo)), tmp_path / "copy")
    mirror.sync()
    local = mirror.db / "chunks.lance" / "_transactions" / "999-old.txn"
    assert local.read_bytes() == b"old"

    client.delete_object(Bucket=bucket, Key=key)
    assert mirror.sync().removed == 0 and local.exists()  # a request may still read the version using it
    assert mirror.sync().removed == 1 and not local.exists()


def test_a_store_without_an_index_is_a_clear_error(s3_uri, machine_a, tmp_path):
    from ragpilot.indexer.store_uri import bind

    mirror = StoreMirror(binding(bind(machine_a, s3_uri)), tmp_path / "copy")
    with pytest.raises(IndexMissingError, match="holds no index yet"):
        mirror.sync()


def test_a_replica_of_an_s3_index_serves_from_its_copy_and_follows_commits(sample_repo, s3_uri, machine_a, machine_b):
    writer = settings_for(machine_a, s3_uri)
    index_repo(sample_repo, writer)
    replica_dir = settings_for(machine_b, s3_uri).index_dir_for(sample_repo)
    embedder = create_embedder("hashing")
    view = PinnedView(replica_dir, lambda: embedder, None)
    assert view.mirror is not None and view.read_dir == replica_dir / "mirror" / "view"

    first = view.refresh()
    hits = view.searcher().search("RetryPolicy should_retry", k=3)
    assert hits[0].path == "src/http/retry.py"
    assert view.searcher().store.lance_uri == str(replica_dir / "mirror" / "db")  # read locally

    (sample_repo / "src" / "fresh.py").write_text("def brand_new_marker_fn():\n    return 1\n")
    index_repo(sample_repo, writer)
    assert view.refresh() > first
    hits = view.searcher().search("brand_new_marker_fn", k=3, mode="lexical")
    assert hits and hits[0].path == "src/fresh.py"


def test_without_the_local_copy_a_replica_reads_the_store(sample_repo, s3_uri, machine_a, machine_b):
    index_repo(sample_repo, settings_for(machine_a, s3_uri))
    replica_dir = settings_for(machine_b, s3_uri).index_dir_for(sample_repo)
    embedder = create_embedder("hashing")
    view = PinnedView(replica_dir, lambda: embedder, None, mirror=False)
    view.refresh()
    assert view.mirror is None and view.searcher().store.lance_uri == s3_uri
    assert not (replica_dir / "mirror").exists()


def test_azure_and_gcs_stores_get_pyarrow_filesystems_without_a_request(tmp_path, monkeypatch):
    from pyarrow import fs as pafs

    from ragpilot.indexer.store_uri import StoreBinding

    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "teamstore")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")
    fs, root = StoreMirror(StoreBinding("az://indexes/team/api"), tmp_path)._filesystem()
    assert isinstance(fs, pafs.AzureFileSystem) and root == "indexes/team/api"
    fs, root = StoreMirror(StoreBinding("gs://bucket/team/api/"), tmp_path)._filesystem()
    assert isinstance(fs, pafs.GcsFileSystem) and root == "bucket/team/api"


def test_a_store_that_cannot_be_read_is_an_error_the_replica_reports(tmp_path, monkeypatch):
    from ragpilot.indexer.store_uri import StoreBinding

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(IndexMissingError, match="copying the shared index s3://nobucket/x failed"):
        StoreMirror(StoreBinding("s3://nobucket/x"), tmp_path).sync()
