"""Which model ids the OpenAI endpoints answer to, and which backend (with or without retrieval) each means.

- ``ragpilot``: the chat backend with retrieval (RAG);
- ``ragpilot-raw`` and the backend's own model id: the chat backend as is (no retrieval);
- ``/v1/completions`` goes to the completion backend (the chat backend unless another was configured);
- ``/v1/embeddings`` answers to ``ragpilot`` and the index's embedder name or id.
"""

from __future__ import annotations

import logging

from ..indexer.errors import ModelNotFoundError, RagpilotError
from .llm import ChatBackend, create_backend
from .settings import RAG_MODEL, RAW_MODEL, ServeSettings

log = logging.getLogger(__name__)


def chat_backend_from(settings: ServeSettings) -> ChatBackend:
    name = settings.chat_backend_name()
    if name == "openai-upstream":
        return create_backend(name, url=settings.upstream, model=settings.upstream_model,
                              api_key=settings.upstream_key, timeout=settings.upstream_timeout,
                              connect_timeout=settings.upstream_connect_timeout)
    return create_backend(name, model=settings.model, n_threads=settings.n_threads, n_ctx=settings.n_ctx)


def completion_backend_from(settings: ServeSettings) -> ChatBackend | None:
    """A separate backend for ``/v1/completions``, or None to use the chat backend."""
    if settings.completion_upstream:
        return create_backend("openai-upstream", url=settings.completion_upstream, api_key=settings.upstream_key,
                              timeout=settings.upstream_timeout,
                              connect_timeout=settings.upstream_connect_timeout)
    if settings.completion_model:
        return create_backend("llama-cpp", model=settings.completion_model, n_threads=settings.n_threads,
                              n_ctx=settings.n_ctx)
    return None


class ModelCatalog:
    """The backends behind the model ids. A backend that failed to load is remembered: its models
    answer 503 with the reason, while retrieval keeps working."""

    def __init__(self, chat: ChatBackend | None, completion: ChatBackend | None = None, *,
                 chat_error: RagpilotError | None = None, completion_error: RagpilotError | None = None,
                 embedder_names: tuple[str, ...] = ()):
        self.chat = chat
        self.completion = completion
        self.chat_error = chat_error
        self.completion_error = completion_error
        self.embedder_names = embedder_names

    def _chat_backend(self) -> ChatBackend:
        if self.chat is None:
            raise self.chat_error or ModelNotFoundError(RAG_MODEL, [])
        return self.chat

    def chat_ids(self) -> list[str]:
        ids = [RAG_MODEL, RAW_MODEL]
        if self.chat is not None and self.chat.model_id not in ids:
            ids.append(self.chat.model_id)
        return ids

    def completion_ids(self) -> list[str]:
        ids = self.chat_ids()
        if self.completion is not None and self.completion.model_id not in ids:
            ids.append(self.completion.model_id)
        return ids

    def resolve_chat(self, model: str) -> tuple[ChatBackend, bool]:
        """The backend for a chat request and whether retrieval is on by default."""
        ids = self.chat_ids()
        if model not in ids:
            raise ModelNotFoundError(model, ids)
        return self._chat_backend(), model == RAG_MODEL

    def resolve_completion(self, model: str) -> ChatBackend:
        ids = self.completion_ids()
        if model not in ids:
            raise ModelNotFoundError(model, ids)
        if self.completion is not None:
            return self.completion
        if self.completion_error is not None:
            raise self.completion_error
        return self._chat_backend()

    def check_embedding_model(self, model: str, embedder_id: str) -> None:
        ids = [RAG_MODEL, *self.embedder_names, embedder_id]
        if model not in ids:
            raise ModelNotFoundError(model, list(dict.fromkeys(ids)))

    def listing(self, embedder_name: str | None = None) -> list[dict]:
        owned = {RAG_MODEL: "ragpilot", RAW_MODEL: "ragpilot"}
        ids = self.completion_ids() + ([embedder_name] if embedder_name else [])
        return [{"id": i, "object": "model", "created": 0, "owned_by": owned.get(i, "local")}
                for i in dict.fromkeys(ids)]

    async def aclose(self) -> None:
        for backend in (self.chat, self.completion):
            if backend is not None:
                try:
                    await backend.aclose()
                except Exception:  # shutting down: log, keep closing the rest
                    log.exception("closing backend %s failed", backend.model_id)
