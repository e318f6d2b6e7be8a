"""Where evaluation corpora come from: installed packages, a slice of the standard library, any folder.

A corpus is read into memory as ``{relative path: bytes}`` and written to a stable work directory with
:func:`sync_tree`, which only touches files whose bytes changed, so re-running the eval re-indexes
(and re-embeds) nothing that is already there.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sysconfig
from pathlib import Path

from ragpilot.indexer.errors import UsageError

log = logging.getLogger(__name__)

# A slice of the standard library of about the size of click: varied domains, real docstrings.
STDLIB_SLICE = ("json", "http", "urllib", "logging", "argparse.py", "textwrap.py", "shutil.py")

_SKIP_DIRS = {"__pycache__", ".git", ".hg", ".tox", ".venv", "node_modules"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".exe", ".whl", ".zip", ".gz")


def corpus_files(name_or_path: str) -> dict[str, bytes]:
    """Files of a named corpus: ``stdlib``, ``stdlib:json,http,argparse.py``, an importable package
    (``click``: copied as ``click/...``), or a directory path (copied as is)."""
    if name_or_path == "stdlib" or name_or_path.startswith("stdlib:"):
        parts = name_or_path.partition(":")[2]
        names = [p.strip() for p in parts.split(",") if p.strip()] or list(STDLIB_SLICE)
        root = Path(sysconfig.get_paths()["stdlib"])
        files: dict[str, bytes] = {}
        for name in names:
            files.update(_read(root / name, prefix=name))
        return files
    path = Path(name_or_path).expanduser()
    if os.sep in name_or_path or path.is_dir():
        if not path.is_dir():
            raise UsageError(f"{name_or_path}: not a directory")
        return _read(path, prefix="")
    return _read(package_dir(name_or_path), prefix=name_or_path)


def package_dir(name: str) -> Path:
    """The source directory of the installed top-level package ``name``."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(f"corpus '{name}' is neither an installed package nor a directory")
    return Path(next(iter(spec.submodule_search_locations)))


def corpus_label(name_or_path: str) -> str:
    """A short name for result files: ``click``, ``stdlib``, or a directory's name."""
    if name_or_path.startswith("stdlib"):
        return "stdlib"
    return Path(name_or_path.rstrip("/\\")).name or "corpus"


def _read(root: Path, *, prefix: str) -> dict[str, bytes]:
    if root.is_file():
        return {prefix or root.name: root.read_bytes()}
    if not root.is_dir():
        raise UsageError(f"{root}: not found")
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for fname in sorted(filenames):
            if fname.endswith(_SKIP_SUFFIXES):
                continue
            full = Path(dirpath) / fname
            if full.is_symlink() or not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            files[f"{prefix}/{rel}" if prefix else rel] = full.read_bytes()
    return files


def python_sources(files: dict[str, bytes]) -> dict[str, str]:
    """The ``.py`` files of a corpus as text, newlines normalised (ast and tree-sitter agree on lines)."""
    out: dict[str, str] = {}
    for rel, data in files.items():
        if rel.endswith(".py"):
            try:
                out[rel] = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
            except UnicodeDecodeError:
                log.debug("skipping non-UTF-8 %s", rel)
    return out


def sync_tree(files: dict[str, bytes], dest: Path) -> int:
    """Make ``dest`` hold exactly ``files``; returns how many files were written or deleted."""
    dest.mkdir(parents=True, exist_ok=True)
    changed = 0
    for rel, data in files.items():
        target = dest / rel
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        changed += 1
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        for fname in filenames:
            full = Path(dirpath) / fname
            if full.relative_to(dest).as_posix() not in files:
                full.unlink()
                changed += 1
        for dname in dirnames:
            sub = Path(dirpath) / dname
            if sub.is_dir() and not any(sub.iterdir()):
                sub.rmdir()
    return changed
