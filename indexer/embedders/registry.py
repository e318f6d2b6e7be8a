"""Embedders by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

import inspect
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
    options = {k: v for k, v in options.items() if v is not None}
    check_options(name, factory, options)
    embedder = factory(**options)
    embedder.registry_name = name  # recorded in the index so a searcher can rebuild the same embedder
    return embedder


def check_options(name: str, factory: Callable[..., Embedder], options: dict) -> None:
    """A wrong option is the user's mistake: say so as a UsageError, not a TypeError traceback."""
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as err:
        raise UsageError(f"embedder '{name}': {err}") from None
