"""``POST /retrieve``: Continue's ``http`` context provider (wire format:
https://docs.continue.dev/customize/context-providers#http; SERVING.md describes ours).

Continue sends ``{query, fullInput, options?, workspacePath?}`` (``query`` usually empty: the question
is ``fullInput``) and shows whatever list comes back as context items, formatted here like
Continue's own codebase provider. Errors are a 4xx/5xx whose body is still a list of one item.
With ``options.map: true`` (the second provider ``ragpilot continue-config`` declares) the answer is the
repo map instead, one item per repository, personalised by the question (``budget_tokens`` is its budget).
"""

from __future__ import annotations

import posixpath

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...indexer.errors import UsageError
from ...retrieval.render import fenced
from ...retrieval.repomap import RepoMap
from ...retrieval.repomap_settings import checked_map_tokens
from ..rag import Snippet, repo_maps
from ..repos import ServedRepo
from ..schemas import RetrieveOptions, RetrieveRequest
from ..state import get_state

router = APIRouter()


def context_item(snippet: Snippet) -> dict:
    """Like Continue's codebase provider: "<basename> (<start>-<end>)", the relative path, a fenced block."""
    p = snippet.piece
    return {
        "name": f"{posixpath.basename(p.path)} ({p.start_line}-{p.end_line})",
        "description": p.path,
        "content": fenced(p.text, p.path),
        "uri": {"type": "file", "value": snippet.uri},
    }


def map_item(repo: ServedRepo, repo_map: RepoMap) -> dict:
    """The map of one repository as one context item (the files it shows, with their key signatures)."""
    return {
        "name": f"repo map ({repo.name})",
        "description": f"{len(repo_map.files)} of {repo_map.files_total} files, key signatures",
        "content": fenced(repo_map.text or "(no definitions indexed)", f"{repo.name} repo map"),
        "uri": {"type": "file", "value": repo.root.as_uri()},
    }


@router.post("/retrieve")
async def retrieve(body: RetrieveRequest, request: Request) -> list[dict]:
    state = get_state(request)
    question = body.query.strip() or body.fullInput.strip()
    if not question:
        raise UsageError("the question is empty: type it after @ragpilot in Continue")
    opts = body.options or RetrieveOptions()
    targets = state.repos.select(repo=opts.repo, workspace=body.workspacePath)
    if opts.map:
        budget = checked_map_tokens(opts.budget_tokens, state.settings.repomap.map_tokens)
        maps = await run_in_threadpool(repo_maps, targets, question, budget_tokens=budget)
        return [map_item(repo, m) for repo, m in maps]
    snippets = await run_in_threadpool(
        state.retriever.snippets, question, targets,
        k=opts.k or state.settings.k,
        budget_tokens=opts.budget_tokens or state.settings.context_tokens,
        rerank=state.settings.rerank if opts.rerank is None else opts.rerank,
        mode=opts.mode or "hybrid",
    )
    return [context_item(s) for s in snippets]
