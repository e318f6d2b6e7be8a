"""Embedders by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UsageError
from .base import Embedder

_FACTORIES: dict[str, Callable[..., Embedder]] = {}


def register(name: str) -> Callable[[Callable[..., Embedder]], Callable[..., Embedder]]:
    """Decorator: make ``factory(**options) -> Embedder`` available as ``name``."""

    def deco(factory: Callable[..., Embedder]) -> Callable[..., Embedder]:
        _FACTORIES[name] = factory
        return factory

    return deco


def available() -> list[str]:
    return sorted(_FACTORIES)


def create_embedder(name: str, **options) -> Embedder:
    """Build the embedder registered as ``name``; ``options`` are backend-specific (model path, url...)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UsageError(f"unknown embedder '{name}'; choose one of: {', '.join(available())}") from None
    return factory(**{k: v for k, v in options.items() if v is not None})
