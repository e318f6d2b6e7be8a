"""The serving commands: ``ragpilot serve``, ``ragpilot mcp`` and ``ragpilot continue-config``.

CLI code: the only serving module that prints (to stderr, except the config ``continue-config`` prints).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
from pydantic import ValidationError

from ..indexer.errors import UsageError
from ..indexer.pipeline import Progress, resolve_repo
from ..indexer.settings import IndexSettings
from .cli import embedder_options, err, esc, find_repo_root, index_dir_option, settings_from
from .continue_config import base_url, config_json, config_yaml
from .llm import available as available_backends
from .settings import DEFAULT_PORT, ServeSettings


def serve_settings(obj: dict, paths, *, index_dir, embedder, embed_model, embed_url, **flags) -> ServeSettings:
    """ServeSettings from flags (None = not given, so RAGPILOT_* env vars and defaults apply)."""
    index: IndexSettings = settings_from(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                                         embed_url=embed_url)
    roots = [resolve_repo(p) for p in paths] if paths else [find_repo_root(Path.cwd())]
    values = {k: v for k, v in flags.items() if v is not None}
    try:
        return ServeSettings(repos=roots, index=index, **values)
    except ValidationError as err:  # a bad flag or RAGPILOT_* variable: one line, no pydantic report
        first = err.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        field = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{field}: {message} (from a flag or a RAGPILOT_* variable)") from None


def retrieval_options(f):
    f = click.option("-k", "k", type=click.IntRange(1, 100), help="Snippets to retrieve per question (default 8).")(f)
    f = click.option("--context-tokens", type=click.IntRange(1),
                     help="Token budget for retrieved code per question (default 1500).")(f)
    f = click.option("--rerank/--no-rerank", default=None, help="Rerank with a cross-encoder by default.")(f)
    f = click.option("--reranker", help="Reranker used when asked to rerank (default onnx-cross-encoder).")(f)
    f = click.option("--no-watch", is_flag=True, help="Index at start but do not keep the index live.")(f)
    f = click.option("--no-index", is_flag=True, help="Serve the index as it is: no indexing at start.")(f)
    return f


def nonempty_paths(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Path, ...]:
    """``""`` (an unset shell variable) would silently mean the current directory: refuse it."""
    if any(not v.strip() for v in values):
        raise UsageError("a repository path is empty (an unset shell variable?)")
    return tuple(Path(v) for v in values)


def say(text: str) -> None:
    """One line on stderr, never wrapped (servers log to files and narrow terminals alike)."""
    err.print(text, soft_wrap=True)


class _ProgressLines:
    """Start-up indexing progress as plain stderr lines (a server's terminal is a log, not a bar)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, float]] = {}

    def __call__(self, repo, ev: Progress) -> None:
        now = time.monotonic()
        phase, at = self._last.get(repo.name, ("", 0.0))
        if ev.phase == "done" and ev.summary is not None:
            s = ev.summary
            say(f"[green]{esc(repo.name)}[/]: indexed in {s.seconds:.1f}s: {s.files_indexed} files indexed, "
                      f"{s.files_unchanged} unchanged, {s.files_deleted} deleted; {s.chunks_total} chunks")
        elif ev.phase != phase or now - at >= 2.0:
            say(f"{esc(repo.name)}: {ev.phase} {ev.files_done}/{ev.files_total} files, "
                      f"{ev.chunks_embedded} chunks embedded")
        else:
            return
        self._last[repo.name] = (ev.phase, now)


# ----- serve ---------------------------------------------------------------------------------------
@click.command("serve")
@click.argument("paths", nargs=-1, type=click.Path(), callback=nonempty_paths)
@click.option("--host", help="Interface to bind (default 127.0.0.1; others need --api-key).")
@click.option("--port", type=click.IntRange(0, 65535), help=f"Port (default {DEFAULT_PORT}).")
@click.option("--api-key", help="Require 'Authorization: Bearer KEY' (also RAGPILOT_API_KEY).")
@click.option("--insecure-no-auth", is_flag=True, help="Allow a non-loopback host without a key.")
@click.option("--backend", "chat_backend", type=click.Choice(available_backends()),
              help="Chat backend (default llama-cpp, or openai-upstream when --upstream is given).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="GGUF chat model for llama-cpp (default: the packaged SmolLM2-135M-Instruct).")
@click.option("--n-threads", type=click.IntRange(1), help="Threads for llama-cpp (default 1-2).")
@click.option("--n-ctx", type=click.IntRange(256), help="Context window for llama-cpp (default 4096).")
@click.option("--upstream", help="OpenAI-compatible server to chat through, e.g. http://127.0.0.1:8080/v1.")
@click.option("--upstream-model", help="Model name to ask the upstream for (default: its first).")
@click.option("--upstream-key", help="API key for the upstream server.")
@click.option("--completion-upstream", help="Another OpenAI-compatible server for /v1/completions.")
@click.option("--completion-model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Another GGUF (llama-cpp) for /v1/completions, e.g. a FIM-capable coder model.")
@retrieval_options
@index_dir_option
@embedder_options
@click.pass_obj
def serve_cmd(obj, paths, index_dir, embedder, embed_model, embed_url, no_watch, no_index, insecure_no_auth,
              **flags) -> None:
    """Serve repositories (default: the one containing the cwd) to Continue and OpenAI-compatible tools.

    Indexes each repository incrementally at start and keeps it live with a file watcher."""
    import uvicorn

    from .app import create_app
    from .repos import RepoSet

    settings = serve_settings(obj, paths, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                              embed_url=embed_url, watch=False if no_watch else None,
                              index_on_start=False if no_index else None,
                              insecure_no_auth=True if insecure_no_auth else None, **flags)
    settings.check_access()

    repos = RepoSet.from_settings(settings)  # here, so a bad path or embedder is one clear error

    def start_indexing() -> None:
        if settings.index_on_start:
            repos.start(watch=settings.watch, debounce_s=settings.watch_debounce_s, on_progress=_ProgressLines())
        else:
            repos.skip_indexing()

    try:
        app = create_app(settings, repos=repos, on_startup=start_indexing)
        url = base_url(settings)
        say(f"ragpilot serving {esc(', '.join(str(r.root) for r in repos.repos))}")
        say(f"  Continue context provider  {url}/retrieve")
        say(f"  OpenAI-compatible API      {url}/v1  (models: ragpilot, ragpilot-raw)")
        say(f"  status                     {url}/status    (`ragpilot continue-config` prints a config)")
        verbose = logging.getLogger().level <= logging.INFO
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info" if verbose else "warning",
                    access_log=verbose)
    finally:
        repos.close()


# ----- mcp -----------------------------------------------------------------------------------------
@click.command("mcp")
@click.argument("paths", nargs=-1, type=click.Path(), callback=nonempty_paths)
@retrieval_options
@index_dir_option
@embedder_options
@click.pass_obj
def mcp_cmd(obj, paths, index_dir, embedder, embed_model, embed_url, no_watch, no_index, **flags) -> None:
    """A stdio MCP server (tools search_code, get_context, index_status) for the repository at PATH.

    Meant to be launched by an MCP client (Continue, Claude Desktop...): stdout is the protocol."""
    import anyio

    from .mcp import run_stdio

    settings = serve_settings(obj, paths, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                              embed_url=embed_url, watch=False if no_watch else None,
                              index_on_start=False if no_index else None, **flags)
    anyio.run(run_stdio, settings)


# ----- continue-config -----------------------------------------------------------------------------
@click.command("continue-config")
@click.argument("paths", nargs=-1, type=click.Path(), callback=nonempty_paths)
@click.option("--host", help="Host the server binds (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help=f"Port of the server (default {DEFAULT_PORT}).")
@click.option("-k", "k", type=click.IntRange(1, 100), help="Snippets per question for the context provider.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json", "both"]), default="both", show_default=True)
@click.option("--show-key", is_flag=True, help="Write the API key itself instead of a placeholder.")
@click.pass_obj
def continue_config_cmd(obj, paths, host, port, k, fmt, show_key) -> None:
    """Print Continue configuration for a ragpilot server: context provider, chat model, MCP server."""
    settings = serve_settings(obj, paths, index_dir=None, embedder=None, embed_model=None, embed_url=None,
                              host=host, port=port, k=k)
    if fmt in ("yaml", "both"):
        click.echo(config_yaml(settings, settings.repos, show_key=show_key))
    if fmt in ("json", "both"):
        if fmt == "both":
            click.echo("// or, in the older ~/.continue/config.json:")
        click.echo(config_json(settings, settings.repos, show_key=show_key))


COMMANDS = [serve_cmd, mcp_cmd, continue_config_cmd]
