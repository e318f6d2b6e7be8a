"""``GET /health`` (no auth: liveness, and how much of the served indexes is embedded: counts only, no
names or paths) and ``GET /status`` (per repository)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...indexer.errors import RagpilotError
from ..state import get_state
from ..status import coverage

router = APIRouter()


def _version() -> str:
    try:
        return version("ragpilot")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health")
async def health(request: Request) -> dict:
    """``embedded``: chunks with their vector, of all chunks, summed over the repositories whose index can
    be searched now (search first, embed after: hybrid search covers the embedded ones)."""
    return {"status": "ok", "embedded": await run_in_threadpool(_embedded, request)}


def _embedded(request: Request) -> dict:
    embedded = total = 0
    for repo in get_state(request).repos.repos:
        try:
            done, chunks = repo.searcher.store.embedded_counts()
        except (RagpilotError, OSError):  # not indexed yet, being re-created: liveness must still answer
            continue
        embedded, total = embedded + done, total + chunks
    return coverage(embedded, total)


@router.get("/status")
async def status(request: Request) -> dict:
    state = get_state(request)
    catalog = state.models
    chat = catalog.chat
    return {
        "version": _version(),
        "repos": await run_in_threadpool(state.repos.status),
        "chat": {
            "backend": type(chat).__name__ if chat is not None else None,
            "model": chat.model_id if chat is not None else None,
            "error": str(catalog.chat_error) if catalog.chat_error is not None else None,
        },
        "models": catalog.chat_ids(),
    }
