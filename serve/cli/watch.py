"""``ragpilot watch``: index a repository, then keep its index live until Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import click

from ...indexer.pipeline import resolve_repo
from ...indexer.live import watch_repo
from .options import embedder_options, index_dir_option, index_settings, repo_argument
from .output import err, esc, out


@click.command("watch")
@repo_argument
@index_dir_option
@embedder_options
@click.option("--polling", is_flag=True, help="Poll the file system instead of using native events.")
@click.pass_obj
def watch_cmd(obj, path: Path, index_dir, embedder, embed_model, embed_url, polling) -> None:
    """Index PATH, then keep the index live as files change, until Ctrl-C."""
    settings = index_settings(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
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

    watch_repo(root, settings, on_batch=on_batch, on_ready=on_ready, polling=True if polling else None)
    err.print("watcher stopped")
