"""``ragpilot search``: hybrid search from the terminal, printed as code or as JSON.

When a ``ragpilot serve`` or ``ragpilot watch`` already holds the repository, the search is one
loopback request to it (``server_client.py``); otherwise, or with ``--direct`` /
``RAGPILOT_NO_SERVER=1``, this process opens the index (``search_direct.py``). Both give the same
JSON, printed by the same code. Nothing heavy is imported until the direct path is taken.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ...indexer.errors import UsageError
from ...indexer.location import index_dir_from_env, resolve_repo
from ...retrieval.hits import FileHit, Hit
from ..terminal_text import terminal_safe
from .output import err, esc, out
from .quick_options import find_repo_root, index_dir_option, nonempty_path
from .server_client import ask_holder, server_disabled

# retrieval.searcher.MODES and retrieval.settings' MAX_K / DEFAULT_RERANKER, without importing lancedb
# or pydantic-settings (tests/serve/test_cli_search_via_holder.py keeps them equal)
MODES = ("hybrid", "dense", "lexical")
MAX_K = 200
DEFAULT_RERANKER = "onnx-cross-encoder"


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
@click.option("--direct", is_flag=True,
              help="Open the index here even if a running serve/watch holds it (also RAGPILOT_NO_SERVER=1).")
def search_cmd(query, repo, index_dir, k, mode, rerank, reranker, reranker_model, files, as_json,
               direct) -> None:
    """Search the index of a repository."""
    # Bytes that are not UTF-8 reach argv as lone surrogates: search with U+FFFD instead of crashing.
    text = " ".join(query).encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()
    if not text:
        raise UsageError("the query is empty")
    if files and rerank:
        raise UsageError("--files ranks files without a reranker: drop --rerank")
    root = resolve_repo(repo) if repo is not None else find_repo_root(Path.cwd())
    index_path = index_dir_from_env(root, index_dir)
    answer = None
    # Reranking stays here: a holder's reranker may differ, and its answer cannot carry a rerank failure.
    if not (direct or rerank or server_disabled()):
        answer = ask_holder(root, index_path, {"query": text, "k": k, "mode": mode, "files": files})
    if answer is None:
        from .search_direct import search_directly  # lancedb, the embedder: only when needed

        answer = search_directly(root, index_path, text, k=k, mode=mode, files=files, rerank=rerank,
                                 reranker=reranker, reranker_model=reranker_model)
    if answer.rerank_error:
        err.print(f"[yellow]warning:[/] reranking failed ({esc(answer.rerank_error)}); showing the fused order")
    embedded = answer.embedded
    if embedded and not embedded.get("complete") and mode != "lexical":
        err.print(f"[yellow]note:[/] {embedded['chunks']} of {embedded['of']} chunks are embedded so far: "
                  "dense search ranks those, lexical search all of them")
    if as_json:
        click.echo(json.dumps(answer.items, ensure_ascii=False))
    elif files:
        print_files([file_from_json(f) for f in answer.items])
    else:
        print_hits([hit_from_json(h) for h in answer.items])


def hit_from_json(data: dict) -> Hit:
    return Hit(path=data["path"], start_line=data["start_line"], end_line=data["end_line"], score=data["score"],
               symbol=data.get("symbol") or "", language=data.get("language") or "", content=data.get("content") or "")


def file_from_json(data: dict) -> FileHit:
    return FileHit(path=data["path"], score=data["score"], language=data.get("language") or "",
                   places=tuple(hit_from_json(p) for p in data.get("places", ())))


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
