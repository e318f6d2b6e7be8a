"""Embedders by name: ``create_embedder("minilm-onnx")``. Importing this package registers the built-ins.

Backends import their heavy libraries (onnxruntime, torch, llama_cpp) only when an embedder is created.
"""

from . import gguf, hashing, nomic, onnx, remote, st  # noqa: F401  (each registers its backends)
from .base import Embedder
from .registry import available, create_embedder, register

# all-MiniLM-L6-v2 as int8 ONNX runs on the base install (no PyTorch). bench/bench_embedders.py on
# 300 stdlib functions, one thread, batch 32: cosine to fp32 PyTorch mean 0.9995, min 0.9991, top-10
# neighbour overlap 98 %; ~21 vs ~20 chunks per CPU-second; query p50 ~9 ms vs ~24 ms; load 0.2 s vs 12 s.
DEFAULT_EMBEDDER = "minilm-onnx"


def default_embedder_name() -> str:
    """The embedder used when none is configured."""
    return DEFAULT_EMBEDDER


__all__ = ["Embedder", "available", "create_embedder", "default_embedder_name", "register"]
