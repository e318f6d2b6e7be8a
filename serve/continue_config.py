"""Ready-to-paste Continue configuration (config.yaml and the older config.json) for a ragpilot server:
two ``http`` context providers (code snippets, and the repo map: ``/retrieve`` with ``options.map``), an
``openai``-provider chat model on ragpilot's ``/v1``, and the MCP server.

Values are written as JSON scalars, which YAML reads unchanged (no YAML library needed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .settings import RAG_MODEL, ServeSettings

KEY_PLACEHOLDER = "<your RAGPILOT_API_KEY>"


def base_url(settings: ServeSettings) -> str:
    """The address a local editor uses: wildcard binds become 127.0.0.1 (Continue rewrites localhost)."""
    host = settings.host
    if host in ("0.0.0.0", "::", "[::]", "", "localhost"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _parts(settings: ServeSettings, repos: Sequence[Path], show_key: bool) -> dict:
    url = base_url(settings)
    # With team keys there is no one key to show: the placeholder stands for the reader's own key.
    key = (settings.api_key if show_key and settings.api_key else KEY_PLACEHOLDER) if settings.needs_key else None
    params: dict = {
        "url": f"{url}/retrieve",
        "title": "ragpilot",
        "displayTitle": "Repository",
        "description": "Code from the ragpilot index",
        "options": {"k": settings.k},
    }
    map_params: dict = {
        "url": f"{url}/retrieve",
        "title": "ragpilot-map",  # Continue needs a unique title per http provider
        "displayTitle": "Repository map",
        "description": "The repository's important files and their signatures (ragpilot)",
        "options": {"map": True},
    }
    if key:
        params["headers"] = {"Authorization": f"Bearer {key}"}
        map_params["headers"] = {"Authorization": f"Bearer {key}"}
    model = {"provider": "openai", "model": RAG_MODEL, "apiBase": f"{url}/v1", "apiKey": key or "ragpilot"}
    mcp_args = ["mcp", *[str(p) for p in repos[:1]]]
    return {"params": params, "map_params": map_params, "model": model, "mcp_args": mcp_args}


def config_yaml(settings: ServeSettings, repos: Sequence[Path], *, show_key: bool = False) -> str:
    p = _parts(settings, repos, show_key)
    j = json.dumps
    lines = [
        "# ~/.continue/config.yaml (merge into your own)",
        "models:",
        f"  - name: {j('ragpilot (RAG)')}",
        f"    provider: {j(p['model']['provider'])}",
        f"    model: {j(p['model']['model'])}",
        f"    apiBase: {j(p['model']['apiBase'])}",
        f"    apiKey: {j(p['model']['apiKey'])}",
        "    roles: [chat, edit]",
        "context:",
    ]
    for provider_name, params in (("ragpilot", p["params"]), ("ragpilot-map", p["map_params"])):
        lines += ["  - provider: http", f"    name: {provider_name}", "    params:"]
        lines += [f"      {name}: {j(value)}" for name, value in params.items()]
    lines += [
        "mcpServers:",
        "  - name: ragpilot",
        "    command: ragpilot",
        f"    args: {j(p['mcp_args'])}",
    ]
    return "\n".join(lines) + "\n"


def config_json(settings: ServeSettings, repos: Sequence[Path], *, show_key: bool = False) -> str:
    p = _parts(settings, repos, show_key)
    doc = {
        "models": [{"title": "ragpilot (RAG)", **p["model"]}],
        "contextProviders": [{"name": "http", "params": p["params"]}, {"name": "http", "params": p["map_params"]}],
        "experimental": {
            "modelContextProtocolServers": [
                {"transport": {"type": "stdio", "command": "ragpilot", "args": p["mcp_args"]}}
            ]
        },
    }
    return json.dumps(doc, indent=2) + "\n"
