"""The web page: ``GET /`` (the shell), ``/ui/static/*``, and the three views' data as HTML fragments.

``POST /ui/search`` runs the same search as ``/search`` and answers highlighted snippets;
``GET /ui/file`` shows one indexed file of a served repository (see ``serve/web/files.py`` for what
is refused); ``GET /ui/health`` renders ``/status`` plus the index's size, languages and coverage, and
during a start-up pass its progress with an ETA (the page polls it while a pass runs);
``GET /ui/skipped`` lists the paths the last start-up pass skipped for one reason.
Asking goes straight to ``/v1/chat/completions`` from the page. Only the shell and the static assets
are open without the API key (``serve/web/public.py``); everything here that returns data needs it.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ...indexer.live import WORKING_PHASES
from ..schemas import MAX_K, MAX_QUERY_CHARS
from ..state import get_state
from ..web import pages
from ..web.facts import ProgressSamples, index_facts
from ..web.files import FileRefused, read_indexed_file
from ..web.highlight import highlight_block, stylesheet
from ..web.public import SHELL_PATH, STATIC_FILES, STATIC_PREFIX
from . import health

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}  # repository data is not kept in the browser's cache
PROGRESS = ProgressSamples()  # the baseline of each running pass's rate, across polls of /ui/health


class UiSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    mode: Literal["hybrid", "lexical", "dense", "files"] = "hybrid"
    k: int = Field(10, ge=1, le=MAX_K)
    repo: str | None = None


@router.get(SHELL_PATH, response_class=HTMLResponse)
async def page() -> HTMLResponse:
    return HTMLResponse(_shell(), headers={"Cache-Control": "no-cache"})


def _shell() -> str:
    return pages.render("index.html")


@router.get(STATIC_PREFIX + "{name}")
async def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise HTTPException(404, f"no static file {name}")
    if name == "highlight.css":
        return Response(stylesheet(), media_type="text/css")
    body = (pages.STATIC / name).read_bytes()
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})


@router.post("/ui/search", response_class=HTMLResponse)
async def ui_search(body: UiSearch, request: Request) -> HTMLResponse:
    repos = get_state(request).repos
    targets = repos.select(repo=body.repo)
    several = len(repos.repos) > 1
    files = None
    if body.mode == "files":  # the searcher's file ranking, as `/search` with "files": true
        ranked = await run_in_threadpool(repos.search_files, body.query, targets, k=body.k)
        files = [{"best": views[0], "hits": views}
                 for repo, file_hit in ranked
                 if (views := [_hit_view(repo, place, several) for place in file_hit.places])]
        hits = [view for f in files for view in f["hits"]]
    else:
        found = await run_in_threadpool(repos.search, body.query, targets, k=body.k, mode=body.mode)
        hits = [_hit_view(repo, hit, several) for repo, hit in found]
    html = pages.render("search_results.html", hits=hits, files=files, mode=body.mode, query=body.query)
    return HTMLResponse(html, headers=NO_STORE)


def _hit_view(repo, hit, several: bool) -> dict:
    link = _file_link(repo.name, hit.path, hit.start_line, hit.end_line)
    return {"repo": repo.name, "path": hit.path, "shown_path": f"{repo.name}/{hit.path}" if several else hit.path,
            "start": hit.start_line, "end": hit.end_line, "symbol": hit.symbol, "score": float(hit.score),
            "language": hit.language, "link": link,
            "html": highlight_block(hit.content, language=hit.language, filename=hit.path,
                                    first_line=hit.start_line, anchors=False)}


def _file_link(repo: str, path: str, start: int, end: int) -> str:
    return f"/ui/file?{urlencode({'repo': repo, 'path': path, 'lines': f'{start}-{end}'})}#L{start}"


@router.get("/ui/file", response_class=HTMLResponse)
async def ui_file(request: Request, path: str = Query(max_length=4096), repo: str | None = Query(None),
                  lines: str | None = Query(None, max_length=40)) -> HTMLResponse:
    served, rel = _locate(get_state(request).repos, repo, path)
    try:
        shown = await run_in_threadpool(read_indexed_file, served.root, served.index_dir, rel,
                                        scan_secrets=served.settings.scan_secrets)
    except FileRefused as err:
        raise HTTPException(404, f"not an indexed file of a served repository: {err}") from None
    marked = _line_range(lines)
    code = await run_in_threadpool(lambda: highlight_block(shown.text, language=shown.language,
                                                           filename=shown.rel_path, marked=marked))
    html = pages.render("file.html", repo=served.name, path=shown.rel_path, language=shown.language,
                        code=code, lines=shown.text.count("\n") + 1, redacted=shown.secrets_redacted,
                        first=marked.start if marked else None)
    return HTMLResponse(html, headers=NO_STORE)


def _locate(repos, repo: str | None, path: str):
    """The served repository and the path inside it: by ``repo``, else the only repository, else the
    repository whose name starts the path (citations in answers over several repositories)."""
    if repo:
        return repos.by_name_or_path(repo), path
    if len(repos.repos) == 1:
        return repos.repos[0], path
    head, _, rest = path.partition("/")
    for served in repos.repos:
        if served.name == head and rest:
            return served, rest
    raise HTTPException(404, f"not an indexed file of a served repository: {path} names no served repository")


def _line_range(text: str | None) -> range | None:
    if not text:
        return None
    start, _, end = text.partition("-")
    try:
        first, last = int(start), int(end or start)
    except ValueError:
        return None
    return range(first, last + 1) if 0 < first <= last else None


@router.get("/ui/health", response_class=HTMLResponse)
async def ui_health(request: Request) -> HTMLResponse:
    status = await health.status(request)
    repos = []
    for info in status["repos"]:
        facts = await run_in_threadpool(index_facts, Path(info["index_dir"]), info.get("chunks"))
        summary = (info.get("indexing") or {}).get("summary") or {}
        skipped = sorted((summary.get("skipped_by_reason") or {}).items(), key=lambda kv: -kv[1])
        language_rows = [(lang["language"], lang["files"]) for lang in facts["languages"]]
        indexing = info.get("indexing") or {}
        repos.append({"info": info, "facts": facts, "skipped": skipped, "summary": summary,
                      "language_rows": language_rows, "working": indexing.get("phase") in WORKING_PHASES,
                      "progress": PROGRESS.progress(info["name"], indexing, time.time())})
    html = pages.render("health.html", status=status, repos=repos)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/ui/skipped", response_class=HTMLResponse)
async def ui_skipped(request: Request, repo: str = Query(max_length=4096),
                     reason: str = Query(max_length=100)) -> HTMLResponse:
    """The paths the last start-up pass skipped for ``reason`` (the first ``MAX_SKIPPED_PATHS`` kept)."""
    served = get_state(request).repos.by_name_or_path(repo)
    summary = served.state.summary or {}
    count = (summary.get("skipped_by_reason") or {}).get(reason)
    if not count:
        raise HTTPException(404, f"the last start-up pass of {served.name} skipped no files for '{reason}'")
    paths = (summary.get("skipped_examples") or {}).get(reason) or []
    html = pages.render("skipped.html", repo=served.name, reason=reason, paths=paths, count=count)
    return HTMLResponse(html, headers=NO_STORE)
