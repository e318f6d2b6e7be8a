"""Embedders by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

from ..registry import Registry
from .base import Embedder

EMBEDDERS: Registry[Embedder] = Registry("embedder")
register = EMBEDDERS.register
available = EMBEDDERS.available


def create_embedder(name: str, **options) -> Embedder:
    """Build the embedder registered as ``name``; ``options`` are backend-specific (model path, url...)."""
    embedder = EMBEDDERS.create(name, **options)
    embedder.registry_name = name  # recorded in the index so a searcher can rebuild the same embedder
    return embedder
