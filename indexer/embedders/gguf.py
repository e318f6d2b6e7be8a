"""GGUF embedding models (nomic-embed-text, bge, ...) in-process with llama-cpp-python.

Needs the ``llm`` extra. Texts are embedded one per llama.cpp call: batching several sequences in
one call depends on the context's sequence limit, and embedding stays correct and simple this way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError, UsageError
from .base import Embedder
from .fingerprint import file_fingerprint
from .lazy import require
from .prefixes import resolve_prefixes
from .registry import register

log = logging.getLogger(__name__)


class LlamaCppEmbedder(Embedder):
    """``Llama(embedding=True)``; models without a pooling head return token vectors, mean-pooled here.

    ``max_tokens`` is the context llama.cpp is created with; longer texts are truncated to it.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        max_tokens: int = 512,
        threads: int = 1,
        batch_size: int = 32,
        document_prefix: str = "",
        query_prefix: str = "",
        gpu_layers: int = 0,
    ):
        llama_cpp = require(
            "llama_cpp", package="llama-cpp-python", extra="llm", purpose="Embedding with a GGUF model"
        )
        if not model_path.is_file():
            raise ModelLoadError(f"GGUF model file not found: {model_path}")
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(model_path),
                embedding=True,
                n_ctx=int(max_tokens),
                n_batch=int(max_tokens),
                n_ubatch=int(max_tokens),
                n_threads=int(threads),
                n_gpu_layers=int(gpu_layers),  # ignored by a CPU-only build of llama.cpp
                verbose=False,
            )
        except Exception as err:  # llama-cpp-python raises ValueError/RuntimeError for bad files
            raise ModelLoadError(f"cannot load GGUF model {model_path}: {err}") from err
        self.id = f"gguf:{model_path.stem}@{file_fingerprint(model_path)}"
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self.document_prefix = document_prefix
        self.query_prefix = query_prefix
        self.dim = int(self._llm.n_embd())
        log.info("loaded GGUF embedder %s (%d-d, n_ctx %d)", self.id, self.dim, self.max_tokens)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            vec = np.asarray(self._llm.embed(text, truncate=True), dtype=np.float32)
            if vec.ndim == 3:  # [input][token][dim] when given a list; a str gives [token][dim]
                vec = vec[0]
            out[row] = vec.mean(axis=0) if vec.ndim == 2 else vec
        return out

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@register("gguf")
def gguf(
    *,
    model_path: str | None = None,
    model: str | None = None,
    max_tokens: int = 512,
    threads: int = 1,
    batch_size: int = 32,
    document_prefix: str | None = None,
    query_prefix: str | None = None,
    device: str = "auto",
) -> LlamaCppEmbedder:
    """Any GGUF embedding model file (``model_path``, or ``model`` as ``--embed-model`` passes it);
    prefixes follow the model family found in the file name. ``device="cuda"`` offloads every layer
    (llama.cpp picks no GPU by itself); ``auto`` and ``cpu`` keep the CPU."""
    model_path = model_path or model
    if not model_path:
        raise UsageError("the gguf embedder needs model_path=<file.gguf>")
    path = Path(model_path).expanduser()
    doc, query = resolve_prefixes(path.name, document_prefix, query_prefix)
    return LlamaCppEmbedder(
        path,
        max_tokens=max_tokens,
        threads=threads,
        batch_size=batch_size,
        document_prefix=doc,
        query_prefix=query,
        gpu_layers=-1 if device == "cuda" else 0,
    )
