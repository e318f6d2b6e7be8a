"""The indexing orchestrator: walk -> diff against the catalog -> read, filter, chunk -> write to LanceDB
(vectors from the embedding cache, the rest marked unembedded) -> mark done -> full-text index; then
embed what is missing and fill the vectors in. It yields :class:`Progress` events; callers decide how
to show them.

Search first, embed after: embedding is ~100x slower than everything else (15-20 chunks/s on two
cores, 1.5-2 h for 100k chunks), so rows are written and the index is made ready for (lexical) search
before any chunk is embedded; hybrid search uses whatever is embedded so far. The embedding phase works
from the table itself (rows whose ``embedded`` flag is false), so a run killed during it resumes with
exactly the rows still missing; likely-useful files go first (:func:`embed_order.embed_priority`).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .catalog import CATALOG_FILE, FileRecord, open_catalog, open_embedding_cache
from .chunking import CHUNKER_VERSION, chunk_file
from .chunking.counting import token_counter
from .codetokens import code_tokens, path_tokens, to_fts_text
from .embed_order import embed_priority
from .embedders import Embedder, create_embedder
from .errors import RagpilotError, UsageError
from .filters import decode_text
from .location import resolve_repo  # re-exported: callers import it from here
from .lexical_context import context_text
from .lock import WriterLock
from .prepare import FilePreparer, PrepareOptions, PreparedFile, resolve_index_workers
from .redact import redact_secrets
from .settings import IndexSettings
from .store import META_FILE, IndexMeta, IndexStore, chunk_rows
from .storage_errors import TABLE
from .store_uri import binding
from .symbols.extract import FileSymbols
from .symbols.writer import SYMBOL_FILES, SymbolWriter
from .types import Chunk, SkipCounts
from .walk import FileEntry, IgnoreRules, entry_for, walk_repo
from .watch_status import STATUS_FILE

if TYPE_CHECKING:
    from .catalog import Catalog, EmbeddingCache
    from .store_tables import StoreCatalog, StoreEmbeddingCache

log = logging.getLogger(__name__)

# A watcher's edit with at most this many new texts is embedded before its rows are written (its dense
# results are then never behind); larger batches are written first and embedded after.
INLINE_EMBED_LIMIT = 64
# Rows filled in per LanceDB commit in the embedding phase (~7 s of MiniLM on two cores): a kill loses
# at most this much work (the vectors are in the embedding cache by then anyway).
EMBED_BATCH_CHUNKS = 128
# Filled rows leave the full-text indices until folded back in; fold every this many (see fill_vectors).
EMBED_FOLD_ROWS = 2000


@dataclass
class IndexSummary:
    """What one run did. ``to_json`` is the contract of ``ragpilot index --json``."""

    files_indexed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    files_skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> first paths (types.py)
    files_redacted: int = 0  # indexed with secret values replaced by [REDACTED]
    secrets_redacted: int = 0  # values replaced in those files
    chunks_total: int = 0
    chunks_embedded: int = 0
    chunks_cached: int = 0
    chunks_pending: int = 0  # rows still without their vector at the end (embedding deferred or stopped)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    index_dir: str = ""
    warnings: list[str] = field(default_factory=list)  # what was repaired on the way (a damaged cache)

    def to_json(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["embed_seconds"] = round(self.embed_seconds, 3)
        return data


@dataclass
class Progress:
    """One step of a run: ``phase`` is scan, index, optimize, embed or done (then ``summary`` is set).

    Lexical search works from the first ``embed`` event on (the index is ready); ``embed_done`` of
    ``embed_total`` rows have had their vectors filled in by this run so far."""

    phase: str
    files_total: int = 0
    files_done: int = 0
    chunks_embedded: int = 0
    chunks_seen: int = 0
    summary: IndexSummary | None = None
    embed_done: int = 0
    embed_total: int = 0


@dataclass
class _Prepared:
    """A file read, filtered and chunked, waiting to be written."""

    entry: FileEntry
    sha256: str
    chunks: list[Chunk]
    secrets_redacted: int = 0
    fts: list[tuple[str, ...]] = field(default_factory=list)  # fts_fields of each chunk
    symbols: FileSymbols | None = None  # extracted from the text as chunked (secrets redacted)


def fts_fields(chunk: Chunk, text: str = "") -> tuple[str, str, str, str]:
    """The four full-text columns: path, symbol path, code, and the text around the chunk in ``text``
    (the file as chunked; see lexical_context.py), tokenized the code-aware way. Runs in the prepare
    workers: it stays a plain top-level function of picklable arguments."""
    return (
        to_fts_text(path_tokens(chunk.path)),
        to_fts_text(code_tokens(chunk.symbol)),
        to_fts_text(code_tokens(chunk.content)),
        to_fts_text(code_tokens(context_text(chunk, text))),
    )


class Indexer:
    """Incrementally indexes one repository into its index directory.

    Holds the writer lock from :meth:`open` to :meth:`close`; the file watcher keeps one open and
    calls :meth:`update` for each batch of changed paths.
    """

    def __init__(
        self,
        repo: str | Path,
        settings: IndexSettings | None = None,
        *,
        embedder: Embedder | None = None,
        embedder_name: str | None = None,
    ):
        self.root = resolve_repo(repo)
        self.settings = settings or IndexSettings()
        self.index_dir = self.settings.index_dir_for(self.root)
        if self.index_dir == self.root or self.index_dir in self.root.parents:
            raise UsageError(
                f"the index directory {self.index_dir} holds the repository {self.root}: "
                "choose another --index-dir (e.g. a subfolder such as .ragpilot)"
            )
        self._embedder = embedder
        self._embedder_name = (
            embedder_name or (embedder.registry_name if embedder is not None else "") or self.settings.embedder
        )
        self.rules = IgnoreRules(
            self.root, max_file_bytes=self.settings.max_file_bytes, scan_secrets=self.settings.scan_secrets
        )
        # An index kept inside the repository must not index itself.
        try:
            self._own_dir: str | None = self.index_dir.relative_to(self.root).as_posix() + "/"
        except ValueError:
            self._own_dir = None
        self.store: IndexStore | None = None
        self.catalog: Catalog | StoreCatalog | None = None  # SQLite, or a shared index's table
        self.cache: EmbeddingCache | StoreEmbeddingCache | None = None
        self._lock: WriterLock | None = None
        self._version_at_optimize = 0
        self._append_only = False  # run(): the table was empty at its start (see there)
        self.symbols: SymbolWriter | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(self._embedder_name, **self.settings.embedder_options())
        return self._embedder

    # ----- lifecycle ---------------------------------------------------------------------------
    def open(self, *, rebuild: bool = False, wait_seconds: float = 0.0) -> Indexer:
        self._lock = WriterLock(self.index_dir, wait_seconds=wait_seconds)
        self._lock.acquire()
        try:
            emb = self.embedder  # before any wipe: a model that cannot load must not cost the index
            if rebuild:
                self._wipe()
            elif IndexStore.unfinished_setup(self.index_dir):
                log.warning("the index at %s has a chunk table but no %s (an earlier first index was "
                            "interrupted during set-up): starting it over", self.index_dir, META_FILE)
                self._wipe()
            previous = IndexStore.read_meta(self.index_dir)
            meta = IndexMeta(
                repo_root=str(self.root),
                embedder_name=self._embedder_name,
                embedder_options=_public_options(self.settings.embedder_options()),
                embedder_id=emb.id,
                dim=emb.dim,
                chunker_version=CHUNKER_VERSION,
            )
            self.store = IndexStore.create_or_open(self.index_dir, meta)
            self.catalog = open_catalog(self.index_dir)
            self.cache = open_embedding_cache(self.index_dir, emb.id, emb.dim)
            if previous is not None and previous.chunker_version != CHUNKER_VERSION:
                # Old rows were cut another way: re-chunk every file (embeddings stay cached).
                log.info("chunker changed (%s -> %s): re-chunking every file",
                         previous.chunker_version, CHUNKER_VERSION)
                self.catalog.forget_all()
            elif self.store.created:  # a table made anew (first run, or a creation killed half-way)
                self.catalog.forget_all()
            # Symbols live in a local SQLite file: not kept for a shared index (yet), which other machines read.
            self.symbols = None if self.store.shared is not None else \
                SymbolWriter.open(self.index_dir, self.root, self.catalog, self.settings)
        except BaseException:
            self.close()
            raise
        return self

    def _wipe(self) -> None:
        """``--rebuild``: delete the index but keep the embedding cache (keyed by embedder, always valid).

        Only the index's own entries are removed: ``--index-dir`` may name a folder holding other files.
        A shared index drops its chunk, catalog and meta tables (the cache table stays)."""
        shared = binding(self.index_dir)
        if shared is not None:
            from .store_tables import FILES_TABLE, META_TABLE, connect, drop_tables  # noqa: PLC0415

            drop_tables(connect(shared), (TABLE, FILES_TABLE, META_TABLE))
            return
        for name in _WIPED:
            child = self.index_dir / name
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            elif child.exists() or child.is_symlink():
                child.unlink()

    def close(self) -> None:
        if self.store is not None and self.store.meta.builder_pid and self._lock is not None \
                and self._lock.lost() is None:
            self.store.meta.builder_pid = 0  # stopped before the index was complete: nobody builds it now
            with suppress(RagpilotError):
                self.store.write_meta()
        for res in (self.catalog, self.cache, self.symbols):
            if res is not None:
                res.close()
        self.catalog = self.cache = self.symbols = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Indexer:
        if self._lock is None:
            self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check_index_dir(self) -> None:
        """Raise IndexLostError if the index folder was removed or replaced under this writer."""
        if self._lock is not None:
            self._lock.check()

    def index_lost(self) -> str | None:
        """Why the writer lock no longer guards the index folder (removed, replaced), or None."""
        return self._lock.lost() if self._lock is not None else None

    # ----- full run ----------------------------------------------------------------------------
    def run(self, *, embed: bool = True) -> Iterator[Progress]:
        """Bring the index in line with the working tree; yields progress, the last event has the summary.

        The index is ready for search once the files are written (before the first ``embed`` event);
        then, with ``embed``, every row still missing its vector is embedded. Without it (a server's
        start-up pass) the rows are left for :meth:`embed_some` to fill in the background."""
        assert self.store and self.catalog, "call open() first"
        t0 = time.perf_counter()
        summary = IndexSummary(index_dir=str(self.index_dir))
        self.check_index_dir()
        yield Progress("scan")
        walked = walk_repo(self.root, max_file_bytes=self.settings.max_file_bytes, rules=self.rules)
        skipped = walked.skipped
        if self._own_dir:
            walked.files = [e for e in walked.files if not e.rel.startswith(self._own_dir)]
        known = self.catalog.all()
        present = {e.rel for e in walked.files}
        deleted = sorted(set(known) - present)
        candidates = [
            e for e in walked.files
            if not ((rec := known.get(e.rel)) and rec.mtime_ns == e.mtime_ns and rec.size == e.size)
        ]
        summary.files_unchanged = len(walked.files) - len(candidates)
        # Into a table empty at the start of the run no file has rows yet: plain appends, ~5-10x cheaper
        # than merge_insert's join (0.6-1.6 s a batch at 100k rows on busy cores). A kill leaves a
        # non-empty table, so the next run merges (no duplicates).
        self._append_only = self.store.count_chunks() == 0
        if self._append_only and self.symbols is not None:
            self.symbols.begin_bulk()  # an empty symbol store too: its lookup indexes are built at the end
        try:
            yield from self._process(candidates, deleted, known, skipped, summary, t0, len(walked.files))
        finally:
            self._append_only = False
        self.store.mark_ready()
        if embed:
            yield from self.embed_pending(summary, files_total=len(walked.files))
        self._end_symbols_bulk()
        summary.chunks_pending = self.store.pending_count()
        summary.seconds = time.perf_counter() - t0
        yield Progress("done", len(walked.files), len(walked.files), summary.chunks_embedded,
                       summary.chunks_total, summary)

    def run_to_end(self, on_progress: Callable[[Progress], None] | None = None, *,
                   embed: bool = True) -> IndexSummary:
        last = None
        for last in self.run(embed=embed):
            if on_progress:
                on_progress(last)
        assert last is not None and last.summary is not None
        return last.summary

    # ----- incremental update (the watcher) ----------------------------------------------------
    def update(self, rel_paths: Iterable[str]) -> IndexSummary:
        """Re-evaluate just these paths (files or directories, existing or gone) in one pass."""
        assert self.store and self.catalog, "call open() first"
        t0 = time.perf_counter()
        summary = IndexSummary(index_dir=str(self.index_dir))
        skipped = SkipCounts()
        known = self.catalog.all()
        entries: dict[str, FileEntry] = {}
        gone: set[str] = set()
        for rel in sorted(set(rel_paths)):
            rel = rel.strip("/")
            target = self.root / rel
            if target.is_dir() and not target.is_symlink():
                sub = walk_repo(self.root, max_file_bytes=self.settings.max_file_bytes, rules=self.rules,
                                subdir=rel)
                entries.update((e.rel, e) for e in sub.files)
                skipped.merge(sub.skipped)
                prefix = rel + "/"
                gone.update(p for p in known if p.startswith(prefix) and p not in entries)
            elif target.is_file():
                entry = entry_for(self.root, rel, self.rules)
                if entry is None:
                    gone.add(rel)
                else:
                    entries[rel] = entry
            else:
                gone.add(rel)
                prefix = rel + "/"
                gone.update(p for p in known if p.startswith(prefix))
        if self._own_dir:
            entries = {rel: e for rel, e in entries.items() if not rel.startswith(self._own_dir)}
        deleted = sorted(p for p in gone if p in known and p not in entries)
        # Paths an event named are always hashed: a same-size rewrite within one mtime tick must not
        # be mistaken for "unchanged". Unchanged bytes only refresh the catalog.
        candidates = list(entries.values())
        for _ in self._process(candidates, deleted, known, skipped, summary, t0, len(entries),
                               force_optimize=False, embed_limit=INLINE_EMBED_LIMIT):
            pass
        summary.chunks_pending = self.store.pending_count()
        summary.seconds = time.perf_counter() - t0
        return summary

    # ----- the shared core ---------------------------------------------------------------------
    def _process(self, candidates, deleted, known, skipped, summary, t0, files_total, *,
                 force_optimize: bool = True, embed_limit: int = 0) -> Iterator[Progress]:
        assert self.store and self.catalog and self.cache
        changed_anything = bool(deleted)
        done = summary.files_unchanged
        batch_size = max(1, self.settings.files_per_batch)
        for batch, results in self._preparer(len(candidates)).batches(candidates, known, batch_size):
            prepared, touched, dropped = self._sort_prepared(batch, results, known, skipped)
            summary.files_unchanged += len(touched)
            self.check_index_dir()  # before every commit: never write into a folder that was removed
            if prepared or dropped:
                changed_anything = True
                self._write(prepared, dropped, summary, embed_limit=embed_limit)
                summary.files_indexed += len(prepared)
                summary.files_redacted += sum(1 for p in prepared if p.secrets_redacted)
                summary.secrets_redacted += sum(p.secrets_redacted for p in prepared)
                summary.files_deleted += sum(1 for p in dropped if p in known)
            if touched:
                self.catalog.mark_done(touched)
            done += len(batch)
            yield Progress("index", files_total, done, summary.chunks_embedded,
                           summary.chunks_embedded + summary.chunks_cached)
        if deleted:
            self.check_index_dir()
            self.store.replace_files([], deleted)
            if self.symbols is not None:
                self.symbols.write([], deleted)
            self.catalog.mark_done([], deleted)
            summary.files_deleted += len(deleted)
        summary.files_skipped = skipped.total
        summary.skipped_by_reason = dict(sorted(skipped.by_reason.items()))
        summary.skipped_examples = {r: list(skipped.examples.get(r, ())) for r in summary.skipped_by_reason}
        summary.warnings = list(self.cache.warnings)
        # A full run also repairs full-text statistics the watcher left inexact, even with no change.
        repair = force_optimize and (self.store.meta.fts_stale_rows > 0 or self.store.unindexed_rows() > 0)
        if changed_anything or repair:
            yield Progress("optimize", files_total, done, summary.chunks_embedded)
            # A full run compacts at its end; the watcher's small batches compact every N commits
            # (new rows are searchable before compaction, just a little slower).
            self.check_index_dir()
            self._maybe_optimize(full_run=force_optimize)
            self.store.write_meta()
        summary.chunks_total = self.store.count_chunks()

    def _end_symbols_bulk(self) -> None:
        """Build the symbol lookup indexes a first index left out (a few seconds per million references):
        once the first ``embed`` event has told readers lexical search works, or at the end of the run."""
        if self.symbols is not None:
            self.symbols.end_bulk()

    def _preparer(self, files: int) -> FilePreparer:
        """Prepares files on every core (``index_workers``), in-process for small runs (prepare.py)."""
        options = PrepareOptions(budget=self.embedder.token_budget(), scan_secrets=self.settings.scan_secrets,
                                 max_chunks_per_file=self.settings.max_chunks_per_file,
                                 symbols=self.symbols is not None)
        workers = resolve_index_workers(self.settings.index_workers, self.settings.embed_threads)
        return FilePreparer(options, token_counter(self.embedder), fts_fields, workers if files > 1 else 1)

    def _sort_prepared(self, batch: list[FileEntry], results: list[PreparedFile], known,
                       skipped: SkipCounts):
        """Split a batch's outcomes into files to write, files whose bytes did not change (only their
        mtime is refreshed) and files to drop (skipped: counted, and their old rows deleted)."""
        prepared: list[_Prepared] = []
        touched: list[FileRecord] = []
        dropped: list[str] = []
        for entry, result in zip(batch, results, strict=True):
            if result.skip == "unchanged":
                touched.append(FileRecord(entry.rel, entry.mtime_ns, entry.size, result.sha256,
                                          known[entry.rel].chunks))
            elif result.skip:
                if result.skip == "unreadable":
                    log.warning("cannot read %s: %s", entry.rel, result.detail)
                elif result.skip == "too-many-chunks":
                    log.warning("skipping %s: %s chunks, more than RAGPILOT_MAX_CHUNKS_PER_FILE=%d (a minified "
                                "or generated file?)", entry.rel, result.detail, self.settings.max_chunks_per_file)
                skipped.add(result.skip, entry.rel)
                dropped.append(entry.rel)
            else:
                prepared.append(_Prepared(entry, result.sha256, result.chunks, result.secrets_redacted,
                                          result.fts, result.symbols))
        return prepared, touched, dropped

    def _write(self, prepared: list[_Prepared], dropped: list[str], summary: IndexSummary, *,
               embed_limit: int = 0) -> None:
        """Commit the batch's rows in one LanceDB commit, then mark done. Vectors come from the cache;
        the rest are embedded now only when there are at most ``embed_limit`` of them (a watcher's small
        edit), otherwise their rows are written unembedded and filled in by :meth:`embed_pending`."""
        assert self.store and self.catalog and self.cache
        chunks = [c for p in prepared for c in p.chunks]
        hashes = [c.content_hash for c in chunks]
        cached = self.cache.get_many(hashes)
        missing: dict[str, str] = {}
        for c, digest in zip(chunks, hashes, strict=True):  # content_hash is a sha256 each time it is read
            if digest not in cached:
                missing.setdefault(digest, c.embed_text)
        if missing and len(missing) <= embed_limit:
            cached.update(self._embed(missing, summary))
            summary.chunks_embedded += len(missing)
            summary.chunks_cached += len(chunks) - len(missing)
        else:
            summary.chunks_cached += sum(1 for h in hashes if h not in missing)
        dim = self.embedder.dim
        zeros = np.zeros(dim, np.float32)
        matrix = np.stack([cached.get(h, zeros) for h in hashes]) if chunks else np.zeros((0, dim), np.float32)
        fts = [f for p in prepared for f in p.fts]  # fts_fields, computed while preparing; as ``chunks``
        rows = chunk_rows(chunks, matrix, fts, [h in cached for h in hashes])
        if self._append_only:
            self.store.append_rows(rows)
        else:
            self.store.replace_files(rows, [p.entry.rel for p in prepared] + dropped)
        if self.symbols is not None:  # SymbolWriter.write, with the symbols extracted while preparing
            self.symbols.store.replace_file_rows(
                {p.entry.rel: p.symbols.definitions for p in prepared if p.symbols is not None},
                {p.entry.rel: p.symbols.reference_rows for p in prepared if p.symbols is not None}, dropped)
        self.catalog.mark_done(
            [FileRecord(p.entry.rel, p.entry.mtime_ns, p.entry.size, p.sha256, len(p.chunks)) for p in prepared],
            deleted=dropped,
        )

    def _embed(self, texts: dict[str, str], summary: IndexSummary) -> dict[str, np.ndarray]:
        """Embed ``texts`` (content hash -> embed text) and cache the vectors before any row uses them."""
        t = time.perf_counter()
        vectors = self.embedder.embed_documents(list(texts.values()))
        summary.embed_seconds += time.perf_counter() - t
        fresh = dict(zip(texts.keys(), vectors, strict=True))
        assert self.cache
        self.cache.put_many(fresh)
        return fresh

    # ----- the embedding phase -----------------------------------------------------------------
    def embed_pending(self, summary: IndexSummary | None = None, *, files_total: int = 0,
                      batch_chunks: int = EMBED_BATCH_CHUNKS) -> Iterator[Progress]:
        """Fill in the vector of every row written without one, likely-useful files first; yields an
        ``embed`` event per committed batch. Stopping between batches (a kill, Ctrl-C) keeps what was
        filled in: the next run continues with the rows still missing. Ends with the full-text
        indices made exact again (filling a vector rewrites its row)."""
        assert self.store
        summary = summary if summary is not None else IndexSummary(index_dir=str(self.index_dir))
        queue = self._embed_queue()
        total = sum(len(rows) for _, rows in queue)
        if not total:
            return
        log.info("embedding %d chunks of %d files", total, len(queue))
        done = folded = 0
        yield Progress("embed", files_total, files_total, summary.chunks_embedded, embed_total=total)
        self._end_symbols_bulk()
        for _ in range(2):  # a second pass for the rows of files indexed again during the first
            for batch in _batches(queue, batch_chunks):
                folded += self._embed_rows(batch, summary)
                done += sum(len(rows) for _, rows in batch)
                if folded >= EMBED_FOLD_ROWS:  # keep filled rows in the full-text indices (flat is slow)
                    self.check_index_dir()
                    self.store.optimize()
                    self.store.write_meta()
                    folded = 0
                yield Progress("embed", files_total, files_total, summary.chunks_embedded, embed_done=done,
                               embed_total=max(total, done))
            queue = self._embed_queue()
            if not queue:
                break
            total = done + sum(len(rows) for _, rows in queue)
        yield Progress("optimize", files_total, files_total, summary.chunks_embedded, embed_done=done,
                       embed_total=total)
        self.check_index_dir()
        self._maybe_optimize(full_run=True)
        self.store.write_meta()

    def embed_some(self, max_chunks: int = EMBED_BATCH_CHUNKS) -> int:
        """One small batch of the embedding phase (the watcher calls it while no change is pending).
        Returns how many rows still wait for their vector."""
        assert self.store
        queue = self._embed_queue()
        if not queue:
            return 0
        batch = next(_batches(queue, max_chunks))
        summary = IndexSummary(index_dir=str(self.index_dir))
        self._embed_rows(batch, summary)
        self._maybe_optimize()
        self.store.write_meta()
        return self.store.pending_count()

    def _embed_queue(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The rows without a vector as (path, [(row id, content hash)]), in :func:`embed_priority` order."""
        assert self.store
        pending = self.store.pending_rows().to_pydict()
        by_path: dict[str, list[tuple[str, str]]] = {}
        for row_id, path, digest in zip(pending["id"], pending["path"], pending["content_hash"], strict=True):
            by_path.setdefault(path, []).append((row_id, digest))
        return sorted(by_path.items(), key=lambda item: (embed_priority(item[0]), item[0]))

    def _embed_rows(self, batch: list[tuple[str, list[tuple[str, str]]]], summary: IndexSummary) -> int:
        """Embed (or take from the cache) the vectors of ``batch``'s rows and fill them in, in one commit.

        The texts to embed are not stored: each file is chunked again, which gives the same chunks when
        its bytes still match the catalog (chunking costs ~1 % of embedding). A file changed since its
        rows were written is indexed again instead (its old rows could never be filled)."""
        assert self.store and self.catalog and self.cache
        texts: dict[str, str] = {}
        stale: list[str] = []
        for path, rows in batch:
            found = self._embed_texts(path)
            if not {digest for _, digest in rows} <= found.keys():
                stale.append(path)
            texts.update(found)
        wanted = list(dict.fromkeys(digest for _, rows in batch for _, digest in rows if digest in texts))
        vectors = self.cache.get_many(wanted)
        missing = {digest: texts[digest] for digest in wanted if digest not in vectors}
        if missing:
            vectors.update(self._embed(missing, summary))
            summary.chunks_embedded += len(missing)
        ids = [row_id for _, rows in batch for row_id, digest in rows if digest in vectors]
        summary.chunks_cached += sum(1 for _, rows in batch for _, d in rows if d in vectors and d not in missing)
        filled = 0
        if ids:
            matrix = np.stack([vectors[digest] for _, rows in batch for _, digest in rows if digest in vectors])
            self.check_index_dir()
            filled = self.store.fill_vectors(ids, matrix)
        if stale:
            log.info("%d file(s) changed since their rows were written: indexing them again", len(stale))
            self.update(stale)
        return filled

    def _embed_texts(self, path: str) -> dict[str, str]:
        """content hash -> embed text of ``path``'s chunks, when its bytes are still those indexed."""
        assert self.catalog
        record = self.catalog.get(path)
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return {}
        if record is None or hashlib.sha256(data).hexdigest() != record.sha256:
            return {}
        text = decode_text(data)
        if text is None:
            return {}
        if self.settings.scan_secrets:
            text, _ = redact_secrets(text, path)
        chunks = chunk_file(path, text, budget=self.embedder.token_budget(),
                            count_tokens=token_counter(self.embedder))
        return {c.content_hash: c.embed_text for c in chunks}

    def fold_in(self) -> None:
        """Fold the rows searched flat into the full-text indices, if any (the watcher calls it once the
        tree goes quiet: lexical search reads those rows flat, at a cost growing with them)."""
        assert self.store
        if self.store.unindexed_rows() > 0:
            self.store.optimize()
            self._version_at_optimize = self.store.table.version

    def _maybe_optimize(self, *, full_run: bool = False) -> None:
        """Compact, and keep BM25 statistics in line with the rows.

        Rows added since the last optimisation are searched flat with their own statistics, and rows
        deleted since the last full-text build still count in the statistics, so scores drift from a
        fresh index's until both are folded in. A full run always makes them exact; the watcher folds
        additions in every 20 commits and rebuilds the full-text indices once the rows deleted or
        rewritten since the last build pass ``fts_rebuild_share`` of the table (0: after every commit).
        """
        assert self.store
        exact = full_run or self.settings.fts_rebuild_share <= 0
        stale = self.store.meta.fts_stale_rows
        rebuild = stale > 0 and (exact or self.store.fts_stale_share() >= self.settings.fts_rebuild_share)
        version = self.store.table.version
        if exact or rebuild or version - self._version_at_optimize >= 20:
            self.store.optimize(rebuild_fts=rebuild)
            self._version_at_optimize = self.store.table.version
        if full_run:  # a shared index's catalog and cache tables: one small commit per batch to compact
            for table in (self.catalog, self.cache):
                if hasattr(table, "optimize"):
                    table.optimize()


def _batches(queue: list[tuple[str, list[tuple[str, str]]]], chunks: int):
    """Whole files, in order, until a batch holds at least ``chunks`` rows."""
    batch: list[tuple[str, list[tuple[str, str]]]] = []
    size = 0
    for item in queue:
        batch.append(item)
        size += len(item[1])
        if size >= chunks:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# What ``--rebuild`` deletes: the chunk table, the catalog (with its WAL files), meta and watcher status.
_WIPED = ("lance", META_FILE, META_FILE + ".tmp", CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm",
          STATUS_FILE, *SYMBOL_FILES)


def _public_options(options: dict) -> dict:
    """Embedder options worth recording in meta.json: what the vectors depend on. Never the API key, and
    not the machine's threads or device: a reader elsewhere opens the same model with its own."""
    return {k: v for k, v in options.items() if v is not None and k not in ("api_key", "threads", "device")}


def index_repo(repo: str | Path, settings: IndexSettings | None = None, *, rebuild: bool = False,
               embedder: Embedder | None = None) -> IndexSummary:
    """Convenience: open, run to the end, close."""
    indexer = Indexer(repo, settings, embedder=embedder)
    indexer.open(rebuild=rebuild)
    try:
        return indexer.run_to_end()
    finally:
        indexer.close()


__all__ = ["Indexer", "IndexSummary", "Progress", "index_repo", "resolve_repo"]
