"""Rerankers by name. Built-ins register themselves exactly as an extension would."""

from __future__ import annotations

from ...indexer.registry import Registry
from .base import Reranker

RERANKERS: Registry[Reranker] = Registry("reranker")
register = RERANKERS.register
available = RERANKERS.available
create_reranker = RERANKERS.create
