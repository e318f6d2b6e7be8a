"""Read definitions out of a tree-sitter tree: where they are, what they are called, where their body
starts. Language knowledge comes from :class:`~ragpilot.indexer.languages.LanguageSpec`; this module
only walks nodes. tree-sitter is imported on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

from ..languages import CONTAINER_KINDS, LanguageSpec, Node, node_text

#: Signature rows kept for a definition in headers and collapsed placeholders.
MAX_SIGNATURE_ROWS = 6
_BODY_TYPES = frozenset(
    {
        "block",
        "compound_statement",
        "declaration_list",
        "field_declaration_list",
        "enumerator_list",
        "statement_block",
        "do_group",
    }
)
#: Never searched for definitions: nothing defined there is code.
_OPAQUE_TYPES = frozenset(
    {"string", "string_literal", "template_string", "raw_string_literal", "heredoc_body"}
)
#: A body row that only opens the body belongs to the signature (Allman ``{``, Ruby ``do``).
_OPENERS = frozenset({"{", "do", "begin", "then", "=", "=>", "->", ":"})


class ParseError(Exception):
    """The grammar could not produce a tree; the caller falls back to line windows."""


@dataclass
class Def:
    """A definition: ``outer`` spans its rows (decorators, ``export``, ``template<>`` included),
    ``node`` carries its name and body."""

    outer: Node
    node: Node
    kind: str
    name: str


@cache
def _language(grammar: str):
    from tree_sitter_language_pack import get_language

    return get_language(grammar)


# The last tree parsed on each thread: preparing a file chunks it, then extracts its symbols from the
# same text, and parsing twice was ~10 % of preparing (measured on 400 stdlib files: 2.5 -> 2.2 CPU s).
# Nothing edits a tree (both only walk it); one tree and its text are kept per thread.
_last_parse = threading.local()


def parse(spec: LanguageSpec, text: str) -> Node:
    """The root node of ``text`` parsed with the grammar of ``spec`` (the same text parsed again right
    after, on the same thread, is not parsed twice)."""
    from tree_sitter import Parser

    last = getattr(_last_parse, "tree", None)
    if last is not None and last[0] == spec.grammar and last[1] == text:
        return last[2]
    try:
        tree = Parser(_language(spec.grammar)).parse(text.encode("utf-8", "surrogatepass"))
    except Exception as exc:  # a missing grammar or a parser failure must not stop indexing
        raise ParseError(f"{spec.grammar}: {exc}") from exc
    if tree is None or tree.root_node is None:
        raise ParseError(f"{spec.grammar}: no tree")
    _last_parse.tree = (spec.grammar, text, tree.root_node)
    return tree.root_node


def find_defs(container: Node, spec: LanguageSpec, parent_kind: str | None = None) -> list[Def]:
    """The nearest definitions below ``container`` (not those inside other definitions), in order.

    ``parent_kind`` is the kind of the definition ``container`` belongs to (None at the root):
    functions directly inside a class-like one are methods.
    """
    found: list[Def] = []
    same_rows = (container.start_point.row, container.end_point.row) if parent_kind is not None else None
    stack = list(reversed(container.named_children))  # iterative: deep trees must not hit the recursion limit
    while stack:
        node = stack.pop()
        d = as_def(node, spec)
        if d is not None and (node.start_point.row, node.end_point.row) == same_rows:
            d = None  # the container itself in other words: ``typedef struct {...} Buffer;``
        if d is not None:
            if d.kind == "function" and parent_kind in CONTAINER_KINDS:
                d.kind = "method"
            found.append(d)
        elif (
            node.start_point.row != node.end_point.row
            and node.type not in _OPAQUE_TYPES
            and "comment" not in node.type
        ):
            stack.extend(reversed(node.named_children))
    return found


def as_def(node: Node, spec: LanguageSpec) -> Def | None:
    """``node`` as a definition, looking through wrappers (decorators, ``export``); else None."""
    if node.type in spec.wrappers:
        for child in node.named_children:
            inner = as_def(child, spec)
            if inner is not None:
                return Def(node, inner.node, inner.kind, inner.name)
        return None
    kind = spec.kind_of(node)
    if kind is None:
        return None
    hook = spec.names.get(node.type)
    name = " ".join((hook(node) if hook else _generic_name(node)).split())[:100]
    return Def(node, node, kind, name or node.type.removesuffix("_declaration").removesuffix("_definition"))


def leading_start(node: Node, spec: LanguageSpec) -> int:
    """First row of ``node`` counting the comments / attributes directly above it."""
    start = node.start_point.row
    prev = node.prev_named_sibling
    while prev is not None and _is_leading(prev, spec) and prev.end_point.row >= start - 1:
        before = prev.prev_named_sibling
        if (
            before is not None
            and not _is_leading(before, spec)
            and before.end_point.row == prev.start_point.row
        ):
            break  # a trailing comment of the code before, not a heading of this definition
        start = min(start, prev.start_point.row)
        prev = before
    return start


def _is_leading(node: Node, spec: LanguageSpec) -> bool:
    return "comment" in node.type or node.type in spec.leading


def signature_rows(d: Def, lines: list[str]) -> tuple[int, int]:
    """Rows from the definition's start (decorators included) to where its body begins."""
    first = d.outer.start_point.row
    body = _find_body(d.node)
    if body is None:
        last = d.node.start_point.row
    else:
        row, col = body.start_point
        line = lines[row] if row < len(lines) else ""
        starts_row = col <= len(line) - len(line.lstrip())
        if row > d.node.start_point.row and starts_row:
            last = row if line.strip() in _OPENERS else row - 1
        else:
            last = row
    last = max(first, min(last, d.outer.end_point.row, first + MAX_SIGNATURE_ROWS - 1))
    return first, last


def _generic_name(node: Node) -> str:
    name = node.child_by_field_name("name")
    if name is not None:
        return node_text(name)
    decl = node.child_by_field_name("declarator")
    while decl is not None:  # C/C++: int *(*f)(void) -> f; Foo::bar(int) -> Foo::bar
        nxt = decl.child_by_field_name("declarator") or next(
            (c for c in decl.named_children if c.type.endswith("declarator")), None
        )
        if nxt is None:
            return node_text(decl)
        decl = nxt
    for child in node.named_children:
        if child.type.endswith("identifier") or child.type in ("constant", "name", "word"):
            return node_text(child)
    return ""


def _find_body(node: Node) -> Node | None:
    """The node holding a definition's body: the ``body`` field, or a body-like node a few levels down."""
    level = [node]
    for _ in range(3):
        nxt: list[Node] = []
        for n in level:
            body = n.child_by_field_name("body")
            if body is not None:
                return body
            for child in n.named_children:
                if child.type in _BODY_TYPES or "body" in child.type:
                    return child
                if child.start_point.row != child.end_point.row:
                    nxt.append(child)
        level = nxt
    return None
