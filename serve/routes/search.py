"""``POST /search``: ranked hits from the served index(es), as ``Hit.to_json()`` plus the repository name;
with ``"files": true``, ranked files (``FileHit.to_json()`` plus the repository name)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...indexer.errors import UsageError
from ..schemas import SearchRequest
from ..state import get_state
from ..status import coverage

router = APIRouter()


@router.post("/search")
async def search(body: SearchRequest, request: Request, response: Response) -> list[dict]:
    """Each chunk hit carries ``embedded``, its repository's coverage (``{"chunks", "of", "complete"}``:
    dense search ranks only embedded chunks while an index is still being embedded); the header
    ``X-Ragpilot-Embedded: <embedded>/<chunks>`` sums it over the repositories searched."""
    repos = get_state(request).repos
    targets = repos.select(repo=body.repo)
    if body.files:
        if body.rerank:
            raise UsageError("files ranks files without a reranker: drop rerank")
        ranked = await run_in_threadpool(repos.search_files, body.query, targets, k=body.k, mode=body.mode)
        return [{**found.to_json(), "repo": repo.name} for repo, found in ranked]
    found = await run_in_threadpool(repos.search, body.query, targets, k=body.k, mode=body.mode,
                                    rerank=body.rerank)
    counts = await run_in_threadpool(lambda: {repo.name: repo.searcher.store.embedded_counts() for repo in targets})
    response.headers["X-Ragpilot-Embedded"] = "{}/{}".format(*map(sum, zip(*counts.values(), strict=True)))
    return [{**hit.to_json(), "repo": repo.name, "embedded": coverage(*counts[repo.name])} for repo, hit in found]
