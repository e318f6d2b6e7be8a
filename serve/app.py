"""The FastAPI app factory: Continue's context provider, ragpilot search, OpenAI-compatible endpoints.

Resources built at startup (repositories with their indexers and watchers, the chat backends) live in
one typed :class:`~ragpilot.serve.state.AppState` (``app.state.ragpilot``) and are closed at shutdown.
Injected objects (``repos``, ``llm``) are used as given and left to their owner to close, so tests can
pass real components cheaply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..indexer.errors import RagpilotError
from .auth import BearerAuthMiddleware
from .body_limit import BodyLimitMiddleware
from .http_errors import install_error_handlers
from .keys import KeyRing
from .llm import ChatBackend
from .models import ModelCatalog, chat_backend_from, completion_backend_from
from .openapi import install_openapi
from .repos import ProgressHook, RepoSet
from .routes import continue_provider, health, openai, openai_chat, search, web
from .routes import map as map_route
from .routes import symbols as symbols_route
from .settings import ServeSettings
from .state import AppState, set_state

log = logging.getLogger(__name__)


def create_app(
    settings: ServeSettings,
    *,
    repos: RepoSet | None = None,
    llm: ChatBackend | None = None,
    completion_llm: ChatBackend | None = None,
    on_progress: ProgressHook | None = None,
    on_startup: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the app. Without ``repos``, ``settings.repos`` are opened at startup, indexed in the
    background and watched; without ``llm``, the chat backend named by the settings is loaded (if it
    cannot be, chat answers 503 with the reason while retrieval keeps working). A bad keys file (or, with
    ``repos`` given, a key naming a repository not served) is a UsageError here, before serving.

    ``on_startup`` runs once the models are loaded (the CLI starts its indexing there): llama-cpp
    points stdout/stderr at /dev/null while it loads a model, which would swallow progress lines."""

    keys = KeyRing.from_settings(settings.api_key, settings.keys_file)
    if keys is not None and repos is not None:
        keys.check(repos.repos)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned_repos = None
        repo_set = repos
        if repo_set is None:
            repo_set = owned_repos = await asyncio.to_thread(RepoSet.from_settings, settings)
        catalog = None
        try:
            catalog = await _load_models(settings, llm, completion_llm, repo_set)
            if owned_repos is not None:
                owned_repos.begin(settings, on_progress=on_progress)
            if on_startup is not None:
                on_startup()
            set_state(app, AppState(settings=settings, repos=repo_set, models=catalog, keys=keys))
            yield
        finally:
            if catalog is not None and llm is None:
                await catalog.aclose()
            if owned_repos is not None:
                await asyncio.to_thread(owned_repos.close)

    # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN (broken offline, and a third party
    # learns of every visit). The schema itself is served at /openapi.json for any viewer.
    app = FastAPI(title="ragpilot", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    install_openapi(app)
    for module in (health, continue_provider, search, map_route, symbols_route, openai, openai_chat, web):
        app.include_router(module.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(BearerAuthMiddleware, keys=keys)  # outermost: no key, no body read
    return app


async def _load_models(settings: ServeSettings, llm: ChatBackend | None, completion_llm: ChatBackend | None,
                       repo_set: RepoSet) -> ModelCatalog:
    embedder_names = tuple(dict.fromkeys(r.embedder_name for r in repo_set.repos))
    chat, chat_error = llm, None
    if chat is None:
        try:
            chat = await asyncio.to_thread(chat_backend_from, settings)
            await chat.ready()
        except RagpilotError as err:
            log.warning("chat is unavailable (%s); retrieval endpoints still work", err)
            chat, chat_error = None, err
    completion, completion_error = completion_llm, None
    if completion is None and llm is None:
        try:
            completion = await asyncio.to_thread(completion_backend_from, settings)
            if completion is not None:
                await completion.ready()
        except RagpilotError as err:
            log.warning("the completion backend is unavailable: %s", err)
            completion, completion_error = None, err
    return ModelCatalog(chat, completion, chat_error=chat_error, completion_error=completion_error,
                        embedder_names=embedder_names)
