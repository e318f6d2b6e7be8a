"""``GET /health`` (no auth: liveness only, reveals nothing) and ``GET /status`` (per repository)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..state import get_state

router = APIRouter()


def _version() -> str:
    try:
        return version("ragpilot")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


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
