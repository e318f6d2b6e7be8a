"""Settings for the serving commands (``serve``, ``mcp``, ``continue-config``) and their shared flags."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from ...indexer.errors import UsageError
from ...indexer.location import REPO_PLACEHOLDER
from ...indexer.pipeline import resolve_repo
from ..settings import ServeSettings
from .options import find_repo_root, index_settings, setting_option


def serve_settings(obj: dict, paths, *, index_dir=None, embedder=None, embed_model=None, embed_url=None,
                   **flags) -> ServeSettings:
    """ServeSettings from flags (None = not given, so RAGPILOT_* env vars and defaults apply)."""
    index = index_settings(obj, index_dir=index_dir, embedder=embedder, embed_model=embed_model,
                           embed_url=embed_url)
    template = index.index_uri is not None and REPO_PLACEHOLDER in index.index_uri
    if flags.get("read_only") and not paths and index_dir is not None:
        roots = [replica_root(Path(index_dir))]  # a replica needs no checkout: the index names its repository
    elif flags.get("read_only") and template:
        if not paths:
            raise UsageError(f"--index-uri {index.index_uri} is for several repositories: name them (NAME...)")
        # Each NAME is a repository's folder name in the URI; its index names the repository.
        roots = [replica_root(index.index_dir_for(Path(p))) for p in paths]
    else:
        roots = [resolve_repo(p) for p in paths] if paths else [find_repo_root(Path.cwd())]
    values = {k: v for k, v in flags.items() if v is not None}
    try:
        return ServeSettings(repos=roots, index=index, **values)
    except ValidationError as err:  # a bad flag or RAGPILOT_* variable: one line, no pydantic report
        first = err.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        field = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{field}: {message} (from a flag or a RAGPILOT_* variable)") from None


def replica_root(index_dir: Path) -> Path:
    """The repository a (shared) index was built from, as its writer recorded it."""
    from ...indexer.store import IndexStore  # noqa: PLC0415 - lancedb

    meta = IndexStore.read_meta(index_dir)
    if meta is None:
        raise UsageError(f"there is no index at {index_dir} yet: build it first (`ragpilot index --index-uri ...`)")
    return Path(meta.repo_root)


def retrieval_options(f):
    """Retrieval and start-up indexing flags shared by ``serve`` and ``mcp``."""
    f = setting_option(ServeSettings, "k", "-k")(f)
    f = setting_option(ServeSettings, "context_tokens")(f)
    f = setting_option(ServeSettings, "rerank", "--rerank/--no-rerank")(f)
    f = setting_option(ServeSettings, "reranker")(f)
    f = click.option("--no-watch", is_flag=True, help="Index at start but do not keep the index live.")(f)
    f = click.option("--no-index", is_flag=True, help="Serve the index as it is: no indexing at start.")(f)
    return f
