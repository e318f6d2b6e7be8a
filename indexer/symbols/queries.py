"""Per-grammar knowledge the symbol extractor adds to the chunker's :mod:`~ragpilot.indexer.languages`
table: which nodes are names (references), which are calls, and which top-level nodes are constants or
type aliases the chunker does not treat as definitions.

References are found with tree-sitter queries (run in C, so a large file costs milliseconds): every
identifier-like node is a use (``@name``), and the callee of a call expression is a ``@call``. The
call patterns follow the grammars' own ``tags.scm`` (``@name.reference.call``), as Aider's repo map
uses them. Nothing here imports tree-sitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SymbolSpec:
    """``names``: node types that are identifiers; ``calls``: query patterns capturing ``@call``;
    ``constants``: node types that define constants, type aliases or body-less methods (interface and
    trait members) at module or class level, mapped to the kind they define (how they are named is
    :mod:`.extract`'s job)."""

    names: tuple[str, ...]
    calls: tuple[str, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)


_JS_CALLS = (
    "(call_expression function: (identifier) @call)",
    "(call_expression function: (member_expression property: (property_identifier) @call))",
    "(new_expression constructor: (identifier) @call)",
)
_JS_NAMES = ("identifier", "property_identifier", "shorthand_property_identifier")
_TS_NAMES = (*_JS_NAMES, "type_identifier")
_TS_DECLARATIONS = {"lexical_declaration": "constant", "method_signature": "method"}
_C_CALLS = (
    "(call_expression function: (identifier) @call)",
    "(call_expression function: (field_expression field: (field_identifier) @call))",
)
_C_CONSTANTS = {"preproc_def": "constant", "preproc_function_def": "function", "type_definition": "type"}

SPECS: dict[str, SymbolSpec] = {
    "python": SymbolSpec(
        ("identifier",),
        (
            "(call function: (identifier) @call)",
            "(call function: (attribute attribute: (identifier) @call))",
        ),
        {"assignment": "constant", "expression_statement": "constant"},
    ),
    "javascript": SymbolSpec(_JS_NAMES, _JS_CALLS, {"lexical_declaration": "constant"}),
    "typescript": SymbolSpec(_TS_NAMES, _JS_CALLS, _TS_DECLARATIONS),
    "tsx": SymbolSpec(_TS_NAMES, _JS_CALLS, _TS_DECLARATIONS),
    "go": SymbolSpec(
        ("identifier", "type_identifier", "field_identifier"),
        (
            "(call_expression function: (identifier) @call)",
            "(call_expression function: (selector_expression field: (field_identifier) @call))",
        ),
        {"const_declaration": "constant", "method_elem": "method", "method_spec": "method"},
    ),
    "rust": SymbolSpec(
        ("identifier", "type_identifier", "field_identifier"),
        (
            "(call_expression function: (identifier) @call)",
            "(call_expression function: (field_expression field: (field_identifier) @call))",
            "(call_expression function: (scoped_identifier name: (identifier) @call))",
            "(macro_invocation macro: (identifier) @call)",
        ),
        {"const_item": "constant", "static_item": "constant", "type_item": "type",
         "function_signature_item": "method"},
    ),
    "java": SymbolSpec(
        ("identifier", "type_identifier"),
        (
            "(method_invocation name: (identifier) @call)",
            "(object_creation_expression type: (type_identifier) @call)",
        ),
        {"field_declaration": "constant"},
    ),
    "c": SymbolSpec(("identifier", "type_identifier", "field_identifier"), _C_CALLS, _C_CONSTANTS),
    "cpp": SymbolSpec(
        ("identifier", "type_identifier", "field_identifier", "namespace_identifier"),
        (
            *_C_CALLS,
            "(call_expression function: (qualified_identifier name: (identifier) @call))",
            "(new_expression type: (type_identifier) @call)",
        ),
        _C_CONSTANTS,
    ),
    "csharp": SymbolSpec(
        ("identifier",),
        (
            "(invocation_expression function: (identifier) @call)",
            "(invocation_expression function: (member_access_expression name: (identifier) @call))",
            "(object_creation_expression type: (identifier) @call)",
        ),
    ),
    "ruby": SymbolSpec(("identifier", "constant"), ("(call method: (identifier) @call)",)),
    "php": SymbolSpec(
        ("name",),
        (
            "(function_call_expression function: (name) @call)",
            "(member_call_expression name: (name) @call)",
        ),
    ),
    "kotlin": SymbolSpec(("simple_identifier", "type_identifier"), ("(call_expression (simple_identifier) @call)",)),
    "swift": SymbolSpec(("simple_identifier", "type_identifier"), ("(call_expression (simple_identifier) @call)",)),
    "scala": SymbolSpec(("identifier", "type_identifier"), ("(call_expression function: (identifier) @call)",)),
    "lua": SymbolSpec(("identifier",), ("(function_call name: (identifier) @call)",)),
    "bash": SymbolSpec(("variable_name",), ("(command name: (command_name (word) @call))",)),
}

#: Names too common to be worth a reference row: receivers and placeholders every file uses.
NOISE_NAMES = frozenset({"self", "cls", "this", "super", "_", "__", "it"})
#: Shorter names are loop counters and the like; they are not looked up.
MIN_NAME_LENGTH = 2
