"""The indexing pipeline end to end: real walk, real tree-sitter, real LanceDB, incremental by content."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ragpilot.indexer.errors import IndexBusyError, IndexIncompatibleError, UsageError
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore


def stored_paths(settings: IndexSettings, root: Path) -> set[str]:
    store = IndexStore.open(settings.index_dir_for(root))
    return {k[0] for k in store.all_keys()}


def stored_content(settings: IndexSettings, root: Path) -> str:
    store = IndexStore.open(settings.index_dir_for(root))
    return "\n".join(r["content"] for r in store.table.to_arrow().select(["content"]).to_pylist())


def test_first_index_covers_every_source_file(sample_repo, fast_settings):
    summary = index_repo(sample_repo, fast_settings)
    assert summary.files_indexed == 4
    assert summary.chunks_total >= 4
    assert summary.chunks_embedded == summary.chunks_total
    assert stored_paths(fast_settings, sample_repo) == {
        "src/http/retry.py", "src/storage/cache.go", "web/parseQuery.ts", "docs/guide.md"}


def test_reindexing_with_no_changes_embeds_nothing(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    again = index_repo(sample_repo, fast_settings)
    assert again.chunks_embedded == 0
    assert again.files_indexed == 0
    assert again.files_unchanged == 4


def test_touching_a_file_without_changing_it_embeds_nothing(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    target = sample_repo / "src/http/retry.py"
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 5_000_000_000))
    again = index_repo(sample_repo, fast_settings)
    assert again.chunks_embedded == 0
    assert again.files_indexed == 0


def test_editing_one_function_reembeds_only_its_chunks(sample_repo, fast_settings):
    first = index_repo(sample_repo, fast_settings)
    target = sample_repo / "src/storage/cache.go"
    target.write_text(target.read_text().replace("delete(c.items, k)", "delete(c.items, k) // evicted"))
    again = index_repo(sample_repo, fast_settings)
    assert again.files_indexed == 1
    assert 1 <= again.chunks_embedded < first.chunks_total
    assert "// evicted" in stored_content(fast_settings, sample_repo)


def test_a_deleted_file_disappears_from_the_index(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    (sample_repo / "web/parseQuery.ts").unlink()
    again = index_repo(sample_repo, fast_settings)
    assert again.files_deleted == 1
    assert "web/parseQuery.ts" not in stored_paths(fast_settings, sample_repo)
    assert "parseSearchQuery" not in stored_content(fast_settings, sample_repo)


def test_a_renamed_file_moves_without_reembedding_unchanged_code(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    (sample_repo / "src/http/retry.py").rename(sample_repo / "src/http/policy.py")
    again = index_repo(sample_repo, fast_settings)
    paths = stored_paths(fast_settings, sample_repo)
    assert "src/http/policy.py" in paths and "src/http/retry.py" not in paths
    assert again.files_deleted == 1 and again.files_indexed == 1


def test_switching_branches_back_and_forth_costs_no_embedding(git_repo, fast_settings):
    index_repo(git_repo, fast_settings)
    backup = git_repo.parent / "backup.py"
    shutil.copy(git_repo / "src/http/retry.py", backup)
    (git_repo / "src/http/retry.py").write_text("def other_branch():\n    return 'b'\n")
    on_branch = index_repo(git_repo, fast_settings)
    assert on_branch.chunks_embedded >= 1
    shutil.copy(backup, git_repo / "src/http/retry.py")
    back = index_repo(git_repo, fast_settings)
    assert back.files_indexed == 1
    assert back.chunks_embedded == 0, "the content-hash cache must serve the old chunks"


def test_rebuild_starts_over_but_reuses_the_embedding_cache(sample_repo, fast_settings):
    first = index_repo(sample_repo, fast_settings)
    rebuilt = index_repo(sample_repo, fast_settings, rebuild=True)
    assert rebuilt.files_indexed == 4
    assert rebuilt.chunks_total == first.chunks_total
    assert rebuilt.chunks_embedded == 0


def test_querying_an_index_with_another_embedder_is_a_clear_error(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    other = fast_settings.model_copy(update={"embedder": "minilm-onnx"})
    with pytest.raises(IndexIncompatibleError, match="--rebuild"):
        index_repo(sample_repo, other)


def test_an_empty_repository_indexes_to_nothing(tmp_path, fast_settings):
    empty = tmp_path / "empty"
    empty.mkdir()
    summary = index_repo(empty, fast_settings)
    assert summary.files_indexed == 0 and summary.chunks_total == 0


@pytest.mark.parametrize("make", ["missing", "file"])
def test_a_path_that_is_not_a_directory_is_a_usage_error(tmp_path, fast_settings, make):
    target = tmp_path / "x.py"
    if make == "file":
        target.write_text("print(1)\n")
    with pytest.raises(UsageError):
        Indexer(target, fast_settings)


def test_binary_files_are_skipped_and_counted_and_legacy_encodings_are_decoded(sample_repo, fast_settings):
    (sample_repo / "blob.dat").write_bytes(b"\x00\x01\x02" * 100)
    (sample_repo / "latin.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    summary = index_repo(sample_repo, fast_settings)
    assert summary.skipped_by_reason.get("binary") == 1
    paths = stored_paths(fast_settings, sample_repo)
    assert "blob.dat" not in paths
    assert "name = 'caf\xe9'" in stored_content(fast_settings, sample_repo)
    assert sum(summary.skipped_by_reason.values()) == summary.files_skipped


def test_a_file_that_gains_a_secret_leaves_the_index(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    target = sample_repo / "src/http/retry.py"
    target.write_text(target.read_text() + "\nAWS_ACCESS_KEY_ID = 'AKIA2E3F4G5H6J7K8L9M'\n"
                      "AWS_SECRET_ACCESS_KEY = 'q8Jd7Lp0Vx3Rt6Wn2Yb5Zc9Hf4Gk1Ms7Qa0Ue3Io'\n")
    summary = index_repo(sample_repo, fast_settings)
    assert summary.skipped_by_reason.get("secret") == 1
    assert "src/http/retry.py" not in stored_paths(fast_settings, sample_repo)
    assert "AKIA" not in stored_content(fast_settings, sample_repo)


def test_a_second_writer_is_refused_while_the_first_holds_the_index(sample_repo, fast_settings):
    first = Indexer(sample_repo, fast_settings).open()
    try:
        with pytest.raises(IndexBusyError, match="busy"):
            Indexer(sample_repo, fast_settings).open()
    finally:
        first.close()
    Indexer(sample_repo, fast_settings).open().close()  # free again


def test_update_applies_only_the_given_paths(sample_repo, fast_settings):
    indexer = Indexer(sample_repo, fast_settings).open()
    try:
        indexer.run_to_end()
        (sample_repo / "src/new.py").write_text("def brand_new_helper():\n    return 42\n")
        (sample_repo / "docs/guide.md").unlink()
        summary = indexer.update(["src/new.py", "docs/guide.md"])
        assert summary.files_indexed == 1 and summary.files_deleted == 1
    finally:
        indexer.close()
    paths = stored_paths(fast_settings, sample_repo)
    assert "src/new.py" in paths and "docs/guide.md" not in paths


def test_indexes_of_two_repositories_coexist_under_one_home(tmp_path, sample_repo):
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.py").write_text("def main():\n    pass\n")
    settings = IndexSettings(home=tmp_path / "home", embedder="hashing")
    index_repo(sample_repo, settings)
    index_repo(other, settings)
    assert settings.index_dir_for(sample_repo) != settings.index_dir_for(other)
    assert stored_paths(settings, other) == {"main.py"}
    assert "src/http/retry.py" in stored_paths(settings, sample_repo)


