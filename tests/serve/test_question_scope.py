"""Which chat questions get a repo-map slice: those about the repository as a whole or how its parts
connect (serve/prompt.is_repo_level), never pinpoint ones."""

from __future__ import annotations

import pytest

from ragpilot.serve.prompt import is_repo_level


@pytest.mark.parametrize("question", [
    "How is this project organised?",
    "Give me an overview of the architecture",
    "What are the main components?",
    "What happens to a request between the router and the handler?",
    "how does a request reach the handler",
    "Who calls send?",
    "which function calls parseSearchQuery",
    "where is RetryPolicy used?",
    "walk me through the indexing pipeline",
    "How does Client.send process a request through authentication, redirects and the transport?",
    "How are URL parameters captured while routing?",
    "Where is the middleware stack composed, and why must Use be called before any route is added?",
])
def test_questions_about_the_whole_or_how_parts_connect_are_repository_level(question):
    assert is_repo_level(question)


@pytest.mark.parametrize("question", [
    "what does should_retry return?",
    "where is LRUCache defined?",
    "fix the bug in parseSearchQuery",
    "Explain the LRU cache eviction strategy used by the storage package",
    "why does delay grow exponentially?",
    "What is the default backoff?",
    "write a test for RetryPolicy",
    "RetryPolicy",
    "",
])
def test_pinpoint_questions_are_not(question):
    assert not is_repo_level(question)
