"""Request bodies, validated leniently: unknown fields are ignored (clients send many), types are not.

The extra ``ragpilot`` field of chat requests overrides retrieval per request::

    {"model": "ragpilot", "messages": [...],
     "ragpilot": {"retrieval": true, "k": 8, "repo": "myrepo", "rerank": false}}

``retrieval`` turns retrieval on for a passthrough model (or off for ``ragpilot``); ``repo`` picks one
served repository by name or path (default: all); ``k`` is how many snippets to retrieve.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ----- Continue's http context provider ------------------------------------------------------------
class RetrieveOptions(_Lenient):
    k: int | None = Field(None, ge=1, le=100)
    repo: str | None = None
    rerank: bool | None = None
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    budget_tokens: int | None = Field(None, ge=1)


class RetrieveRequest(_Lenient):
    query: str = ""
    fullInput: str = ""  # noqa: N815  (Continue's field name)
    options: RetrieveOptions | None = None
    workspacePath: str | None = None  # noqa: N815


# ----- ragpilot's own search ------------------------------------------------------------------------
class SearchRequest(_Lenient):
    query: str = Field(min_length=1)
    repo: str | None = None
    k: int = Field(10, ge=1, le=1000)
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    rerank: bool = False


# ----- OpenAI-compatible ----------------------------------------------------------------------------
class RagOptions(_Lenient):
    retrieval: bool | None = None
    k: int | None = Field(None, ge=1, le=100)
    repo: str | None = None
    rerank: bool | None = None


class ChatMessage(_Lenient):
    role: str
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class _Sampling(_Lenient):
    model: str
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int | None = Field(None, ge=1, le=1)
    stream_options: dict[str, Any] | None = None

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else [s for s in self.stop if s]

    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    ragpilot: RagOptions | None = None

    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


class CompletionRequest(_Sampling):
    prompt: str | list[str]
    suffix: str | None = None

    def prompt_text(self) -> str | None:
        """The single prompt (a list of one is accepted); None for several prompts (unsupported)."""
        if isinstance(self.prompt, str):
            return self.prompt
        return self.prompt[0] if len(self.prompt) == 1 else None


class EmbeddingRequest(_Lenient):
    model: str
    input: str | list[str] = Field(union_mode="left_to_right")
    encoding_format: Literal["float", "base64"] = "float"

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
