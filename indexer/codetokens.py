"""The one code-aware tokenizer, used to build the full-text columns and to parse queries.

It lives in the indexer because the indexer writes the full-text columns; retrieval imports it from
here so a query is always tokenized exactly like the documents it is matched against.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
# An upper-case run ends before an upper-case letter that starts a word (HTTPServer -> HTTP Server);
# digits are their own part. (Ending the run before "X9" as well cut UTF8 into "UT" and "F8".)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_MAX_TOKEN = 48
_PLAIN = re.compile(r"[a-z]+|[0-9]+")


def split_identifier(word: str) -> list[str]:
    """``getHTTPResponse_code`` -> ``["get", "http", "response", "code"]`` (lower-cased parts).

    A part followed by digits also yields the two joined: ``visit_i8`` -> visit, i, 8, **i8**;
    ``getUTF8String`` -> get, utf, 8, **utf8**, string. Type and encoding names (i8, u128, int32,
    utf8, base64, sha256) are words in their own right: a query for ``i8`` must find ``visit_i8``.
    """
    parts: list[str] = []
    for piece in word.split("_"):
        previous = ""
        for part in _CAMEL.findall(piece):
            lowered = part.lower()
            parts.append(lowered)
            if part.isdigit() and previous and not previous.isdigit():
                parts.append(previous + lowered)
            previous = lowered
    return parts


def code_tokens(text: str) -> list[str]:
    """Tokens for BM25: each identifier as written (lower-cased) plus its camel/snake parts.

    ``parse_json_body`` yields ``parse_json_body parse json body`` so a query for either the exact
    identifier or its words matches. Single characters are dropped: they carry no signal in code.
    """
    return list(chain.from_iterable(map(_word_tokens, _WORD.findall(text))))


@lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> tuple[str, ...]:
    """One word's tokens for :func:`code_tokens`, remembered: identifiers repeat throughout a codebase,
    and splitting them was the full-text columns' main cost when indexing."""
    lowered = word.lower()
    whole = (lowered,) if 1 < len(lowered) <= _MAX_TOKEN else ()
    if _PLAIN.fullmatch(word):  # one lower-case word or a number: nothing to split
        return whole
    parts = split_identifier(word)
    if len(parts) > 1:
        return whole + tuple(p for p in parts if len(p) > 1 and p != lowered)
    return whole


def path_tokens(path: str) -> list[str]:
    """``src/http/retry_policy.py`` -> the file stem, its parts, the directories and the extension."""
    return code_tokens(path.replace("/", " ").replace(".", " ").replace("-", " "))


def to_fts_text(tokens: list[str]) -> str:
    """Join tokens for a whitespace-tokenized full-text column."""
    return " ".join(tokens)
