"""Chat backends by name: ``create_backend("llama-cpp", model=...)``. Importing this registers the built-ins.

``llama-cpp`` imports llama_cpp only when a backend is created (the ``llm`` extra).
"""

from . import llama_cpp, upstream  # noqa: F401  (each registers its backend)
from .base import ChatBackend, Delta, GenParams, Generation, Usage
from .registry import available, create_backend, register

__all__ = ["ChatBackend", "Delta", "GenParams", "Generation", "Usage", "available", "create_backend", "register"]
