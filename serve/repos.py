"""The repositories a server serves: for each, its writer (indexer + watcher), its searcher and its state.

At start each repository is indexed incrementally in a background thread, then watched (unless told
not to), while the server already answers from the previous index. Indexing is recorded as data
(:class:`~ragpilot.indexer.live.IndexingState`) for ``/status``. Another process holding the writer lock (``ragpilot watch``)
is not an error: the repository is then served read-only, kept live by that process.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..indexer.embedders import Embedder, create_embedder
from ..indexer.errors import IndexingInProgressError, IndexMissingError, RagpilotError, RepoNotServedError, UsageError
from ..indexer.live import LiveIndex
from ..indexer.pipeline import Indexer, Progress, resolve_repo
from ..indexer.settings import IndexSettings
from ..indexer.store import READY, IndexStore
from ..indexer.watcher import RepoWatcher
from ..retrieval.hits import FileHit, Hit
from ..retrieval.rerankers import Reranker, create_reranker
from ..retrieval.searcher import Searcher
from ..retrieval.settings import RetrievalSettings
from .replica import PinnedView, Refresher
from .settings import ServeSettings
from .status import repo_status

log = logging.getLogger(__name__)

ProgressHook = Callable[["ServedRepo", Progress], None]


class ServedRepo:
    """One repository: ``root`` (absolute), its index directory, writer, watcher and searcher.

    ``retrieval`` is how its searcher fuses and caps (``ServeSettings.retrieval``: the ``RAGPILOT_*``
    variables); None means the defaults."""

    def __init__(self, root: Path, settings: IndexSettings, *, embedder: Embedder | None = None,
                 embedder_name: str | None = None, searcher: Searcher | None = None,
                 retrieval: RetrievalSettings | None = None, read_only: bool = False, local_copy: bool = True):
        self.root = root
        self.name = root.name
        self.settings = settings
        self.retrieval = retrieval
        self.index_dir = settings.index_dir_for(root)
        self.embedder_name = embedder_name or settings.embedder
        self._embedder = embedder
        self._searcher = searcher
        self.live = LiveIndex(root, settings, embedder=embedder, embedder_name=self.embedder_name)
        self.state = self.live.state
        if searcher is not None:
            self.state.phase = "ready"
        self._lock = threading.Lock()
        self._searcher_generation = 0  # the watcher's generation the searcher was opened at
        # A replica (serve --read-only): never writes; each request reads one version (replica.py).
        self.replica = (PinnedView(self.index_dir, lambda: self.embedder, retrieval, mirror=local_copy)
                        if read_only else None)

    # ----- reading ---------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = create_embedder(self.embedder_name, **self.settings.embedder_options())
            return self._embedder

    @property
    def searcher(self) -> Searcher:
        """Opened on first use: the index may only exist once the first indexing pass is through.
        Reopened when the watcher re-created the index (its folder was removed). A replica's is the
        searcher of the version it serves now."""
        if self.replica is not None:
            return self.replica.searcher()
        watcher = self.watcher
        lost = watcher.state().index_lost if watcher is not None else None
        if lost:
            raise IndexingInProgressError(f"{self.name}: {lost}; try again shortly")
        if watcher is not None and self._searcher is not None and watcher.generation != self._searcher_generation:
            with self._lock:
                if self._searcher is not None and watcher.generation != self._searcher_generation:
                    self._searcher.close()
                    self._searcher = None
        if self._searcher is None:
            embedder = self.embedder
            with self._lock:
                if self._searcher is None:
                    meta = IndexStore.read_meta(self.index_dir)
                    if meta is None or meta.state != READY:
                        if self.state.phase in ("pending", "scan", "index", "optimize"):
                            raise IndexingInProgressError(
                                f"{self.name} is being indexed for the first time "
                                f"({self.state.files_done}/{self.state.files_total} files); try again shortly"
                            )
                        if self.state.error:
                            raise IndexMissingError(f"{self.root} could not be indexed: {self.state.error}")
                        if meta is None:
                            raise IndexMissingError(f"{self.root} is not indexed: run `ragpilot index {self.root}`")
                    self._searcher_generation = watcher.generation if watcher is not None else 0
                    self._searcher = Searcher.for_index(self.index_dir, embedder=embedder,
                                                        settings=self.retrieval)
        return self._searcher

    def search(self, query: str, *, k: int, mode: str = "hybrid", rerank: bool = False,
               reranker: Reranker | None = None) -> list[Hit]:
        searcher = self.searcher
        if rerank and searcher.reranker is None and reranker is not None:
            searcher.reranker = reranker
        return searcher.search(query, k=k, mode=mode, rerank=rerank)

    def search_files(self, query: str, *, k: int, mode: str = "hybrid") -> list[FileHit]:
        return self.searcher.search_files(query, k=k, mode=mode)

    def contains(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def uri_for(self, rel_path: str) -> str:
        """The ``file://`` URI of an indexed file (percent-encoded, as editors expect)."""
        return (self.root / rel_path).as_uri()

    # ----- writing ---------------------------------------------------------------------------
    def index_and_watch(self, *, watch: bool, debounce_s: float, on_progress: ProgressHook | None,
                        stop: threading.Event | None = None) -> None:
        """The shared lifecycle (:class:`LiveIndex`): the start-up pass, then the watcher; another
        process holding the writer lock means serving read-only. ``stop`` (shutdown) ends the pass."""
        self.live.debounce_s = debounce_s
        self.live.embedder = self.embedder  # one model for indexing and searching
        hook = None if on_progress is None else (lambda event: on_progress(self, event))
        self.live.start(watch=watch, on_progress=hook, stop=stop, read_only_if_busy=True)

    @property
    def indexer(self) -> Indexer | None:
        return self.live.indexer

    @property
    def watcher(self) -> RepoWatcher | None:
        return self.live.watcher

    def close(self) -> None:
        self.live.close()

    # ----- status ----------------------------------------------------------------------------
    def status(self) -> dict:
        """``ragpilot status``'s description of the index, plus the start-up indexing and the watcher."""
        try:
            info = repo_status(self.root, self.index_dir)
        except RagpilotError as err:
            info = {"repo": str(self.root), "index_dir": str(self.index_dir), "indexed": False, "error": str(err)}
        info.update(name=self.name, root=str(self.root), indexing=self.state.to_json())
        if self.replica is not None:
            info["replica"] = self.replica.status()
        if self.watcher is not None:
            watcher = self.watcher.state()
            info["watcher"] = {"owner": "this server", **asdict(watcher)}
            if watcher.index_lost:  # the folder vanished: not "ready" until it is re-created
                info["indexing"].update(phase="rebuilding", error=watcher.index_lost)
                info["indexed"] = False
        elif info.get("watcher"):
            info["watcher"] = {"owner": "another process", **info["watcher"]}
        else:
            info["watcher"] = {"live": False}
        return info


class RepoSet:
    """The served repositories, and how a request picks among them."""

    def __init__(self, repos: Sequence[ServedRepo], *, reranker_factory: Callable[[], Reranker] | None = None):
        if not repos:
            raise UsageError("nothing to serve: give at least one repository path")
        self.repos = list(repos)
        self._reranker_factory = reranker_factory
        self._reranker: Reranker | None = None
        self._reranker_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._refresher: Refresher | None = None

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path], settings: IndexSettings, *,
                   retrieval: RetrievalSettings | None = None,
                   reranker_factory: Callable[[], Reranker] | None = None, read_only: bool = False,
                   local_copy: bool = True) -> RepoSet:
        """Resolve the paths; repositories whose existing index used another embedder keep that one,
        unless an embedder was chosen explicitly. Repositories with the same embedder share it.
        Every searcher is built with ``retrieval`` (None: the defaults). ``read_only``: replicas, whose
        repository need not exist on this machine (the index holds the chunks); ``local_copy``: a replica
        of an index on object storage reads a local copy of it (indexer/store_mirror.py)."""
        shared = settings.index_dir is not None or settings.index_uri is not None
        roots = list(dict.fromkeys(Path(p) if read_only and shared else resolve_repo(p) for p in paths))
        if len(roots) > 1 and settings.index_dir is not None:
            raise UsageError("--index-dir names one index: it cannot serve several repositories")
        shared: dict[tuple, Embedder] = {}
        repos = []
        for root in roots:
            name, opts = _embedder_choice(settings, settings.index_dir_for(root))
            key = (name, tuple(sorted((k, str(v)) for k, v in opts.items())))
            if key not in shared:
                shared[key] = create_embedder(name, **opts)
            repo_settings = settings.model_copy(update={"embedder": name, **_settings_fields(opts)})
            repos.append(ServedRepo(root, repo_settings, embedder=shared[key], embedder_name=name,
                                    retrieval=retrieval, read_only=read_only, local_copy=local_copy))
        return cls(repos, reranker_factory=reranker_factory)

    @classmethod
    def from_settings(cls, settings: ServeSettings) -> RepoSet:
        """The repositories of ``settings``, searched as ``settings.retrieval`` says, with the configured
        reranker loaded on first use."""

        def reranker() -> Reranker:
            return create_reranker(settings.reranker, **settings.reranker_options())

        return cls.from_paths(settings.repos, settings.index, retrieval=settings.retrieval,
                              reranker_factory=reranker, read_only=settings.read_only,
                              local_copy=settings.replica_local_copy)

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self, *, watch: bool = True, debounce_s: float = 0.25,
              on_progress: ProgressHook | None = None) -> None:
        """Index every repository (one after the other, in a background thread), then watch each."""

        def run() -> None:
            for repo in self.repos:
                if self._stopping.is_set():
                    return
                try:
                    repo.index_and_watch(watch=watch, debounce_s=debounce_s, on_progress=on_progress,
                                         stop=self._stopping)
                except Exception as err:
                    log.error("indexing %s failed: %s", repo.root, err, exc_info=not isinstance(err, RagpilotError))
                    repo.state.phase, repo.state.error = "failed", str(err)
                    repo.state.finished_at = time.time()

        self._thread = threading.Thread(target=run, name="ragpilot-serve-index", daemon=True)
        self._thread.start()

    def begin(self, settings: ServeSettings, *, on_progress: ProgressHook | None = None) -> None:
        """What ``serve`` and ``mcp`` do at start: index and watch as ``settings`` say, or serve as is
        (a replica: follow the writer's versions)."""
        if settings.read_only:
            for repo in self.repos:  # kept current by the shared index's writer, as with a busy writer lock
                repo.state.phase = "read-only"
            self._refresher = Refresher([r.replica for r in self.repos if r.replica is not None], settings.refresh_s)
            self._refresher.start()
        elif settings.index_on_start:
            self.start(watch=settings.watch, debounce_s=settings.watch_debounce_s, on_progress=on_progress)
        else:
            self.skip_indexing()

    def skip_indexing(self) -> None:
        """Serve the indexes as they are (``--no-index``): no start-up pass, no watcher."""
        for repo in self.repos:
            if repo.state.phase == "pending":
                repo.state.phase = "skipped"

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the start-up indexing is through (tests wait on this)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def close(self) -> None:
        self._stopping.set()
        if self._refresher is not None:
            self._refresher.stop()
        if self._thread is not None:
            self._thread.join()
        for repo in self.repos:
            repo.close()

    # ----- selection ---------------------------------------------------------------------------
    def restricted_to(self, chosen: Sequence[ServedRepo]) -> RepoSet:
        """These repositories as one API key sees them: selection, names, status, search and their
        error messages cover ``chosen`` only, so another team's repository is exactly an unknown one.
        Empty for a request without a key on an open path. The view shares the repositories and the
        reranker; starting and closing stay with this set (a view is never started or closed)."""
        view = copy.copy(self)
        view.repos = [r for r in self.repos if r in chosen]
        view._reranker_factory, view._reranker = self.reranker, None  # one reranker for every view
        view._reranker_lock = threading.Lock()
        return view

    def select(self, *, repo: str | None = None, workspace: str | None = None) -> list[ServedRepo]:
        """The repositories a request means: by ``repo`` (name or path), by ``workspace`` (a ``file://``
        URI or path inside a repository, or a folder holding exactly one), else all of them."""
        if repo:
            return [self.by_name_or_path(repo)]
        if workspace:
            path = path_from_uri(workspace)
            inside = [r for r in self.repos if r.contains(path)]
            if inside:
                return [max(inside, key=lambda r: len(r.root.parts))]
            holding = [r for r in self.repos if path in r.root.parents]
            if len(holding) == 1:
                return holding
            raise RepoNotServedError(
                f"the workspace {path} is not a repository served by ragpilot (serving: {self.names()}); "
                f"start it with `ragpilot serve {path}`"
            )
        return list(self.repos)

    def by_name_or_path(self, ref: str) -> ServedRepo:
        for r in self.repos:
            if ref == r.name or ref == str(r.root):
                return r
        try:
            path = path_from_uri(ref)
        except UsageError:
            path = None
        if path is not None:
            for r in self.repos:
                if r.root == path:
                    return r
        raise RepoNotServedError(f"no served repository named '{ref}' (serving: {self.names()})")

    def names(self) -> str:
        return ", ".join(r.name for r in self.repos)

    def search(self, query: str, repos: Sequence[ServedRepo], *, k: int, mode: str = "hybrid",
               rerank: bool = False) -> list[tuple[ServedRepo, Hit]]:
        """Search each repository and keep the ``k`` best overall (one repository: its order as is)."""
        reranker = self.reranker() if rerank else None
        found = [(r, h) for r in repos for h in r.search(query, k=k, mode=mode, rerank=rerank, reranker=reranker)]
        if len(repos) > 1:
            found.sort(key=lambda pair: pair[1].score, reverse=True)
        return found[:k]

    def search_files(self, query: str, repos: Sequence[ServedRepo], *, k: int,
                     mode: str = "hybrid") -> list[tuple[ServedRepo, FileHit]]:
        """The ``k`` best files over ``repos`` (several repositories: merged by score)."""
        found = [(r, f) for r in repos for f in r.search_files(query, k=k, mode=mode)]
        if len(repos) > 1:
            found.sort(key=lambda pair: pair[1].score, reverse=True)
        return found[:k]

    def reranker(self) -> Reranker | None:
        """The shared reranker, loaded on the first request that asks for one."""
        with self._reranker_lock:
            if self._reranker is None and self._reranker_factory is not None:
                self._reranker = self._reranker_factory()
            return self._reranker

    @property
    def embedder(self) -> Embedder:
        """The first repository's embedder: what ``/v1/embeddings`` serves."""
        return self.repos[0].embedder

    def status(self) -> list[dict]:
        return [r.status() for r in self.repos]


def path_from_uri(value: str) -> Path:
    """A filesystem path from a percent-encoded ``file://`` URI (or a plain path), normalised.

    Only used to *choose* among served repositories, never to read a file.
    """
    text = value.strip()
    if text.startswith("file:"):
        parsed = urlparse(text)
        if parsed.netloc not in ("", "localhost"):
            raise UsageError(f"{value}: only local file:// URIs name a workspace")
        raw = unquote(parsed.path)
        if len(raw) >= 3 and raw[0] == "/" and raw[2] == ":":  # file:///c:/... on Windows
            raw = raw[1:]
    elif "://" in text:
        raise UsageError(f"{value}: a workspace is a file:// URI or a path")
    else:
        raw = unquote(text)
    if not raw:
        raise UsageError("the workspace path is empty")
    if "\x00" in raw:
        raise UsageError(f"{value!r}: a path cannot contain a NUL character")
    # Literal, never expanded: "~" is the client's home, not this server user's (nor a relative path's base).
    path = Path(raw)
    if not path.is_absolute():  # relative to what? The server's cwd means nothing to a client
        raise UsageError(f"{value}: a workspace is an absolute path or a file:// URI")
    try:
        return path.resolve(strict=False)
    except (OSError, ValueError, RuntimeError) as err:  # name too long, symlink loop...
        raise UsageError(f"{value[:200]}: not a usable path ({err})") from err


_OPTION_FIELDS = {"model": "embed_model", "url": "embed_url", "api_key": "embed_api_key",
                  "threads": "embed_threads", "batch_size": "embed_batch_size"}


def _settings_fields(opts: dict) -> dict:
    """Embedder options back into IndexSettings fields (so meta.json records what is really used)."""
    return {_OPTION_FIELDS[k]: v for k, v in opts.items() if k in _OPTION_FIELDS and v is not None}


def _embedder_choice(settings: IndexSettings, index_dir: Path) -> tuple[str, dict]:
    """The embedder to serve an index with: the one it was built with, unless one was asked for."""
    opts = settings.embedder_options()
    try:
        meta = IndexStore.read_meta(index_dir)
    except RagpilotError:
        meta = None
    if meta is None or "embedder" in settings.model_fields_set:
        return settings.embedder, opts
    merged = {**meta.embedder_options, "api_key": opts.get("api_key")}
    return meta.embedder_name, merged
