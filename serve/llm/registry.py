"""Chat backends by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

from collections.abc import Callable

from ...indexer.errors import UsageError
from .base import ChatBackend

_FACTORIES: dict[str, Callable[..., ChatBackend]] = {}


def register(name: str) -> Callable[[Callable[..., ChatBackend]], Callable[..., ChatBackend]]:
    """Decorator: make ``factory(**options) -> ChatBackend`` available as ``name``."""

    def deco(factory: Callable[..., ChatBackend]) -> Callable[..., ChatBackend]:
        _FACTORIES[name] = factory
        return factory

    return deco


def available() -> list[str]:
    return sorted(_FACTORIES)


def create_backend(name: str, **options) -> ChatBackend:
    """Build the backend registered as ``name``; ``None`` options are left to the backend's defaults."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UsageError(f"unknown chat backend '{name}'; choose one of: {', '.join(available())}") from None
    return factory(**{k: v for k, v in options.items() if v is not None})
