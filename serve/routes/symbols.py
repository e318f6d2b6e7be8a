"""``GET /symbols`` and ``GET /symbols/references``: where a symbol is defined and where it is used.

``GET /symbols?name=Client.send&kind=method&fuzzy=true&limit=20&repo=name`` answers
``{"name", "definitions": [{"name", "qualified", "kind", "path", "line", "line_end", "location",
"signature", "parent", "language", "match", "repo"}]}``; ``GET /symbols/references?name=send&limit=200``
answers ``{"name", "references": [{"name", "path", "line", "location", "kind", "repo"}]}``.
An unknown name is a 200 with an empty list (nothing is wrong with asking); an empty or over-long name,
an unknown kind or a limit out of range is a 400; an unknown repository a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...indexer.errors import UsageError
from ..state import get_state
from ..symbols import reference_matches, symbol_matches

router = APIRouter()

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}
_RESPONSES: dict[int | str, dict] = {
    400: {"description": "Empty or over-long name, unknown kind, limit out of range", "content": _ERROR},
    404: {"description": "Unknown repository, or an index without a symbol index", "content": _ERROR},
    409: {"description": "The symbol index is damaged (rebuild it)", "content": _ERROR},
    503: {"description": "The repository is still being indexed for the first time", "content": _ERROR},
}


def _required(name: str | None) -> str:
    if name is None:
        raise UsageError("the query parameter 'name' is required: /symbols?name=Client.send")
    return name


@router.get("/symbols", responses=_RESPONSES)
async def symbols(request: Request, name: str | None = None, kind: str | None = None, fuzzy: bool = True,
                  limit: int | None = None, repo: str | None = None) -> dict:
    name = _required(name)
    targets = get_state(request).repos.select(repo=repo)
    found = await run_in_threadpool(symbol_matches, targets, name, kind=kind, fuzzy=fuzzy, limit=limit)
    return {"name": name.strip(), "definitions": found}


@router.get("/symbols/references", responses=_RESPONSES)
async def references(request: Request, name: str | None = None, limit: int | None = None,
                     repo: str | None = None) -> dict:
    name = _required(name)
    targets = get_state(request).repos.select(repo=repo)
    found = await run_in_threadpool(reference_matches, targets, name, limit=limit)
    return {"name": name.strip(), "references": found}
