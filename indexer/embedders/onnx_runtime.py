"""Loading a BERT-like ONNX model and its tokenizer: shared by the ONNX embedder and the ONNX reranker.

One place for onnxruntime's session options (one inter-op thread, quiet logs, the execution providers:
CPU unless the caller chose others, see ``devices.onnx_providers``), the check that
the file is a BERT-like model at all, and finding and reading ``tokenizer.json``, so both models fail
to load with the same kinds of message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ModelLoadError
from .devices import CPU_PROVIDER
from .lazy import require_base

BERT_INPUTS = frozenset({"input_ids", "attention_mask"})


def onnx_session(model_path: Path, *, threads: int, what: str, purpose: str,
                 providers: list[str] | None = None) -> tuple[Any, set[str]]:
    """An onnxruntime session for ``model_path`` and its input names; ``what`` names the model in
    errors ("ONNX model", "cross-encoder"). ``threads`` is onnxruntime's intra-op thread count;
    ``providers`` defaults to the CPU provider alone."""
    ort = require_base("onnxruntime", package="onnxruntime", purpose=purpose)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(model_path), sess_options=opts, providers=providers or [CPU_PROVIDER]
        )
    except Exception as err:  # onnxruntime raises its own untyped errors for bad files
        raise ModelLoadError(f"cannot load {what} {model_path}: {err}") from err
    return session, {i.name for i in session.get_inputs()}


def tokenizer_from_json(tokenizer_json: str, *, what: str, purpose: str) -> Any:
    """A ``tokenizers.Tokenizer`` from the text of a ``tokenizer.json``."""
    tokenizers = require_base("tokenizers", package="tokenizers", purpose=purpose)
    try:
        return tokenizers.Tokenizer.from_str(tokenizer_json)
    except Exception as err:  # tokenizers raises untyped errors for bad files
        raise ModelLoadError(f"cannot load the tokenizer of {what}: {err}") from err


def read_tokenizer(path: Path) -> str:
    """The text of a ``tokenizer.json``; an unreadable one is a load error naming it."""
    try:
        return path.expanduser().read_text("utf-8")
    except OSError as err:
        raise ModelLoadError(f"cannot read tokenizer {path}: {err}") from err


def tokenizer_beside(model_path: Path) -> Path:
    """``tokenizer.json`` next to the model, or one folder up (optimum exports put it in ``onnx/``)."""
    for folder in (model_path.parent, model_path.parent.parent):
        candidate = folder / "tokenizer.json"
        if candidate.is_file():
            return candidate
    raise ModelLoadError(
        f"no tokenizer.json beside {model_path}; pass tokenizer=<path to tokenizer.json>"
    )


def available_providers(purpose: str) -> list[str]:
    """The execution providers the installed onnxruntime offers (the CPU wheel: the CPU one alone)."""
    ort = require_base("onnxruntime", package="onnxruntime", purpose=purpose)
    return list(ort.get_available_providers())
