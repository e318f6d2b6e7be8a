"""Serving-only errors, in the one hierarchy; ``code`` becomes the OpenAI error's ``code`` field."""

from __future__ import annotations

from ..indexer.errors import BackendError, RagpilotError


class ModelNotFoundError(RagpilotError):
    """The request names a model this server does not serve."""

    http_status = 404
    code = "model_not_found"

    def __init__(self, model: str, available: list[str]):
        super().__init__(f"The model '{model}' does not exist; available: {', '.join(available)}")


class RepoNotServedError(RagpilotError):
    """The request selects a repository (by path, name or workspace) that this server does not serve."""

    http_status = 404
    code = "repo_not_found"


class IndexingInProgressError(RagpilotError):
    """The repository's first index is still being built; try again shortly."""

    http_status = 503
    error_type = "server_error"
    code = "index_not_ready"


class ContextLengthError(RagpilotError):
    """The prompt does not fit the model's context window."""

    code = "context_length_exceeded"


class UpstreamError(BackendError):
    """The upstream model server answered with an error; ``status`` is what we answer with."""

    def __init__(self, message: str, *, status: int = 502, code: str | None = None):
        super().__init__(message)
        self.http_status = status
        self.code = code
        if status < 500:
            self.error_type = "invalid_request_error"


class BackendUnavailableError(BackendError):
    """The model server cannot be reached (down, refusing connections, timing out)."""

    http_status = 503
    code = "backend_unavailable"


class ClientDisconnectedError(RagpilotError):
    """The client went away before its answer was ready: the work for it was stopped. Nobody reads
    the answer; 499 is what the access log shows (nginx's "client closed request")."""

    http_status = 499
    code = "client_disconnected"
