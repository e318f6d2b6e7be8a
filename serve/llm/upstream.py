"""Chat through any OpenAI-compatible server (llamafile, llama.cpp server, vLLM, ollama, tabbyAPI).

httpx async with a short connect timeout: a backend that is down gives a 503 at once, not a hang;
an upstream error status comes back as an OpenAI-shaped 502 (or the upstream's own 4xx).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ...indexer.errors import BackendUnavailableError, UpstreamError, UsageError
from .base import ChatBackend, Delta, GenParams, Generation, Usage
from .registry import register

log = logging.getLogger(__name__)


class UpstreamBackend(ChatBackend):
    """``url`` is the API base, e.g. ``http://127.0.0.1:8080/v1``. ``model`` defaults to the upstream's first."""

    def __init__(self, url: str, *, model: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, connect_timeout: float = 3.0, context_window: int | None = None):
        self.url = url.rstrip("/")
        self._model = model
        self.model_id = model or "upstream"
        self.context_window = context_window
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.url, headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
        )

    async def ready(self) -> None:
        """Learn the model id when none was given; a backend that is down now is logged, not fatal."""
        if self._model:
            return
        try:
            data = await self._request_json("GET", "/models")
            models = [m.get("id") for m in data.get("data", []) if m.get("id")]
        except (BackendUnavailableError, UpstreamError) as err:
            log.warning("upstream %s: %s", self.url, err)
            return
        if models:
            self._model = self.model_id = models[0]

    async def aclose(self) -> None:
        await self._client.aclose()

    # ----- chat --------------------------------------------------------------------------------
    async def chat(self, messages: list[dict], params: GenParams) -> Generation:
        data = await self._request_json("POST", "/chat/completions", json=self._body(params, messages=messages))
        choice = _first_choice(data)
        text = (choice.get("message") or {}).get("content") or ""
        return Generation(text, choice.get("finish_reason") or "stop", Usage.from_response(data))

    def stream_chat(self, messages: list[dict], params: GenParams) -> AsyncIterator[Delta]:
        body = self._body(params, messages=messages, stream=True)
        return self._stream("/chat/completions", body, lambda c: (c.get("delta") or {}).get("content"))

    # ----- completion --------------------------------------------------------------------------
    async def complete(self, prompt: str, suffix: str | None, params: GenParams) -> Generation:
        body = self._body(params, prompt=prompt, suffix=suffix)
        data = await self._request_json("POST", "/completions", json=body)
        choice = _first_choice(data)
        return Generation(choice.get("text") or "", choice.get("finish_reason") or "stop",
                          Usage.from_response(data))

    def stream_complete(self, prompt: str, suffix: str | None, params: GenParams) -> AsyncIterator[Delta]:
        body = self._body(params, prompt=prompt, suffix=suffix, stream=True)
        return self._stream("/completions", body, lambda c: c.get("text"))

    # ----- plumbing ----------------------------------------------------------------------------
    def _body(self, params: GenParams, **fields: Any) -> dict:
        body: dict[str, Any] = {"model": self._model or self.model_id}
        body.update(params.fields())
        body.update({k: v for k, v in fields.items() if v is not None})
        return body

    async def _request_json(self, method: str, path: str, **kwargs: Any) -> dict:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as err:
            raise BackendUnavailableError(f"the model server at {self.url} timed out ({type(err).__name__})") from err
        except httpx.TransportError as err:
            raise BackendUnavailableError(f"cannot reach the model server at {self.url}: {err}") from err
        if response.status_code >= 400:
            raise _status_error(response.status_code, response.text)
        try:
            return response.json()
        except ValueError as err:
            raise UpstreamError(f"the model server at {self.url} sent invalid JSON") from err

    async def _stream(self, path: str, body: dict, text_of) -> AsyncIterator[Delta]:
        try:
            async with self._client.stream("POST", path, json=body) as response:
                if response.status_code >= 400:
                    raise _status_error(response.status_code, (await response.aread()).decode("utf-8", "replace"))
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    try:
                        chunk = json.loads(payload)
                    except ValueError:
                        log.debug("skipping a malformed SSE line from upstream: %r", payload[:200])
                        continue
                    if "error" in chunk:
                        raise _status_error(502, json.dumps(chunk))
                    if not chunk.get("choices"):
                        continue
                    choice = chunk["choices"][0]
                    text = text_of(choice) or ""
                    finish = choice.get("finish_reason")
                    if text or finish:
                        yield Delta(text, finish)
        except httpx.TimeoutException as err:
            raise BackendUnavailableError(f"the model server at {self.url} timed out ({type(err).__name__})") from err
        except httpx.TransportError as err:
            raise BackendUnavailableError(f"lost the model server at {self.url}: {err}") from err


def _status_error(status: int, text: str) -> UpstreamError:
    """Keep the upstream's message; its 4xx stay 4xx (the request was bad), anything else is a 502."""
    message, code = text.strip()[:500], None
    try:
        err = json.loads(text).get("error")
        if isinstance(err, dict):
            message, code = str(err.get("message") or message), err.get("code")
        elif isinstance(err, str):
            message = err
    except (ValueError, AttributeError):
        pass
    if 400 <= status < 500 and status not in (401, 403, 404, 408, 429):
        return UpstreamError(f"upstream: {message}", status=status, code=code)
    return UpstreamError(f"the model server answered {status}: {message}", status=502, code=code)


def _first_choice(data: dict) -> dict:
    choices = data.get("choices") or []
    if not choices:
        raise UpstreamError("the model server sent no choices")
    return choices[0]


@register("openai-upstream")
def openai_upstream(*, url: str | None = None, model: str | None = None, api_key: str | None = None,
                    timeout: float = 120.0, connect_timeout: float = 3.0, context_window: int | None = None) -> UpstreamBackend:
    if not url:
        raise UsageError("the openai-upstream backend needs --upstream URL (e.g. http://127.0.0.1:8080/v1)")
    return UpstreamBackend(url, model=model, api_key=api_key, timeout=timeout, connect_timeout=connect_timeout,
                           context_window=context_window)
