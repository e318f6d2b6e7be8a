"""The embedder contract: one abstract method, with batching, prefixes and normalisation done once here."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors.

    Subclasses set ``id`` (recorded in the index: querying with a different id is an error),
    ``dim``, ``max_tokens`` (the model's real window, in its own tokens), and the optional
    ``document_prefix`` / ``query_prefix`` (nomic-embed-text needs ``search_document: `` /
    ``search_query: ``). They implement :meth:`embed_batch` and :meth:`count_tokens`.
    """

    id: str = ""
    dim: int = 0
    max_tokens: int = 256
    document_prefix: str = ""
    query_prefix: str = ""
    batch_size: int = 32
    registry_name: str = ""  # set by create_embedder: the name the index records

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as given (prefixes already applied); returns (len(texts), dim) float32."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for ``text``, without special tokens and without the prefix."""

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed chunk texts, batching texts of similar length together to waste no padding."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            vecs = self.embed_batch([self.document_prefix + texts[i] for i in idx])
            out[idx] = _normalise(vecs)
            if progress:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self.embed_batch([self.query_prefix + text]))[0]

    def token_budget(self) -> int:
        """Tokens a chunk's embed text may use: the window less the prefix and [CLS]/[SEP]."""
        return self.max_tokens - self.count_tokens(self.document_prefix) - 2


def _normalise(vecs: np.ndarray) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)
