"""Documented functions in Go, Rust, Java, TypeScript, JavaScript, C and C++, found with tree-sitter.

The counterpart of :mod:`eval.docstrings` for languages whose documentation is a comment above the
definition. A definition is a function or method that has a body (per the indexer's language table,
so "function" means what the chunker means by it); its doc comment is the run of adjacent comments
directly above it (Rust attributes may sit in between), in the language's doc style:

- Go: ``//`` line comments (compiler directives like ``//go:generate`` end the doc);
- Rust: ``///`` outer doc comments or ``/** */`` (``//!`` documents the enclosing module, not a fn);
- Java, TypeScript, JavaScript: ``/** ... */`` (Javadoc / JSDoc / TSDoc);
- C, C++: Doxygen ``/** */``, ``/*! */``, ``///``, ``//!``, and a plain ``/* */`` block directly
  above a definition (the common style of C libraries such as cJSON and libuv).

The query is the doc's first sentence, tags and markup removed; the comment's line range is what
the task builder deletes from the indexed copy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from ragpilot.indexer.chunking.tree import as_def, parse
from ragpilot.indexer.languages import spec_for

from .docstrings import Candidate, first_sentence

log = logging.getLogger(__name__)

DOC_LANGUAGES = frozenset({"go", "rust", "java", "typescript", "tsx", "javascript", "c", "cpp"})
_FUNCTION_KINDS = ("function", "method")
_JSDOC_LANGUAGES = ("java", "typescript", "tsx", "javascript")
_JS_VALUE_FUNCTIONS = {"arrow_function", "function_expression", "function", "generator_function"}

_TAG = re.compile(r"^\s*[@\\](\w+)\b\s*(.*)$")
_INLINE_TAG = re.compile(r"\{@\w+\s+([^}|]*?)(?:\|[^}]*)?\}")  # {@link Foo#bar label} -> Foo#bar label
_HTML = re.compile(r"</?[a-zA-Z][^>]*>")
_MD_LINK = re.compile(r"\[`?([^\]`]+)`?\](\([^)]*\)|\[[^\]]*\])?")  # [`Foo`](...) / [`Foo`] -> Foo
_SUMMARY_TAGS = ("brief", "summary", "description", "short")


def is_doc_comment(text: str, language: str) -> bool:
    """Does one comment node's text use the doc style of ``language``?"""
    t = text.lstrip()
    if language == "go":
        return t.startswith("//") and not re.match(r"//(go:|line |nolint|\+build|export )", t)
    if language == "rust":
        return (t.startswith("///") and not t.startswith("////")) or (t.startswith("/**") and t != "/**/")
    if language in _JSDOC_LANGUAGES:
        return t.startswith("/**") and t != "/**/"
    if language in ("c", "cpp"):
        if t.startswith(("/**", "/*!", "///", "//!")):
            return True
        return t.startswith("/*") and "copyright" not in t.lower()  # callers only ask about adjacent ones
    return False


def comment_text(raw: str) -> str:
    """Comment markers stripped: ``/** * foo */`` and ``/// foo`` both read ``foo``, one line per line."""
    out = []
    for line in raw.split("\n"):
        s = line.strip()
        s = re.sub(r"^(/\*\*|/\*!|/\*|///|//!|//)", "", s)
        s = re.sub(r"\*+/$", "", s).strip()
        s = re.sub(r"^\*+(?!/)", "", s)
        out.append(s.strip())
    return "\n".join(out).strip()


def doc_summary(doc: str) -> str:
    """The prose a reader sees first: text before the first tag, else a @brief/@summary/@description."""
    lead: list[str] = []
    tags: dict[str, str] = {}
    current: str | None = None
    for line in doc.split("\n"):
        m = _TAG.match(line)
        if m:
            current = m.group(1).lower()
            tags.setdefault(current, m.group(2))
            continue
        if current is None:
            lead.append(line)
        elif current in _SUMMARY_TAGS and line.strip():
            tags[current] = (tags[current] + " " + line.strip()).strip()
        elif not line.strip():
            current = current if current in _SUMMARY_TAGS else "_"
    text = "\n".join(lead).strip()
    if not text:
        text = next((tags[t] for t in _SUMMARY_TAGS if tags.get(t, "").strip()), "")
    text = _INLINE_TAG.sub(lambda m: m.group(1).strip(), text)
    text = _HTML.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    return text


def find_doc_candidates(rel: str, source: str, language: str) -> tuple[list[Candidate], int]:
    """Documented functions of one file (any doc, meaningful or not), and how many functions it has.

    Lines are 1-based in ``source``; a file that does not parse yields nothing.
    """
    spec = spec_for(language)
    if spec is None or language not in DOC_LANGUAGES:
        return [], 0
    try:
        root = parse(spec, source)
    except Exception as exc:  # noqa: BLE001 - a broken file only loses its tasks
        log.debug("%s: %s", rel, exc)
        return [], 0
    lines = source.split("\n")
    found: list[Candidate] = []
    total = 0
    for outer, _definition, name in _functions(root, spec, language):
        total += 1
        doc = _doc_block(outer, language, lines)
        if doc is None:
            continue
        first, last, raw = doc
        sentence = first_sentence(doc_summary(comment_text(raw)))
        if not sentence:
            continue
        found.append(Candidate(rel, name, sentence, outer.start_point.row + 1, _end_row(outer) + 1,
                               first, last))
    return found, total


def _functions(root, spec, language: str) -> Iterator[tuple[object, object, str]]:
    """(outer node, definition node, name) of every function or method with a body, any depth.

    In JavaScript/TypeScript a function assigned to a property (``app.use = function use() {...}``,
    ``exports.json = function () {...}``) is a definition too: much JS code is written that way.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        d = as_def(node, spec)
        if d is not None and d.kind in _FUNCTION_KINDS and d.node.id not in seen and _has_body(d.node):
            seen.add(d.node.id)
            yield d.outer, d.node, d.name
        elif language in ("javascript", "typescript", "tsx") and node.type == "expression_statement":
            assign = node.named_children[0] if node.named_children else None
            if assign is not None and assign.type == "assignment_expression":
                left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
                if left is not None and right is not None and right.type in _JS_VALUE_FUNCTIONS:
                    yield node, node, (left.text or b"").decode("utf-8", "replace")
        stack.extend(reversed(node.named_children))


def _gap_ok(text: str, language: str, below: list) -> bool:
    """A JSDoc/Javadoc block may be separated from its function by blank lines (express does that)."""
    return not below and language in _JSDOC_LANGUAGES and text.lstrip().startswith("/**")


def _end_row(node) -> int:
    """Last row holding text of ``node``: a Rust line comment ends at column 0 of the next row."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _has_body(node) -> bool:
    """Declarations (Java interface methods, TS overloads, C prototypes) have nothing to find."""
    if node.child_by_field_name("body") is not None:
        return True
    for child in node.named_children:  # const f = () => ... / var f = function () {...}
        if child.type == "variable_declarator":
            value = child.child_by_field_name("value")
            return value is not None and value.type in _JS_VALUE_FUNCTIONS
    return False


def _doc_block(outer, language: str, lines: list[str]) -> tuple[int, int, str] | None:
    """The doc comment right above ``outer`` as (first line, last line, raw text), 1-based; or None.

    Comments are collected upwards while each touches the next (no blank line between). The doc
    must own its lines: nothing but whitespace before its first character or after its last.
    """
    start_row = outer.start_point.row
    prev = outer.prev_named_sibling
    comments = []
    while prev is not None:
        if prev.type == "attribute_item" and _end_row(prev) >= start_row - 1:  # Rust #[inline]
            start_row = prev.start_point.row
            prev = prev.prev_named_sibling
            continue
        text = prev.text.decode("utf-8", "replace") if prev.text else ""
        if "comment" not in prev.type or (_end_row(prev) < start_row - 1 and not _gap_ok(text, language, comments)):
            break
        if not is_doc_comment(text, language):
            break
        before = prev.prev_named_sibling
        if before is not None and _end_row(before) == prev.start_point.row and "comment" not in before.type:
            break  # a trailing comment of the code above
        comments.append(prev)
        start_row = prev.start_point.row
        prev = before
        if text.lstrip().startswith("/*"):
            break  # one block comment is the whole doc
    if not comments:
        return None
    comments.reverse()
    first, last = comments[0], comments[-1]
    head = lines[first.start_point.row][: first.start_point.column]
    tail = "" if _end_row(last) != last.end_point.row else lines[last.end_point.row][last.end_point.column:]
    if head.strip() or tail.strip():
        return None
    raw = "\n".join(c.text.decode("utf-8", "replace") for c in comments if c.text)
    return first.start_point.row + 1, _end_row(last) + 1, raw
