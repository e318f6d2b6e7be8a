"""One error hierarchy for ragpilot; the CLI and HTTP layers translate it at the edges.

A leaf module: it imports nothing of ours and knows nothing of HTTP (``serve/http_errors.py`` holds the
one table from these classes to statuses and OpenAI error types). ``exit_code`` is the CLI's.
"""


class RagpilotError(Exception):
    """A problem the user can act on. The CLI prints ``str(err)`` on one line, no traceback."""

    exit_code = 1


class UsageError(RagpilotError):
    """Bad arguments: a missing path, a file where a directory was expected."""

    exit_code = 2


# ----- the index ---------------------------------------------------------------------------------
class IndexMissingError(RagpilotError):
    """The repository has not been indexed yet."""


class IndexIncompatibleError(RagpilotError):
    """The index was built differently (embedder, schema, chunker) or is damaged.

    The message always names the one-command fix: ``ragpilot index --rebuild``.
    """


class IndexBusyError(RagpilotError):
    """Another process holds the index's writer lock."""


class IndexLostError(RagpilotError):
    """The index folder (or its writer lock) was removed or replaced while this process was writing it."""


class IndexingInProgressError(RagpilotError):
    """The repository's first index is still being built; try again shortly."""


# ----- models and model servers ------------------------------------------------------------------
class ModelLoadError(RagpilotError):
    """An embedder, reranker or chat model could not be loaded (missing extra, file, or server)."""


class MissingExtraError(ModelLoadError):
    """An optional dependency is not installed; the message names the pip extra."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'ragpilot[{extra}]'"
        )
        self.package = package
        self.extra = extra


class BackendError(RagpilotError):
    """An upstream model server failed or could not be reached."""


class BackendUnavailableError(BackendError):
    """The model server cannot be reached (down, refusing connections, timing out)."""


class UpstreamError(BackendError):
    """The upstream model server answered with an error.

    ``status`` is the upstream's own 4xx when the request itself was bad (passed on to our client),
    else 502; ``code`` is the upstream's error code, if it sent one.
    """

    def __init__(self, message: str, *, status: int = 502, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class ContextLengthError(RagpilotError):
    """The prompt does not fit the model's context window."""


# ----- requests ----------------------------------------------------------------------------------
class ModelNotFoundError(RagpilotError):
    """The request names a model this server does not serve."""

    def __init__(self, model: str, available: list[str]):
        super().__init__(f"The model '{model}' does not exist; available: {', '.join(available)}")


class RepoNotServedError(RagpilotError):
    """The request selects a repository (by path, name or workspace) that this server does not serve."""


class ClientDisconnectedError(RagpilotError):
    """The client went away before its answer was ready: the work for it was stopped."""
