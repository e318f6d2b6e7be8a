"""nomic-embed-text v1.5 through whichever runtime the user has: a server, a GGUF file, or PyTorch.

The task prefixes come from ``prefixes.FAMILY_PREFIXES`` and are forced here, since choosing this
embedder says the model is nomic's whatever its file or server name.
"""

from __future__ import annotations

from .base import Embedder
from .gguf import gguf
from .prefixes import FAMILY_PREFIXES
from ..registry import check_options
from .registry import register
from .remote import http
from .st import sentence_transformers

HUB_ID = "nomic-ai/nomic-embed-text-v1.5"
OLLAMA_MODEL = "nomic-embed-text"


@register("nomic-embed-text")
def nomic_embed_text(
    *,
    url: str | None = None,
    model_path: str | None = None,
    model: str | None = None,
    **options,
) -> Embedder:
    """``url=`` → an ollama/OpenAI server; ``model_path=`` (or a ``model`` ending in ``.gguf``) → a
    GGUF file; else ``model=`` (hub id, default ``nomic-ai/nomic-embed-text-v1.5``, or a local folder)
    via sentence-transformers."""
    doc, query = FAMILY_PREFIXES["nomic-embed-text"]
    options.setdefault("document_prefix", doc)
    options.setdefault("query_prefix", query)
    if not url and model and model.lower().endswith(".gguf"):
        model_path, model = model_path or model, None
    if url:
        factory, options = http, {"url": url, "model": model or OLLAMA_MODEL, **options}
    elif model_path:
        factory, options = gguf, {"model_path": model_path, **options}
    else:
        factory = sentence_transformers
        options = {"model": model or HUB_ID, "trust_remote_code": True, **options}
    check_options("embedder 'nomic-embed-text'", factory, options)
    return factory(**options)
