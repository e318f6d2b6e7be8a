"""Rerankers by name: ``create_reranker("onnx-cross-encoder")``. Importing this package registers the
built-ins.

Backends import their heavy libraries (onnxruntime, torch) only when a reranker is created.
"""

from . import onnx, st, tei  # noqa: F401  (each registers its backend)
from .base import Reranker, passage_text
from ..settings import DEFAULT_RERANKER  # defined once, in retrieval/settings.py
from .registry import available, create_reranker, register

__all__ = ["DEFAULT_RERANKER", "Reranker", "available", "create_reranker", "passage_text", "register"]
