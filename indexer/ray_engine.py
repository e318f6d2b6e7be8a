"""The Ray engine: the local :class:`Indexer` with its two CPU-heavy stages run on a Ray cluster.

Only the seams change. Preparing files (read, filter, redact, chunk: ``_preparer``) runs as a Ray Data
pipeline of tasks on the cluster's CPUs; embedding (``embed_pending``/``_embed``) runs on an actor
pool, one GPU per actor when the cluster has GPUs, else one core per actor. Walking, the catalog
comparison, writing, folding in, optimising and the summary are the local engine's own code on the
driver, so a run has the same incremental meaning (unchanged files skipped, deleted files removed) and gives the same chunk ids
and vectors: the workers call the functions the local engine calls, on the same batches.

Ray Data keeps the order of its rows (``preserve_order``), so the driver consumes results exactly where
the local engine would compute them: prepared files in batches of ``files_per_batch``, vectors batch by
batch of the embedding queue. Workers read files by path: the repository must be at the same path on
every node (one machine, or a shared filesystem), with ragpilot installed; the index itself (a local
folder or a shared ``--index-uri``) is written by the driver only. A file changed while the run goes on
is indexed again by the driver itself (:meth:`RayIndexer.update`), as the local engine does.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from .embedders.lazy import require
from .errors import UsageError
from .pipeline import EMBED_BATCH_CHUNKS, Indexer, IndexSummary, Progress, _batches, fts_fields
from .prepare import TASK_FILES, FilePreparer, PrepareOptions, PreparedFile
from .ray_workers import EmbedBatches, EmbedderSpec, EmbedResult, EmbedWork, prepare_files
from .walk import FileEntry

log = logging.getLogger(__name__)

# Environment the workers need as the driver has it (offline model loading); only values set here.
WORKER_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "RAGPILOT_HOME")
# Seconds to wait for a --ray-address to accept a connection.
ADDRESS_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the Ray engine runs. ``address`` None starts Ray on this machine (or joins the
    one already started in this process); ``auto`` joins a ``ray start --head`` cluster; ``ray://host:10001``
    connects through Ray Client. ``embed_actors`` None: one per GPU, else one per ``actor_cpus`` cores."""

    address: str | None = None
    embed_actors: int | None = None
    actor_cpus: int = 1


def import_ray() -> ModuleType:
    return require("ray", package="ray[data]", extra="ray", purpose="--engine ray")


def connect(address: str | None = None) -> ModuleType:
    """``ray.init`` once per process (reusing a session already started, e.g. by a test), with the
    offline-model environment passed to the workers; Ray Data keeps row order and shows no bars.

    An address nobody answers on is refused within seconds: ``ray.init`` itself retries for minutes."""
    ray = import_ray()
    if not ray.is_initialized():
        check_address(address)
        env = {name: os.environ[name] for name in WORKER_ENV if name in os.environ}
        try:
            with warnings.catch_warnings():  # Ray forks and execs its processes: LanceDB's fork notice is noise
                warnings.filterwarnings("ignore", message="lancedb fork support", category=RuntimeWarning)
                ray.init(address=address, runtime_env={"env_vars": env} if env else None,
                         include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise UsageError(f"cannot use the Ray cluster at --ray-address {address}: {err}") from None
    import ray.data  # noqa: PLC0415 - a submodule of the lazily imported ray

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    ray.util.debug.log_once("ray_data_progress_manager_disabled")  # Ray Data's notice that they are off
    for handler in logging.getLogger("ray.data").handlers:  # its per-dataset INFO lines; the file log keeps them
        if handler.get_name() == "console":
            handler.setLevel(logging.WARNING)
    return ray


def check_address(address: str | None, timeout: float = ADDRESS_TIMEOUT_S) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) where nothing accepts a connection."""
    if address is None or address in ("auto", "local"):
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise UsageError(f"--ray-address {address}: expected host:port, ray://host:port, auto or local")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        raise UsageError(f"no Ray cluster answers at --ray-address {address} ({err}): start one with "
                         "`ray start --head`, or leave --ray-address out to run Ray on this machine") from None


def cluster_label(ray: ModuleType) -> str:
    """What the run is on, for the CLI's first line: "Ray (2 CPUs)", "Ray (16 CPUs, 2 GPUs)"."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    return f"Ray ({int(resources.get('CPU', 0))} CPUs" + (f", {gpus} GPUs)" if gpus else ")")


@dataclass(frozen=True)
class ClusterPlan:
    """Embedding actors and what each holds, from what the cluster offers (preparing runs as tasks,
    as many at once as the cluster has CPUs)."""

    embed_actors: int
    embed_cpus: float
    embed_gpus: float

    @classmethod
    def for_cluster(cls, resources: Mapping[str, float], options: RayOptions) -> ClusterPlan:
        cpus = max(1, int(resources.get("CPU", 1)))
        gpus = int(resources.get("GPU", 0))
        if gpus:
            return cls(options.embed_actors or gpus, 1.0, 1.0)
        per_actor = max(1, min(options.actor_cpus, cpus))
        return cls(options.embed_actors or max(1, cpus // per_actor), float(per_actor), 0.0)


class RayIndexer(Indexer):
    """:class:`Indexer` whose file preparation and embedding run on Ray (see the module docstring)."""

    def __init__(self, *args, ray_options: RayOptions | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ray_options = ray_options or RayOptions()
        self._ray: ModuleType | None = None
        self._in_run = False
        self._stream: EmbedStream | None = None

    @property
    def ray(self) -> ModuleType:
        if self._ray is None:
            self._ray = connect(self.ray_options.address)
        return self._ray

    def plan(self) -> ClusterPlan:
        return ClusterPlan.for_cluster(self.ray.cluster_resources(), self.ray_options)

    def pool(self, actors: int) -> dict:
        """``map_batches`` arguments for a fixed pool of ``actors`` (Ray Data restarts a lost actor and
        retries its batches; rows still come back in order)."""
        return {"compute": self.ray.data.ActorPoolStrategy(size=max(1, actors))}

    def _spec(self, threads: int | None) -> EmbedderSpec:
        return EmbedderSpec(self._embedder_name, {**self.settings.embedder_options(), "threads": threads})

    def run(self, *, embed: bool = True) -> Iterator[Progress]:
        """The local run; the files it prepares go to Ray (a watcher-style :meth:`update`, e.g. for a
        file changed during the embedding phase, stays local: a handful of files)."""
        self._in_run = True
        try:
            yield from super().run(embed=embed)
        finally:
            self._in_run = False

    def update(self, rel_paths):
        """Local, as the module docstring says: a watcher's batch, or the files the embedding phase
        found changed (starting Ray actors costs seconds; preparing a handful of files, milliseconds)."""
        in_run, self._in_run = self._in_run, False
        try:
            return super().update(rel_paths)
        finally:
            self._in_run = in_run

    def _preparer(self, files: int) -> FilePreparer:
        if not self._in_run:
            return super()._preparer(files)
        options = PrepareOptions(budget=self.embedder.token_budget(), scan_secrets=self.settings.scan_secrets,
                                 max_chunks_per_file=self.settings.max_chunks_per_file,
                                 symbols=self.symbols is not None)
        return RayFilePreparer(self, options)

    # ----- the embedding phase -----------------------------------------------------------------
    def embed_pending(self, summary: IndexSummary | None = None, *, files_total: int = 0,
                      batch_chunks: int = EMBED_BATCH_CHUNKS) -> Iterator[Progress]:
        """The local embedding phase, its vectors computed ahead by the actor pool: the queue's batches
        go to Ray in order, and ``_embed_texts``/``_embed`` take each batch's texts and vectors from
        there when the local code asks for them (so counts, commits and fold-ins are the local ones)."""
        self._stream = self._start_stream(batch_chunks)
        try:
            yield from super().embed_pending(summary, files_total=files_total, batch_chunks=batch_chunks)
        finally:
            if self._stream is not None:
                self._stream.close()
            self._stream = None

    def _start_stream(self, batch_chunks: int) -> EmbedStream | None:
        assert self.catalog and self.cache
        queue = self._embed_queue()
        if not queue:
            return None
        known = self.catalog.all()
        # What the local engine will find missing, batch by batch: not cached, not embedded by an earlier batch.
        seen = set(self.cache.get_many([d for _, rows in queue for _, d in rows]))
        work = []
        for batch in _batches(queue, batch_chunks):
            missing = [d for d in dict.fromkeys(d for _, rows in batch for _, d in rows) if d not in seen]
            seen.update(missing)
            paths = [path for path, _ in batch]
            shas = [rec.sha256 if (rec := known.get(p)) is not None else "" for p in paths]
            work.append(EmbedWork(str(self.root), paths, shas, missing))
        plan = self.plan()
        spec = self._spec(None if plan.embed_gpus else max(1, int(plan.embed_cpus)))
        log.info("embedding on %d Ray actor(s) (%s each)", plan.embed_actors,
                 "1 GPU" if plan.embed_gpus else f"{plan.embed_cpus:g} CPU")
        holds = {"num_cpus": plan.embed_cpus, **({"num_gpus": plan.embed_gpus} if plan.embed_gpus else {})}
        ds = self.ray.data.from_items([{"work": pickle.dumps(w)} for w in work]).map_batches(
            EmbedBatches, fn_constructor_args=(spec, self.settings.scan_secrets), batch_size=1,
            **self.pool(min(plan.embed_actors, len(work))), **holds)
        return EmbedStream(ds, {p for w in work for p in w.paths})

    def _embed_texts(self, path: str) -> dict[str, str]:
        found = self._stream.texts(path) if self._stream is not None else None
        return super()._embed_texts(path) if found is None else found

    def _embed(self, texts: dict[str, str], summary: IndexSummary) -> dict[str, np.ndarray]:
        if self._stream is None:
            return super()._embed(texts, summary)
        t = time.perf_counter()
        fresh = self._stream.vectors(texts)
        rest = {d: text for d, text in texts.items() if d not in fresh}
        if rest:  # not foreseen (a file changed while the phase ran): embed here, as the local engine does
            fresh.update(zip(rest, self.embedder.embed_documents(list(rest.values())), strict=True))
        summary.embed_seconds += time.perf_counter() - t + self._stream.take_wait()
        fresh = {d: fresh[d] for d in texts}
        assert self.cache
        self.cache.put_many(fresh)
        return fresh


class RayFilePreparer(FilePreparer):
    """:class:`FilePreparer`'s interface over a Ray Data pipeline of :func:`prepare_files` tasks."""

    def __init__(self, indexer: RayIndexer, options: PrepareOptions):
        super().__init__(options, indexer.embedder.count_tokens, fts_fields, workers=1)
        self.indexer = indexer

    def batches(self, candidates: list[FileEntry], known: Mapping, batch_size: int
                ) -> Iterator[tuple[list[FileEntry], list[PreparedFile]]]:
        if not candidates:
            return
        batch_size = max(1, batch_size)
        rows = [{"rel": e.rel, "abs": str(e.abs), "size": e.size, "mtime_ns": e.mtime_ns,
                 "sha": rec.sha256 if (rec := known.get(e.rel)) is not None else ""} for e in candidates]
        ds = self.indexer.ray.data.from_items(rows).map_batches(
            prepare_files, fn_kwargs={"embedder": self.indexer._spec(1), "options": self.options},
            batch_size=TASK_FILES, num_cpus=1)
        done: list[PreparedFile] = []
        start = 0
        for row in ds.iter_rows():
            result: PreparedFile = pickle.loads(row["prepared"])
            if result.rel != candidates[start + len(done)].rel:
                raise RuntimeError(f"Ray returned {result.rel} where {candidates[start + len(done)].rel} was due")
            done.append(result)
            if len(done) == batch_size or start + len(done) == len(candidates):
                yield candidates[start : start + len(done)], done
                start += len(done)
                done = []


class EmbedStream:
    """The embedding pipeline's results, pulled in order as the driver reaches each batch."""

    def __init__(self, ds, paths: set[str]):
        self._rows = iter(ds.iter_rows())
        self._expected = paths  # files whose texts are still to come from Ray
        self._texts: dict[str, dict[str, str]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._wait = 0.0

    def texts(self, path: str) -> dict[str, str] | None:
        """``path``'s texts as a worker chunked them, or None when Ray does not bring them (then the local
        code chunks it: a file queued again after being indexed anew during the phase)."""
        while path in self._expected and path not in self._texts:
            if not self._pull():
                break
        self._expected.discard(path)
        return self._texts.pop(path, None)

    def vectors(self, texts: Mapping[str, str]) -> dict[str, np.ndarray]:
        return {d: v for d in texts if (v := self._vectors.pop(d, None)) is not None}

    def take_wait(self) -> float:
        """Seconds spent waiting for the actors since the last call (counted as embedding time)."""
        wait, self._wait = self._wait, 0.0
        return wait

    def _pull(self) -> bool:
        t = time.perf_counter()
        row = next(self._rows, None)
        self._wait += time.perf_counter() - t
        if row is None:
            self._expected.clear()
            return False
        result: EmbedResult = pickle.loads(row["result"])
        self._texts.update(result.texts)
        self._vectors.update(zip(result.digests, result.vectors, strict=True))
        return True

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


__all__ = ["ClusterPlan", "RayIndexer", "RayOptions", "check_address", "cluster_label", "connect", "import_ray"]
