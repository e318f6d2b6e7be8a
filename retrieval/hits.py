"""Turning stored chunk rows into :class:`Hit` results: one place that knows the row columns."""

from __future__ import annotations

from collections.abc import Mapping

from ..indexer.types import Hit

# What every search reads back; never the vector or the full-text columns (large and useless here).
HIT_COLUMNS = ["id", "path", "language", "start_line", "end_line", "symbol", "kind", "content"]


def hit_from_row(row: Mapping, score: float) -> Hit:
    """A :class:`Hit` for one stored row; paths are already repo-relative, lines 1-based inclusive."""
    return Hit(
        path=row["path"],
        start_line=int(row["start_line"]),
        end_line=int(row["end_line"]),
        score=float(score),
        symbol=row.get("symbol") or "",
        language=row.get("language") or "",
        content=row.get("content") or "",
        kind=row.get("kind") or "",
        chunk_id=row.get("id") or "",
    )


def hit_key(hit: Hit) -> str:
    """Identity of a hit across sources: the chunk id, or its location when the id is unknown."""
    return hit.chunk_id or f"{hit.path}:{hit.start_line}-{hit.end_line}"
