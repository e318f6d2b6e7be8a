"""Chunking: cut a file into embeddable pieces by syntax tree, headings, or line windows.

:func:`chunk_file` is the one entry point. Chunk ``kind`` is the definition kind for code
("function", "method", "class", "struct", "enum", "interface", "trait", "impl", "namespace",
"object", "type", "macro", ...), "module" for code between definitions, "group" for merged
neighbours of different kinds, "collapsed" for a definition shown with nested bodies elided (its
``content`` is then not verbatim source), "section" for Markdown/reST and "lines" for line windows.

Bump :data:`CHUNKER_VERSION` whenever the output for the same input can change; the index records it
and re-chunks every file when it differs.
"""

from .dispatch import chunk_file, register

CHUNKER_VERSION = "4"  # 2: secret values redacted before chunking (indexer/redact.py); 3: code tokens keep i8, utf8; 4: fts_context column

__all__ = ["CHUNKER_VERSION", "chunk_file", "register"]
