"""Short content fingerprints for user-supplied model files, so the index id changes with the weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

_FULL_HASH_LIMIT = 256 * 1024 * 1024
_EDGE = 4 * 1024 * 1024


def file_fingerprint(path: Path, length: int = 12) -> str:
    """sha256 prefix of the file; for files over 256 MB, of its size, head and tail (a 7B GGUF
    would take seconds to hash in full, and two different weight files never share all three)."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        if size <= _FULL_HASH_LIMIT:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        else:
            digest.update(str(size).encode())
            digest.update(fh.read(_EDGE))
            fh.seek(size - _EDGE)
            digest.update(fh.read(_EDGE))
    return digest.hexdigest()[:length]
