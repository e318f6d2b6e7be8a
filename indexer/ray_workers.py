"""What the Ray engine runs on the cluster's workers: the callables Ray Data maps over batches of rows.

Nothing here imports Ray: a plain function (preparing: Ray Data tasks) and a plain class (embedding:
one instance per actor, so the model loads once per actor) over plain rows, calling the very functions
the local engine calls (``prepare_file``, ``chunk_file``, ``Embedder.embed_documents``), which is what
keeps chunk ids and vectors identical.
Results travel back to the driver pickled in one ``bytes`` column: no Arrow schema to keep in step with
the dataclasses. Workers read the files by absolute path, so every node must see the repository at the
same path (one machine, or a shared filesystem).
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import chunk_file
from .chunking.counting import token_counter
from .embedders import Embedder, create_embedder
from .filters import decode_text
from .pipeline import fts_fields
from .prepare import PrepareOptions, TokenCounter, prepare_file
from .redact import redact_secrets
from .walk import FileEntry


@dataclass(frozen=True)
class EmbedderSpec:
    """How a worker builds the driver's embedder: the same registry name and options (threads set to
    the cores the actor holds, since each actor owns a share of the machine)."""

    name: str
    options: dict

    def create(self) -> Embedder:
        return create_embedder(self.name, **self.options)


@dataclass(frozen=True)
class EmbedWork:
    """One batch of the embedding phase (the rows of whole files, ~128 chunks): the files with the
    content hash the catalog has for them, and the texts to embed, in the order the local engine
    embeds them (so ``embed_documents`` forms the same sub-batches and gives the same vectors)."""

    root: str
    paths: list[str]
    shas: list[str]
    missing: list[str]  # content hashes not in the embedding cache, first use in the queue order


@dataclass
class EmbedResult:
    texts: dict[str, dict[str, str]]  # path -> content hash -> embed text ({} when the file changed)
    digests: list[str]  # the content hashes embedded, rows of ``vectors``
    vectors: np.ndarray


def prepare_files(batch: dict[str, np.ndarray], *, embedder: EmbedderSpec, options: PrepareOptions
                  ) -> dict[str, np.ndarray]:
    """Ray Data task: read, filter, redact and chunk each file of a batch (``prepare_file``). A task, not
    an actor: a pool of actors costs Ray Data 2-4 s to start for every run, tasks reuse warm workers."""
    count_tokens = _counter_for(embedder)
    out = []
    for rel, path, size, mtime_ns, sha in zip(batch["rel"], batch["abs"], batch["size"], batch["mtime_ns"],
                                              batch["sha"], strict=True):
        entry = FileEntry(str(rel), Path(str(path)), int(size), int(mtime_ns))
        result = prepare_file(entry, str(sha) or None, options, count_tokens, fts_fields)
        out.append(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return {"rel": np.asarray(batch["rel"], dtype=object), "prepared": np.array(out, dtype=object)}


# A worker process's token counters, one per embedder spec: its tokenizer loads once per process.
_COUNTERS: dict[tuple, TokenCounter] = {}


def _counter_for(spec: EmbedderSpec) -> TokenCounter:
    key = (spec.name, tuple(sorted((k, repr(v)) for k, v in spec.options.items())))
    if key not in _COUNTERS:
        _COUNTERS[key] = token_counter(spec.create())  # the local engine's counter: the same counts
    return _COUNTERS[key]


class EmbedBatches:
    """Ray Data callable (an actor, on a GPU when the cluster has them): chunk the files of each
    :class:`EmbedWork` again and embed its missing texts."""

    def __init__(self, embedder: EmbedderSpec, scan_secrets: bool):
        self.embedder = embedder.create()
        self.scan_secrets = scan_secrets

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = [pickle.dumps(self.embed(pickle.loads(work)), protocol=pickle.HIGHEST_PROTOCOL)
               for work in batch["work"]]
        return {"result": np.array(out, dtype=object)}

    def embed(self, work: EmbedWork) -> EmbedResult:
        texts = {path: embed_texts(Path(work.root), path, sha, scan_secrets=self.scan_secrets,
                                   embedder=self.embedder) for path, sha in zip(work.paths, work.shas, strict=True)}
        found = {digest: text for per_file in texts.values() for digest, text in per_file.items()}
        digests = [d for d in work.missing if d in found]
        vectors = self.embedder.embed_documents([found[d] for d in digests])
        return EmbedResult(texts, digests, vectors)


def embed_texts(root: Path, path: str, sha256: str, *, scan_secrets: bool, embedder: Embedder) -> dict[str, str]:
    """content hash -> embed text of ``path``'s chunks when its bytes are still those indexed, else {}.

    The same steps as ``Indexer._embed_texts`` (which reads the hash from the catalog itself); the
    engine test compares the vectors both engines store, so the two cannot drift apart unnoticed."""
    try:
        data = (root / path).read_bytes()
    except OSError:
        return {}
    if not sha256 or hashlib.sha256(data).hexdigest() != sha256:
        return {}
    text = decode_text(data)
    if text is None:
        return {}
    if scan_secrets:
        text, _ = redact_secrets(text, path)
    chunks = chunk_file(path, text, budget=embedder.token_budget(), count_tokens=token_counter(embedder))
    return {c.content_hash: c.embed_text for c in chunks}


__all__ = ["EmbedBatches", "EmbedResult", "EmbedWork", "EmbedderSpec", "embed_texts", "prepare_files"]
