"""``GET /map`` and ``POST /map``: the repo map of the served repositories, personalised by a question.

``GET /map?question=...&tokens=1024&repo=name`` (every parameter optional) and ``POST /map`` with the same
fields as JSON answer ``{"budget_tokens", "maps": [{"repo", "text", "tokens", "files", ...}]}``: one map
per repository, the budget split evenly between them. A budget outside the bounds of
``retrieval/repomap_settings.py`` or an empty question is a 400; an unknown repository a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ...indexer.errors import UsageError
from ...retrieval.repomap_settings import checked_map_tokens
from ...retrieval.settings import MAX_QUERY_CHARS
from ..rag import repo_maps
from ..schemas import MapRequest
from ..state import AppState, get_state

router = APIRouter()

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}
_RESPONSES: dict[int | str, dict] = {
    400: {"description": "Empty question, budget out of bounds, wrong types", "content": _ERROR},
    404: {"description": "Unknown repository, or an index without a symbol index", "content": _ERROR},
    409: {"description": "The index or its symbol index is damaged (rebuild it)", "content": _ERROR},
    503: {"description": "The repository is still being indexed for the first time", "content": _ERROR},
}


@router.get("/map", responses=_RESPONSES)
async def map_get(request: Request, question: str | None = Query(None, max_length=MAX_QUERY_CHARS),
                  tokens: int | None = None, repo: str | None = None) -> dict:
    return await _map(get_state(request), MapRequest(question=question, tokens=tokens, repo=repo))


@router.post("/map", responses=_RESPONSES)
async def map_post(body: MapRequest, request: Request) -> dict:
    return await _map(get_state(request), body)


async def _map(state: AppState, body: MapRequest) -> dict:
    if body.question is not None and not body.question.strip():
        raise UsageError("the question is empty: leave it out for a map of the whole repository")
    budget = checked_map_tokens(body.tokens, state.settings.repomap.map_tokens)
    targets = state.repos.select(repo=body.repo)
    maps = await run_in_threadpool(repo_maps, targets, (body.question or "").strip(), budget_tokens=budget)
    return {"budget_tokens": budget, "maps": [{"repo": repo.name, **m.to_json()} for repo, m in maps]}
