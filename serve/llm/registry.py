"""Chat backends by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

from ...indexer.registry import Registry
from .base import ChatBackend

BACKENDS: Registry[ChatBackend] = Registry("chat backend")
register = BACKENDS.register
available = BACKENDS.available
create_backend = BACKENDS.create
