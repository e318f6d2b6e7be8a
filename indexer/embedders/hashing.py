"""A deterministic, dependency-free fake embedder for fast unit tests: feature hashing of code tokens.

Texts sharing identifiers land near each other, so retrieval tests behave sensibly without a model.
Registered like any backend, so code under test cannot tell it apart from a real one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ..codetokens import code_tokens
from .base import Embedder
from .registry import register


class HashingEmbedder(Embedder):
    """Each code token adds ±1 at a hashed position (the signed hashing trick)."""

    def __init__(self, dim: int = 384, max_tokens: int = 256, batch_size: int = 32):
        self.dim = int(dim)
        self.id = f"hashing-{self.dim}"
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in code_tokens(text) or [text.strip() or "<empty>"]:
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) else -1.0
        return out

    def count_tokens(self, text: str) -> int:
        """Whitespace-separated words: a cheap stand-in for a real tokenizer."""
        return len(text.split())


@register("hashing")
def hashing(
    *, dim: int = 384, max_tokens: int = 256, batch_size: int = 32, threads: int | None = None,
    device: str | None = None,
) -> HashingEmbedder:
    """``threads`` and ``device`` are machine-wide settings (``RAGPILOT_EMBED_THREADS``,
    ``RAGPILOT_EMBED_DEVICE``): accepted and ignored."""
    return HashingEmbedder(dim=dim, max_tokens=max_tokens, batch_size=batch_size)
