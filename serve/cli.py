"""The `ragpilot` command line: the only place that prints. Errors become one clear line, no traceback."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..indexer.errors import IndexMissingError, RagpilotError, UsageError
from ..indexer.pipeline import Indexer, IndexSummary, resolve_repo
from ..indexer.settings import IndexSettings
from ..indexer.store import IndexStore
from ..retrieval.rerankers import DEFAULT_RERANKER, create_reranker
from ..retrieval.searcher import MAX_K, Searcher
from .terminal_text import terminal_safe

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def esc(value: object) -> str:
    """Text from the user's files or paths, shown literally: "[red]x.py" is a legal file name, and a
    name holding an ESC sequence is shown as ``\\x1b[2J``, not obeyed (see terminal_text.py)."""
    return escape(terminal_safe(str(value)))


class TerminalSafeFormatter(logging.Formatter):
    """Log lines name files ("skipping x.py: ..."): their control characters are shown, not obeyed."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


def find_repo_root(start: Path) -> Path:
    """The enclosing git work tree of ``start`` (like git does), else ``start`` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def settings_from(ctx_obj: dict, **overrides) -> IndexSettings:
    values = {k: v for k, v in {**ctx_obj, **overrides}.items() if v is not None}
    return IndexSettings(**values)


def embedder_options(f):
    """Flags shared by every command that may build an embedder."""
    f = click.option("--embedder", help="Embedder name (default minilm-onnx; see `ragpilot embedders`).")(f)
    f = click.option("--embed-model", help="Model for the embedder: hub id, local dir, ONNX or GGUF file.")(f)
    f = click.option("--embed-url", help="Ollama or OpenAI-compatible embeddings endpoint.")(f)
    return f


def nonempty_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``""`` (an unset shell variable) would silently mean the current directory: refuse it."""
    if value is None:
        return None
    if not value.strip():
        raise UsageError(f"{param.human_readable_name}: the path is empty")
    return Path(value)


def index_dir_option(f):
    return click.option(
        "--index-dir", type=click.Path(), callback=nonempty_path,
        help="Index location (default: under $RAGPILOT_HOME).",
    )(f)


def repo_argument(f):
    return click.argument("path", default=".", type=click.Path(), callback=nonempty_path)(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="ragpilot")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """ragpilot: a private, local repository brain for AI coding assistants."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = {}


# ----- index ---------------------------------------------------------------------------------------
@cli.command()
@repo_argument
@index_dir_option
@embedder_options
@click.option("--rebuild", is_flag=True, help="Delete the index (keeping the embedding cache) and build it anew.")
@click.option("--wait", "wait_seconds", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another writer to finish instead of failing.")
@click.option("--max-file-bytes", type=click.IntRange(min=1), help="Skip files larger than this (default 1 MiB).")
@click.option("--no-secret-scan", is_flag=True, help="Do not skip files whose content looks like a secret.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def index(obj, path: Path, index_dir, embedder, embed_model, embed_url, rebuild, wait_seconds, max_file_bytes,
          no_secret_scan, as_json) -> None:
    """Index the repository at PATH (default: the current directory). Only changes are re-done."""
    settings = settings_from(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                             embed_url=embed_url, max_file_bytes=max_file_bytes,
                             scan_secrets=False if no_secret_scan else None)
    indexer = Indexer(path, settings)
    if not as_json:
        err.print(f"Indexing [bold]{esc(indexer.root)}[/] with embedder [bold]{esc(settings.embedder)}[/] ...")
    indexer.open(rebuild=rebuild, wait_seconds=wait_seconds)
    try:
        summary = _run_with_progress(indexer, quiet=as_json)
    finally:
        indexer.close()
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        _print_summary(summary)


def _run_with_progress(indexer: Indexer, *, quiet: bool) -> IndexSummary:
    if quiet:
        return indexer.run_to_end()
    if not err.is_terminal:
        last_line = 0.0

        def plain(ev) -> None:
            nonlocal last_line
            now = time.monotonic()
            if ev.phase != "index" or now - last_line >= 2 or ev.files_done == ev.files_total:
                last_line = now
                err.print(f"{ev.phase}: {ev.files_done}/{ev.files_total} files, {ev.chunks_embedded} chunks embedded")

        return indexer.run_to_end(plain)
    started = time.monotonic()
    columns = [
        TextColumn("[bold]{task.fields[phase]}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
        TextColumn("{task.fields[chunks]} chunks embedded ({task.fields[rate]:.1f}/s)"),
        TimeElapsedColumn(), TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("index", total=None, phase="scan", chunks=0, rate=0.0)

        def fancy(ev) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, total=ev.files_total or None, completed=ev.files_done, phase=ev.phase,
                       chunks=ev.chunks_embedded, rate=ev.chunks_embedded / elapsed)

        return indexer.run_to_end(fancy)


def _print_summary(s: IndexSummary) -> None:
    out.print(
        f"[green]done[/] in {s.seconds:.1f}s: {s.files_indexed} files indexed, {s.files_unchanged} unchanged, "
        f"{s.files_deleted} deleted, {s.files_skipped} skipped; "
        f"{s.chunks_embedded} chunks embedded ({s.chunks_cached} from cache), {s.chunks_total} in the index"
    )
    if s.skipped_by_reason:
        reasons = ", ".join(f"{esc(reason)} {n}" for reason, n in s.skipped_by_reason.items())
        out.print(f"skipped by reason: {reasons}")
    if s.secrets_redacted:
        out.print(f"secrets redacted: {s.secrets_redacted} values in {s.files_redacted} indexed files")
    out.print(f"index: {esc(s.index_dir)}", style="dim")


# ----- watch ---------------------------------------------------------------------------------------
@cli.command()
@repo_argument
@index_dir_option
@embedder_options
@click.option("--polling", is_flag=True, help="Poll the file system instead of using native events.")
@click.pass_obj
def watch(obj, path: Path, index_dir, embedder, embed_model, embed_url, polling) -> None:
    """Index PATH, then keep the index live as files change, until Ctrl-C."""
    from ..indexer.watcher import watch_repo

    settings = settings_from(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                             embed_url=embed_url)
    root = resolve_repo(path)

    def on_ready(watcher) -> None:
        err.print(f"watching [bold]{esc(root)}[/] ({watcher.state().backend}); Ctrl-C to stop")

    def on_batch(report) -> None:
        what = "rescan" if report.rescan else f"{report.files} files"
        if report.ok:
            out.print(f"updated: {what}, {report.chunks_embedded} chunks embedded, {report.ms:.0f} ms")
        else:
            err.print(f"[yellow]batch failed ({what}):[/] {esc(report.error)}; will retry")

    watch_repo(root, settings, on_batch=on_batch, on_ready=on_ready, polling=True if polling else None,
               on_progress=None)
    err.print("watcher stopped")


# ----- status --------------------------------------------------------------------------------------
@cli.command()
@repo_argument
@index_dir_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status(obj, path: Path, index_dir, as_json) -> None:
    """What is indexed for the repository at PATH: embedder, counts, last update, watcher."""
    from .status import repo_status

    root = resolve_repo(path)
    settings = settings_from(obj, index_dir=index_dir)
    info = repo_status(root, settings.index_dir_for(root))
    if as_json:
        click.echo(json.dumps(info))
        return
    if not info["indexed"]:
        out.print(esc(f"{root} is not indexed yet: run `ragpilot index {path}`"))
        return
    updated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["updated_at"]))
    out.print(f"[bold]{esc(info['repo'])}[/]")
    out.print(f"  index     {esc(info['index_dir'])}")
    out.print(f"  embedder  {esc(info['embedder'])} ({esc(info['embedder_id'])}, {info['dim']}-d)")
    out.print(f"  files     {info['files']}    chunks {info['chunks']}")
    out.print(f"  updated   {updated}")
    watcher = info.get("watcher") or {}
    if watcher.get("live"):
        out.print(f"  watcher   live (pid {watcher.get('pid')}, {esc(watcher.get('backend'))}, "
                  f"{watcher.get('pending', 0)} pending, {watcher.get('behind_seconds', 0):.1f}s behind)")
    else:
        out.print("  watcher   not running")


# ----- search --------------------------------------------------------------------------------------
@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--repo", type=click.Path(), callback=nonempty_path,
              help="Repository (default: the one containing the cwd).")
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, MAX_K), default=10, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True)
@click.option("--rerank", is_flag=True, help="Rerank with a cross-encoder (slower, often better).")
@click.option("--reranker", default=DEFAULT_RERANKER, show_default=True, help="Reranker name, with --rerank.")
@click.option("--reranker-model", help="Reranker model: hub id, local dir or ONNX file (or TEI url for 'tei').")
@click.option("--json", "as_json", is_flag=True, help="Print hits as a JSON list.")
@click.pass_obj
def search(obj, query, repo, index_dir, k, mode, rerank, reranker, reranker_model, as_json) -> None:
    """Search the index of a repository."""
    # Bytes that are not UTF-8 reach argv as lone surrogates: search with U+FFFD instead of crashing.
    text = " ".join(query).encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()
    if not text:
        raise UsageError("the query is empty")
    root = resolve_repo(repo) if repo is not None else find_repo_root(Path.cwd())
    settings = settings_from(obj, index_dir=index_dir)
    index_path = settings.index_dir_for(root)
    if IndexStore.read_meta(index_path) is None:
        raise IndexMissingError(f"{root} is not indexed yet: run `ragpilot index {root}`")
    ranker = create_reranker(reranker, **reranker_options(reranker, reranker_model)) if rerank else None
    searcher = Searcher.for_index(index_path, reranker=ranker)
    hits = searcher.search(text, k=k, mode=mode, rerank=rerank)
    if getattr(hits, "rerank_error", None):
        err.print(f"[yellow]warning:[/] reranking failed ({esc(hits.rerank_error)}); showing the fused order")
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
        return
    _print_hits(hits)


def reranker_options(name: str, model: str | None) -> dict:
    """``--reranker-model`` means a URL for the HTTP backend and a model for the local ones."""
    if model is None:
        return {}
    return {"url": model} if name == "tei" else {"model": model}


def _print_hits(hits) -> None:
    from rich.syntax import Syntax

    if not hits:
        out.print("no results")
        return
    for rank, hit in enumerate(hits, 1):
        symbol = f"  [cyan]{esc(hit.symbol)}[/]" if hit.symbol else ""
        out.print(f"[bold]{rank}. {esc(hit.path)}:{hit.start_line}-{hit.end_line}[/]{symbol}  [dim]{hit.score:.4f}[/]")
        lines = hit.content.splitlines()
        snippet = "\n".join(lines[:12]) + ("\n..." if len(lines) > 12 else "")
        lexer = hit.language if hit.language not in ("text", "") else "text"
        out.print(Syntax(terminal_safe(snippet), lexer, line_numbers=True, start_line=hit.start_line, word_wrap=True))


# ----- embedders -----------------------------------------------------------------------------------
@cli.command()
def embedders() -> None:
    """List the embedders this install knows."""
    from ..indexer.embedders import available

    for name in available():
        out.print(name)


def run(command: click.Command, argv: list[str] | None, prog_name: str) -> int:
    """Run a click command and translate errors at the edge: one clear line, never a traceback."""
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except RagpilotError as e:
        err.print(f"[red]error:[/] {esc(e)}")
        return e.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except OSError as e:
        err.print(f"[red]error:[/] {esc(e)}")
        return 1
    except Exception as e:  # a bug: one line for the user, the traceback with -vv
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        err.print(f"[red]internal error:[/] {type(e).__name__}: {esc(e)} (run with -vv for the traceback)")
        return 70
    return 0


if __name__ == "__main__":  # python -m ragpilot.serve.cli: the full command set lives in main.py
    from ragpilot.serve.main import main

    sys.exit(main())
