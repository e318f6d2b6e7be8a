"""The repo map's knobs and bounds, defined once: the CLI, HTTP, MCP and the chat read them from here.

A map is a summary: past a few thousand tokens it stops being one (and a request for a million tokens is
a client bug or an attack), so budgets outside [MIN_MAP_TOKENS, MAX_MAP_TOKENS] are refused, not clamped.
Whether the chat adds a map slice, answers repository-level questions breadth-first and expands hits along
the symbol graph are switches here (``RAGPILOT_CHAT_MAP``, ``RAGPILOT_CHAT_BREADTH``,
``RAGPILOT_EXPAND_GRAPH``), so the eval can score with and without them.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..indexer.errors import UsageError

MIN_MAP_TOKENS = 64  # a header and a few signatures: less is not a map
MAX_MAP_TOKENS = 16_384  # a large model's whole map (Aider's maximum is 8x its 1k default)
DEFAULT_MAP_TOKENS = 1024  # Aider's default --map-tokens


class RepoMapSettings(BaseSettings):
    """How maps are built and where they are used (``RAGPILOT_*`` variables)."""

    model_config = SettingsConfigDict(env_prefix="RAGPILOT_", extra="ignore")

    map_tokens: int = Field(DEFAULT_MAP_TOKENS, ge=MIN_MAP_TOKENS, le=MAX_MAP_TOKENS,
                            description="Token budget of a repo map when the request names none.")
    # On: the eval's 40 repository-level questions (eval/results/repolevel/NOTES.md) covered 0.636 of their
    # gold files with it and 0.569 without; expansion cost httpx and zod more than it gained chi (0.560).
    chat_map: bool = Field(True, description=(
        "Add a repo-map slice to the chat's retrieved code when the question is about the repository as a "
        "whole or how its parts connect."))
    chat_map_share: float = Field(0.3, gt=0.0, lt=1.0, description=(
        "Share of the chat's context budget the map slice may take (the retrieved code keeps the rest)."))
    # On: on the eval's held-out (confirm) half, gold-file coverage 0.933 with it and 0.728 without
    # (chunks + map slice), within the same budget (eval/results/repolevel/NOTES.md).
    chat_breadth: bool = Field(True, description=(
        "For a repository-level question, fill the chat's context with one short excerpt per file from "
        "file-level search (more files, shorter excerpts) instead of whole chunks; a map slice, when on, "
        "gets what the excerpts leave of the budget. Pinpoint questions are not affected."))
    breadth_files: int = Field(20, ge=1, le=100, description=(
        "How many files file-level search proposes for a repository-level question's excerpts."))
    breadth_lines: int = Field(8, ge=1, le=200, description=(
        "Lines of each excerpt after the best two files' (a definition's signature and its first lines)."))
    expand_graph: bool = Field(False, description=(
        "Expand the best hits to the definitions they call and the ones that call them."))
    expand_hits: int = Field(3, ge=1, le=20, description="How many of the best hits are expanded.")
    expand_per_hit: int = Field(2, ge=1, le=10, description="At most this many definitions added per hit.")


def checked_map_tokens(tokens: int | None, default: int = DEFAULT_MAP_TOKENS) -> int:
    """``tokens`` (or the default) if it is a budget a map can be built in, else a UsageError."""
    if tokens is None:
        return default
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not MIN_MAP_TOKENS <= tokens <= MAX_MAP_TOKENS:
        raise UsageError(f"the map budget must be between {MIN_MAP_TOKENS} and {MAX_MAP_TOKENS} tokens, "
                         f"not {tokens}")
    return tokens
