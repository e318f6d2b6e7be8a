"""OpenAI wire objects (chat.completion, chunks, text_completion) and the SSE stream that carries them.

A stream is primed before the response starts: an error raised before the first token (backend
down, prompt too long) still gets its proper status code; later errors become an ``error`` event,
and every stream ends with ``data: [DONE]``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable

from fastapi.responses import StreamingResponse

from ..indexer.errors import RagpilotError
from .http_errors import error_body, http_error
from .llm import Delta, Generation, Usage

log = logging.getLogger(__name__)

DONE = "data: [DONE]\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False, separators=(',', ':'))}\n\n"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


# ----- chat ------------------------------------------------------------------------------------------
def chat_completion(model: str, gen: Generation, tail: str = "") -> dict:
    return {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": gen.text + tail},
            "logprobs": None,
            "finish_reason": gen.finish_reason,
        }],
        "usage": gen.usage.to_json(),
    }


def text_completion(model: str, gen: Generation) -> dict:
    return {
        "id": new_id("cmpl"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": gen.text, "logprobs": None, "finish_reason": gen.finish_reason}],
        "usage": gen.usage.to_json(),
    }


async def prime(stream: AsyncIterator[Delta]) -> Delta | None:
    """The first delta (None for an empty stream); errors surface here, before any byte is sent."""
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None
    except BaseException:
        await stream.aclose()  # type: ignore[attr-defined]
        raise


def stream_response(
    stream: AsyncIterator[Delta],
    first: Delta | None,
    *,
    kind: str,
    model: str,
    tail: str = "",
    usage: Callable[[int], Usage] | None = None,
) -> StreamingResponse:
    """SSE of ``chat.completion.chunk`` (``kind="chat"``; the first delta carries the role) or
    ``text_completion`` chunks. ``tail`` (the Sources list) is sent as a last content delta before the
    finish chunk; ``usage`` (given the number of deltas) adds a final usage chunk."""
    chat = kind == "chat"
    ident, created = new_id("chatcmpl" if chat else "cmpl"), int(time.time())
    obj = "chat.completion.chunk" if chat else "text_completion"

    def chunk(text: str | None, finish: str | None = None, *, role: bool = False) -> dict:
        if chat:
            delta: dict = {"role": "assistant", "content": ""} if role else ({} if text is None else {"content": text})
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
        return {"id": ident, "object": obj, "created": created, "model": model, "choices": [choice]}

    async def events() -> AsyncIterator[str]:
        finish, count = None, 0
        try:
            if chat:
                yield sse(chunk(None, role=True))
            pending = [first] if first is not None else []
            while True:
                if pending:
                    delta = pending.pop()
                else:
                    try:
                        delta = await stream.__anext__()
                    except StopAsyncIteration:
                        break
                count += 1
                finish = delta.finish_reason or finish
                if delta.text:
                    yield sse(chunk(delta.text))
            if tail:
                yield sse(chunk(tail))
            yield sse(chunk(None, finish or "stop"))
            if usage is not None:
                yield sse({"id": ident, "object": obj, "created": created, "model": model, "choices": [],
                           "usage": usage(count).to_json()})
        except RagpilotError as err:
            log.warning("stream failed after it started: %s", err)
            _, kind, code = http_error(err)
            yield sse(error_body(str(err), type=kind, code=code))
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  (stops the model if the client left)
        yield DONE

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
