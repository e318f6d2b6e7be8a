"""Flags and path helpers that need no settings model, for the commands that must start at once
(``search``, ``status``): importing pydantic-settings alone costs several times a bare Python start-up.
``options.py`` re-exports them, so every command shares one definition."""

from __future__ import annotations

import functools
import os
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


# IndexSettings.index_uri's description
INDEX_URI_HELP = "A shared index: s3://bucket/prefix, gs://, az:// or a shared folder (see DEPLOY.md)."


def index_dir_option(f):
    """``--index-dir`` and ``--index-uri``. A shared index's URI is turned into the local folder bound to
    it (indexer/store_uri.py), which the command then uses as its index folder: every reader and
    writer finds the shared index through that folder's binding."""

    @functools.wraps(f)
    def command(*args, index_uri: str | None = None, **kwargs):
        if index_uri is not None:
            if kwargs.get("index_dir") is not None:
                raise UsageError("--index-dir and --index-uri both name the index: give one of them")
            from ...indexer.location import REPO_PLACEHOLDER, index_dir_from_env  # noqa: PLC0415

            if REPO_PLACEHOLDER in index_uri:
                # One URI for several repositories: each command's settings place every repository
                # (IndexSettings.index_uri, read from the environment like any RAGPILOT_* setting).
                os.environ["RAGPILOT_INDEX_URI"] = index_uri
            else:
                kwargs["index_dir"] = index_dir_from_env(Path(), index_uri=index_uri)
        return f(*args, **kwargs)

    command = click.option("--index-uri", help=INDEX_URI_HELP, default=None)(command)
    return click.option("--index-dir", help=INDEX_DIR_HELP, default=None, type=click.Path(),
                        callback=nonempty_path)(command)


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
