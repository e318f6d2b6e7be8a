"""Vector helpers shared by the embedder tests (fast and real-model)."""

from __future__ import annotations

import numpy as np

from ragpilot.indexer.embedders import Embedder


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def normalised(vec: np.ndarray) -> np.ndarray:
    return vec / np.linalg.norm(vec)


def raw_vector(emb: Embedder, text: str) -> np.ndarray:
    """``text`` embedded exactly as given (no prefix added), normalised."""
    return normalised(emb.embed_batch([text])[0])
