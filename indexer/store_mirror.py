"""A replica's local copy of a shared index on object storage: the chunk and meta tables, kept in step by
copying only the objects that are new.

Why: a search reads row data from the table's files on every query (full-text hits, vectors' rows), and
on object storage each read is a request: 3.5-10x the latency of a local folder (bench_shared.py).
Every object of a Lance table is immutable and uniquely named (data files, index files, deletion files,
transaction files, and one manifest per version), so a copy never goes stale: a sync lists the remote
table, copies the objects it has not got, manifests last (a local reader never sees a version whose
files are still on their way), and then the replica opens the newest version from its local disk.
Objects the writer's cleanup removed (versions older than 5 minutes, store.py) are removed here one
sync later, when no request can still be reading the version that used them.

The copy is a cache: deleting it only costs the next sync a full download. The source of truth stays
the shared URI, where the one writer commits.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexMissingError
from .store_tables import META_TABLE
from .store_uri import BINDING_FILE, StoreBinding, scheme

log = logging.getLogger(__name__)

#: The tables a reader needs (the catalog, embedding cache and writer lease stay remote: writers' business).
MIRRORED_TABLES = ("chunks", META_TABLE)
_MANIFESTS = "_versions/"


@dataclass
class SyncReport:
    copied: int = 0
    copied_bytes: int = 0
    removed: int = 0
    seconds: float = 0.0


class StoreMirror:
    """``folder/db``: the copy of the shared index's chunk and meta tables; ``folder/view``: a binding
    to that copy, which :class:`~ragpilot.indexer.store.IndexStore` opens as it opens any shared folder."""

    def __init__(self, store: StoreBinding, folder: Path):
        self.store = store
        self.folder = Path(folder)
        self.db = self.folder / "db"
        self.view_dir = self.folder / "view"
        self._fs = None
        self._root = ""
        self._gone: set[str] = set()  # local files no longer remote at the last sync: removed at the next

    def sync(self) -> SyncReport:
        """Copy what is new on the store; returns what was done. Raises IndexMissingError when the store
        holds no index (yet) or cannot be reached (the replica keeps serving what it has)."""
        try:
            return self._sync()
        except (OSError, ValueError) as err:  # pyarrow's errors: unreachable store, denied read, full disk, bad URI
            raise IndexMissingError(f"copying the shared index {self.store.uri} failed: {err}") from err

    def _sync(self) -> SyncReport:
        started = time.perf_counter()
        fs, root = self._filesystem()
        remote = self._list_remote(fs, root)
        if not any(rel.startswith("chunks.lance/") for rel in remote):
            raise IndexMissingError(f"{self.store.uri} holds no index yet: run `ragpilot index --index-uri ...`")
        report = SyncReport()
        new = [rel for rel, size in remote.items() if not self._have(rel, size)]
        new.sort(key=lambda rel: _MANIFESTS in rel)  # every manifest after the files it lists
        for rel in new:
            report.copied_bytes += self._copy(fs, f"{root}/{rel}", self.db / rel)
            report.copied += 1
        local = {p.relative_to(self.db).as_posix() for p in self.db.rglob("*") if p.is_file()} if self.db.is_dir() else set()
        stale = local - set(remote)
        for rel in stale & self._gone:
            (self.db / rel).unlink(missing_ok=True)
            report.removed += 1
        self._gone = stale - self._gone
        self._write_view()
        report.seconds = time.perf_counter() - started
        if report.copied or report.removed:
            log.info("mirror of %s: %d files copied (%.1f MB), %d removed in %.2f s", self.store.uri, report.copied,
                     report.copied_bytes / 1e6, report.removed, report.seconds)
        return report

    # ----- internals ----------------------------------------------------------------------------
    def _have(self, rel: str, size: int) -> bool:
        try:
            return (self.db / rel).stat().st_size == size
        except OSError:
            return False

    @staticmethod
    def _copy(fs, source: str, target: Path) -> int:
        """One object to ``target``, written beside it and renamed: a reader never sees half a file."""
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        with fs.open_input_stream(source) as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        size = part.stat().st_size
        os.replace(part, target)
        return size

    def _list_remote(self, fs, root: str) -> dict[str, int]:
        from pyarrow import fs as pafs  # noqa: PLC0415

        found: dict[str, int] = {}
        for table in MIRRORED_TABLES:
            base = f"{root}/{table}.lance"
            selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
            for info in fs.get_file_info(selector):
                if info.type == pafs.FileType.File:
                    found[f"{table}.lance/{info.path[len(base) + 1:]}"] = int(info.size)
        return found

    def _write_view(self) -> None:
        path = self.view_dir / BINDING_FILE
        text = json.dumps({"uri": str(self.db)}, indent=2)
        if not path.exists() or path.read_text("utf-8") != text:
            self.view_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")

    def _filesystem(self):
        """A pyarrow filesystem for the store (its S3-compatible endpoint and region as LanceDB gets
        them, credentials from the usual environment), and the bucket/prefix path in it."""
        if self._fs is None:
            from pyarrow import fs as pafs  # noqa: PLC0415

            options = self.store.storage_options()
            if scheme(self.store.uri) in ("s3", "s3a"):
                endpoint = options.get("aws_endpoint")
                kwargs = {"region": options["aws_region"]} if "aws_region" in options else {}
                if endpoint:
                    kwargs["endpoint_override"] = endpoint.split("://", 1)[-1]
                    kwargs["scheme"] = "http" if endpoint.startswith("http://") else "https"
                self._fs = pafs.S3FileSystem(**kwargs)
                self._root = self.store.uri.split("://", 1)[1].rstrip("/")
            elif scheme(self.store.uri) == "az":  # LanceDB's az://container/prefix; pyarrow names it abfs://
                env = os.environ
                self._fs = pafs.AzureFileSystem(
                    account_name=options.get("azure_storage_account_name") or env.get("AZURE_STORAGE_ACCOUNT_NAME", ""),
                    account_key=options.get("azure_storage_account_key") or env.get("AZURE_STORAGE_ACCOUNT_KEY"))
                self._root = self.store.uri.split("://", 1)[1].rstrip("/")
            else:
                self._fs, self._root = pafs.FileSystem.from_uri(self.store.uri)
                self._root = self._root.rstrip("/")
        return self._fs, self._root


def mirrors(store: StoreBinding | None) -> bool:
    """Whether a replica of ``store`` reads a local copy: object storage yes; a local or shared folder
    is already a file system and is read in place."""
    return store is not None and store.remote


__all__ = ["MIRRORED_TABLES", "StoreMirror", "SyncReport", "mirrors"]
