"""File names to languages, and what a "definition" is in each grammar.

The syntax chunker knows nothing about any one language: everything it needs (which tree-sitter node
types are functions, classes, ...; which nodes wrap a definition; how to name one) lives in the
:class:`LanguageSpec` table below, keyed by language name. Adding a language means adding one entry.
Nothing here imports tree-sitter: specs only look at nodes they are handed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

Node = Any  # a tree_sitter.Node; typed loosely so this module never imports tree-sitter
KindRule = str | Callable[[Node], str | None]

#: Kinds whose function children are methods.
CONTAINER_KINDS = frozenset({"class", "struct", "interface", "trait", "impl", "enum", "object", "extension"})


@dataclass(frozen=True)
class LanguageSpec:
    """How to find definitions in one tree-sitter grammar.

    ``definitions`` maps a node type to its kind ("function", "class", ...) or to a rule returning the
    kind or ``None`` (e.g. a JS ``const f = () => {}`` is a function, ``const n = 1`` is not).
    ``wrappers`` are node types that wrap one definition and belong to its lines (Python decorators,
    ``export``, C++ ``template<...>``). ``leading`` are sibling node types glued to the next
    definition, like comments are (Rust ``#[derive]``).
    """

    name: str
    grammar: str
    definitions: Mapping[str, KindRule]
    wrappers: frozenset[str] = frozenset()
    leading: frozenset[str] = frozenset()
    names: Mapping[str, Callable[[Node], str]] = field(default_factory=dict)

    def kind_of(self, node: Node) -> str | None:
        """The definition kind of ``node``, or None when it is not a definition."""
        rule = self.definitions.get(node.type)
        if rule is None:
            return None
        return rule if isinstance(rule, str) else rule(node)


def node_text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _has_body(kind: str) -> Callable[[Node], str | None]:
    """C-family ``struct foo;`` is a declaration; only ``struct foo { ... }`` is a definition."""
    return lambda node: kind if node.child_by_field_name("body") is not None else None


def _c_typedef(node: Node) -> str | None:
    inner = node.child_by_field_name("type")
    if inner is None or inner.child_by_field_name("body") is None:
        return None
    return "enum" if inner.type == "enum_specifier" else "struct"


_JS_FUNCTION_VALUES = {"arrow_function", "function_expression", "function", "generator_function"}


def _js_declarator(node: Node) -> Node | None:
    decls = [c for c in node.named_children if c.type == "variable_declarator"]
    return decls[0] if len(decls) == 1 else None


def _js_variable(node: Node) -> str | None:
    """``const f = () => {...}`` / ``const C = class {...}`` are definitions; other variables are not."""
    decl = _js_declarator(node)
    value = decl.child_by_field_name("value") if decl is not None else None
    if value is None:
        return None
    if value.type in _JS_FUNCTION_VALUES:
        return "function"
    return "class" if value.type in ("class", "class_expression") else None


def _js_field(node: Node) -> str | None:
    """A class field holding an arrow function (``onClick = () => {...}``) is a method."""
    value = node.child_by_field_name("value")
    return "method" if value is not None and value.type in _JS_FUNCTION_VALUES else None


def _js_variable_name(node: Node) -> str:
    decl = _js_declarator(node)
    return node_text(decl.child_by_field_name("name")) if decl is not None else ""


def _js_field_name(node: Node) -> str:
    return node_text(node.child_by_field_name("property") or node.child_by_field_name("name"))


def _go_type(node: Node) -> str | None:
    spec = next((c for c in node.named_children if c.type == "type_spec"), None)
    if spec is None:
        return None
    inner = spec.child_by_field_name("type")
    return {"struct_type": "struct", "interface_type": "interface"}.get(inner.type if inner else "", "type")


def _go_type_name(node: Node) -> str:
    spec = next((c for c in node.named_children if c.type == "type_spec"), None)
    return node_text(spec.child_by_field_name("name")) if spec is not None else ""


def _go_method_name(node: Node) -> str:
    """``func (q *Queue) Push()`` -> ``Queue.Push``: Go methods sit at top level, apart from their type."""
    name = node_text(node.child_by_field_name("name"))
    stack = [node.child_by_field_name("receiver")]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if current.type == "type_identifier":
            return f"{node_text(current)}.{name}"
        stack.extend(reversed(current.named_children))
    return name


def _rust_impl_name(node: Node) -> str:
    target = node_text(node.child_by_field_name("type"))
    trait = node.child_by_field_name("trait")
    return f"impl {node_text(trait)} for {target}" if trait is not None else f"impl {target}"


def _kotlin_class(node: Node) -> str:
    keywords = {c.type for c in node.children if not c.is_named}
    return "interface" if "interface" in keywords else "enum" if "enum" in keywords else "class"


def _ruby_singleton_name(node: Node) -> str:
    return f"class << {node_text(node.child_by_field_name('value'))}"


def _kotlin_companion_name(node: Node) -> str:
    name = next((c for c in node.named_children if c.type == "type_identifier"), None)
    return node_text(name) if name is not None else "companion object"


def _swift_class(node: Node) -> str:
    word = node_text(node.child_by_field_name("declaration_kind"))
    return {"struct": "struct", "enum": "enum", "extension": "extension"}.get(word, "class")


def _lua_function(node: Node) -> str:
    name = node.child_by_field_name("name")
    return (
        "method"
        if name is not None and name.type in ("dot_index_expression", "method_index_expression")
        else "function"
    )


_JS_DEFS: dict[str, KindRule] = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "method_definition": "method",
    "lexical_declaration": _js_variable,
    "variable_declaration": _js_variable,
    "field_definition": _js_field,
}
_TS_DEFS: dict[str, KindRule] = {
    **_JS_DEFS,
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "type_alias_declaration": "type",
    "internal_module": "namespace",
    "module": "namespace",
    "public_field_definition": _js_field,
}
_JS_NAMES = {
    "lexical_declaration": _js_variable_name,
    "variable_declaration": _js_variable_name,
    "field_definition": _js_field_name,
    "public_field_definition": _js_field_name,
}
_C_DEFS: dict[str, KindRule] = {
    "function_definition": "function",
    "struct_specifier": _has_body("struct"),
    "union_specifier": _has_body("struct"),
    "enum_specifier": _has_body("enum"),
    "type_definition": _c_typedef,
}

_SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec(
            "python",
            "python",
            {"function_definition": "function", "class_definition": "class"},
            wrappers=frozenset({"decorated_definition"}),
        ),
        LanguageSpec(
            "javascript", "javascript", _JS_DEFS, wrappers=frozenset({"export_statement"}), names=_JS_NAMES
        ),
        LanguageSpec(
            "typescript", "typescript", _TS_DEFS, wrappers=frozenset({"export_statement"}), names=_JS_NAMES
        ),
        LanguageSpec("tsx", "tsx", _TS_DEFS, wrappers=frozenset({"export_statement"}), names=_JS_NAMES),
        LanguageSpec(
            "go",
            "go",
            {
                "function_declaration": "function",
                "method_declaration": "method",
                "type_declaration": _go_type,
            },
            names={"type_declaration": _go_type_name, "method_declaration": _go_method_name},
        ),
        LanguageSpec(
            "rust",
            "rust",
            {
                "function_item": "function",
                "struct_item": "struct",
                "union_item": "struct",
                "enum_item": "enum",
                "trait_item": "trait",
                "impl_item": "impl",
                "mod_item": _has_body("namespace"),
                "macro_definition": "macro",
            },
            leading=frozenset({"attribute_item"}),
            names={"impl_item": _rust_impl_name},
        ),
        LanguageSpec(
            "java",
            "java",
            {
                "class_declaration": "class",
                "interface_declaration": "interface",
                "enum_declaration": "enum",
                "record_declaration": "class",
                "annotation_type_declaration": "interface",
                "method_declaration": "method",
                "constructor_declaration": "method",
                "compact_constructor_declaration": "method",
            },
        ),
        LanguageSpec("c", "c", _C_DEFS),
        LanguageSpec(
            "cpp",
            "cpp",
            {
                **_C_DEFS,
                "class_specifier": _has_body("class"),
                "namespace_definition": _has_body("namespace"),
            },
            wrappers=frozenset({"template_declaration"}),
        ),
        LanguageSpec(
            "csharp",
            "csharp",
            {
                "class_declaration": "class",
                "struct_declaration": "struct",
                "record_declaration": "class",
                "interface_declaration": "interface",
                "enum_declaration": "enum",
                "method_declaration": "method",
                "constructor_declaration": "method",
                "destructor_declaration": "method",
                "operator_declaration": "method",
                "local_function_statement": "function",
                "namespace_declaration": "namespace",
            },
        ),
        LanguageSpec(
            "ruby",
            "ruby",
            {
                "method": "function",
                "singleton_method": "method",
                "class": "class",
                "singleton_class": "class",
                "module": "namespace",
            },
            names={"singleton_class": _ruby_singleton_name},
        ),
        LanguageSpec(
            "php",
            "php",
            {
                "function_definition": "function",
                "class_declaration": "class",
                "interface_declaration": "interface",
                "trait_declaration": "trait",
                "enum_declaration": "enum",
                "method_declaration": "method",
                "namespace_definition": _has_body("namespace"),
            },
        ),
        LanguageSpec(
            "kotlin",
            "kotlin",
            {
                "class_declaration": _kotlin_class,
                "object_declaration": "object",
                "companion_object": "object",
                "function_declaration": "function",
                "secondary_constructor": "method",
            },
            names={"companion_object": _kotlin_companion_name},
        ),
        LanguageSpec(
            "swift",
            "swift",
            {
                "class_declaration": _swift_class,
                "protocol_declaration": "interface",
                "function_declaration": "function",
                "init_declaration": "method",
                "deinit_declaration": "method",
            },
        ),
        LanguageSpec(
            "scala",
            "scala",
            {
                "class_definition": "class",
                "object_definition": "object",
                "trait_definition": "trait",
                "enum_definition": "enum",
                "function_definition": "function",
            },
        ),
        LanguageSpec("lua", "lua", {"function_declaration": _lua_function}),
        LanguageSpec("bash", "bash", {"function_definition": "function"}),
    )
}

#: Languages chunked by syntax tree; every other language is chunked by headings or line windows.
SUPPORTED_SYNTAX_LANGUAGES: frozenset[str] = frozenset(_SPECS)

_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), "python"),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), "javascript"),
    **dict.fromkeys((".ts", ".mts", ".cts"), "typescript"),
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    **dict.fromkeys((".c", ".h"), "c"),
    **dict.fromkeys((".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".inl"), "cpp"),
    ".cs": "csharp",
    **dict.fromkeys((".rb", ".rake", ".gemspec", ".ru"), "ruby"),
    **dict.fromkeys((".php", ".phtml"), "php"),
    **dict.fromkeys((".kt", ".kts"), "kotlin"),
    ".swift": "swift",
    **dict.fromkeys((".scala", ".sc"), "scala"),
    ".lua": "lua",
    **dict.fromkeys((".sh", ".bash", ".zsh", ".ksh"), "bash"),
    **dict.fromkeys((".md", ".markdown", ".mdx"), "markdown"),
    ".rst": "rst",
    # Labelled for display and filtering; chunked by line windows.
    ".json": "json",
    **dict.fromkeys((".yaml", ".yml"), "yaml"),
    ".toml": "toml",
    **dict.fromkeys((".html", ".htm"), "html"),
    **dict.fromkeys((".css", ".scss", ".less"), "css"),
    ".sql": "sql",
    ".xml": "xml",
}

_FILENAMES: dict[str, str] = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
    ".bashrc": "bash",
    ".bash_profile": "bash",
    ".zshrc": "bash",
    "Dockerfile": "dockerfile",
    "Makefile": "makefile",
    "GNUmakefile": "makefile",
    "CMakeLists.txt": "cmake",
}

_SHEBANGS: dict[str, str] = {
    "python": "python",
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
    "node": "javascript",
    "ruby": "ruby",
    "php": "php",
    "lua": "lua",
}


def language_for(rel_path: str) -> str:
    """The language of a file from its name: "python", ..., "markdown", or "text" when unknown."""
    name = PurePosixPath(rel_path.replace("\\", "/")).name
    if name in _FILENAMES:
        return _FILENAMES[name]
    return _EXTENSIONS.get(PurePosixPath(name).suffix.lower(), "text")


def language_from_shebang(first_line: str) -> str | None:
    """``#!/usr/bin/env python3`` -> "python"; for extension-less scripts."""
    if not first_line.startswith("#!"):
        return None
    words = first_line[2:].strip().split()
    if words and words[0].endswith("/env"):
        words = [w for w in words[1:] if not w.startswith("-")]  # env -S python3 -u
    if not words:
        return None
    prog = words[0]
    prog = prog.rsplit("/", 1)[-1].rstrip("0123456789.")
    return _SHEBANGS.get(prog)


def spec_for(language: str) -> LanguageSpec | None:
    """The syntax spec of ``language``; None for languages chunked without a syntax tree."""
    return _SPECS.get(language)
