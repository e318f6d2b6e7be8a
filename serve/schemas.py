"""Request bodies: unknown fields are ignored (clients send many); the types of known ones are strict.

The extra ``ragpilot`` field of chat requests overrides retrieval per request::

    {"model": "ragpilot", "messages": [...],
     "ragpilot": {"retrieval": true, "k": 8, "repo": "myrepo", "rerank": false}}

``retrieval`` turns retrieval on for a passthrough model (or off for ``ragpilot``); ``repo`` picks one
served repository by name or path (default: all); ``k`` is how many snippets to retrieve.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_QUERY_CHARS = 65_536  # a question, not a file: longer is a client bug (or an attack), answered with a 400
MAX_INT64 = 2**63 - 1


class _Lenient(BaseModel):
    """Unknown fields ignored; known ones strictly typed, as the schema says (no ``"k": "8"``, no
    ``"rerank": 0``): a client sending the wrong type has a bug it should hear about."""

    model_config = ConfigDict(extra="ignore", strict=True)


class _Body(_Lenient):
    """A whole request body. JSON may carry lone surrogates (``"\\ud800"``) that no UTF-8 encoder accepts:
    refused here with a 400 rather than failing later when the text is embedded or sent upstream."""

    @model_validator(mode="before")
    @classmethod
    def _utf8_only(cls, data: Any) -> Any:
        where = _lone_surrogate(data, "")
        if where is not None:
            raise ValueError(f"{where or 'the body'} holds text that is not valid Unicode (a lone surrogate)")
        return data


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The path of the first string holding a lone surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _lone_surrogate(key, path) if isinstance(key, str) else None
        if found is None:
            found = _lone_surrogate(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


# ----- Continue's http context provider ------------------------------------------------------------
class RetrieveOptions(_Lenient):
    k: int | None = Field(None, ge=1, le=100)
    repo: str | None = None
    rerank: bool | None = None
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    budget_tokens: int | None = Field(None, ge=1)


class RetrieveRequest(_Body):
    query: str = Field("", max_length=MAX_QUERY_CHARS)
    fullInput: str = Field("", max_length=MAX_QUERY_CHARS)  # noqa: N815  (Continue's field name)
    options: RetrieveOptions | None = None
    workspacePath: str | None = None  # noqa: N815


# ----- ragpilot's own search ------------------------------------------------------------------------
class SearchRequest(_Body):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
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
    role: str = Field(min_length=1, examples=["system", "user", "assistant"])
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class _Sampling(_Body):
    model: str = Field(examples=["ragpilot", "ragpilot-raw"])
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1, le=MAX_INT64)
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=-MAX_INT64 - 1, le=MAX_INT64)
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
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_INT64)
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


class EmbeddingRequest(_Body):
    model: str = Field(examples=["ragpilot"])
    input: str | list[str] = Field(union_mode="left_to_right")
    encoding_format: Literal["float", "base64"] = "float"

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
