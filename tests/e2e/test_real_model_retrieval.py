"""Retrieval with the packaged MiniLM: the context budget under its real tokenizer, and a natural-language
query that only the dense side can find."""

from __future__ import annotations

from context_chunks import FILES, ChunkedFiles
from search_corpus import index, make_repo, paths

from ragpilot.indexer.codetokens import code_tokens
from ragpilot.indexer.embedders import create_embedder
from ragpilot.retrieval.context import assemble_context
from ragpilot.retrieval.searcher import Searcher


def test_the_budget_holds_with_the_real_minilm_token_counter():
    embedder = create_embedder("minilm-onnx")
    source = ChunkedFiles()
    hits = [source.hit(path, 0, 1.0 - n / 10) for n, path in enumerate(FILES)]
    for budget in (64, 256, 1024):
        ctx = assemble_context(hits, budget_tokens=budget, count_tokens=embedder.count_tokens, store=source)
        assert ctx.pieces
        assert embedder.count_tokens(ctx.render()) <= budget


def test_a_natural_language_query_without_shared_words_is_found_by_the_dense_side(tmp_path):
    root = make_repo(tmp_path / "repo")
    s = Searcher.for_index(index(root, tmp_path / "idx", embedder="minilm-onnx"))
    assert s.embedder.id == "minilm-onnx-int8"
    query, target = "make a photo smaller", "src/images/thumbnails.py"
    target_text = (root / target).read_text()
    assert not set(code_tokens(query)) & set(code_tokens(target_text + " " + target))  # precondition
    assert target not in paths(s.search(query, mode="lexical", k=10))
    assert target in paths(s.search(query, mode="dense", k=3))
    assert target in paths(s.search(query, mode="hybrid", k=3))
    # ...while identifier queries still come out on top with the real model.
    assert paths(s.search("compute_crc32_checksum", mode="hybrid", k=3))[0] == "src/util/checksum.rs"
