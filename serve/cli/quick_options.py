"""Flags and path helpers that need no settings model, for the commands that must start at once
(``search``, ``status``): importing pydantic-settings alone costs several times a bare Python start-up.
``options.py`` re-exports them, so every command shares one definition."""

from __future__ import annotations

from pathlib import Path

import click

from ...indexer.errors import UsageError

# IndexSettings.index_dir's description (tests/serve/test_cli_search_via_holder.py keeps them equal)
INDEX_DIR_HELP = "Index location (default: under $RAGPILOT_HOME)."


def nonempty_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``""`` (an unset shell variable) would silently mean the current directory: refuse it."""
    if value is None:
        return None
    if not value.strip():
        raise UsageError(f"{param.human_readable_name}: the path is empty")
    return Path(value)


def nonempty_paths(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Path, ...]:
    """``""`` (an unset shell variable) would silently mean the current directory: refuse it."""
    if any(not v.strip() for v in values):
        raise UsageError("a repository path is empty (an unset shell variable?)")
    return tuple(Path(v) for v in values)


def index_dir_option(f):
    return click.option("--index-dir", help=INDEX_DIR_HELP, default=None, type=click.Path(),
                        callback=nonempty_path)(f)


def repo_argument(f):
    return click.argument("path", default=".", type=click.Path(), callback=nonempty_path)(f)


def repo_paths_argument(f):
    return click.argument("paths", nargs=-1, type=click.Path(), callback=nonempty_paths)(f)


def find_repo_root(start: Path) -> Path:
    """The enclosing git work tree of ``start`` (like git does), else ``start`` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start
