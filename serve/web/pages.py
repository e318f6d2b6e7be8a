"""The Jinja2 templates of the web page (autoescaped) and the small formatting filters they use."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "–"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def when(epoch: float | None) -> str:
    """An epoch time as UTC, with how long ago."""
    if not epoch:
        return "never"
    ago = max(0, time.time() - epoch)
    if ago < 90:
        rel = f"{ago:.0f} s ago"
    elif ago < 5400:
        rel = f"{ago / 60:.0f} min ago"
    elif ago < 172800:
        rel = f"{ago / 3600:.0f} h ago"
    else:
        rel = f"{ago / 86400:.0f} days ago"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch)) + f" ({rel})"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def duration(seconds: float | None) -> str:
    """Seconds left as "45 s", "3 min 05 s", "2 h 10 min"; "estimating…" when not known yet."""
    if seconds is None:
        return "estimating…"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(human_bytes=human_bytes, when=when, percent=percent, duration=duration)
    return env


def render(template: str, **values) -> str:
    return environment().get_template(template).render(**values)
