"""What the symbol index holds: definitions and references, one row each. A leaf module.

The shapes are a contract shared by the symbol store, the query layer and the repo map
(``/tmp/symbols_api.md`` when it was agreed): fields may be added, never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

# The kinds a definition can have; extraction maps each grammar's node types onto these.
DEFINITION_KINDS = (
    "function", "method", "class", "struct", "interface", "trait", "enum", "type", "constant",
    "module", "field",
)
# A reference is a call, or any other use of a name (a type, an attribute, an import).
REFERENCE_KINDS = ("call", "name")

# Joins a parent's qualified name and a child's name: "Client.send", "Mux.Handle", "pkg.Func".
QUALIFIER = "."


@dataclass(frozen=True, slots=True)
class Definition:
    """Where a symbol is defined. Lines are 1-based and inclusive."""

    path: str  # repo-relative posix path, same as chunk paths
    name: str  # bare name: "send", "Router", "MarshalJSON"
    qualified: str  # parent chain + name: "Client.send" (Go: receiver type; Rust: impl type)
    kind: str  # one of DEFINITION_KINDS
    line_start: int
    line_end: int
    signature: str  # one line, e.g. "def send(self, request: Request) -> Response"
    parent: str  # qualified name of the enclosing definition, "" at top level
    language: str


@dataclass(frozen=True, slots=True)
class Reference:
    """One use of a name in a file (not its definition)."""

    path: str
    name: str  # the identifier referenced (bare name)
    line: int  # 1-based
    kind: str  # one of REFERENCE_KINDS
