"""A Hugging Face text-embeddings-inference server: ``POST {url}/rerank``.

Request ``{"query", "texts", "truncate": true}``; response ``[{"index", "score"}, ...]`` in any order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from ...indexer.errors import BackendError, UsageError
from .base import Reranker
from .registry import register

log = logging.getLogger(__name__)


class TeiReranker(Reranker):
    """Scores passages on a TEI server; any transport or protocol problem is a :class:`BackendError`."""

    def __init__(self, url: str, *, timeout: float = 30.0, api_key: str | None = None):
        self.url = url.rstrip("/")
        self.id = f"tei:{self.url}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        try:
            resp = self._client.post(
                f"{self.url}/rerank", json={"query": query, "texts": list(passages), "truncate": True}
            )
        except httpx.HTTPError as err:
            raise BackendError(f"reranker server {self.url} unreachable: {err}") from err
        if resp.status_code != 200:
            raise BackendError(f"reranker server {self.url} answered {resp.status_code}: {resp.text[:200]}")
        try:
            scores: list[float | None] = [None] * len(passages)
            for item in resp.json():
                scores[int(item["index"])] = float(item["score"])
        except (ValueError, TypeError, KeyError, IndexError) as err:
            raise BackendError(f"reranker server {self.url} sent an unexpected answer: {err}") from err
        if any(s is None for s in scores):
            raise BackendError(f"reranker server {self.url} scored only some of {len(passages)} passages")
        return scores  # type: ignore[return-value]

    def close(self) -> None:
        self._client.close()


@register("tei")
def tei(*, url: str | None = None, timeout: float = 30.0, api_key: str | None = None) -> TeiReranker:
    if not url:
        raise UsageError("the 'tei' reranker needs a server url, e.g. --reranker tei --reranker-model http://127.0.0.1:8080")
    return TeiReranker(url, timeout=timeout, api_key=api_key)
