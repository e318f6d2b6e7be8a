"""Which file the page may show: an indexed file of a served repository, and nothing else.

A request names a repository and a repository-relative path. The path must be a plain relative path
(no ``..``, no absolute path, no NUL), recorded in the index's catalog (the list of files the indexer
wrote, after its ignore rules, filters and secret scan), and must still resolve to a regular file
under the repository's root (a symlink that now points out of it is refused). The text shown is
what the indexer would index: a file whose content would now be skipped (a planted key, binary) is
refused, and secret values are redacted the same way as in the index, so the page never shows more
than search already could.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ...indexer.catalog import catalog_present, open_catalog
from ...indexer.filters import content_skip_reason, decode_text
from ...indexer.languages import language_for
from ...indexer.redact import redact_secrets

MAX_FILE_BYTES = 2_000_000  # a file page past this is not worth rendering (and the indexer's limit is lower)


class FileRefused(LookupError):
    """The file is not an indexed file of this repository (or cannot be shown): a 404, with the reason."""


@dataclass(frozen=True, slots=True)
class IndexedFile:
    rel_path: str
    text: str
    language: str
    secrets_redacted: int


def check_relative(rel_path: str) -> str:
    """``rel_path`` as the catalog spells it, or FileRefused when it could leave the repository."""
    if not rel_path or "\x00" in rel_path or "\\" in rel_path:
        raise FileRefused("not a repository-relative path")
    pure = PurePosixPath(rel_path)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in rel_path.split("/")):
        raise FileRefused(f"{rel_path}: not a plain repository-relative path")
    return str(pure)


def is_indexed(index_dir: Path, rel_path: str) -> bool:
    """Whether the catalog lists ``rel_path`` (an index without a catalog lists nothing)."""
    if not catalog_present(index_dir):
        return False
    catalog = open_catalog(index_dir)
    try:
        return catalog.get(rel_path) is not None
    finally:
        catalog.close()


def read_indexed_file(root: Path, index_dir: Path, rel_path: str, *, scan_secrets: bool = True) -> IndexedFile:
    """The text of an indexed file of the repository at ``root`` (absolute, resolved), as indexed."""
    rel = check_relative(rel_path)
    if not is_indexed(index_dir, rel):
        raise FileRefused(f"{rel} is not an indexed file of {root.name}")
    real_root = root.resolve()
    try:
        target = (real_root / rel).resolve(strict=True)
    except (OSError, RuntimeError) as err:
        raise FileRefused(f"{rel} is indexed but cannot be read now ({type(err).__name__})") from err
    if real_root not in target.parents:
        raise FileRefused(f"{rel} resolves outside the repository")
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise FileRefused(f"{rel} is not a regular file")
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise FileRefused(f"{rel} is indexed but cannot be read now ({type(err).__name__})") from err
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(f"{rel} is larger than {MAX_FILE_BYTES} bytes")
    reason = content_skip_reason(rel, data, scan_secrets=scan_secrets)
    text = None if reason else decode_text(data)
    if text is None:
        raise FileRefused(f"{rel} would not be indexed now ({reason or 'not-utf8'})")
    redacted = 0
    if scan_secrets:
        text, redacted = redact_secrets(text, rel)
    return IndexedFile(rel, text, language_for(rel), redacted)
