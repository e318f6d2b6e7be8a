"""``ragpilot index``: build an index, or bring it up to date (``ragpilot status`` is in status.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ...indexer.errors import IndexBusyError
from ...indexer.pipeline import Indexer
from ...indexer.settings import IndexSettings
from .options import embedder_options, index_dir_option, index_settings, repo_argument, setting_option
from .output import err, esc, print_summary, run_with_progress


@click.command("index")
@repo_argument
@index_dir_option
@embedder_options
@click.option("--rebuild", is_flag=True, help="Delete the index (keeping the embedding cache) and build it anew.")
@click.option("--wait", "wait_seconds", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another writer to finish instead of failing.")
@setting_option(IndexSettings, "max_file_bytes")
@click.option("--no-secret-scan", is_flag=True, help="Do not skip files whose content looks like a secret.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def index_cmd(obj, path: Path, index_dir, embedder, embed_model, embed_url, rebuild, wait_seconds, max_file_bytes,
              no_secret_scan, as_json) -> None:
    """Index the repository at PATH (default: the current directory). Only changes are re-done."""
    settings = index_settings(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                              embed_url=embed_url, max_file_bytes=max_file_bytes,
                              scan_secrets=False if no_secret_scan else None)
    indexer = Indexer(path, settings)
    if not as_json:
        err.print(f"Indexing [bold]{esc(indexer.root)}[/] with embedder [bold]{esc(settings.embedder)}[/] ...")
    try:
        indexer.open(rebuild=rebuild, wait_seconds=wait_seconds)
    except IndexBusyError as busy:  # only `index` has --wait: the hint is added here, where it exists
        raise IndexBusyError(f"{busy} Or pass --wait SECONDS (e.g. --wait 30) to queue behind it.") from None
    try:
        summary = run_with_progress(indexer, quiet=as_json)
    finally:
        indexer.close()
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        print_summary(summary)
