"""sentence-transformers ``CrossEncoder`` (PyTorch): a hub id or a local folder. Needs the ``st`` extra.

Runs offline by default: a hub id must already be in the local Hugging Face cache, and a missing one
fails at once with a message saying so (it never waits on the network).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...indexer.embedders.lazy import require
from ...indexer.errors import ModelLoadError
from .base import Reranker
from .registry import register

log = logging.getLogger(__name__)

DEFAULT_MODEL = "cross-encoder/ms-marco-MiniLM-L-6-v2"


class SentenceTransformerCrossEncoder(Reranker):
    """Wraps a loaded ``CrossEncoder``; scores pass through the model's own activation (sigmoid)."""

    def __init__(self, model, *, id: str, batch_size: int = 16):
        self._model = model
        self.id = id
        self.batch_size = int(batch_size)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        out = np.asarray(
            self._model.predict([(query, p) for p in passages], batch_size=self.batch_size,
                                show_progress_bar=False, convert_to_numpy=True),
            dtype=np.float64,
        )
        if out.ndim == 2:  # two-class heads: probability of the last ("relevant") class
            out = np.exp(out - out.max(axis=1, keepdims=True))
            out = out[:, -1] / out.sum(axis=1)
        return [float(x) for x in out.reshape(-1)]


@register("cross-encoder")
def cross_encoder(
    *,
    model: str = DEFAULT_MODEL,
    max_length: int = 256,
    threads: int = 1,
    batch_size: int = 16,
    offline: bool = True,
) -> SentenceTransformerCrossEncoder:
    """Load ``model`` on CPU. ``threads`` calls ``torch.set_num_threads`` (process-wide)."""
    purpose = f"The cross-encoder reranker ({model})"
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"  # read by huggingface_hub at import: set it first
    st = require("sentence_transformers", package="sentence-transformers", extra="st", purpose=purpose)
    torch = require("torch", package="torch", extra="st", purpose=purpose)
    if threads:
        torch.set_num_threads(int(threads))
    _quiet_transformers()
    local = Path(model).expanduser()
    if not local.is_dir() and (model.startswith((".", "/", "~")) or model.count("/") > 1):
        raise ModelLoadError(f"cross-encoder folder not found: {local}")
    try:
        loaded = st.CrossEncoder(
            str(local) if local.is_dir() else model,
            device="cpu",
            max_length=int(max_length),
            local_files_only=offline,
        )
    except Exception as err:  # transformers raises OSError/ValueError for missing or bad models
        hint = "" if local.is_dir() else (
            f"; ragpilot runs offline: download it once where you are online "
            f"(huggingface-cli download {model}) or pass a local folder"
        )
        raise ModelLoadError(f"cannot load cross-encoder '{model}': {err}{hint}") from err
    log.info("loaded cross-encoder %s", model)
    return SentenceTransformerCrossEncoder(loaded, id=f"cross-encoder:{model}", batch_size=batch_size)


def _quiet_transformers() -> None:
    """transformers draws a weight-loading progress bar on stderr; library code must not print."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()
