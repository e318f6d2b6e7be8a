"""A registry of factories keyed by name: embedders, rerankers and chat backends all use this one.

Built-ins register themselves exactly as an extension would. A leaf module apart from the errors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """``register(name)`` decorates a ``factory(**options) -> T``; ``create(name, **options)`` builds one."""

    def __init__(self, kind: str):
        self.kind = kind  # "embedder", "reranker", "chat backend": used in error messages
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return deco

    def available(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, **options) -> T:
        """Build ``name``; ``None`` options are left to the factory's defaults, unknown ones are a UsageError."""
        try:
            factory = self._factories[name]
        except KeyError:
            raise UsageError(
                f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.available())}"
            ) from None
        options = {k: v for k, v in options.items() if v is not None}
        check_options(f"{self.kind} '{name}'", factory, options)
        return factory(**options)


def check_options(what: str, factory: Callable, options: dict) -> None:
    """A wrong option is the user's mistake: say so as a UsageError, not a TypeError traceback."""
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as err:
        raise UsageError(f"{what}: {err}") from None
