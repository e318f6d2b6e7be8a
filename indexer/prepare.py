"""The prepare stage of indexing: read, filter, redact and chunk each file, and compute its full-text
columns and symbols, in worker processes when there is enough work for them.

Preparing is pure per-file CPU work (~1 ms a chunk: the tokenizer's counts, tree-sitter, the
code-aware tokenizer, symbol extraction) and ran on one core while the others idled; writing (LanceDB,
the symbol store, the catalog) stays in the indexer's process, in the same order and the same batches,
so crash safety and the catalog's meaning do not depend on how many workers prepared the files.

Workers are forked (where the OS offers ``fork``): they inherit the embedder already loaded, so its
tokenizer is never loaded again nor pickled, and they only run pure-Python and tokenizer/tree-sitter
code (never LanceDB or the ONNX session the parent's threads use). Small runs (the watcher's edits,
tests) prepare in-process: a pool costs more than it saves below :data:`POOL_MIN_FILES` files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

from .chunking import chunk_file
from .embedders.devices import machine_cores, resolve_workers
from .filters import content_skip_reason, decode_text
from .redact import redact_secrets
from .symbols.extract import FileSymbols, extract_symbols
from .types import Chunk
from .walk import FileEntry

log = logging.getLogger(__name__)

# Below this many files a run prepares in-process: forking the workers and shipping the results back
# costs more than a second core saves (a watcher's edit is a handful of files).
POOL_MIN_FILES = 256
# Files per task sent to a worker: large enough to amortise a round trip (~10 ms of work), small
# enough that the last batch of a run is shared evenly.
TASK_FILES = 8
# Tasks in flight per worker ahead of the writer: bounds the prepared rows held in memory while the
# writer commits (each task is ~80 chunks).
TASKS_AHEAD_PER_WORKER = 4

FtsFields = Callable[[Chunk, str], tuple[str, ...]]  # pipeline.fts_fields(chunk, text as chunked)
TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class PrepareOptions:
    """What preparing a file depends on besides the file itself (the same in every worker)."""

    budget: int  # the embedder's token budget per chunk
    scan_secrets: bool
    max_chunks_per_file: int
    symbols: bool  # extract symbols (the symbol index is on)


@dataclass
class PreparedFile:
    """One file's outcome. ``skip`` is empty when the file is to be written, ``"unchanged"`` when its
    bytes match the catalog (only its mtime is refreshed), else the skip reason."""

    rel: str
    sha256: str = ""
    skip: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    fts: list[tuple[str, ...]] = field(default_factory=list)  # one per chunk, as fts_fields gives it
    symbols: FileSymbols | None = None
    secrets_redacted: int = 0
    detail: str = ""  # for the log line of a skip (the OS error, the chunk count)


def prepare_file(entry: FileEntry, known_sha256: str | None, options: PrepareOptions,
                 count_tokens: TokenCounter, fts_fields: FtsFields) -> PreparedFile:
    """Read, filter, redact and chunk ``entry``; its full-text columns and symbols come along."""
    try:
        data = entry.abs.read_bytes()
    except OSError as err:
        return PreparedFile(entry.rel, skip="unreadable", detail=str(err))
    digest = hashlib.sha256(data).hexdigest()
    if known_sha256 == digest:
        return PreparedFile(entry.rel, digest, skip="unchanged")
    reason = content_skip_reason(entry.rel, data, scan_secrets=options.scan_secrets)
    text = None if reason else decode_text(data)
    if reason is None and text is None:
        reason = "not-utf8"
    if reason is not None:
        return PreparedFile(entry.rel, digest, skip=reason)
    redacted = 0
    if options.scan_secrets:  # values named as secrets never reach a chunk
        text, redacted = redact_secrets(text, entry.rel)
    # The chunker counts some texts more than once (a unit, then the group it joins: ~20 % of calls on
    # Python); counting is the costliest step of chunking, and a count never changes within a file.
    chunks = chunk_file(entry.rel, text, budget=options.budget, count_tokens=lru_cache(maxsize=None)(count_tokens))
    # Rows must carry the catalog's path exactly, or a later delete/rename leaves them behind
    # (the chunker rewrites "\\" to "/", a legal character in a POSIX file name).
    chunks = [c if c.path == entry.rel else dataclasses.replace(c, path=entry.rel) for c in chunks]
    if len(chunks) > options.max_chunks_per_file:
        return PreparedFile(entry.rel, digest, skip="too-many-chunks", detail=str(len(chunks)))
    return PreparedFile(
        entry.rel, digest, chunks=chunks, fts=[fts_fields(c, text) for c in chunks],
        symbols=extract_symbols(entry.rel, text) if options.symbols else None, secrets_redacted=redacted,
    )


def resolve_index_workers(index_workers: int | None, embed_threads: int | None = None,
                          cores: int | None = None) -> int:
    """Processes preparing files: ``index_workers`` if set, else the embedder's cap
    (``RAGPILOT_EMBED_THREADS``: a machine shared with other work), else one per core."""
    requested = index_workers if index_workers is not None else embed_threads
    return resolve_workers(requested, cores if cores is not None else machine_cores())


class FilePreparer:
    """Prepares files in order, in batches, in-process or on a pool of forked workers."""

    def __init__(self, options: PrepareOptions, count_tokens: TokenCounter, fts_fields: FtsFields,
                 workers: int = 1):
        self.options = options
        self.count_tokens = count_tokens
        self.fts_fields = fts_fields
        self.workers = max(1, workers)

    def batches(self, candidates: list[FileEntry], known: Mapping, batch_size: int
                ) -> Iterator[tuple[list[FileEntry], list[PreparedFile]]]:
        """``(batch, prepared)`` for each run of ``batch_size`` candidates, in order; ``known`` maps a
        path to its catalog record (a file whose bytes match it comes back ``"unchanged"``)."""
        batch_size = max(1, batch_size)
        work = [(e, rec.sha256 if (rec := known.get(e.rel)) is not None else None) for e in candidates]
        if self.workers <= 1 or len(work) < POOL_MIN_FILES or not _can_fork():
            for start in range(0, len(work), batch_size):
                part = work[start : start + batch_size]
                yield [e for e, _ in part], [self._one(e, sha) for e, sha in part]
            return
        yield from self._pooled(work, batch_size)

    def _one(self, entry: FileEntry, sha: str | None) -> PreparedFile:
        return prepare_file(entry, sha, self.options, self.count_tokens, self.fts_fields)

    def _pooled(self, work: list, batch_size: int) -> Iterator[tuple[list[FileEntry], list[PreparedFile]]]:
        tasks = [work[i : i + TASK_FILES] for i in range(0, len(work), TASK_FILES)]
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_init, initargs=(os.getpid(), self.options, self.count_tokens, self.fts_fields),
        )
        log.debug("preparing %d files on %d worker processes", len(work), self.workers)
        pending: deque[Future] = deque()
        submitted = 0
        ahead = self.workers * TASKS_AHEAD_PER_WORKER
        try:
            done: list[PreparedFile] = []
            start = 0
            while start < len(work):
                while submitted < len(tasks) and len(pending) < ahead:
                    with warnings.catch_warnings():  # the first submit forks the workers (see _quiet_fork)
                        _quiet_fork()
                        pending.append(pool.submit(_prepare_task, tasks[submitted]))
                    submitted += 1
                done.extend(pending.popleft().result())
                while len(done) >= batch_size or (done and start + len(done) >= len(work)):
                    part, done = done[:batch_size], done[batch_size:]
                    yield [e for e, _ in work[start : start + len(part)]], part
                    start += len(part)
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _quiet_fork() -> None:
    """LanceDB warns in every forked child that its async runtime was reset and that a fork during one
    of its operations might deadlock there: workers never call LanceDB, so the warning is noise (the
    children inherit this filter)."""
    warnings.filterwarnings("ignore", message="lancedb fork support", category=RuntimeWarning)


# A worker's state, set once by _worker_init (inherited by fork, never pickled).
_STATE: tuple[PrepareOptions, TokenCounter, FtsFields] | None = None


def _worker_init(parent_pid: int, options: PrepareOptions, count_tokens: TokenCounter,
                 fts_fields: FtsFields) -> None:
    global _STATE
    _STATE = (options, count_tokens, fts_fields)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it shuts us down)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """A killed parent never sends the pool's stop message: a worker must not wait for it forever."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


def _prepare_task(part: list[tuple[FileEntry, str | None]]) -> list[PreparedFile]:
    assert _STATE is not None, "worker not initialised"
    options, count_tokens, fts_fields = _STATE
    return [prepare_file(e, sha, options, count_tokens, fts_fields) for e, sha in part]


__all__ = ["FilePreparer", "PrepareOptions", "PreparedFile", "prepare_file", "resolve_index_workers"]
