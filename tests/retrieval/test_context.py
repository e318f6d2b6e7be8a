"""Context assembly: merging, expansion, the token budget and citations, over real chunker output."""

from __future__ import annotations

from pathlib import Path

import pytest
from context_chunks import FILES, ChunkedFiles, lines_of, words

from samples import SAMPLE_FILES, write_files
from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.retrieval.hits import Hit
from ragpilot.retrieval.context import assemble_context, render_piece
from ragpilot.retrieval.searcher import Searcher


@pytest.fixture
def source() -> ChunkedFiles:
    return ChunkedFiles()


def test_the_fixture_has_split_functions_and_collapsed_classes(source):
    """Preconditions for the expansion tests below."""
    assert len([c for c in source.chunks["src/pipeline.py"] if c.symbol == "long_pipeline"]) >= 3
    assert any(c.kind == "collapsed" for c in source.chunks["src/balancer.py"])


def test_every_piece_is_cited_path_start_end_and_rendered_numbered_and_fenced(source):
    hits = [source.hit("src/storage/cache.go", 0, 0.9), source.hit("web/parseQuery.ts", 0, 0.5)]
    ctx = assemble_context(hits, budget_tokens=2000, count_tokens=words, store=source)
    rendered = ctx.render()
    for number, piece in enumerate(ctx.pieces, start=1):
        assert piece.text == lines_of(piece.path, piece.start_line, piece.end_line)
        assert f"[{number}] {piece.path}:{piece.start_line}-{piece.end_line}" in rendered
        assert f"```{piece.language}\n{piece.text}\n```" in rendered
    assert ctx.citations == [f"{p.path}:{p.start_line}-{p.end_line}" for p in ctx.pieces]


def test_a_small_file_is_shown_whole():
    source = ChunkedFiles(budget=40)  # small chunks: the file is cut in several
    hit = source.hit("src/http/retry.py", -1)
    assert hit.start_line > 1  # precondition: the hit is part of the file
    ctx = assemble_context([hit], budget_tokens=2000, count_tokens=words, store=source)
    (piece,) = ctx.pieces
    assert (piece.start_line, piece.end_line) == (1, len(FILES["src/http/retry.py"].rstrip("\n").split("\n")))
    assert piece.text == FILES["src/http/retry.py"].rstrip("\n")


def test_a_function_the_chunker_split_is_reunited_when_it_fits(source):
    windows = [c for c in source.chunks["src/pipeline.py"] if c.symbol == "long_pipeline"]
    middle = source.hit("src/pipeline.py", source.chunks["src/pipeline.py"].index(windows[1]))
    ctx = assemble_context([middle], budget_tokens=5000, count_tokens=words, store=source,
                           small_file_tokens=10)
    (piece,) = ctx.pieces
    assert (piece.start_line, piece.end_line) == (windows[0].start_line, windows[-1].end_line)
    assert piece.symbol == "long_pipeline"


def test_a_hit_is_kept_as_it_is_when_its_expansion_does_not_fit(source):
    windows = [c for c in source.chunks["src/pipeline.py"] if c.symbol == "long_pipeline"]
    middle = source.hit("src/pipeline.py", source.chunks["src/pipeline.py"].index(windows[1]))
    budget = words(render_piece(1, _piece_for(middle))) + 20
    ctx = assemble_context([middle], budget_tokens=budget, count_tokens=words, store=source)
    (piece,) = ctx.pieces
    assert (piece.start_line, piece.end_line) == (middle.start_line, middle.end_line)


def _piece_for(hit: Hit):
    from ragpilot.retrieval.context import ContextPiece

    return ContextPiece(hit.path, hit.start_line, hit.end_line, hit.content, hit.score, hit.symbol,
                        hit.language)


def test_adjacent_hits_of_one_file_merge_into_one_piece(source):
    windows = [i for i, c in enumerate(source.chunks["src/pipeline.py"]) if c.symbol == "long_pipeline"]
    a, b = source.hit("src/pipeline.py", windows[0], 0.9), source.hit("src/pipeline.py", windows[1], 0.4)
    assert a.end_line + 1 == b.start_line  # precondition
    ctx = assemble_context([a, b], budget_tokens=5000, count_tokens=words, store=source,
                           small_file_tokens=0, expand_share=0.0)
    (piece,) = ctx.pieces
    assert (piece.start_line, piece.end_line) == (a.start_line, b.end_line)
    assert piece.text == lines_of("src/pipeline.py", a.start_line, b.end_line)
    assert piece.score == 0.9


def test_methods_separated_by_a_blank_line_merge_using_the_lines_of_the_class_skeleton(source):
    methods = [i for i, c in enumerate(source.chunks["src/balancer.py"]) if c.kind != "collapsed"][:2]
    first, second = (source.hit("src/balancer.py", i) for i in methods)
    assert second.start_line == first.end_line + 2  # precondition: a blank line only the skeleton holds
    ctx = assemble_context([first, second], budget_tokens=5000, count_tokens=words, store=source,
                           small_file_tokens=0, expand_share=0.0)
    (piece,) = ctx.pieces
    assert (piece.start_line, piece.end_line) == (first.start_line, second.end_line)
    assert piece.text == lines_of("src/balancer.py", first.start_line, second.end_line)


def test_distant_hits_of_one_file_stay_separate_pieces(source):
    methods = [i for i, c in enumerate(source.chunks["src/balancer.py"]) if c.kind != "collapsed"]
    hits = [source.hit("src/balancer.py", methods[0]), source.hit("src/balancer.py", methods[3])]
    ctx = assemble_context(hits, budget_tokens=5000, count_tokens=words, store=source,
                           small_file_tokens=0, expand_share=0.0)
    assert [(p.start_line, p.end_line) for p in ctx.pieces] == [(h.start_line, h.end_line) for h in hits]


def test_a_small_class_is_shown_whole_for_a_hit_on_one_method(source):
    methods = [i for i, c in enumerate(source.chunks["src/balancer.py"]) if c.kind != "collapsed"]
    hit = source.hit("src/balancer.py", methods[2])
    ctx = assemble_context([hit], budget_tokens=5000, count_tokens=words, store=source,
                           small_file_tokens=1500)
    (piece,) = ctx.pieces
    assert piece.text == FILES["src/balancer.py"].rstrip("\n")


def test_a_collapsed_class_skeleton_is_shown_as_stored(source):
    i = source.find("src/balancer.py", kind="collapsed")
    hit = source.hit("src/balancer.py", i)
    ctx = assemble_context([hit], budget_tokens=5000, count_tokens=words, store=source, small_file_tokens=0)
    (piece,) = ctx.pieces
    assert piece.text == hit.content
    assert (piece.start_line, piece.end_line) == (hit.start_line, hit.end_line)


def test_pieces_are_ordered_by_relevance_not_by_file(source):
    hits = [source.hit("web/parseQuery.ts", 0, 0.9), source.hit("docs/guide.md", 0, 0.7),
            source.hit("src/storage/cache.go", 0, 0.5)]
    ctx = assemble_context(hits, budget_tokens=5000, count_tokens=words, store=source)
    assert [p.path for p in ctx.pieces] == ["web/parseQuery.ts", "docs/guide.md", "src/storage/cache.go"]
    assert [p.score for p in ctx.pieces] == [0.9, 0.7, 0.5]


@pytest.mark.parametrize("budget", [40, 90, 150, 300, 700, 3000])
def test_the_rendered_context_never_exceeds_the_budget(source, budget):
    hits = [source.hit(path, i, 1.0 - n / 20) for n, (path, i) in enumerate(
        [("src/pipeline.py", 1), ("src/http/retry.py", 0), ("src/balancer.py", 2), ("docs/guide.md", 0),
         ("src/storage/cache.go", 0), ("src/pipeline.py", 0), ("web/parseQuery.ts", 0)])]
    ctx = assemble_context(hits, budget_tokens=budget, count_tokens=words, store=source)
    assert words(ctx.render()) <= budget
    assert ctx.tokens == (words(ctx.render()) if ctx.pieces else 0)
    assert ctx.pieces or budget < 60
    for piece in ctx.pieces:
        if not any(c.kind == "collapsed" and c.content == piece.text for c in source.chunks[piece.path]):
            assert piece.text == lines_of(piece.path, piece.start_line, piece.end_line)


def test_the_best_hit_is_cut_to_fit_and_labelled_with_the_lines_shown(source):
    hit = source.hit("src/pipeline.py", 1)
    ctx = assemble_context([hit], budget_tokens=60, count_tokens=words, store=source)
    (piece,) = ctx.pieces
    assert piece.start_line == hit.start_line and piece.end_line < hit.end_line
    assert piece.text == lines_of("src/pipeline.py", piece.start_line, piece.end_line)


def test_a_bigger_budget_never_shows_less(source):
    hits = [source.hit("src/pipeline.py", 1, 0.9), source.hit("src/storage/cache.go", 0, 0.8),
            source.hit("docs/guide.md", 0, 0.7)]
    shown = []
    for budget in (80, 200, 400, 1000, 4000):
        ctx = assemble_context(hits, budget_tokens=budget, count_tokens=words, store=source)
        shown.append(sum(p.end_line - p.start_line + 1 for p in ctx.pieces))
    assert shown == sorted(shown)


def test_without_a_store_the_hits_are_used_as_they_are():
    source = ChunkedFiles()
    hits = [source.hit("src/pipeline.py", 1), source.hit("docs/guide.md", 0)]
    ctx = assemble_context(hits, budget_tokens=5000, count_tokens=words)
    assert [(p.start_line, p.end_line, p.text) for p in ctx.pieces] == [
        (h.start_line, h.end_line, h.content) for h in hits]


def test_a_text_containing_a_fence_gets_a_longer_fence():
    hit = Hit("README.md", 1, 3, 1.0, "", "markdown", "Example:\n```sh\nmake```", "section")
    rendered = assemble_context([hit], budget_tokens=500, count_tokens=words).render()
    assert "````markdown\nExample:\n```sh\nmake```\n````" in rendered


def test_nothing_to_show_gives_an_empty_context(source):
    assert assemble_context([], budget_tokens=100, count_tokens=words, store=source).pieces == []
    one = [source.hit("docs/guide.md", 0)]
    assert assemble_context(one, budget_tokens=0, count_tokens=words).pieces == []


# ----- through a real index ---------------------------------------------------------------------------
def test_context_text_comes_from_the_index_never_from_disk(tmp_path):
    root = tmp_path / "repo"
    write_files(root, SAMPLE_FILES)
    index_repo(root, IndexSettings(home=tmp_path / "home", index_dir=tmp_path / "idx", embedder="hashing"))
    searcher = Searcher.for_index(tmp_path / "idx")
    hits = searcher.search("should_retry backoff", k=3)
    indexed_text = (root / "src/http/retry.py").read_text()
    (root / "src/http/retry.py").write_text("# replaced on disk after indexing\n")
    (root / "secret.env").write_text("API_KEY=do-not-read\n")
    stray = Hit("secret.env", 1, 1, 0.1, "", "text", "(stored text)", "lines")
    ctx = assemble_context([*hits, stray], budget_tokens=4000, count_tokens=words, store=searcher.store)
    retry = next(p for p in ctx.pieces if p.path == "src/http/retry.py")
    assert retry.text in indexed_text and "replaced on disk" not in retry.text
    assert "do-not-read" not in ctx.render()


def test_rows_are_read_only_for_the_files_of_the_hits(source):
    assemble_context([source.hit("docs/guide.md", 0)], budget_tokens=1000, count_tokens=words, store=source)
    assert source.requests == ["docs/guide.md"]


def test_paths_are_relative_in_citations(source):
    ctx = assemble_context([source.hit("src/storage/cache.go", 0)], budget_tokens=1000, count_tokens=words,
                           store=source)
    assert all(not Path(p.path).is_absolute() for p in ctx.pieces)
