"""``ragpilot mcp``: the stdio MCP server (stdout is the protocol; this module prints nothing)."""

from __future__ import annotations

import click

from .options import embedder_options, index_dir_option, repo_paths_argument
from .serving import retrieval_options, serve_settings


@click.command("mcp")
@repo_paths_argument
@retrieval_options
@index_dir_option
@embedder_options
@click.pass_obj
def mcp_cmd(obj, paths, index_dir, embedder, embed_model, embed_url, no_watch, no_index, **flags) -> None:
    """A stdio MCP server (tools search_code, get_context, index_status) for the repository at PATH.

    Meant to be launched by an MCP client (Continue, Claude Desktop...): stdout is the protocol."""
    import anyio

    from ..mcp import run_stdio

    settings = serve_settings(obj, paths, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                              embed_url=embed_url, watch=False if no_watch else None,
                              index_on_start=False if no_index else None, **flags)
    anyio.run(run_stdio, settings)
