"""``/v1/embeddings`` work, bounded: what a request may cost is fixed before any of it is done.

- Each input is cut to what the model can read (``max_tokens`` x 16 characters; a word piece is one
  character or more, and code runs ~3 characters a token) before it is tokenized: a 60 KB input costs
  what a 4 KB one does, and no tokenizer call ever sees megabytes.
- The inputs are embedded in batches of the embedder's ``batch_size`` (32) in a worker thread, one
  batch at a time across all requests (an asyncio lock, fair in arrival order): concurrent requests
  interleave instead of multiplying the model's working memory.
- Between batches the client is asked whether it is still there; when it has gone the work stops
  (:class:`ClientDisconnectedError`), instead of computing minutes of vectors nobody will read.

The request-size limits themselves (count, per input, total) are in ``schemas.EmbeddingRequest``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import numpy as np
from starlette.concurrency import run_in_threadpool

from ..indexer.embedders import Embedder
from ..indexer.errors import ClientDisconnectedError

log = logging.getLogger(__name__)

# Not indexer.types.MAX_CHARS_PER_TOKEN (10): this cut must never shorten what the model would read, or
# /v1/embeddings would disagree with the index's vectors, so it is generous rather than tight.
CHARS_PER_WINDOW_TOKEN = 16


class EmbeddingWork:
    """One per app: the lock that makes embedding requests take turns, batch by batch."""

    def __init__(self) -> None:
        self._turn = asyncio.Lock()

    async def embed(self, embedder: Embedder, texts: Sequence[str], *,
                    client_gone: Callable[[], Awaitable[bool]]) -> tuple[np.ndarray, int]:
        """The vectors of ``texts`` (in order) and the tokens the model read for them."""
        limit = max(1, embedder.max_tokens) * CHARS_PER_WINDOW_TOKEN
        cut = [t[:limit] for t in texts]
        order = sorted(range(len(cut)), key=lambda i: len(cut[i]))  # similar lengths together: less padding
        out: np.ndarray | None = None
        tokens = 0
        batch = max(1, embedder.batch_size)
        for start in range(0, len(order), batch):
            if await client_gone():
                log.info("client went away: embeddings stopped after %d of %d inputs", start, len(order))
                raise ClientDisconnectedError("the client disconnected before the embeddings were ready")
            idx = order[start:start + batch]
            async with self._turn:
                vectors, used = await run_in_threadpool(_embed_batch, embedder, [cut[i] for i in idx])
            if out is None:  # sized by the first batch: a remote embedder may learn its dimension late
                out = np.zeros((len(cut), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
            tokens += used
        return (out if out is not None else np.zeros((0, embedder.dim), dtype=np.float32)), tokens


def _embed_batch(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, int]:
    window = embedder.token_budget()
    return embedder.embed_documents(texts), sum(min(embedder.count_tokens(t), window) for t in texts)
