"""The symbol index: definitions and references per file, extracted with tree-sitter, kept in SQLite."""
