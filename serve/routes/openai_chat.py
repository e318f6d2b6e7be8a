"""``POST /v1/chat/completions``: OpenAI-compatible chat, with retrieval for the ``ragpilot`` model.

For ``ragpilot`` the latest user turn (joined with the previous ones when it is a short follow-up)
is searched, the snippets go into the system message as numbered, quoted reference material, and the
answer ends with a "Sources" list of their ``path:start-end`` (in streaming: a last content delta
before the finish chunk). ``ragpilot-raw`` and the backend's own model id pass straight through.
The extra body field ``ragpilot: {"retrieval", "k", "repo", "rerank"}`` overrides per request.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..llm import ChatBackend, GenParams, Usage
from ..openai_format import chat_completion, prime, stream_response
from ..prompt import message_text, rag_messages, retrieval_query, sources_block
from ..rag import Snippet, pieces_of
from ...retrieval.settings import SEARCHED_QUERY_CHARS
from ..schemas import ChatCompletionRequest, RagOptions
from ..state import AppState, get_state

router = APIRouter()

PROMPT_OVERHEAD_TOKENS = 300  # the instructions around the snippets, and the chat template's markup


def context_budget(backend: ChatBackend, messages: list[dict], max_tokens: int, wanted: int) -> int:
    """Tokens left for retrieved code: what was asked for, within the model's window (if known)."""
    if not backend.context_window:
        return wanted
    used = sum(backend.count_tokens(message_text(m.get("content"))) + 4 for m in messages)
    room = backend.context_window - max_tokens - used - PROMPT_OVERHEAD_TOKENS
    return max(0, min(wanted, room))


def with_context(state: AppState, backend: ChatBackend, messages: list[dict], opts: RagOptions,
                 max_tokens: int) -> tuple[list[dict], list[Snippet]]:
    """The messages with retrieved context added, and the snippets used (runs in a worker thread)."""
    settings = state.settings
    targets = state.repos.select(repo=opts.repo)
    # A pasted file is not a search query: keep its end, as much of it as the searcher reads (it would
    # otherwise cut the start of a longer text and search the pasted file instead of the question).
    query = retrieval_query(messages)[-SEARCHED_QUERY_CHARS:]
    snippets: list[Snippet] = []
    budget = context_budget(backend, messages, max_tokens, settings.context_tokens)
    if query and budget > 0:
        snippets = state.retriever.snippets(
            query, targets, k=opts.k or settings.k, budget_tokens=budget, count_tokens=backend.count_tokens,
            rerank=settings.rerank if opts.rerank is None else opts.rerank, repomap=settings.repomap,
        )
    return rag_messages(messages, pieces_of(snippets), [r.name for r in targets]), snippets


@router.post("/v1/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request):
    state = get_state(request)
    backend, retrieval_default = state.models.resolve_chat(body.model)
    opts = body.ragpilot or RagOptions()
    retrieval = retrieval_default if opts.retrieval is None else opts.retrieval
    messages = [m.model_dump(exclude_none=True) for m in body.messages]
    params = GenParams(max_tokens=body.token_limit() or state.settings.max_tokens, temperature=body.temperature,
                       top_p=body.top_p, stop=body.stop_list(), seed=body.seed)
    snippets: list[Snippet] = []
    if retrieval:
        messages, snippets = await run_in_threadpool(with_context, state, backend, messages, opts,
                                                     params.max_tokens)
    tail = sources_block(pieces_of(snippets))
    if not body.stream:
        generation = await backend.chat(messages, params)
        return chat_completion(body.model, generation, tail)

    stream = backend.stream_chat(messages, params)
    first = await prime(stream)
    usage = None
    if body.include_usage():
        prompt_tokens = await run_in_threadpool(
            lambda: sum(backend.count_tokens(message_text(m.get("content"))) for m in messages))
        usage = lambda n: Usage(prompt_tokens, n)  # noqa: E731  (one delta is about one token)
    return stream_response(stream, first, kind="chat", model=body.model, tail=tail, usage=usage)
