"""Retrieval: read the index (lexical + dense), fuse, rerank, and assemble cited context."""
