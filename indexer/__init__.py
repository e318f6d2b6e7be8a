"""Indexing: walk a repository, chunk files by syntax tree, embed chunks, store them in LanceDB."""
