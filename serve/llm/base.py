"""The chat-backend contract: one abstract method, a stream of text deltas; the rest is derived here.

Backends speak in plain data (:class:`Delta`, :class:`Generation`); the HTTP layer turns them into
OpenAI objects. Streaming is the primitive because it is what lets a client disconnect stop the model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ...indexer.errors import UsageError
from ...indexer.types import approx_tokens


@dataclass(slots=True)
class GenParams:
    """Sampling parameters common to the OpenAI chat and completion APIs (``None``: backend default)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None

    def fields(self) -> dict[str, Any]:
        """The parameters that are set, by their OpenAI (and llama-cpp-python) names."""
        out: dict[str, Any] = {}
        for name in ("max_tokens", "temperature", "top_p", "seed"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.stop:
            out["stop"] = list(self.stop)
        return out


@dataclass(slots=True)
class Delta:
    """A piece of generated text; the last one of a stream carries ``finish_reason``."""

    text: str = ""
    finish_reason: str | None = None


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_json(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    @classmethod
    def from_response(cls, response: dict) -> Usage:
        """The ``usage`` of an OpenAI-shaped response (llama-cpp-python's too); zeros when absent."""
        u = response.get("usage") or {}
        return cls(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))


@dataclass(slots=True)
class Generation:
    """A whole answer: text, why it stopped, and token counts (estimated when the backend gives none)."""

    text: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)


class ChatBackend(ABC):
    """A model that answers chat messages (OpenAI message dicts) and, optionally, completes prompts.

    ``model_id`` is what ``/v1/models`` lists for passthrough; ``context_window`` (tokens, if known)
    bounds how much retrieved code fits in a prompt.
    """

    model_id: str = "backend"
    context_window: int | None = None

    @abstractmethod
    def stream_chat(self, messages: list[dict], params: GenParams) -> AsyncIterator[Delta]:
        """Yield the answer as it is generated. Closing the iterator early must stop the model."""

    async def chat(self, messages: list[dict], params: GenParams) -> Generation:
        """The whole answer at once (backends with a native non-streaming call override this)."""
        parts: list[str] = []
        finish = "stop"
        async for delta in self.stream_chat(messages, params):
            parts.append(delta.text)
            finish = delta.finish_reason or finish
        text = "".join(parts)
        prompt = sum(self.count_tokens(str(m.get("content") or "")) for m in messages)
        return Generation(text, finish, Usage(prompt, self.count_tokens(text)))

    def stream_complete(self, prompt: str, suffix: str | None, params: GenParams) -> AsyncIterator[Delta]:
        """Plain (or fill-in-the-middle, with ``suffix``) completion of ``prompt``."""
        raise UsageError(f"the backend '{self.model_id}' does not do text completions")

    async def complete(self, prompt: str, suffix: str | None, params: GenParams) -> Generation:
        parts: list[str] = []
        finish = "stop"
        async for delta in self.stream_complete(prompt, suffix, params):
            parts.append(delta.text)
            finish = delta.finish_reason or finish
        text = "".join(parts)
        return Generation(text, finish, Usage(self.count_tokens(prompt), self.count_tokens(text)))

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` would take: the shared estimate (``indexer.types.approx_tokens``) unless the
        backend has its tokenizer."""
        return approx_tokens(text)

    async def ready(self) -> None:
        """Load or check the model before the first request (so startup fails loudly, not request 1)."""

    async def aclose(self) -> None:
        """Free the model / close connections."""
