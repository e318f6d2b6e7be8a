"""``ragpilot map``: the repository's most important files with their key signatures, within a token budget.

With a QUESTION the map is personalised: files it names, files defining identifiers it names, and the
files chunk search finds for it come first.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ...indexer.errors import IndexMissingError, UsageError
from ...indexer.pipeline import resolve_repo
from ...indexer.store import IndexStore
from ...retrieval.repomap_index import repo_map
from ...retrieval.repomap_settings import MAX_MAP_TOKENS, MIN_MAP_TOKENS, RepoMapSettings, checked_map_tokens
from ...retrieval.searcher import Searcher
from ...retrieval.settings import RetrievalSettings
from .options import find_repo_root, index_dir_option, index_settings, nonempty_path
from .output import esc, out


@click.command("map")
@click.argument("question", nargs=-1)
@click.option("--repo", type=click.Path(), callback=nonempty_path,
              help="Repository (default: the one containing the cwd).")
@index_dir_option
@click.option("--tokens", type=int, default=None,
              help=f"Token budget of the map ({MIN_MAP_TOKENS}-{MAX_MAP_TOKENS}; default RAGPILOT_MAP_TOKENS or 1024).")
@click.option("--json", "as_json", is_flag=True, help="Print the map as JSON (text, files with definitions).")
@click.pass_obj
def map_cmd(obj, question, repo, index_dir, tokens, as_json) -> None:
    """Show the repository's most important files and their key signatures (personalised by QUESTION)."""
    text = " ".join(question).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if question and not text.strip():
        raise UsageError("the question is empty: leave it out for a map of the whole repository")
    budget = checked_map_tokens(tokens, RepoMapSettings().map_tokens)
    root = resolve_repo(repo) if repo is not None else find_repo_root(Path.cwd())
    index_path = index_settings(obj, index_dir=index_dir).index_dir_for(root)
    if IndexStore.read_meta(index_path) is None:
        raise IndexMissingError(f"{root} is not indexed yet: run `ragpilot index {root}`")
    searcher = Searcher.for_index(index_path, settings=RetrievalSettings.from_env()) if text.strip() else None
    try:
        result = repo_map(index_path, question=text.strip(), search=searcher, budget_tokens=budget)
    finally:
        if searcher is not None:
            searcher.close()
    if as_json:
        click.echo(json.dumps({"repo": str(root), **result.to_json()}, ensure_ascii=False))
        return
    if not result.files:
        out.print("no definitions indexed: the map is empty")
        return
    out.print(esc(result.text))
    out.print(f"{len(result.files)} of {result.files_total} files, {result.tokens}/{budget} tokens", style="dim")
