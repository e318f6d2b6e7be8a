"""The code-aware tokenizer: its output is part of every index (the full-text columns) and of every
query, so making it faster must not change one token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ragpilot.indexer.codetokens import code_tokens, path_tokens, split_identifier

OUR_CODE = Path(__file__).resolve().parents[2]

# The implementation before it remembered each word's tokens (kept here only as the reference).
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def reference_code_tokens(text: str) -> list[str]:
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        lowered = word.lower()
        if 1 < len(lowered) <= 48:
            out.append(lowered)
        parts = [p.lower() for piece in word.split("_") if piece for p in _CAMEL.findall(piece)]
        if len(parts) > 1:
            out.extend(p for p in parts if len(p) > 1 and p != lowered)
    return out


def our_files() -> list[Path]:
    suffixes = {".py", ".md", ".toml", ".json", ".txt", ".ts", ".js", ".go", ".rs", ".html", ".yml"}
    skip = {".git", "__pycache__", "build", "ragpilot.egg-info"}
    return sorted(p for p in OUR_CODE.rglob("*")
                  if p.is_file() and p.suffix in suffixes and not skip & set(p.relative_to(OUR_CODE).parts))


def test_code_tokens_match_the_reference_on_every_file_of_this_repository():
    files = our_files()
    assert len(files) > 200
    for path in files:
        text = path.read_text(errors="replace")
        assert code_tokens(text) == reference_code_tokens(text), path


@pytest.mark.parametrize("text", [
    "getHTTPResponse_code parse_json_body ABC123def x9 __init__ a_b_c 12ab ab12 HTTP2Server",
    "_ __ ___ 0 007 a A aB Ab AB ABc abC snake_Case_XML_parser x" + "y" * 60 + " Z" * 3,
    "ÀbcDef Ünïcödé straße naïve_value résumé",
    "",
])
def test_code_tokens_match_the_reference_on_edge_cases(text):
    assert code_tokens(text) == reference_code_tokens(text)
    assert code_tokens(text) == reference_code_tokens(text)  # the second call answers from memory


def test_identifiers_yield_themselves_and_their_parts():
    assert code_tokens("parseJSONBody") == ["parsejsonbody", "parse", "json", "body"]
    assert split_identifier("getHTTPResponse_code") == ["get", "http", "response", "code"]
    assert path_tokens("src/http/retry_policy.py") == ["src", "http", "retry_policy", "retry", "policy", "py"]
