"""Definitions and references of one file, read from its tree-sitter tree.

Definitions come from the same :class:`~ragpilot.indexer.languages.LanguageSpec` table the syntax
chunker uses (so a symbol and the chunk holding it agree on name and kind), plus the constants and type
aliases of :mod:`.queries`. References are the file's identifiers, from tree-sitter queries; a
definition's own name is not a reference to it. The text given is the text the chunker sees (secrets
already redacted by the pipeline), so no secret value reaches a signature.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass, field
from functools import cache

from ..chunking.dispatch import detect_language
from ..chunking.tree import ParseError, as_def, parse
from ..languages import CONTAINER_KINDS, LanguageSpec, Node, node_text, spec_for
from .queries import MIN_NAME_LENGTH, NOISE_NAMES, SPECS, SymbolSpec
from .types import QUALIFIER, Definition, Reference

log = logging.getLogger(__name__)

#: Bumped when extraction changes what it finds: an index built by another version is re-extracted once.
EXTRACTOR_VERSION = "2"
#: A signature longer than this is cut (with "…"): one line for a result list, not the whole header.
MAX_SIGNATURE_CHARS = 200
#: A generated file can hold hundreds of thousands of names; beyond this many, the rest are not kept.
MAX_REFERENCES_PER_FILE = 20_000

# The chunker's kinds that the symbol index names differently, and containers it does not list.
_KINDS = {"namespace": "module", "object": "class", "macro": "function"}
_TRANSPARENT = frozenset({"impl", "extension"})  # Rust ``impl Foo``, Swift ``extension Foo``: parents only
_FUNCTION_KINDS = frozenset({"function", "method"})
_CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*")
_GENERICS = re.compile(r"<.*>|\[.*\]")
_SPACES = re.compile(r"\s+")


#: A reference as extraction yields it: (name, line, kind). Tuples, because a file has thousands and a
#: frozen dataclass costs several times more to build; :attr:`FileSymbols.references` makes objects.
ReferenceRow = tuple[str, int, str]


@dataclass
class FileSymbols:
    """What one file defines and uses."""

    path: str = ""
    definitions: list[Definition] = field(default_factory=list)
    reference_rows: list[ReferenceRow] = field(default_factory=list)

    @property
    def references(self) -> list[Reference]:
        return [Reference(self.path, name, line, kind) for name, line, kind in self.reference_rows]


@dataclass(frozen=True)
class _Scope:
    """Where the walk is: the enclosing definition's qualified name, kind and rows."""

    qualified: str = ""
    kind: str | None = None
    rows: tuple[int, int] | None = None


def extract_symbols(rel_path: str, text: str, language: str | None = None) -> FileSymbols:
    """The definitions and references of one file; empty for languages without a syntax tree, for files
    that cannot be parsed, and (logged) when extraction fails: symbols must never cost a file its chunks."""
    language = language or detect_language(rel_path, text)
    spec, sym = spec_for(language), SPECS.get(language)
    if spec is None or sym is None or not text.strip():
        return FileSymbols()
    try:
        # The text as the chunker parses it (its rows, without the final newline): the tree it just
        # parsed is reused rather than parsed again.
        root = parse(spec, text[:-1] if text.endswith("\n") else text)
        return _Extractor(rel_path, language, spec, sym, text).run(root)
    except ParseError as exc:
        log.info("no symbols for %s: %s", rel_path, exc)
    except Exception:
        log.warning("extracting symbols from %s failed; the file is indexed without them", rel_path,
                    exc_info=True)
    return FileSymbols()


class _Extractor:
    def __init__(self, path: str, language: str, spec: LanguageSpec, sym: SymbolSpec, text: str):
        self.path, self.language, self.spec, self.sym = path, language, spec, sym
        self.source = text.encode("utf-8", "surrogatepass")  # node byte offsets index this
        self.package = ""
        self.definitions: list[Definition] = []
        self.name_sites: list[tuple[str, int]] = []  # (name, byte where its name node is searched from)

    def run(self, root: Node) -> FileSymbols:
        if self.language == "go":
            clause = next((c for c in root.named_children if c.type == "package_clause"), None)
            self.package = node_text(clause.named_children[0]) if clause and clause.named_children else ""
        self._walk(root)
        return FileSymbols(self.path, self.definitions, self._references(root))

    # ----- definitions ------------------------------------------------------------------------
    def _walk(self, root: Node) -> None:
        top = _Scope()
        stack = [(child, top) for child in reversed(root.named_children)]  # iterative: deep trees
        while stack:
            node, scope = stack.pop()
            d = as_def(node, self.spec)
            if d is not None and (d.node.start_point.row, d.node.end_point.row) == scope.rows:
                d = None  # the container itself in other words: ``typedef struct {...} Buffer;``
            if d is not None:
                inner = self._define(d.node, d.kind, d.name, scope)
                stack.extend((c, inner) for c in reversed(d.node.named_children))
                continue
            if node.type in self.sym.constants and scope.kind not in _FUNCTION_KINDS:
                self._constants(node, self.sym.constants[node.type], scope)
                continue
            if (node.end_point.row != node.start_point.row or node.type in self.spec.wrappers
                    or scope.kind in CONTAINER_KINDS) and "comment" not in node.type and "string" not in node.type:
                stack.extend((c, scope) for c in reversed(node.named_children))

    def _define(self, node: Node, kind: str, name: str, scope: _Scope) -> _Scope:
        """Record one definition; returns the scope its children are walked in."""
        rows = (node.start_point.row, node.end_point.row)
        if kind in _TRANSPARENT:
            return _Scope(_type_name(node, name), kind, rows)
        if node.type == "singleton_class":  # Ruby ``class << self``: its methods belong to the class
            return _Scope(scope.qualified, scope.kind, rows)
        kind = _KINDS.get(kind, kind)
        if kind == "function" and scope.kind in CONTAINER_KINDS:
            kind = "method"
        parent = scope.qualified
        if node.type == "method_declaration" and self.language == "go":
            receiver, _, name = name.rpartition(".")
            parent = receiver
        elif "::" in name:  # C++ ``void Foo::bar()`` is a member of Foo
            *owners, name = name.split("::")
            kind = "method" if kind == "function" else kind
            parent = QUALIFIER.join(p for p in (parent, *owners) if p)
        qualified = QUALIFIER.join(p for p in (parent, name) if p)
        if self.package and not parent:
            qualified = f"{self.package}{QUALIFIER}{name}"
        self._add(node, name, qualified, kind, parent, _signature(node))
        return _Scope(qualified, kind, rows)

    def _add(self, node: Node, name: str, qualified: str, kind: str, parent: str, signature: str,
             name_from: int | None = None) -> None:
        if not name or len(name) > 200:
            return
        self.definitions.append(Definition(
            path=self.path, name=name, qualified=qualified, kind=kind,
            line_start=node.start_point.row + 1, line_end=_last_row(node) + 1,
            signature=signature, parent=parent, language=self.language,
        ))
        self.name_sites.append((name, node.start_byte if name_from is None else name_from))

    def _constants(self, node: Node, kind: str, scope: _Scope) -> None:
        """Module- and class-level constants and type aliases the chunker does not chunk apart."""
        for name_node in _constant_names(node, self.language):
            name = node_text(name_node)
            if kind == "constant" and self.language in ("python", "javascript", "typescript", "tsx") \
                    and not _CONSTANT_NAME.fullmatch(name):
                continue  # a module-level variable, not a constant
            parent = scope.qualified
            qualified = QUALIFIER.join(p for p in (parent, name) if p)
            if self.package and not parent:
                qualified = f"{self.package}{QUALIFIER}{name}"
            self._add(node, name, qualified, kind, parent, _first_line(node), name_node.start_byte)

    # ----- references -------------------------------------------------------------------------
    def _references(self, root: Node) -> list[ReferenceRow]:
        from tree_sitter import QueryCursor

        captures = QueryCursor(_query(self.language)).captures(root)
        calls = captures.get("call", [])
        call_starts = {n.start_byte for n in calls}
        by_start = {n.start_byte: n for n in captures.get("name", [])}
        by_start.update((n.start_byte, n) for n in calls)
        src = self.source
        sites = []  # (start, text, node) in document order; texts sliced from the bytes once
        for start in sorted(by_start):
            node = by_start[start]
            end = node.end_byte
            if MIN_NAME_LENGTH <= end - start <= 200:
                sites.append((start, src[start:end].decode("utf-8", "replace"), node))
        own = self._definition_name_starts(sites)
        found: dict[tuple[str, int], str] = {}
        for start, name, node in sites:
            if start in own or name in NOISE_NAMES:
                continue
            key = (name, node.start_point.row + 1)
            if start in call_starts:
                found[key] = "call"
            elif key not in found:
                found[key] = "name"
            if len(found) >= MAX_REFERENCES_PER_FILE:
                log.info("%s: more than %d references; the rest are not kept", self.path, len(found))
                break
        return [(name, line, kind) for (name, line), kind in found.items()]

    def _definition_name_starts(self, sites: list) -> set[int]:
        """Start bytes of the definitions' own name nodes: the first node spelling the name at or after
        where the definition starts."""
        by_name: dict[str, list[int]] = {}
        for start, text, _node in sites:
            by_name.setdefault(text, []).append(start)
        own: set[int] = set()
        for name, origin in self.name_sites:
            starts = by_name.get(name)
            if starts:
                i = bisect.bisect_left(starts, origin)
                if i < len(starts):
                    own.add(starts[i])
        return own


@cache
def _query(language: str):
    """One query capturing ``@name`` (every identifier) and ``@call`` (callees) in ``language``, compiled
    once: one pass over the tree. A call pattern the grammar rejects is dropped with a warning rather
    than costing the language its symbols."""
    from tree_sitter import Query
    from tree_sitter_language_pack import get_language

    spec, sym = spec_for(language), SPECS[language]
    assert spec is not None
    grammar = get_language(spec.grammar)
    patterns = ["[" + " ".join(f"({t})" for t in sym.names) + "] @name"]
    for pattern in sym.calls:
        try:
            Query(grammar, pattern)
            patterns.append(pattern)
        except Exception as exc:
            log.warning("%s: call pattern %s rejected by the grammar (%s)", language, pattern, exc)
    return Query(grammar, "\n".join(patterns))


def query_problems(language: str) -> list[str]:
    """The patterns of ``language`` its grammar rejects (empty when all compile): a test's check."""
    from tree_sitter import Query
    from tree_sitter_language_pack import get_language

    spec, sym = spec_for(language), SPECS[language]
    assert spec is not None
    grammar = get_language(spec.grammar)
    problems = []
    for pattern in (*sym.calls, "[" + " ".join(f"({t})" for t in sym.names) + "] @name"):
        try:
            Query(grammar, pattern)
        except Exception as exc:
            problems.append(f"{pattern}: {exc}")
    return problems


def _constant_names(node: Node, language: str) -> list[Node]:
    """The name nodes a constant-like declaration defines (several for ``const a, b = ...``)."""
    t = node.type
    if language == "python":
        assign = node if t == "assignment" else (node.named_children or [None])[0]
        left = assign.child_by_field_name("left") if assign is not None and assign.type == "assignment" else None
        return [left] if left is not None and left.type == "identifier" else []
    if t == "lexical_declaration":
        if not node.children or node_text(node.children[0]) != "const":
            return []
        return [n for d in node.named_children if d.type == "variable_declarator"
                if (n := d.child_by_field_name("name")) is not None and n.type == "identifier"]
    if t == "const_declaration":  # Go
        return [c for spec in node.named_children if spec.type == "const_spec"
                for c in spec.children_by_field_name("name")]
    if t == "field_declaration":  # Java: static final fields
        modifiers = next((c for c in node.named_children if c.type == "modifiers"), None)
        words = set(node_text(modifiers).split()) if modifiers is not None else set()
        if not {"static", "final"} <= words:
            return []
        return [n for d in node.children_by_field_name("declarator")
                if (n := d.child_by_field_name("name")) is not None]
    if t == "type_definition":  # C typedef without a body (with one, it is a struct or enum definition)
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type != "type_identifier":
            declarator = declarator.child_by_field_name("declarator")
        return [declarator] if declarator is not None else []
    name = node.child_by_field_name("name")  # Rust const/static/type, C #define
    return [name] if name is not None else []


def _last_row(node: Node) -> int:
    """The node's last row, not counting a final newline it swallows (C ``#define``)."""
    end_row, end_col = node.end_point
    return end_row - 1 if end_col == 0 and end_row > node.start_point.row else end_row


def _type_name(node: Node, fallback: str) -> str:
    """The type an ``impl``/``extension`` block adds to: ``impl<T> Display for a::Foo<T>`` -> Foo."""
    target = node.child_by_field_name("type") or node.child_by_field_name("name")
    text = node_text(target) if target is not None else fallback
    text = _GENERICS.sub("", text).strip()
    return text.replace("::", ".").rsplit(".", 1)[-1] or fallback


def _signature(node: Node) -> str:
    """One line: the definition's text up to its body, whitespace collapsed (``def send(self, r)``)."""
    body = node.child_by_field_name("body")
    if body is None or body.start_byte <= node.start_byte:
        return _first_line(node)
    raw = node.text[: body.start_byte - node.start_byte] if node.text is not None else b""
    return _one_line(raw.decode("utf-8", "replace"))


def _first_line(node: Node) -> str:
    return _one_line(node_text(node).split("\n", 1)[0])


def _one_line(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    text = text.replace("( ", "(").replace(" )", ")").replace("[ ", "[").replace(" ]", "]")
    text = text.rstrip("{:").rstrip()
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1].rstrip() + "…"
    return text
