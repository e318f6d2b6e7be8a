"""Task prefixes some embedding models were trained with, keyed by model family.

Any backend resolves its prefixes here from the model's name (hub id, path, GGUF file or server model
name), so nomic-embed-text gets ``search_document: `` / ``search_query: `` whether it runs through
sentence-transformers, llama.cpp or ollama. Explicit options always win.
"""

from __future__ import annotations

# family substring (lower case) -> (document prefix, query prefix)
FAMILY_PREFIXES: dict[str, tuple[str, str]] = {
    "nomic-embed-text": ("search_document: ", "search_query: "),
    "nomic-embed-code": ("", "Represent this query for searching relevant code: "),
    "e5-": ("passage: ", "query: "),
}


def family_prefixes(model_name: str) -> tuple[str, str]:
    """The (document, query) prefixes for the first family whose key occurs in ``model_name``."""
    lowered = model_name.lower()
    for family, prefixes in FAMILY_PREFIXES.items():
        if family in lowered:
            return prefixes
    return "", ""


def resolve_prefixes(
    model_name: str, document_prefix: str | None = None, query_prefix: str | None = None
) -> tuple[str, str]:
    """Explicit prefixes if given (``""`` turns one off), else the family's."""
    doc, query = family_prefixes(model_name)
    return (
        doc if document_prefix is None else document_prefix,
        query if query_prefix is None else query_prefix,
    )
