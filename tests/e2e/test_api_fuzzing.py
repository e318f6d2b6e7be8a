"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis).

Every operation gets schema-valid and schema-invalid bodies; the properties checked are: never a
5xx, a documented status code and content type, and a body that matches the documented schema
(the OpenAI error shape, or Continue's context items on /retrieve). Real components: a real index
(hashing embedder), the real upstream chat backend talking to a small OpenAI-compatible server.

It starts no process (the app runs in process over ASGI) but lives in tests/e2e because hypothesis
draws ~25 requests per operation: ~15 s, too slow for the quick loop.
"""

from __future__ import annotations

import pytest
import schemathesis
from samples import SAMPLE_FILES, write_files
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.app import create_app
from ragpilot.serve.llm.upstream import UpstreamBackend
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.settings import ServeSettings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, upstream):
    root = tmp_path_factory.mktemp("work") / "proj"
    write_files(root, SAMPLE_FILES)
    index = IndexSettings(home=tmp_path_factory.mktemp("home"), embedder="hashing")
    repos = RepoSet.from_paths([root], index)
    repos.start(watch=False)
    assert repos.wait_ready(120)
    llm = UpstreamBackend(upstream.url, model=upstream.model)
    app = create_app(ServeSettings(repos=[root], index=index), repos=repos, llm=llm)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    repos.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_the_schema_allows_or_forbids_gets_a_server_error_or_an_undocumented_answer(case):
    case.call_and_validate(checks=CHECKS)


def test_the_schema_documents_the_openai_error_shape_instead_of_fastapis_422(api_schema):
    raw = api_schema.raw_schema
    assert "HTTPValidationError" not in raw["components"]["schemas"]
    chat = raw["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert "422" not in chat and chat["400"]["content"]["application/json"]["schema"]["$ref"].endswith("OpenAIError")
    assert "text/event-stream" in chat["200"]["content"]
    retrieve = raw["paths"]["/retrieve"]["post"]["responses"]
    assert retrieve["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ContextItems")

