"""``ragpilot index`` and ``ragpilot status``: build an index, and say what one holds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ...indexer.errors import IndexBusyError
from ...indexer.pipeline import Indexer, resolve_repo
from ...indexer.settings import IndexSettings
from ..status import repo_status
from .options import embedder_options, index_dir_option, index_settings, repo_argument, setting_option
from .output import err, esc, out, print_summary, run_with_progress


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


@click.command("status")
@repo_argument
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.pass_obj
def status_cmd(obj, path: Path, index_dir, as_json) -> None:
    """What is indexed for the repository at PATH: embedder, counts, last update, watcher."""
    root = resolve_repo(path)
    settings = index_settings(obj, index_dir=index_dir)
    info = repo_status(root, settings.index_dir_for(root))
    if as_json:
        click.echo(json.dumps(info))
        return
    if not info["indexed"]:
        # "building": the message says whether a run is in progress or one did not finish
        out.print(esc(info.get("message") or f"{root} is not indexed yet: run `ragpilot index {path}`"))
        return
    updated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["updated_at"]))
    out.print(f"[bold]{esc(info['repo'])}[/]")
    out.print(f"  index     {esc(info['index_dir'])}")
    out.print(f"  embedder  {esc(info['embedder'])} ({esc(info['embedder_id'])}, {info['dim']}-d)")
    out.print(f"  files     {info['files']}    chunks {info['chunks']}")
    embedded = info.get("embedded") or {}
    if embedded and not embedded.get("complete"):
        share = embedded["chunks"] / max(1, embedded["of"])
        out.print(f"  embedded  {embedded['chunks']} of {embedded['of']} chunks ({share:.0%}): hybrid search uses "
                  "these, lexical search all; `ragpilot index` (or a running watch/serve) embeds the rest")
    else:
        out.print(f"  embedded  all {info['chunks']} chunks")
    out.print(f"  updated   {updated}")
    watcher = info.get("watcher") or {}
    if watcher.get("live"):
        out.print(f"  watcher   live (pid {watcher.get('pid')}, {esc(watcher.get('backend'))}, "
                  f"{watcher.get('pending', 0)} pending, {watcher.get('behind_seconds', 0):.1f}s behind)")
    else:
        out.print("  watcher   not running")
