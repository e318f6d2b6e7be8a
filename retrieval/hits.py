"""Search results: :class:`Hit`, and turning stored chunk rows into hits (one place that knows the columns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .render import citation

# What every search reads back; never the vector or the full-text columns (large and useless here).
HIT_COLUMNS = ["id", "path", "language", "start_line", "end_line", "symbol", "kind", "content"]


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: a stored chunk plus its score from the stage that produced it."""

    path: str
    start_line: int
    end_line: int
    score: float
    symbol: str
    language: str
    content: str
    kind: str = ""
    chunk_id: str = ""
    embedded: bool = True  # False: the row has no vector yet (search first, embed after)

    @property
    def citation(self) -> str:
        return citation(self.path, self.start_line, self.end_line)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "score": round(float(self.score), 6),
            "symbol": self.symbol,
            "language": self.language,
            "content": self.content,
        }


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
        embedded=bool(row.get("embedded", True)),
    )


def hit_key(hit: Hit) -> str:
    """Identity of a hit across sources: the chunk id, or its location when the id is unknown."""
    return hit.chunk_id or f"{hit.path}:{hit.start_line}-{hit.end_line}"


@dataclass(frozen=True, slots=True)
class FileHit:
    """A file-level search result: a file, its aggregated score, and its best-matching places (best first)."""

    path: str
    score: float
    language: str
    places: tuple[Hit, ...]

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "score": round(float(self.score), 6),
            "language": self.language,
            "places": [hit.to_json() for hit in self.places],
        }
