"""Indexing settings: one typed object fed by RAGPILOT_* env vars and CLI flags, passed down explicitly."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .location import default_home, index_location

# The one default embedder name: all-MiniLM-L6-v2 as int8 ONNX, packaged, runs on the base install (no
# PyTorch). bench/bench_embedders.py on 300 stdlib functions, one thread, batch 32: cosine to fp32 PyTorch
# mean 0.9995, min 0.9991, top-10 neighbour overlap 98 %; ~21 vs ~20 chunks per CPU-second; query p50
# ~9 ms vs ~24 ms; load 0.2 s vs 12 s.
DEFAULT_EMBEDDER = "minilm-onnx"


class IndexSettings(BaseSettings):
    """What the indexer needs to know. ``RAGPILOT_HOME`` moves every index; ``--index-dir`` one."""

    model_config = SettingsConfigDict(env_prefix="RAGPILOT_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    index_dir: Path | None = Field(None, description="Index location (default: under $RAGPILOT_HOME).")
    index_uri: str | None = Field(
        None, description="A shared index: s3://bucket/prefix, gs://, az:// or a shared folder (see DEPLOY.md).")
    embedder: str = Field(DEFAULT_EMBEDDER, description="Embedder name (see `ragpilot embedders`).")
    embed_model: str | None = Field(
        None, description="Model for the embedder: hub id, local dir, ONNX or GGUF file, or remote model name.")
    embed_url: str | None = Field(None, description="Ollama or OpenAI-compatible embeddings endpoint.")
    embed_api_key: str | None = None
    # None: one worker per core this process may use (os.sched_getaffinity); see embedders/devices.py.
    embed_threads: int | None = Field(
        None, ge=1, description="Embedding workers (threads) at most (default: one per CPU core).")
    # None: as many as embed_threads allows, else one per core (prepare.py); 1 prepares in-process.
    index_workers: int | None = Field(
        None, ge=1, description="Processes reading and chunking files at most (default: one per CPU core).")
    embed_device: str | None = Field(
        None, description="auto, cpu or cuda: auto uses a GPU when onnxruntime-gpu or torch sees one.")
    embed_batch_size: int | None = None
    max_file_bytes: int = Field(1 << 20, ge=1, description="Skip files larger than this many bytes.")
    scan_secrets: bool = Field(True, description="Skip files whose content looks like a secret.")
    files_per_batch: int = 64
    # A file cut into more chunks than this is skipped ("too-many-chunks"): a 1 MiB one-line .py file
    # made ~2,900 chunks (~5 minutes to embed). Dense hand-written code reaches ~3.7 chunks/KB, so no
    # density rule separates the two; the largest hand-written files measured (scipy, numpy, sympy,
    # 400-520 KB) made 1,100-1,500 chunks, and 2,000 keeps them while halving the worst case under the
    # 1 MiB file limit (~4,000 chunks).
    max_chunks_per_file: int = Field(default=2000, ge=1)
    # The watcher rebuilds the full-text indices once rows deleted or rewritten since the last build
    # pass this share of the table (BM25 statistics drift until then); 0 keeps them exact every commit.
    fts_rebuild_share: float = Field(default=0.1, ge=0.0)
    # The symbol index (definitions and references for `ragpilot def/refs/map`), built in the same pass.
    symbols: bool = Field(True, description="Extract symbols (definitions, references) while indexing.")

    def embedder_options(self) -> dict:
        """Options for the embedder registry; ``None`` values are left to each backend's defaults."""
        return {
            "model": self.embed_model,
            "url": self.embed_url,
            "api_key": self.embed_api_key,
            "threads": self.embed_threads,
            "device": self.embed_device,  # only when set: embedders without a device choice refuse it
            "batch_size": self.embed_batch_size,
        }

    def index_dir_for(self, repo_root: Path) -> Path:
        """Where ``repo_root``'s index lives: ``--index-dir``, else ``$RAGPILOT_HOME/indexes/<name>-<hash>``;
        with ``--index-uri``, the local folder bound to the shared index (store_uri.py)."""
        return index_location(repo_root, home=self.home, index_dir=self.index_dir, index_uri=self.index_uri)
