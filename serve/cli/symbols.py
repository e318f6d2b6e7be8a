"""``ragpilot def NAME`` and ``ragpilot refs NAME``: where a symbol is defined, and where it is used.

Both read the symbol index (``symbols.sqlite``) directly: SQLite readers never block the writer, so a
running ``serve`` or ``watch`` need not be asked. Nothing heavy is imported (no lancedb, no settings
model): the answer comes back in well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ...indexer.location import index_dir_from_env, resolve_repo
from ...indexer.symbols.types import DEFINITION_KINDS
from ...retrieval.symbols import (
    DEFAULT_REFERENCE_LIMIT,
    DEFAULT_SYMBOL_LIMIT,
    MAX_REFERENCE_LIMIT,
    MAX_SYMBOL_LIMIT,
    find_references,
    find_symbol,
)
from .output import esc, out
from .quick_options import find_repo_root, index_dir_option, nonempty_path


def _repo_option(f):
    return click.option("--repo", type=click.Path(), callback=nonempty_path,
                        help="Repository (default: the one containing the cwd).")(f)


def _index_path(repo: Path | None, index_dir: Path | None) -> Path:
    root = resolve_repo(repo) if repo is not None else find_repo_root(Path.cwd())
    return index_dir_from_env(root, index_dir)


def _name(name: str) -> str:
    """Bytes that are not UTF-8 reach argv as lone surrogates: look up U+FFFD instead of crashing."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@click.command("def")
@click.argument("name")
@_repo_option
@index_dir_option
@click.option("--kind", type=click.Choice(DEFINITION_KINDS, case_sensitive=False), help="Only this kind.")
@click.option("--exact", is_flag=True, help="No fuzzy matches (prefix, substring, typos).")
@click.option("-k", "k", type=click.IntRange(1, MAX_SYMBOL_LIMIT), default=DEFAULT_SYMBOL_LIMIT,
              show_default=True, help="Definitions to show at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the definitions as a JSON list.")
def def_cmd(name, repo, index_dir, kind, exact, k, as_json) -> None:
    """Where NAME is defined (NAME may be qualified: Class.method, pkg.Func)."""
    matches = find_symbol(_index_path(repo, index_dir), _name(name), fuzzy=not exact, kind=kind, limit=k)
    if as_json:
        click.echo(json.dumps([m.to_json() for m in matches], ensure_ascii=False))
        return
    if not matches:
        out.print(f"no definition of {esc(name)}")
        return
    for m in matches:
        d = m.definition
        tier = "" if m.match == "exact" else f"  [dim]({m.match})[/]"
        out.print(f"[bold]{esc(m.location)}[/]  {esc(d.kind)} [cyan]{esc(d.qualified)}[/]{tier}")
        out.print(f"    {esc(d.signature)}", style="dim")


@click.command("refs")
@click.argument("name")
@_repo_option
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, MAX_REFERENCE_LIMIT), default=DEFAULT_REFERENCE_LIMIT,
              show_default=True, help="References to show at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the references as a JSON list.")
def refs_cmd(name, repo, index_dir, k, as_json) -> None:
    """Where NAME is used (calls and other uses; a qualified name is looked up by its last part)."""
    matches = find_references(_index_path(repo, index_dir), _name(name), limit=k)
    if as_json:
        click.echo(json.dumps([m.to_json() for m in matches], ensure_ascii=False))
        return
    if not matches:
        out.print(f"no references to {esc(name)}")
        return
    for m in matches:
        out.print(f"{esc(m.location)}  [dim]{esc(m.reference.kind)}[/]")
