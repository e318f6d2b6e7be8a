"""The retrieval benchmark: tasks built from real third-party code, every search mode compared side by side.

Run it with ``python -m eval`` (repository root) or ``ragpilot eval``; see ``eval/README.md``.
"""
