"""The code-aware tokenizer: its output is part of every index (the full-text columns) and of every
query, so making it faster must not change one token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ragpilot.indexer.codetokens import code_tokens, path_tokens, split_identifier

OUR_CODE = Path(__file__).resolve().parents[2]

# A plain implementation without the per-word memory (kept here only as the reference).
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def reference_code_tokens(text: str) -> list[str]:
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        lowered = word.lower()
        if 1 < len(lowered) <= 48:
            out.append(lowered)
        parts = []
        for piece in word.split("_"):
            found = [p.lower() for p in _CAMEL.findall(piece)]
            for i, part in enumerate(found):
                parts.append(part)
                if i and part.isdigit() and not found[i - 1].isdigit():
                    parts.append(found[i - 1] + part)  # letters + digits: i8, utf8, int32
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
    assert code_tokens("getUTF8String") == ["getutf8string", "get", "utf", "utf8", "string"]
    assert split_identifier("getHTTPResponse_code") == ["get", "http", "response", "code"]
    assert code_tokens("parseJSON2") == ["parsejson2", "parse", "json", "json2"]
    assert path_tokens("src/http/retry_policy.py") == ["src", "http", "retry_policy", "retry", "policy", "py"]


@pytest.mark.parametrize(("query", "identifier"), [
    ("i8", "visit_i8"), ("u128", "deserialize_u128"), ("utf8", "getUTF8String"), ("int32", "readInt32"),
    ("base64", "base64Encode"), ("sha256", "hash_sha256_hex"),
])
def test_a_type_or_encoding_name_matches_the_identifier_that_holds_it(query, identifier):
    """A search for ``i8`` must reach ``visit_i8``: the old split dropped both halves of "i8" as single
    characters and cut UTF8 into "ut" and "f8"."""
    assert query in code_tokens(query)
    assert query in code_tokens(identifier)
