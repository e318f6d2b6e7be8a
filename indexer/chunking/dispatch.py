"""Pick a chunking strategy per language: syntax tree, headings, or line windows.

Strategies are registered by language name; :func:`register` is how a new one plugs in. A syntax
chunk that fails (a grammar that cannot parse, or a bug) falls back to line windows, logged, so a
file is never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..languages import SUPPORTED_SYNTAX_LANGUAGES, language_for, language_from_shebang, spec_for
from ..types import Chunk, TokenCounter
from .lines import chunk_lines
from .markdown import chunk_markdown
from .source import Source
from .syntax import chunk_syntax
from .tree import ParseError

log = logging.getLogger(__name__)

Strategy = Callable[[Source], list[Chunk]]

_STRATEGIES: dict[str, Strategy] = {}


def register(*languages: str) -> Callable[[Strategy], Strategy]:
    """Decorator: chunk files of ``languages`` with ``strategy(source) -> chunks``."""

    def deco(strategy: Strategy) -> Strategy:
        for language in languages:
            _STRATEGIES[language] = strategy
        return strategy

    return deco


def _syntax(source: Source) -> list[Chunk]:
    spec = spec_for(source.language)
    assert spec is not None
    return chunk_syntax(source, spec)


register(*sorted(SUPPORTED_SYNTAX_LANGUAGES))(_syntax)
register("markdown", "rst")(chunk_markdown)


def strategy_for(language: str) -> Strategy:
    return _STRATEGIES.get(language, chunk_lines)


def detect_language(rel_path: str, text: str) -> str:
    """The language from the file name, or from a shebang line when the name says nothing."""
    language = language_for(rel_path)
    if language == "text" and text.startswith("#!"):
        language = language_from_shebang(text.split("\n", 1)[0]) or language
    return language


def chunk_file(rel_path: str, text: str, *, budget: int, count_tokens: TokenCounter) -> list[Chunk]:
    """Chunks of one file; empty or whitespace-only files have none."""
    if not text.strip():
        return []
    source = Source.from_text(
        rel_path, detect_language(rel_path, text), text, budget=budget, count=count_tokens
    )
    strategy = strategy_for(source.language)
    if strategy is chunk_lines:
        return chunk_lines(source)
    try:
        return strategy(source)
    except ParseError as exc:
        log.info("cannot parse %s (%s); using line windows", rel_path, exc)
    except Exception:  # a chunker bug must cost one file its structure, not the whole index run
        log.warning("chunking %s as %s failed; using line windows", rel_path, source.language, exc_info=True)
    return chunk_lines(source)
