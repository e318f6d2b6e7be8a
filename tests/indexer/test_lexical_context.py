"""The lexical context column: a chunk is findable by the words around it (a neighbour's doc comment, its
class header, the file's package line), the chunk's own words still rank first, the embedded text never
changes, and indexes written before the column keep working."""

from __future__ import annotations

from pathlib import Path

from ragpilot.indexer.lexical_context import context_text
from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import CONTEXT_COLUMN, IndexStore
from ragpilot.indexer.types import Chunk
from ragpilot.retrieval.lexical import lexical_search

JAVA = """package com.example.ledger;

public class LedgerBook {
    private int total;

    public int balance() {
        return total;
    }
}
"""


def test_context_holds_the_lines_around_the_chunk_and_not_beyond():
    text = "\n".join(f"line{i}" for i in range(1, 41))
    chunk = Chunk("a.txt", "text", 20, 21, "", "lines", "line20\nline21", "line20\nline21")
    words = context_text(chunk, text, context_lines=3).split()
    assert words == ["line17", "line18", "line19", "line22", "line23", "line24"]  # the body column has 20-21


def test_context_of_a_method_names_its_class_and_the_files_package():
    start = JAVA.splitlines().index("    public int balance() {") + 1
    body = "\n".join(JAVA.splitlines()[start - 1:start + 2])
    chunk = Chunk("L.java", "java", start, start + 2, "LedgerBook > balance", "method", body, body)
    context = context_text(chunk, JAVA, context_lines=0)
    assert context.splitlines() == ["package com.example.ledger;", "public class LedgerBook {"]


RUST = """mod content {
    impl<E> Serializer for ContentSerializer<E>
    where
        E: Error,
    {
        fn serialize_bool(self, v: bool) -> Result<Content, E> {
            Ok(Content::Bool(v))
        }
    }

    fn helper() {}
}

fn top() {}
"""


def _header_of(text: str, first_line: int) -> str:
    """The header context_text adds for a one-line chunk at 1-based ``first_line`` (no lines around)."""
    line = text.splitlines()[first_line - 1]
    chunk = Chunk("x", "rust", first_line, first_line, "", "function", line, line)
    return context_text(chunk, text, context_lines=0)


def test_the_header_is_the_nearest_less_indented_opening_not_a_where_clause_or_a_brace():
    assert _header_of(RUST, 6) == "impl<E> Serializer for ContentSerializer<E>"  # not "where" or "{"
    assert _header_of(RUST, 11) == "mod content {"  # the impl closed: the module is the header again
    assert _header_of(RUST, 14) == ""  # top level


def test_a_blank_first_line_takes_the_header_of_the_code_after_it():
    text = "class Box:\n\n    def size(self):\n        return 1\n"
    chunk = Chunk("b.py", "python", 2, 4, "Box > size", "method", "", "")
    assert context_text(chunk, text, context_lines=0) == "class Box:"


def test_without_the_files_text_there_is_no_context():
    chunk = Chunk("a.go", "go", 3, 5, "Pack", "function", "func Pack() {}", "func Pack() {}")
    assert context_text(chunk, "") == ""


def repo_with_a_doc_less_neighbour(root: Path) -> Path:
    """``Unpack`` has no doc; only the doc comment of the function after it says "pending page archive".
    Each function is long enough to be its own chunk."""
    root.mkdir(parents=True)
    filler = "\n".join(f"\tstep{i}(w, {i})" for i in range(80))
    (root / "tarball.go").write_text(
        "package tarball\n\n"
        f"func Unpack(w Reader) error {{\n{filler}\n\treturn w.Close()\n}}\n\n"
        "// Pack writes every pending page into the archive.\n"
        f"func Pack(w Writer) error {{\n{filler}\n\treturn w.Flush()\n}}\n"
    )
    (root / "other.go").write_text("package tarball\n\nfunc Other() int {\n\treturn 1\n}\n")
    return root


def test_a_function_is_found_by_its_neighbours_doc_comment_below_the_neighbour(tmp_path):
    repo = repo_with_a_doc_less_neighbour(tmp_path / "repo")
    index_dir = tmp_path / "idx"
    index_repo(repo, IndexSettings(index_dir=index_dir, embedder="hashing"))
    hits = lexical_search(IndexStore.open(index_dir), "pending page archive", limit=10)
    symbols = [h.symbol for h in hits]
    assert "Unpack" in " ".join(symbols), symbols
    assert "Pack" in symbols[0] and "Unpack" not in symbols[0]  # the chunk's own words still win


def test_an_index_written_before_the_context_column_is_searched_and_then_upgraded(tmp_path):
    repo = repo_with_a_doc_less_neighbour(tmp_path / "repo")
    index_dir = tmp_path / "idx"
    settings = IndexSettings(index_dir=index_dir, embedder="hashing")
    index_repo(repo, settings)
    old = IndexStore.open(index_dir)
    for ix in old.table.list_indices():
        if CONTEXT_COLUMN in ix.columns:
            old.table.drop_index(ix.name)
    old.table.drop_columns([CONTEXT_COLUMN])

    hits = lexical_search(IndexStore.open(index_dir), "pending page archive", limit=10)
    assert [h.symbol for h in hits] and all("Unpack" not in h.symbol for h in hits)  # body-only, no error

    index_repo(repo, settings)  # the writer adds the column back
    store = IndexStore.open(index_dir)
    assert store.has_column(CONTEXT_COLUMN)
    assert any(CONTEXT_COLUMN in ix.columns for ix in store.table.list_indices())


def test_a_new_chunker_version_rewrites_the_context_without_embedding_anything(tmp_path, monkeypatch):
    from ragpilot.indexer import pipeline

    repo = repo_with_a_doc_less_neighbour(tmp_path / "repo")
    settings = IndexSettings(index_dir=tmp_path / "idx", embedder="hashing")
    first = index_repo(repo, settings)
    monkeypatch.setattr(pipeline, "CHUNKER_VERSION", pipeline.CHUNKER_VERSION + "-next")
    again = index_repo(repo, settings)
    assert first.chunks_embedded > 0
    assert again.files_indexed == first.files_indexed and again.chunks_embedded == 0
