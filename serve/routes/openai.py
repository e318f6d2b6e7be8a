"""OpenAI-compatible ``GET /v1/models``, ``POST /v1/completions`` and ``POST /v1/embeddings``.

Completions are a plain passthrough to the completion backend (``suffix`` for fill-in-the-middle);
embeddings use the index's own embedder, so a client can embed text the way the index did, within
the bounds of ``schemas.EmbeddingRequest`` and ``embedding_work.py``.
"""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter, Request

from ...indexer.errors import UsageError
from ..llm import GenParams
from ..openai_format import prime, stream_response, text_completion
from ..schemas import CompletionRequest, EmbeddingRequest
from ..state import get_state

router = APIRouter()


@router.get("/v1/models")
async def list_models(request: Request) -> dict:
    state = get_state(request)
    embedder = state.repos.repos[0].embedder_name
    return {"object": "list", "data": state.models.listing(embedder)}


@router.post("/v1/completions")
async def completions(body: CompletionRequest, request: Request):
    state = get_state(request)
    backend = state.models.resolve_completion(body.model)
    prompt = body.prompt_text()
    if prompt is None:
        raise UsageError("one prompt per request: send 'prompt' as a string")
    params = GenParams(max_tokens=body.max_tokens or state.settings.max_tokens, temperature=body.temperature,
                       top_p=body.top_p, stop=body.stop_list(), seed=body.seed)
    if not body.stream:
        return text_completion(body.model, await backend.complete(prompt, body.suffix, params))
    stream = backend.stream_complete(prompt, body.suffix, params)
    first = await prime(stream)
    return stream_response(stream, first, kind="text", model=body.model)


@router.post("/v1/embeddings")
async def embeddings(body: EmbeddingRequest, request: Request) -> dict:
    state = get_state(request)
    embedder = state.repos.embedder
    state.models.check_embedding_model(body.model, embedder.id)
    texts = body.texts()
    if not texts:
        raise UsageError("'input' is empty")
    vectors, tokens = await state.embedding_work.embed(embedder, texts, client_gone=request.is_disconnected)
    data = []
    for i, vec in enumerate(vectors):
        vec = np.asarray(vec, dtype="<f4")
        value = base64.b64encode(vec.tobytes()).decode() if body.encoding_format == "base64" else vec.tolist()
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {"object": "list", "data": data, "model": body.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
