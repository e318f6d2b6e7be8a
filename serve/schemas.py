"""Request bodies: unknown fields are ignored (clients send many); the types of known ones are strict.

The extra ``ragpilot`` field of chat requests overrides retrieval per request::

    {"model": "ragpilot", "messages": [...],
     "ragpilot": {"retrieval": true, "k": 8, "repo": "myrepo", "rerank": false}}

``retrieval`` turns retrieval on for a passthrough model (or off for ``ragpilot``); ``repo`` picks one
served repository by name or path (default: all); ``k`` is how many snippets to retrieve.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..retrieval.settings import MAX_K, MAX_QUERY_CHARS  # a longer query is a 400 (see there)

MAX_INT64 = 2**63 - 1
MAX_JSON_DEPTH = 64  # real bodies nest a few levels (tool schemas a dozen); deeper is refused before any work
NESTED_TOO_DEEPLY = f"the JSON body is nested too deeply (at most {MAX_JSON_DEPTH} levels)"

# /v1/embeddings: OpenAI's 2,048 inputs per request; an input of up to 65,536 characters (more than
# OpenAI's 8,192 tokens); 4 Mi characters in all (above OpenAI's 300,000 tokens per request).
MAX_EMBEDDING_INPUTS = 2048
MAX_EMBEDDING_INPUT_CHARS = 65_536
MAX_EMBEDDING_TOTAL_CHARS = 4 * 1024 * 1024

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")  # OpenAI's ("function": legacy)


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
        where = _lone_surrogate(data)
        if where is not None:
            raise ValueError(f"{where or 'the body'} holds text that is not valid Unicode (a lone surrogate)")
        return data


def _lone_surrogate(body: Any) -> str | None:
    """The path of the first string holding a lone surrogate, or None. Walks the body without
    recursion, so a deeply nested body is refused (over MAX_JSON_DEPTH) instead of overflowing the stack."""
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not _is_utf8(value):
                return path
            continue
        if depth >= MAX_JSON_DEPTH and isinstance(value, dict | list):
            raise PydanticCustomError("json_too_deep", NESTED_TOO_DEEPLY)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in reversed(list(items)):
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not _is_utf8(key):
                return where
            stack.append((item, where, depth + 1))
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _home_relative(value: str) -> bool:
    """Whether a client's path (plain, or a ``file:`` URI) starts with ``~``. The server's home means
    nothing to a client, so ``~`` is never expanded: such a path is refused, not matched."""
    text = value.strip()
    if text.startswith("file:"):
        text = urlparse(text).path
    return unquote(text).startswith("~")


# ----- Continue's http context provider ------------------------------------------------------------
class RetrieveOptions(_Lenient):
    k: int | None = Field(None, ge=1, le=100)
    repo: str | None = None
    rerank: bool | None = None
    mode: Literal["hybrid", "dense", "lexical"] | None = None
    budget_tokens: int | None = Field(None, ge=1)
    map: bool | None = None  # a repo map (files and key signatures) instead of code snippets


class RetrieveRequest(_Body):
    query: str = Field("", max_length=MAX_QUERY_CHARS)
    fullInput: str = Field("", max_length=MAX_QUERY_CHARS)  # noqa: N815  (Continue's field name)
    options: RetrieveOptions | None = None
    workspacePath: str | None = None  # noqa: N815

    @field_validator("workspacePath")
    @classmethod
    def _literal_path(cls, value: str | None) -> str | None:
        if value is not None and _home_relative(value):
            raise PydanticCustomError(
                "home_relative", "a workspace is an absolute path or a file:// URI ('~' is not expanded)")
        return value


# ----- ragpilot's own search ------------------------------------------------------------------------
class SearchRequest(_Body):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    repo: str | None = None
    k: int = Field(10, ge=1, le=MAX_K)
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    rerank: bool = False
    files: bool = Field(False, description=(
        "Rank files instead of chunks: the answer lists the k best files as {path, score, language, "
        "places, repo}, places being up to 3 of the file's best hits. Cannot be combined with rerank."))


# ----- the repo map ---------------------------------------------------------------------------------
class MapRequest(_Body):
    question: str | None = Field(None, max_length=MAX_QUERY_CHARS, description=(
        "Personalise the map: files and identifiers it names and the files chunk search finds for it come "
        "first. Leave it out for the repository's overall map; an empty question is refused."))
    tokens: int | None = Field(None, description="Token budget of the map (the server's bounds apply).")
    repo: str | None = None


# ----- OpenAI-compatible ----------------------------------------------------------------------------
class RagOptions(_Lenient):
    retrieval: bool | None = None
    k: int | None = Field(None, ge=1, le=100)
    repo: str | None = None
    rerank: bool | None = None


class ChatMessage(_Lenient):
    role: Literal[CHAT_ROLES]  # type: ignore[valid-type]
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

    @field_validator("input")
    @classmethod
    def _bounded(cls, value: str | list[str]) -> str | list[str]:
        """Bounded before any work: the count, each input, and the total (see MAX_EMBEDDING_*)."""
        texts = [value] if isinstance(value, str) else value
        if len(texts) > MAX_EMBEDDING_INPUTS:
            raise PydanticCustomError("too_many_inputs", "at most {limit} inputs per request, got {n}",
                                      {"limit": MAX_EMBEDDING_INPUTS, "n": len(texts)})
        for i, text in enumerate(texts):
            if len(text) > MAX_EMBEDDING_INPUT_CHARS:
                which = "the input" if isinstance(value, str) else f"input {i}"
                raise PydanticCustomError(
                    "input_too_long", "{which} has {n} characters; at most {limit} per input",
                    {"which": which, "n": len(text), "limit": MAX_EMBEDDING_INPUT_CHARS})
        total = sum(map(len, texts))
        if total > MAX_EMBEDDING_TOTAL_CHARS:
            raise PydanticCustomError("inputs_too_long", "the inputs have {n} characters in all; at most {limit}",
                                      {"n": total, "limit": MAX_EMBEDDING_TOTAL_CHARS})
        return value

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
