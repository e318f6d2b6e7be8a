"""``ragpilot index``: build an index, or bring it up to date (``ragpilot status`` is in status.py).

Several repositories (PATHs, or ``--repos-file``) are indexed one after the other, each into its own
index. ``--engine ray`` runs the same indexer with its file preparation and embedding on a Ray cluster
(indexer/ray_engine.py); Ray is imported only then."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ...indexer.errors import IndexBusyError, UsageError
from ...indexer.location import resolve_repo
from ...indexer.pipeline import Indexer
from ...indexer.ray_engine import RayIndexer, RayOptions, cluster_label, connect
from ...indexer.settings import IndexSettings
from .options import embedder_options, index_dir_option, index_settings, nonempty_path, setting_option
from .output import err, esc, print_summary, run_with_progress

REPOS_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def nonempty_each(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Path, ...]:
    """:func:`nonempty_path` for each PATH (the message the one-PATH command gave)."""
    return tuple(nonempty_path(ctx, param, value) for value in values)


@click.command("index")
@click.argument("paths", nargs=-1, type=click.Path(), callback=nonempty_each)
@click.option("--repos-file", type=REPOS_FILE,
              help="A file naming repositories to index, one path a line (# comments; relative to the file).")
@index_dir_option
@embedder_options
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process and its workers. ray: prepare and embed on a Ray cluster "
                   "(pip install 'ragpilot[ray]').")
@click.option("--ray-address", default=None,
              help="The Ray cluster for --engine ray: host:port of `ray start --head`, auto, or ray://host:port "
                   "(default: RAY_ADDRESS, else Ray started on this machine).")
@click.option("--rebuild", is_flag=True, help="Delete the index (keeping the embedding cache) and build it anew.")
@click.option("--wait", "wait_seconds", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another writer to finish instead of failing.")
@setting_option(IndexSettings, "max_file_bytes")
@click.option("--no-secret-scan", is_flag=True, help="Do not skip files whose content looks like a secret.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary as one JSON object (one line per repository).")
@click.pass_obj
def index_cmd(obj, paths: tuple[Path, ...], repos_file: Path | None, index_dir, embedder, embed_model, embed_url,
              engine, ray_address, rebuild, wait_seconds, max_file_bytes, no_secret_scan, as_json) -> None:
    """Index the repositories at PATH... (default: the current directory). Only changes are re-done."""
    roots = repo_list(paths, repos_file)
    if len(roots) > 1 and index_dir is not None:
        raise UsageError("--index-dir and --index-uri name one index: index several repositories without them "
                         "(each gets its own index), or put {repo} in --index-uri (s3://bucket/team/{repo}) for one "
                         "shared index per repository")
    if ray_address is not None and engine != "ray":
        raise UsageError("--ray-address is for --engine ray")
    settings = index_settings(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                              embed_url=embed_url, max_file_bytes=max_file_bytes,
                              scan_secrets=False if no_secret_scan else None)
    where = ""
    if engine == "ray":
        where = f" on {cluster_label(connect(ray_address))}"  # before any index is touched: a bad address fails here
    for root in roots:
        indexer = RayIndexer(root, settings, ray_options=RayOptions(address=ray_address)) if engine == "ray" \
            else Indexer(root, settings)
        if not as_json:
            err.print(f"Indexing [bold]{esc(indexer.root)}[/] with embedder [bold]{esc(settings.embedder)}[/]"
                      f"{esc(where)} ...")
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


def repo_list(paths: tuple[Path, ...], repos_file: Path | None) -> list[Path]:
    """The PATHs, then the ``--repos-file`` entries (relative ones from the file's folder), each once;
    the current directory when neither names any."""
    listed = list(paths)
    if repos_file is not None:
        for number, line in enumerate(repos_file.read_text(encoding="utf-8").splitlines(), 1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            path = (repos_file.parent / Path(entry).expanduser()).resolve()
            if not path.is_dir():
                raise UsageError(f"{repos_file}:{number}: {entry} is not a directory")
            listed.append(path)
        if not listed:
            raise UsageError(f"{repos_file} names no repository")
    unique: dict[Path, Path] = {}
    for path in listed:  # each repository once, as first spelt; a bad path is refused before any indexing
        unique.setdefault(resolve_repo(path), path)
    return list(unique.values()) or [Path()]
