"""Where things are, computed with the standard library only: a repository's root and its index folder.

``IndexSettings.index_dir_for`` and the quick CLI paths (``ragpilot search`` asking a running server,
``ragpilot status``) share :func:`index_location`; the quick paths read ``RAGPILOT_HOME`` and
``RAGPILOT_INDEX_DIR`` with :func:`index_dir_from_env` instead of building the settings model, because
importing pydantic-settings alone costs several times a bare Python start-up.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from .errors import UsageError


def index_location(repo_root: Path, *, home: Path, index_dir: Path | None = None,
                   index_uri: str | None = None) -> Path:
    """``index_dir`` if given; for a shared index at ``index_uri``, the local folder bound to it
    (store_uri.py); else ``<home>/indexes/<name>-<hash of the root>``."""
    if index_uri is not None:
        if index_dir is not None:
            raise UsageError("--index-dir and --index-uri both name the index: give one of them")
        from .store_uri import bind  # noqa: PLC0415

        return bind(home, expand_index_uri(index_uri, repo_root))
    if index_dir is not None:
        return index_dir.expanduser().resolve()
    root = repo_root.resolve()
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", root.name)[:40] or "root"
    return (home.expanduser() / "indexes" / f"{name}-{digest}").resolve()


#: In an ``--index-uri``, the repository's folder name: one URI for many repositories' indexes.
REPO_PLACEHOLDER = "{repo}"


def expand_index_uri(index_uri: str, repo_root: Path) -> str:
    """``index_uri`` with ``{repo}`` replaced by the repository's folder name (``s3://b/team/{repo}`` ->
    ``s3://b/team/api``), so one setting serves every repository of an ``index``/``serve`` run."""
    if REPO_PLACEHOLDER not in index_uri:
        return index_uri
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(repo_root).resolve().name)
    if not name.strip("._"):
        raise UsageError(f"{index_uri}: the repository {repo_root} has no folder name to put for {REPO_PLACEHOLDER}")
    return index_uri.replace(REPO_PLACEHOLDER, name)


def default_home() -> Path:
    """``$RAGPILOT_HOME``'s default: the platform's per-user data folder."""
    import platformdirs  # noqa: PLC0415 - only without RAGPILOT_HOME (it imports tempfile, random, ...)

    return Path(platformdirs.user_data_dir("ragpilot"))


def setting_from_env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``RAGPILOT_<NAME>`` as the settings models read it: the prefix and name in any case."""
    environ = os.environ if environ is None else environ
    wanted = f"ragpilot_{name}".lower()
    for key, value in environ.items():
        if key.lower() == wanted:
            return value
    return None


def index_dir_from_env(repo_root: Path, index_dir: Path | None = None,
                       environ: Mapping[str, str] | None = None, *, index_uri: str | None = None) -> Path:
    """What ``IndexSettings(index_dir=index_dir, index_uri=index_uri).index_dir_for(repo_root)``
    answers, without pydantic."""
    if index_uri is None and index_dir is None:
        index_uri = setting_from_env("index_uri", environ) or None
    if index_dir is None and index_uri is None:
        value = setting_from_env("index_dir", environ)
        index_dir = Path(value) if value is not None else None
    if index_dir is not None and index_uri is None:
        return index_location(repo_root, home=Path(), index_dir=index_dir)
    home = setting_from_env("home", environ)
    return index_location(repo_root, home=Path(home) if home is not None else default_home(),
                          index_dir=index_dir, index_uri=index_uri)


def resolve_repo(path: str | Path) -> Path:
    """The repository root for ``path``: must be an existing directory (a clear error otherwise)."""
    if not str(path).strip():
        raise UsageError("the repository path is empty")
    root = Path(path).expanduser()
    if root.is_symlink() and not root.exists():
        raise UsageError(f"{path}: a broken or looping symlink, not a directory")
    if not root.exists():
        raise UsageError(f"{path}: no such directory")
    if not root.is_dir():
        raise UsageError(f"{path}: not a directory (ragpilot indexes a repository folder)")
    return root.resolve()
