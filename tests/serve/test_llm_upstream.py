"""The openai-upstream chat backend against a real OpenAI-compatible server on a loopback port.

``python -m llama_cpp.server`` would be the natural upstream, but its dependency ``starlette-context``
is not installed here, so a small FastAPI server speaking the same protocol stands in.
"""

from __future__ import annotations

import asyncio

import pytest
from servers import free_port

from ragpilot.indexer.errors import BackendUnavailableError, UpstreamError, UsageError
from ragpilot.serve.http_errors import http_error
from ragpilot.serve.llm import GenParams, create_backend
from ragpilot.serve.llm.upstream import UpstreamBackend


@pytest.fixture
def fake(upstream):
    """The shared upstream (conftest.py) answering three words, so streams have several chunks."""
    upstream.requests.clear()
    upstream.reply, upstream.fail_status = "alpha beta gamma", None
    return upstream


def run(coro):
    return asyncio.run(coro)


def using(backend: UpstreamBackend, make_coro):
    """Run ``make_coro()`` and close the backend in the same event loop (its httpx client lives there)."""

    async def go():
        try:
            return await make_coro()
        finally:
            await backend.aclose()

    return asyncio.run(go())


async def _collect(stream):
    return [d async for d in stream]


def test_the_backend_is_registered_by_name_and_needs_a_url():
    backend = create_backend("openai-upstream", url="http://127.0.0.1:1/v1", model="m")
    assert isinstance(backend, UpstreamBackend) and backend.model_id == "m"
    with pytest.raises(Exception, match="--upstream"):
        create_backend("openai-upstream")


@pytest.mark.parametrize("name,options", [("openai-upstream", {"url": "http://127.0.0.1:1/v1"}),
                                          ("llama-cpp", {})])
def test_an_option_a_chat_backend_does_not_take_is_a_usage_error_naming_it(name, options):
    with pytest.raises(UsageError, match="n_gpu_layerz"):
        create_backend(name, **options, n_gpu_layerz=3)


def test_the_model_id_is_learned_from_the_upstream_when_not_given(fake):
    backend = UpstreamBackend(fake.url)

    async def go():
        await backend.ready()
        await backend.aclose()

    run(go())
    assert backend.model_id == "fake-model"


def test_chat_sends_messages_and_sampling_and_returns_text_and_usage(fake):
    backend = UpstreamBackend(fake.url, model="fake-model", api_key="up-key")
    messages = [{"role": "user", "content": "hi"}]
    gen = using(backend, lambda: backend.chat(messages, GenParams(max_tokens=5, temperature=0.2, stop=["gamma"],
                                                                  seed=3)))
    assert gen.text == "alpha beta " and gen.finish_reason == "stop"
    assert gen.usage.to_json() == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    sent = fake.last()
    assert fake.auth[-1] == "Bearer up-key"
    assert sent == {"model": "fake-model", "messages": messages, "max_tokens": 5, "temperature": 0.2,
                    "stop": ["gamma"], "seed": 3}


def test_streaming_yields_the_upstreams_deltas_in_order(fake):
    backend = UpstreamBackend(fake.url, model="fake-model")
    deltas = using(backend, lambda: _collect(backend.stream_chat([{"role": "user", "content": "hi"}], GenParams())))
    assert "".join(d.text for d in deltas) == "alpha beta gamma"
    assert len([d for d in deltas if d.text]) == 3
    assert deltas[-1].finish_reason == "stop"
    assert fake.last()["stream"] is True


def test_completions_pass_suffix_through(fake):
    backend = UpstreamBackend(fake.url, model="fake-model")

    async def both():
        gen = await backend.complete("def f():", "\n    return x", GenParams(max_tokens=4))
        sent = fake.last()
        return gen, sent, await _collect(backend.stream_complete("p", None, GenParams()))

    gen, sent, streamed = using(backend, both)
    assert gen.text == "alpha beta gamma"
    assert sent["suffix"] == "\n    return x" and sent["prompt"] == "def f():"
    assert "".join(d.text for d in streamed) == "alpha beta gamma"
    assert "suffix" not in fake.last()


def test_a_server_that_is_down_is_backend_unavailable_not_a_hang():
    backend = UpstreamBackend(f"http://127.0.0.1:{free_port()}/v1", model="m", connect_timeout=2)
    with pytest.raises(BackendUnavailableError) as err:
        using(backend, lambda: backend.chat([{"role": "user", "content": "x"}], GenParams()))
    assert http_error(err.value).status == 503
    backend = UpstreamBackend(backend.url, model="m", connect_timeout=2)
    with pytest.raises(BackendUnavailableError):
        using(backend, lambda: _collect(backend.stream_chat([{"role": "user", "content": "x"}], GenParams())))


@pytest.mark.parametrize("status,expected", [(500, 502), (503, 502), (400, 400), (422, 422), (404, 502)])
def test_upstream_errors_keep_their_message_and_map_to_a_sensible_status(fake, status, expected):
    fake.fail_status = status
    calls = (lambda b: b.chat([{"role": "user", "content": "x"}], GenParams()),
             lambda b: _collect(b.stream_chat([{"role": "user", "content": "x"}], GenParams())))
    for call in calls:
        backend = UpstreamBackend(fake.url, model="fake-model")
        with pytest.raises(UpstreamError) as err:
            using(backend, lambda: call(backend))  # noqa: B023
        assert http_error(err.value).status == expected
        assert "upstream exploded" in str(err.value)
