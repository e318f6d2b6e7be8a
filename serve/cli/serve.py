"""``ragpilot serve`` and ``ragpilot continue-config``: the HTTP server, and the Continue config for it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from ..continue_config import base_url, config_json, config_yaml
from ..discovery import loopback_host, new_token
from ..llm import available as available_backends
from ..settings import ServeSettings
from .options import embedder_options, index_dir_option, repo_paths_argument, setting_option
from .output import ProgressLines, esc, say
from .serving import retrieval_options, serve_settings


EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("serve")
@repo_paths_argument
@setting_option(ServeSettings, "host")
@setting_option(ServeSettings, "port")
@setting_option(ServeSettings, "api_key")
@setting_option(ServeSettings, "keys_file", "--keys", "keys_file", type=EXISTING_FILE)
@click.option("--insecure-no-auth", is_flag=True, help=ServeSettings.model_fields["insecure_no_auth"].description)
@setting_option(ServeSettings, "chat_backend", "--backend", "chat_backend", type=click.Choice(available_backends()))
@setting_option(ServeSettings, "model", type=EXISTING_FILE)
@setting_option(ServeSettings, "n_threads")
@setting_option(ServeSettings, "n_ctx")
@setting_option(ServeSettings, "upstream")
@setting_option(ServeSettings, "upstream_model")
@setting_option(ServeSettings, "upstream_key")
@setting_option(ServeSettings, "completion_upstream")
@setting_option(ServeSettings, "completion_model", type=EXISTING_FILE)
@retrieval_options
@click.option("--read-only", is_flag=True,
              help="A replica: serve the index as its writer commits it (no indexing, no watcher). With "
                   "--index-uri and no PATH the repository is the one the index was built from.")
@setting_option(ServeSettings, "refresh_s", "--refresh-seconds", "refresh_s")
@index_dir_option
@embedder_options
@click.pass_obj
def serve_cmd(obj, paths, index_dir, embedder, embed_model, embed_url, no_watch, no_index, insecure_no_auth,
              read_only, **flags) -> None:
    """Serve repositories (default: the one containing the cwd) to Continue and OpenAI-compatible tools.

    Indexes each repository incrementally at start and keeps it live with a file watcher; with
    --read-only, serves a (shared) index others write, picking up each new version within
    --refresh-seconds."""
    import uvicorn

    from ..app import create_app
    from ..holder import HolderTokenCheck, holding, records_for, sigterm_raises
    from ..repos import RepoSet

    settings = serve_settings(obj, paths, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                              embed_url=embed_url, watch=False if no_watch else None,
                              index_on_start=False if no_index else None,
                              insecure_no_auth=True if insecure_no_auth else None,
                              read_only=True if read_only else None, **flags)
    settings.check_access()

    repos = RepoSet.from_settings(settings)  # here, so a bad path or embedder is one clear error
    try:
        # Indexing starts once the models are loaded: llama-cpp silences stdout/stderr while it loads.
        app = create_app(settings, repos=repos,
                         on_startup=lambda: repos.begin(settings, on_progress=ProgressLines()))
        # `ragpilot search` asks this process instead of loading the index again (see discovery.py).
        token, host = new_token(), loopback_host(settings.host)
        app.add_middleware(HolderTokenCheck, token=token)
        records = [] if host is None or settings.port == 0 else records_for(
            repos, kind="serve", host=host, port=settings.port, pid=os.getpid(), token=token,
            needs_api_key=settings.needs_key)
        url = base_url(settings)
        say(f"ragpilot serving {esc(', '.join(str(r.root) for r in repos.repos))}")
        say(f"  Continue context provider  {url}/retrieve")
        say(f"  OpenAI-compatible API      {url}/v1  (models: ragpilot, ragpilot-raw)")
        say(f"  status                     {url}/status    (`ragpilot continue-config` prints a config)")
        verbose = logging.getLogger().level <= logging.INFO
        # After uvicorn's graceful shutdown on SIGTERM, exit as a terminated process does (143), through
        # the finally blocks: the records are removed and the indexes closed.
        with sigterm_raises(lambda: SystemExit(128 + 15)), holding(records):
            uvicorn.run(app, host=settings.host, port=settings.port, log_level="info" if verbose else "warning",
                        access_log=verbose)
    finally:
        repos.close()


@click.command("continue-config")
@repo_paths_argument
@setting_option(ServeSettings, "host")
@setting_option(ServeSettings, "port")
@setting_option(ServeSettings, "k", "-k")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json", "both"]), default="both", show_default=True)
@click.option("--show-key", is_flag=True, help="Write the API key itself instead of a placeholder.")
@click.pass_obj
def continue_config_cmd(obj, paths, host, port, k, fmt, show_key) -> None:
    """Print Continue configuration for a ragpilot server: context provider, chat model, MCP server."""
    settings = serve_settings(obj, paths, host=host, port=port, k=k)
    if fmt in ("yaml", "both"):
        click.echo(config_yaml(settings, settings.repos, show_key=show_key))
    if fmt in ("json", "both"):
        if fmt == "both":
            click.echo("// or, in the older ~/.continue/config.json:")
        click.echo(config_json(settings, settings.repos, show_key=show_key))
