"""``ragpilot watch``: index a repository, then keep its index live until Ctrl-C.

While it watches, it also answers ``ragpilot search`` for that repository on a loopback port (see
``serve/holder.py``): the watcher already holds the embedder and the index, so a search from another
terminal skips loading them. SIGTERM stops it as Ctrl-C does, so the writer lock is released and
the holder record removed.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from ...indexer.live import watch_repo
from ...indexer.pipeline import resolve_repo
from ...retrieval.settings import RetrievalSettings
from ..discovery import new_token
from ..holder import SearchEndpoint, holding, records_for, sigterm_raises
from ..repos import RepoSet, ServedRepo
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

    def on_batch(report) -> None:
        what = "rescan" if report.rescan else f"{report.files} files"
        if report.ok:
            out.print(f"updated: {what}, {report.chunks_embedded} chunks embedded, {report.ms:.0f} ms")
        else:
            err.print(f"[yellow]batch failed ({what}):[/] {esc(report.error)}; will retry")

    with ExitStack() as held, sigterm_raises(KeyboardInterrupt):  # SIGTERM stops as Ctrl-C does
        def on_ready(watcher) -> None:
            held.enter_context(answering_search(root, settings, watcher))
            err.print(f"watching [bold]{esc(root)}[/] ({watcher.state().backend}); Ctrl-C to stop")

        watch_repo(root, settings, on_batch=on_batch, on_ready=on_ready, polling=True if polling else None)
    err.print("watcher stopped")


@contextmanager
def answering_search(root: Path, settings, watcher):
    """The loopback search endpoint over the watcher's own embedder, announced while it runs."""
    repo = ServedRepo(root, settings, embedder=watcher.indexer.embedder, retrieval=RetrievalSettings.from_env())
    repos = RepoSet([repo])
    token = new_token()
    try:
        with SearchEndpoint(repos, token) as endpoint, holding(records_for(
                repos, kind="watch", host=endpoint.host, port=endpoint.port, pid=os.getpid(), token=token)):
            yield endpoint
    finally:
        repos.close()
