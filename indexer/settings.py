"""Indexing settings: one typed object fed by RAGPILOT_* env vars and CLI flags, passed down explicitly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDER = "minilm-onnx"


class IndexSettings(BaseSettings):
    """What the indexer needs to know. ``RAGPILOT_HOME`` moves every index; ``--index-dir`` one."""

    model_config = SettingsConfigDict(env_prefix="RAGPILOT_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("ragpilot")))
    index_dir: Path | None = None
    embedder: str = DEFAULT_EMBEDDER
    embed_model: str | None = None  # hub id, local dir, ONNX or GGUF file, or remote model name
    embed_url: str | None = None  # ollama / OpenAI-compatible embeddings endpoint
    embed_api_key: str | None = None
    embed_threads: int | None = None  # backend default (1: two threads on two shared cores oversubscribe)
    embed_batch_size: int | None = None
    max_file_bytes: int = 1 << 20
    scan_secrets: bool = True
    files_per_batch: int = 64

    def embedder_options(self) -> dict:
        """Options for the embedder registry; ``None`` values are left to each backend's defaults."""
        return {
            "model": self.embed_model,
            "url": self.embed_url,
            "api_key": self.embed_api_key,
            "threads": self.embed_threads,
            "batch_size": self.embed_batch_size,
        }

    def index_dir_for(self, repo_root: Path) -> Path:
        """Where ``repo_root``'s index lives: ``--index-dir``, else ``$RAGPILOT_HOME/indexes/<name>-<hash>``."""
        if self.index_dir is not None:
            return self.index_dir.expanduser().resolve()
        root = repo_root.resolve()
        digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:12]
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", root.name)[:40] or "root"
        return (self.home.expanduser() / "indexes" / f"{name}-{digest}").resolve()
