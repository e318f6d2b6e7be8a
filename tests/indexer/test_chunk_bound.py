"""One file cannot cost unbounded embedding time: past ``max_chunks_per_file`` it is skipped, counted by
reason, and the rest of the repository is indexed as usual."""

from __future__ import annotations


from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore


def many_functions(n: int) -> str:
    body = "".join(f"    value_{j} = event.get('key_{j}', {j}) * scale\n" for j in range(12))
    return "\n\n".join(f"def handler_{i}(event, scale):\n{body}    return value_0\n" for i in range(n))


def test_a_file_cut_into_more_chunks_than_the_bound_is_skipped_and_counted(tmp_path, sample_repo):
    (sample_repo / "src/generated_handlers.py").write_text(many_functions(200))
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing", max_chunks_per_file=3)

    summary = index_repo(sample_repo, settings)

    assert summary.skipped_by_reason.get("too-many-chunks", 0) >= 1
    paths = {key[0] for key in IndexStore.open(index_dir).all_keys()}
    assert "src/generated_handlers.py" not in paths
    assert {"src/http/retry.py", "docs/guide.md", "web/parseQuery.ts"} <= paths


def test_a_file_that_grows_past_the_bound_leaves_the_index(tmp_path, sample_repo):
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing", max_chunks_per_file=3)
    target = sample_repo / "src/grows.py"
    target.write_text("def small():\n    return 1\n")
    index_repo(sample_repo, settings)
    assert any(k[0] == "src/grows.py" for k in IndexStore.open(index_dir).all_keys())

    target.write_text(many_functions(100))
    summary = index_repo(sample_repo, settings)
    assert summary.skipped_by_reason == {"too-many-chunks": 1}
    assert not any(k[0] == "src/grows.py" for k in IndexStore.open(index_dir).all_keys())


def test_the_default_bound_keeps_ordinary_files(tmp_path, sample_repo):
    summary = index_repo(sample_repo, IndexSettings(index_dir=tmp_path / "idx", embedder="hashing"))
    assert "too-many-chunks" not in summary.skipped_by_reason
    assert IndexSettings().max_chunks_per_file == 2000
