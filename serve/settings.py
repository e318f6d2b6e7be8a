"""Serving settings: one typed object (RAGPILOT_* env vars, then CLI flags), passed down explicitly.

Access rule: the server binds loopback by default; a non-loopback host needs an API key or a team keys
file (or the explicit ``insecure_no_auth``), because the endpoints hand out the code of the served
repositories.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..indexer.errors import UsageError
from ..indexer.settings import IndexSettings
from ..retrieval.repomap_settings import RepoMapSettings
from ..retrieval.settings import DEFAULT_RERANKER, MAX_K, RetrievalSettings

DEFAULT_PORT = 8765
RAG_MODEL = "ragpilot"
RAW_MODEL = "ragpilot-raw"


class ServeSettings(BaseSettings):
    """What ``ragpilot serve`` / ``ragpilot mcp`` need; ``index`` carries the indexing layer's settings."""

    model_config = SettingsConfigDict(env_prefix="RAGPILOT_", extra="ignore")

    repos: list[Path] = Field(default_factory=list)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    repomap: RepoMapSettings = Field(default_factory=RepoMapSettings)  # repo map, chat map slice, expansion

    # network and access
    host: str = Field("127.0.0.1", description="Interface to bind (other than loopback needs --api-key).")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="Port to serve on.")
    api_key: str | None = Field(None, description="Require 'Authorization: Bearer KEY' (also RAGPILOT_API_KEY).")
    keys_file: Path | None = Field(
        None, description="TOML file of team API keys and the repositories each may read (also RAGPILOT_KEYS_FILE).")
    insecure_no_auth: bool = Field(False, description="Allow a non-loopback host without a key.")
    max_request_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Larger request bodies get a 413.")

    # indexing while serving
    index_on_start: bool = Field(True, description="Index each repository incrementally at start.")
    watch: bool = Field(True, description="Keep the index live with a file watcher after the start-up pass.")
    watch_debounce_s: float = Field(0.25, ge=0.0, description="Quiet seconds before a batch of changes is applied.")
    # a replica of a shared index (DEPLOY.md): never writes, follows the writer's commits
    read_only: bool = Field(
        False, description="Serve the index as a replica: no indexing, no watcher; follow the writer's commits.")
    refresh_s: float = Field(
        5.0, gt=0.0, description="A read-only replica serves each commit within this many seconds.")
    replica_local_copy: bool = Field(
        True, description="A replica of an index on object storage reads a local copy, updated before each "
                          "look (queries at local-disk speed); false: read the store directly.")

    # retrieval defaults
    k: int = Field(8, ge=1, le=MAX_K, description="Snippets to retrieve per question.")
    rerank: bool = Field(False, description="Rerank with a cross-encoder by default (a request can still ask).")
    reranker: str = Field(DEFAULT_RERANKER, description="Reranker used when asked to rerank (loaded on first use).")
    rerank_model: str | None = None
    rerank_url: str | None = None
    context_tokens: int = Field(1500, ge=1, description="Token budget for retrieved code per question.")

    # chat backend: "llama-cpp" (in-process GGUF) or "openai-upstream"; None picks by the flags given
    chat_backend: str | None = Field(
        None, description="Chat backend (default llama-cpp, or openai-upstream when --upstream is given).")
    model: Path | None = Field(
        None, description="GGUF chat model for llama-cpp (default: the packaged SmolLM2-135M-Instruct).")
    n_threads: int = Field(default_factory=lambda: max(1, min(2, os.cpu_count() or 1)), ge=1,
                           description="Threads for llama-cpp (default: 1-2, by the cores available).")
    n_ctx: int = Field(4096, ge=256, description="Context window for llama-cpp.")
    upstream: str | None = Field(
        None, description="OpenAI-compatible server to chat through, e.g. http://127.0.0.1:8080/v1.")
    upstream_model: str | None = Field(None, description="Model name to ask the upstream for (default: its first).")
    upstream_key: str | None = Field(None, description="API key for the upstream server.")
    upstream_timeout: float = 120.0  # seconds to wait for the upstream's next byte
    upstream_connect_timeout: float = 3.0
    max_tokens: int = 512  # default completion length when a request names none

    # /v1/completions may use another backend (a FIM-capable coder model)
    completion_upstream: str | None = Field(None, description="Another OpenAI-compatible server for /v1/completions.")
    completion_model: Path | None = Field(
        None, description="Another GGUF (llama-cpp) for /v1/completions, e.g. a FIM-capable coder model.")

    def chat_backend_name(self) -> str:
        if self.chat_backend:
            return self.chat_backend
        return "openai-upstream" if self.upstream else "llama-cpp"

    def reranker_options(self) -> dict:
        return {"model": self.rerank_model, "url": self.rerank_url}

    def check_access(self) -> None:
        """Refuse to expose the repositories on the network without a key (unless told to), and refuse
        a key that cannot work: blank (an empty key would even mean no key at all), or with spaces
        around it (a client's header value is trimmed, so it could never match)."""
        key = self.api_key
        if key is not None and (not key.strip() or key != key.strip()):
            what = "is blank" if not key.strip() else "has spaces around it"
            raise UsageError(f"the API key (--api-key / RAGPILOT_API_KEY) {what}: give a key without "
                             "spaces, or none at all to serve on loopback without one")
        if not is_loopback(self.host) and not self.needs_key and not self.insecure_no_auth:
            raise UsageError(
                f"binding {self.host} exposes your code to the network: set --api-key "
                "(or RAGPILOT_API_KEY) or --keys (team keys), or pass --insecure-no-auth if you really mean it"
            )

    @property
    def needs_key(self) -> bool:
        """Whether a request must carry a key (the single API key, or a team key of the keys file)."""
        return bool(self.api_key) or self.keys_file is not None


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
