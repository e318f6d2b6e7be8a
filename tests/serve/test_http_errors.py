"""One error hierarchy, mapped to HTTP in one table (serve/http_errors.py)."""

import pytest

from ragpilot.indexer import errors as e
from ragpilot.serve.http_errors import http_error


@pytest.mark.parametrize("err,status,kind,code", [
    (e.UsageError("x"), 400, "invalid_request_error", None),
    (e.IndexMissingError("x"), 404, "invalid_request_error", None),
    (e.IndexIncompatibleError("x"), 409, "invalid_request_error", None),
    (e.IndexBusyError("x"), 409, "invalid_request_error", None),
    (e.IndexLostError("x"), 503, "server_error", None),
    (e.IndexingInProgressError("x"), 503, "server_error", "index_not_ready"),
    (e.MissingExtraError("p", "llm", "x"), 503, "server_error", None),
    (e.BackendError("x"), 502, "server_error", None),
    (e.BackendUnavailableError("x"), 503, "server_error", "backend_unavailable"),
    (e.UpstreamError("x", status=422, code="bad"), 422, "invalid_request_error", "bad"),
    (e.UpstreamError("x"), 502, "server_error", None),
    (e.ContextLengthError("x"), 400, "invalid_request_error", "context_length_exceeded"),
    (e.ModelNotFoundError("m", ["a"]), 404, "invalid_request_error", "model_not_found"),
    (e.RepoNotServedError("x"), 404, "invalid_request_error", "repo_not_found"),
    (e.ClientDisconnectedError("x"), 499, "invalid_request_error", "client_disconnected"),
])
def test_every_error_maps_to_its_status_type_and_code(err, status, kind, code):
    assert tuple(http_error(err)) == (status, kind, code)


def test_an_error_class_nobody_listed_inherits_its_parents_row():
    class ExtensionLoadError(e.ModelLoadError):
        pass

    assert http_error(ExtensionLoadError("x")).status == 503


def test_the_error_hierarchy_knows_nothing_of_http():
    for cls in vars(e).values():
        if isinstance(cls, type) and issubclass(cls, e.RagpilotError):
            assert not {"http_status", "error_type"} & set(vars(cls)), cls
