"""``ragpilot search``: hybrid search from the terminal, printed as code or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ...indexer.errors import IndexMissingError, UsageError
from ...indexer.pipeline import resolve_repo
from ...indexer.store import IndexStore
from ...retrieval.rerankers import create_reranker
from ...retrieval.searcher import MODES, Searcher
from ...retrieval.settings import DEFAULT_RERANKER, MAX_K, RetrievalSettings
from ..terminal_text import terminal_safe
from .options import find_repo_root, index_dir_option, index_settings, nonempty_path
from .output import err, esc, out


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--repo", type=click.Path(), callback=nonempty_path,
              help="Repository (default: the one containing the cwd).")
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, MAX_K), default=10, show_default=True, help="Results to show.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--rerank", is_flag=True, help="Rerank with a cross-encoder (slower, often better).")
@click.option("--reranker", default=DEFAULT_RERANKER, show_default=True, help="Reranker name, with --rerank.")
@click.option("--reranker-model", help="Reranker model: hub id, local dir or ONNX file (or TEI url for 'tei').")
@click.option("--files", "files", is_flag=True,
              help="Rank files, not chunks: one line per file with its best places (-k counts files).")
@click.option("--json", "as_json", is_flag=True, help="Print hits as a JSON list.")
@click.pass_obj
def search_cmd(obj, query, repo, index_dir, k, mode, rerank, reranker, reranker_model, files, as_json) -> None:
    """Search the index of a repository."""
    # Bytes that are not UTF-8 reach argv as lone surrogates: search with U+FFFD instead of crashing.
    text = " ".join(query).encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()
    if not text:
        raise UsageError("the query is empty")
    root = resolve_repo(repo) if repo is not None else find_repo_root(Path.cwd())
    settings = index_settings(obj, index_dir=index_dir)
    index_path = settings.index_dir_for(root)
    if IndexStore.read_meta(index_path) is None:
        raise IndexMissingError(f"{root} is not indexed yet: run `ragpilot index {root}`")
    if files:
        if rerank:
            raise UsageError("--files ranks files without a reranker: drop --rerank")
        ranked = Searcher.for_index(index_path, settings=RetrievalSettings()).search_files(text, k=k, mode=mode)
        if as_json:
            click.echo(json.dumps([f.to_json() for f in ranked], ensure_ascii=False))
        else:
            print_files(ranked)
        return
    ranker = create_reranker(reranker, **reranker_options(reranker, reranker_model)) if rerank else None
    searcher = Searcher.for_index(index_path, reranker=ranker, settings=RetrievalSettings())  # RAGPILOT_* knobs
    hits = searcher.search(text, k=k, mode=mode, rerank=rerank)
    if hits.rerank_error:
        err.print(f"[yellow]warning:[/] reranking failed ({esc(hits.rerank_error)}); showing the fused order")
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
        return
    print_hits(hits)


def reranker_options(name: str, model: str | None) -> dict:
    """``--reranker-model`` means a URL for the HTTP backend and a model for the local ones."""
    if model is None:
        return {}
    return {"url": model} if name == "tei" else {"model": model}


def print_files(files) -> None:
    """One line per file (rank, path, score), then its places as ``path:lines`` with their symbols."""
    if not files:
        out.print("no results")
        return
    for rank, found in enumerate(files, 1):
        out.print(f"[bold]{rank}. {esc(terminal_safe(found.path))}[/]  [dim]{found.score:.4f}[/]")
        for place in found.places:
            symbol = f"  [cyan]{esc(terminal_safe(place.symbol))}[/]" if place.symbol else ""
            out.print(f"    {esc(terminal_safe(place.citation))}{symbol}")


def print_hits(hits) -> None:
    from rich.syntax import Syntax

    if not hits:
        out.print("no results")
        return
    for rank, hit in enumerate(hits, 1):
        symbol = f"  [cyan]{esc(hit.symbol)}[/]" if hit.symbol else ""
        out.print(f"[bold]{rank}. {esc(hit.citation)}[/]{symbol}  [dim]{hit.score:.4f}[/]")
        lines = hit.content.splitlines()
        snippet = "\n".join(lines[:12]) + ("\n..." if len(lines) > 12 else "")
        lexer = hit.language if hit.language not in ("text", "") else "text"
        out.print(Syntax(terminal_safe(snippet), lexer, line_numbers=True, start_line=hit.start_line, word_wrap=True))
