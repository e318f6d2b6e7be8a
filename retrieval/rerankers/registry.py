"""Rerankers by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

from collections.abc import Callable

from ...indexer.errors import UsageError
from .base import Reranker

_FACTORIES: dict[str, Callable[..., Reranker]] = {}


def register(name: str) -> Callable[[Callable[..., Reranker]], Callable[..., Reranker]]:
    """Decorator: make ``factory(**options) -> Reranker`` available as ``name``."""

    def deco(factory: Callable[..., Reranker]) -> Callable[..., Reranker]:
        _FACTORIES[name] = factory
        return factory

    return deco


def available() -> list[str]:
    return sorted(_FACTORIES)


def create_reranker(name: str, **options) -> Reranker:
    """Build the reranker registered as ``name``; ``options`` are backend-specific (model, url, threads)."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UsageError(f"unknown reranker '{name}'; choose one of: {', '.join(available())}") from None
    return factory(**{k: v for k, v in options.items() if v is not None})
