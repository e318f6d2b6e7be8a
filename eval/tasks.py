"""Retrieval tasks: a query and the places (file, optionally a line range) a good search must find.

Hand-written task files are JSONL, one task per line::

    {"query": "where are option defaults read from the environment",
     "gold": [{"path": "core.py", "symbol": "Parameter.resolve_envvar_value"}]}

A gold entry names a ``path`` relative to the repository root and either a line range
(``start_line``/``end_line``, 1-based inclusive), or a Python ``symbol`` (``Class.method``) that is
resolved to its line range when the file is loaded, so a task file survives version bumps of the code
it describes. A gold entry with neither is file-level only. Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from ragpilot.indexer.errors import UsageError


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """A place a search should return. ``start_line is None`` means the whole file (file-level gold)."""

    path: str
    start_line: int | None = None
    end_line: int | None = None

    @property
    def has_lines(self) -> bool:
        return self.start_line is not None and self.end_line is not None

    def to_json(self) -> dict:
        data: dict = {"path": self.path}
        if self.has_lines:
            data["start_line"], data["end_line"] = self.start_line, self.end_line
        return data


@dataclass(slots=True)
class Task:
    """One query and its gold. ``kind`` is docstring, handwritten or git; ``meta`` is for reports."""

    id: str
    query: str
    gold: list[GoldSpan]
    kind: str
    meta: dict = field(default_factory=dict)

    @property
    def has_line_gold(self) -> bool:
        return all(g.has_lines for g in self.gold)

    def to_json(self) -> dict:
        return {"id": self.id, "query": self.query, "kind": self.kind,
                "gold": [g.to_json() for g in self.gold], "meta": self.meta}


def load_task_file(path: str | Path, repo: str | Path) -> list[Task]:
    """Read a JSONL task file whose gold paths are relative to ``repo``; symbols become line ranges."""
    path, repo = Path(path), Path(repo)
    if not path.is_file():
        raise UsageError(f"{path}: no such task file")
    tasks: list[Task] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            raw = json.loads(line)
            query = str(raw["query"]).strip()
            gold = [_gold_from_json(g, repo) for g in raw["gold"]]
        except (ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{path}:{lineno}: bad task ({err})") from None
        if not query or not gold:
            raise UsageError(f"{path}:{lineno}: a task needs a query and at least one gold entry")
        meta = {k: v for k, v in raw.items() if k not in ("query", "gold", "id")}
        tasks.append(Task(id=str(raw.get("id") or f"{path.stem}:{lineno}"), query=query, gold=gold,
                          kind="handwritten", meta=meta))
    return tasks


def _gold_from_json(raw: dict, repo: Path) -> GoldSpan:
    rel = str(raw["path"]).strip("/")
    target = repo / rel
    if not target.is_file():
        raise ValueError(f"gold path {rel!r} is not a file under {repo}")
    if "symbol" in raw:
        start, end = symbol_lines(target.read_text(encoding="utf-8"), str(raw["symbol"]))
        return GoldSpan(rel, start, end)
    if "start_line" in raw or "end_line" in raw:
        start, end = int(raw["start_line"]), int(raw["end_line"])
        if not 1 <= start <= end:
            raise ValueError(f"bad line range {start}-{end} for {rel}")
        return GoldSpan(rel, start, end)
    return GoldSpan(rel)


def symbol_lines(source: str, symbol: str) -> tuple[int, int]:
    """Line range (decorators included) of ``Class.method`` or ``function`` in Python ``source``.

    ``@overload`` stubs are ignored; several definitions of one name (a property's getter and setter)
    give the range spanning all of them.
    """
    scope: list[ast.stmt] = ast.parse(source).body
    nodes: list[ast.stmt] = []
    for part in symbol.split("."):
        nodes = [n for n in _defs_in(scope) if n.name == part and not _is_overload(n)]
        if not nodes:
            raise ValueError(f"symbol {symbol!r} not found")
        scope = nodes[-1].body  # type: ignore[attr-defined]
    return min(definition_start(n) for n in nodes), max(n.end_lineno or n.lineno for n in nodes)


def _defs_in(body: list[ast.stmt]):
    """Definitions of a scope, including those under ``if``/``try`` (platform-specific variants)."""
    for node in body:
        if isinstance(node, _DEFS):
            yield node
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for block in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                          *(h.body for h in getattr(node, "handlers", []))):
                yield from _defs_in(block)


def _is_overload(node: ast.stmt) -> bool:
    for dec in getattr(node, "decorator_list", []):
        if (isinstance(dec, ast.Name) and dec.id == "overload") or (
            isinstance(dec, ast.Attribute) and dec.attr == "overload"):
            return True
    return False


def definition_start(node: ast.stmt) -> int:
    """First line of a definition, counting its decorators (chunkers keep them with the function)."""
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
