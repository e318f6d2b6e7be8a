"""What every route reads: one typed object built at start-up, instead of loose ``app.state`` attributes.

The app factory stores it once as ``app.state.ragpilot``; routes get it with :func:`get_state` (a
FastAPI dependency as well as a plain function), so a route that needs a new resource adds a field
here and a type checker sees every use.

:func:`get_state` is also where team keys take effect: it answers the state *as the request's key sees
it*, whose ``repos`` hold only the repositories that key may read (``keys.py``). Selection, names,
status, search and error messages all work on that view, so a route cannot show, name or pick another
team's repository, and a repository the key may not read is exactly an unknown one (the same 404).
A route must therefore reach repositories only through :func:`get_state`, never ``app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from fastapi import Request
from starlette.types import ASGIApp

from .auth import KEY_SCOPE
from .embedding_work import EmbeddingWork
from .keys import KeyRing, TeamKey
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
    keys: KeyRing | None = None  # the accepted keys; None: no key, every request sees every repository
    _views: dict[str, AppState] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.retriever = Retriever(self.repos)
        if self.keys is None:
            return
        for key in self.keys.keys:  # a key naming a repository not served is a start-up error here
            if not key.reads_everything:
                self._views[key.name] = self._view(self.keys.readable(key, self.repos.repos))
        self._views[""] = self._view([])  # no key sent (only the open paths let that in)

    def _view(self, chosen: list) -> AppState:
        return replace(self, repos=self.repos.restricted_to(chosen), keys=None)

    def seen_by(self, key: TeamKey | None) -> AppState:
        """This state as ``key`` sees it (None: a request without a key). Fails closed: with team keys,
        a request without one sees no repository at all."""
        if self.keys is None or (key is not None and key.reads_everything):
            return self
        if key is None:
            return self if not self.keys.restricts else self._views[""]
        return self._views[key.name]


def set_state(app: ASGIApp, state: AppState) -> None:
    app.state.ragpilot = state


def get_state(request: Request) -> AppState:
    """The app's :class:`AppState` as the request's key sees it (only set while the app runs: its
    lifespan builds it). Every route picks its repositories from this, so new routes inherit access."""
    state = getattr(request.app.state, STATE_ATTR, None)
    if state is None:  # a programming error: the app was driven without its lifespan (a 500)
        raise RuntimeError("ragpilot's app state is missing: run the app with its lifespan (TestClient as a "
                           "context manager, or uvicorn)")
    return state.seen_by(request.scope.get(KEY_SCOPE))
