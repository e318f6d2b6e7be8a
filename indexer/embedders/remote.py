"""Embeddings from a server: ollama's native ``/api/embed`` or any OpenAI-compatible ``/embeddings``.

The API is detected from the URL (a ``/v1`` suffix means OpenAI) unless ``api=`` says which.
No tokenizer is available remotely, so :meth:`HttpEmbedder.count_tokens` is the shared estimate
(:func:`~ragpilot.indexer.types.approx_tokens`, one token per three characters): it over-counts for
~90 % of code, so chunks sized by it rarely get truncated by the server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx
import numpy as np

from ..errors import BackendError, UsageError
from ..types import approx_tokens
from .base import Embedder
from .prefixes import resolve_prefixes
from .registry import register

log = logging.getLogger(__name__)

APIS = ("ollama", "openai")


def detect_api(url: str) -> tuple[str, str]:
    """(api, endpoint) for a base URL or a full endpoint URL."""
    base = url.rstrip("/")
    if base.endswith("/api/embed"):
        return "ollama", base
    if base.endswith("/embeddings"):
        return "openai", base
    if base.endswith("/v1"):
        return "openai", base + "/embeddings"
    return "ollama", base + "/api/embed"


def endpoint_for(url: str, api: str) -> str:
    base = url.rstrip("/")
    if api == "ollama":
        return base if base.endswith("/api/embed") else base + "/api/embed"
    return base if base.endswith("/embeddings") else base + "/embeddings"


class HttpEmbedder(Embedder):
    """One POST per batch. ``dim`` is learned from the first response (probing if asked first)."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "",
        api: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_tokens: int = 512,
        batch_size: int = 32,
        document_prefix: str = "",
        query_prefix: str = "",
    ):
        if api is not None and api not in APIS:
            raise UsageError(f"unknown embedding API '{api}'; choose one of: {', '.join(APIS)}")
        self.api, self.endpoint = detect_api(url) if api is None else (api, endpoint_for(url, api))
        if self.api == "ollama" and not model:
            raise UsageError("an ollama embedding endpoint needs a model name (e.g. nomic-embed-text)")
        self.model = model
        self.id = f"http:{model or self.endpoint}"
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self.document_prefix = document_prefix
        self.query_prefix = query_prefix
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0))
        )
        self._dim = 0

    @property
    def dim(self) -> int:  # type: ignore[override]
        if not self._dim:
            self.embed_batch(["dimension probe"])
        return self._dim

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        payload: dict = {"input": list(texts)}
        if self.model:
            payload["model"] = self.model
        body = self._post(payload)
        vectors = _ollama_vectors(body) if self.api == "ollama" else _openai_vectors(body)
        if len(vectors) != len(texts):
            raise BackendError(
                f"embedding server {self.endpoint} returned {len(vectors)} vectors for {len(texts)} texts"
            )
        out = np.asarray(vectors, dtype=np.float32)
        if out.ndim != 2 or (self._dim and out.shape[1] != self._dim):
            raise BackendError(f"embedding server {self.endpoint} returned vectors of shape {out.shape}")
        self._dim = out.shape[1]
        return out

    def count_tokens(self, text: str) -> int:
        """An over-estimate (``ceil(chars / 3)``): the server's tokenizer is not available here."""
        return approx_tokens(text)

    def close(self) -> None:
        self._client.close()

    def _post(self, payload: dict) -> dict:
        try:
            response = self._client.post(self.endpoint, json=payload)
        except httpx.TimeoutException as err:
            raise BackendError(f"embedding server {self.endpoint} timed out: {err}") from err
        except httpx.HTTPError as err:
            raise BackendError(
                f"cannot reach embedding server {self.endpoint}: {err or type(err).__name__}"
            ) from err
        if response.status_code >= 400:
            raise BackendError(
                f"embedding server {self.endpoint} answered {response.status_code}: "
                f"{_error_message(response)}"
            )
        try:
            return response.json()
        except ValueError as err:
            raise BackendError(f"embedding server {self.endpoint} did not return JSON") from err


def _ollama_vectors(body: dict) -> list:
    try:
        return body["embeddings"]
    except (KeyError, TypeError):
        raise BackendError("ollama embedding response has no 'embeddings' list") from None


def _openai_vectors(body: dict) -> list:
    try:
        items = sorted(body["data"], key=lambda item: item.get("index", 0))
        return [item["embedding"] for item in items]
    except (KeyError, TypeError, AttributeError):
        raise BackendError("OpenAI-style embedding response has no 'data[].embedding'") from None


def _error_message(response: httpx.Response) -> str:
    """The server's own message (``{"error": "..."}`` or ``{"error": {"message": ...}}``) if any."""
    try:
        err = response.json().get("error")
    except (ValueError, AttributeError):
        err = None
    if isinstance(err, dict):
        err = err.get("message")
    return str(err) if err else response.text[:200]


@register("http")
def http(
    *,
    url: str | None = None,
    model: str = "",
    api: str | None = None,
    api_key: str | None = None,
    timeout: float = 60.0,
    max_tokens: int = 512,
    batch_size: int = 32,
    document_prefix: str | None = None,
    query_prefix: str | None = None,
    threads: int | None = None,
    device: str | None = None,
) -> HttpEmbedder:
    """An embedding server at ``url`` (``--embed-url``); prefixes follow the model's family.

    ``threads`` and ``device`` are machine-wide settings (``RAGPILOT_EMBED_THREADS``,
    ``RAGPILOT_EMBED_DEVICE``): accepted and ignored.
    """
    if not url:
        raise UsageError("the http embedder needs url=<server URL>, e.g. http://127.0.0.1:11434")
    doc, query = resolve_prefixes(model, document_prefix, query_prefix)
    return HttpEmbedder(
        url,
        model=model,
        api=api,
        api_key=api_key,
        timeout=timeout,
        max_tokens=max_tokens,
        batch_size=batch_size,
        document_prefix=doc,
        query_prefix=query,
    )
