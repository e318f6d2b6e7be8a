"""``ragpilot search`` through the process that already holds the repository (a ``serve`` or a
``watch``): one loopback request instead of loading the embedder, the tables and the vectors again.

A holder is asked only when it answers exactly as a direct search would: same repository and index
folder, the embedder the index was built with, the same ``RAGPILOT_*`` retrieval variables. Anything
else (no holder, a process that is gone, a refused connection, no answer within ``TIMEOUT_S``, an
error status, an API key the CLI does not have) means searching directly, with a debug log line
saying why (``ragpilot -vv search``).

Standard library only (http.client, json): this runs before anything heavy is imported.
"""

from __future__ import annotations

import http.client
import json
import logging
from pathlib import Path
from typing import NamedTuple

from ...indexer.location import setting_from_env
from ..discovery import TOKEN_HEADER, HolderRecord, env_subset, live_records, loopback_host

log = logging.getLogger(__name__)

TIMEOUT_S = 3.0  # per socket operation: a hung holder costs at most this before the direct search
NO_SERVER = "no_server"  # RAGPILOT_NO_SERVER=1: always search directly (as --direct)


class Answer(NamedTuple):
    """A search's JSON items (as a direct search prints them), its repository's embedding coverage
    (``{"chunks", "of", "complete"}``, for chunk searches), and a reranking failure to warn about."""

    items: list[dict]
    embedded: dict | None = None
    rerank_error: str | None = None


def server_disabled() -> bool:
    value = setting_from_env(NO_SERVER)
    return value is not None and value.strip().lower() not in ("", "0", "false", "no")


def ask_holder(root: Path, index_dir: Path, request: dict) -> Answer | None:
    """The holder's ``/search`` answer to ``request``, without the per-hit ``repo`` and ``embedded``
    fields a direct search does not print; None when no holder can answer for the direct search (see
    the module docstring)."""
    embedder_id = ready_embedder_id(index_dir)
    if embedder_id is None:
        return None  # no index, or one still being built: the direct path says so
    for record in live_records(index_dir):
        why_not = unsuitable(record, root, index_dir, embedder_id)
        if why_not:
            log.debug("not asking %s %d at %s: %s", record.kind, record.pid, record.address, why_not)
            continue
        found = post_search(record, {**request, "repo": str(root)})
        if found is not None:
            log.debug("answered by %s %d at %s", record.kind, record.pid, record.address)
            embedded = found[0].get("embedded") if found else None
            items = [{k: v for k, v in item.items() if k not in ("repo", "embedded")} for item in found]
            return Answer(items, embedded if isinstance(embedded, dict) else None)
    return None


def ready_embedder_id(index_dir: Path) -> str | None:
    """The embedder id meta.json records, for a complete index; None otherwise (or if unreadable)."""
    try:
        meta = json.loads((index_dir / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("state", "ready") != "ready":
        return None
    return meta.get("embedder_id") or None


def unsuitable(record: HolderRecord, root: Path, index_dir: Path, embedder_id: str) -> str | None:
    """Why ``record``'s holder would not answer as a direct search does; None when it would."""
    if record.repo_root != str(root) or Path(record.index_dir) != index_dir:
        return f"it holds {record.repo_root} at {record.index_dir}"
    if loopback_host(record.host) != record.host:
        return f"{record.host} is not a loopback address"
    if record.embedder_id != embedder_id:
        return f"it embeds with {record.embedder_id}, the index with {embedder_id}"
    if env_subset(record.retrieval_env_names) != record.retrieval_env:
        return "its RAGPILOT_* retrieval settings differ from this shell's"
    if record.needs_api_key and not setting_from_env("api_key"):
        return "it requires an API key and RAGPILOT_API_KEY is not set"
    return None


def post_search(record: HolderRecord, body: dict) -> list[dict] | None:
    """POST ``body`` to the holder's ``/search``; the JSON list it answers, or None (logged) if it
    does not answer in time, answers an error, or answers something else than a list of objects."""
    headers = {"Content-Type": "application/json", TOKEN_HEADER: record.token}
    if record.kind == "watch":
        headers["Authorization"] = f"Bearer {record.token}"
    elif record.needs_api_key:
        headers["Authorization"] = f"Bearer {setting_from_env('api_key')}"
    conn = http.client.HTTPConnection(record.host, record.port, timeout=TIMEOUT_S)
    try:
        conn.request("POST", "/search", body=json.dumps(body).encode("utf-8"), headers=headers)
        response = conn.getresponse()
        status, payload = response.status, response.read()
    except (OSError, http.client.HTTPException) as err:  # refused, reset, timed out, garbled
        log.debug("%s %d at %s did not answer (%s): searching directly", record.kind, record.pid,
                  record.address, err or type(err).__name__)
        return None
    finally:
        conn.close()
    if status != 200:
        log.debug("%s %d at %s answered %d (%s): searching directly", record.kind, record.pid, record.address,
                  status, payload[:300].decode("utf-8", "replace"))
        return None
    try:
        found = json.loads(payload)
    except ValueError:
        found = None
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        log.debug("%s %d at %s answered something else than hits: searching directly", record.kind,
                  record.pid, record.address)
        return None
    return found
