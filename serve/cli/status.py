"""``ragpilot status``: what an index holds, answered from small files (no lancedb) unless ``--deep``.

The quick answer (``indexer/status_read.py``) reads meta.json, the catalog, the counts the writer
records at each commit, the watcher's status file and the table's manifest, and checks that the data
files and full-text index folders the current version reads are whole. ``--deep`` (and an index the
quick path cannot describe) opens the table with lancedb and runs ``IndexStore.verify``: every data
file decoded, one full-text query. Both raise the same error naming a damaged file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ...indexer.location import index_dir_from_env, resolve_repo
from ...indexer.status_read import quick_status
from .output import esc, out
from .quick_options import index_dir_option, repo_argument


def read_status(root: Path, index_dir: Path, *, deep: bool) -> dict:
    """The status dict of ``serve.status.repo_status``; from small files unless ``deep`` or unknown there."""
    info = None if deep else quick_status(root, index_dir)
    if info is None:
        from ..status import repo_status  # lancedb: only when the quick path cannot answer

        info = repo_status(root, index_dir)
    return info


@click.command("status")
@repo_argument
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.option("--deep", is_flag=True,
              help="Open the table and read every data file and full-text index (slower; the quick check "
                   "only looks at their presence and footers).")
def status_cmd(path: Path, index_dir, as_json, deep) -> None:
    """What is indexed for the repository at PATH: embedder, counts, last update, watcher."""
    root = resolve_repo(path)
    info = read_status(root, index_dir_from_env(root, index_dir), deep=deep)
    if as_json:
        click.echo(json.dumps(info))
        return
    if not info["indexed"]:
        # "building": the message says whether a run is in progress or one did not finish
        out.print(esc(info.get("message") or f"{root} is not indexed yet: run `ragpilot index {path}`"))
        return
    updated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["updated_at"]))
    out.print(f"[bold]{esc(info['repo'])}[/]")
    out.print(f"  index     {esc(info.get('index_uri') or info['index_dir'])}")
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
