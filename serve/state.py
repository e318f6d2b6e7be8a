"""What every route reads: one typed object built at start-up, instead of loose ``app.state`` attributes.

The app factory stores it once as ``app.state.ragpilot``; routes get it with :func:`get_state` (a
FastAPI dependency as well as a plain function), so a route that needs a new resource adds a field
here and a type checker sees every use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.types import ASGIApp

from .embedding_work import EmbeddingWork
from .models import ModelCatalog
from .rag import Retriever
from .repos import RepoSet
from .settings import ServeSettings

STATE_ATTR = "ragpilot"  # the one attribute of starlette's app.state this app uses


@dataclass
class AppState:
    """The served repositories, the retrieval over them, the chat backends and the settings."""

    settings: ServeSettings
    repos: RepoSet
    models: ModelCatalog
    retriever: Retriever = field(init=False)
    embedding_work: EmbeddingWork = field(default_factory=EmbeddingWork)  # one embedding batch at a time

    def __post_init__(self) -> None:
        self.retriever = Retriever(self.repos)


def set_state(app: ASGIApp, state: AppState) -> None:
    app.state.ragpilot = state


def get_state(request: Request) -> AppState:
    """The app's :class:`AppState` (only set while the app runs: its lifespan builds it)."""
    state = getattr(request.app.state, STATE_ATTR, None)
    if state is None:  # a programming error: the app was driven without its lifespan (a 500)
        raise RuntimeError("ragpilot's app state is missing: run the app with its lifespan (TestClient as a "
                           "context manager, or uvicorn)")
    return state
