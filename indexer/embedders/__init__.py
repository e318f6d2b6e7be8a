"""Embedders by name: ``create_embedder("minilm-onnx")``. Importing this package registers the built-ins.

Backends import their heavy libraries (onnxruntime, torch, llama_cpp) only when an embedder is created.
"""

from . import gguf, hashing, nomic, onnx, remote, st  # noqa: F401  (each registers its backends)
from .base import Embedder
from ..settings import DEFAULT_EMBEDDER  # defined once, with the measurement that chose it
from .registry import available, create_embedder, register


def default_embedder_name() -> str:
    """The embedder used when none is configured."""
    return DEFAULT_EMBEDDER


__all__ = ["Embedder", "available", "create_embedder", "default_embedder_name", "register"]
