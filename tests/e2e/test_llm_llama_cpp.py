"""The in-process llama-cpp backend with the packaged SmolLM2-135M-Instruct GGUF.

Assertions are about structure (text arrives, streams stop, the lock is freed), never model wording.
"""

from __future__ import annotations

import asyncio

import pytest

from ragpilot.indexer.errors import ContextLengthError
from ragpilot.serve.llm import GenParams
from ragpilot.serve.llm.llama_cpp import LlamaCppBackend

QUESTION = [{"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "What is a retry policy?"}]


@pytest.fixture(scope="module")
def backend():
    b = LlamaCppBackend(n_threads=1, n_ctx=1024)
    yield b
    asyncio.run(b.aclose())


def test_chat_answers_with_text_finish_reason_and_token_counts(backend):
    gen = asyncio.run(backend.chat(QUESTION, GenParams(max_tokens=12, temperature=0.0, seed=1)))
    assert gen.text.strip()
    assert gen.finish_reason in ("stop", "length")
    assert gen.usage.prompt_tokens > 10 and 0 < gen.usage.completion_tokens <= 12
    assert backend.model_id == "SmolLM2-135M-Instruct.Q4_1"
    assert backend.count_tokens("def retry_policy(): pass") > 3


def test_streaming_yields_pieces_that_add_up_and_end_with_a_finish_reason(backend):
    async def go():
        return [d async for d in backend.stream_chat(QUESTION, GenParams(max_tokens=10, temperature=0.0))]

    deltas = asyncio.run(go())
    assert len([d for d in deltas if d.text]) >= 2
    assert deltas[-1].finish_reason in ("stop", "length")
    assert all(d.finish_reason is None for d in deltas[:-1])


def test_a_consumer_that_leaves_mid_stream_stops_generation_and_frees_the_model(backend):
    async def go():
        stream = backend.stream_chat(QUESTION, GenParams(max_tokens=400, temperature=0.8))
        got = [await stream.__anext__(), await stream.__anext__()]
        await stream.aclose()  # what a client disconnect does
        # The worker stops at the next token and releases the lock; the next request then runs.
        acquired = await asyncio.to_thread(backend._lock.acquire, True, 60)
        if acquired:
            backend._lock.release()
        after = await backend.chat(QUESTION, GenParams(max_tokens=3))
        return got, acquired, after

    got, acquired, after = asyncio.run(go())
    assert all(d.text or d.finish_reason for d in got)
    assert acquired, "the model lock was not released after the consumer left"
    assert after.usage.completion_tokens <= 3


def test_requests_are_served_one_at_a_time_and_all_complete(backend, monkeypatch):
    import threading

    llm = backend._model()
    real = llm.create_chat_completion
    inside, peak, guard = 0, 0, threading.Lock()

    def counting(*args, **kwargs):
        nonlocal inside, peak
        with guard:
            inside += 1
            peak = max(peak, inside)
        try:
            out = real(*args, **kwargs)
            if kwargs.get("stream"):
                out = list(out)  # a stream is generated while it is iterated: count that too
                return iter(out)
            return out
        finally:
            with guard:
                inside -= 1

    monkeypatch.setattr(llm, "create_chat_completion", counting)

    async def go():
        calls = [backend.chat(QUESTION, GenParams(max_tokens=4)) for _ in range(2)]
        streams = [_drain(backend.stream_chat(QUESTION, GenParams(max_tokens=4))) for _ in range(2)]
        return await asyncio.gather(*calls, *streams)

    results = asyncio.run(go())
    assert len(results) == 4 and peak == 1


async def _drain(stream):
    return [d async for d in stream]


def test_a_prompt_longer_than_the_window_is_a_context_length_error(backend):
    huge = [{"role": "user", "content": "word " * 3000}]
    with pytest.raises(ContextLengthError):
        asyncio.run(backend.chat(huge, GenParams(max_tokens=4)))

    async def streamed():
        return [d async for d in backend.stream_chat(huge, GenParams(max_tokens=4))]

    with pytest.raises(ContextLengthError):
        asyncio.run(streamed())


def test_completion_with_a_suffix_returns_text(backend):
    gen = asyncio.run(backend.complete("def add(a, b):\n    return", "\n\nprint(add(1, 2))",
                                       GenParams(max_tokens=6, temperature=0.0)))
    assert gen.usage.completion_tokens >= 1 and isinstance(gen.text, str)
