"""One error hierarchy for ragpilot; the CLI and HTTP layers translate it at the edges.

A leaf module: it imports nothing of ours.
"""


class RagpilotError(Exception):
    """A problem the user can act on. The CLI prints ``str(err)`` on one line, no traceback."""

    exit_code = 1
    http_status = 400
    error_type = "invalid_request_error"


class UsageError(RagpilotError):
    """Bad arguments: a missing path, a file where a directory was expected."""

    exit_code = 2


class IndexMissingError(RagpilotError):
    """The repository has not been indexed yet."""

    http_status = 404


class IndexIncompatibleError(RagpilotError):
    """The index was built differently (embedder, schema, chunker) or is damaged.

    The message always names the one-command fix: ``ragpilot index --rebuild``.
    """

    http_status = 409


class IndexBusyError(RagpilotError):
    """Another process holds the index's writer lock."""

    http_status = 409


class IndexLostError(RagpilotError):
    """The index folder (or its writer lock) was removed or replaced while this process was writing it."""

    http_status = 503
    error_type = "server_error"


class ModelLoadError(RagpilotError):
    """An embedder, reranker or chat model could not be loaded (missing extra, file, or server)."""

    http_status = 503
    error_type = "server_error"


class BackendError(RagpilotError):
    """An upstream model server failed or could not be reached."""

    http_status = 502
    error_type = "server_error"


class MissingExtraError(ModelLoadError):
    """An optional dependency is not installed; the message names the pip extra."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'ragpilot[{extra}]'"
        )
        self.package = package
        self.extra = extra
