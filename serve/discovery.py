"""Holder records: how ``ragpilot search`` finds a ``serve`` or ``watch`` process that already holds a
repository, with its models and tables loaded, and asks it instead of loading them again.

A holder writes one small JSON file per index it holds, ``server-<pid>.json`` in the index folder,
atomically (a temporary file renamed over) and readable by the user only (0600), and removes it on a
clean exit. A record is *stale* when its process is gone (the reader deletes it) or its address does not
answer (the client then searches directly). The file carries a per-process random token: a ``watch``
holder answers only requests that present it; a ``serve`` holder refuses requests presenting another
one (a different process on a reused port), and its API key, when it has one, is still required: the
token never stands in for the key.

Standard library only: the search client reads these records before deciding to load anything heavy.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..indexer.watch_status import pid_alive

log = logging.getLogger(__name__)

RECORD_PREFIX = "server-"
TOKEN_HEADER = "X-Ragpilot-Holder"  # the holder's token, so a request never reaches another process
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # reachable through loopback


@dataclass(frozen=True)
class HolderRecord:
    """One holder of one repository: where to ask it, and what it would answer with.

    ``embedder_id`` and ``retrieval_env`` let a client ask only a holder that answers exactly as a
    direct search would: the same embedder, and the same ``RAGPILOT_*`` retrieval variables (the
    names are listed in ``retrieval_env_names`` so the client need not import the settings model)."""

    kind: str  # "serve" or "watch"
    host: str  # a loopback address
    port: int
    pid: int
    token: str
    repo_root: str
    index_dir: str
    embedder_id: str
    needs_api_key: bool = False  # serve --api-key: the client must send RAGPILOT_API_KEY
    retrieval_env_names: tuple[str, ...] = ()
    retrieval_env: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def to_json(self) -> dict:
        data = asdict(self)
        data["retrieval_env_names"] = list(self.retrieval_env_names)
        return data

    @classmethod
    def from_json(cls, data: dict) -> HolderRecord:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["retrieval_env_names"] = tuple(known.get("retrieval_env_names") or ())
        known["retrieval_env"] = dict(known.get("retrieval_env") or {})
        record = cls(**known)
        if not (isinstance(record.port, int) and isinstance(record.pid, int) and record.token):
            raise ValueError("a holder record needs an integer port and pid and a token")
        return record


def new_token() -> str:
    return secrets.token_urlsafe(32)


def loopback_host(bound: str) -> str | None:
    """The loopback address that reaches a server bound to ``bound``; None when none does (a server
    bound to one external interface is not asked by the CLI: the CLI talks to loopback only)."""
    bound = bound.strip("[]")
    if bound in LOOPBACK_HOSTS or bound.startswith("127."):
        return bound
    return WILDCARD_HOSTS.get(bound)


def env_subset(names: tuple[str, ...] | list[str], environ=None) -> dict[str, str]:
    """The variables among ``names`` (compared without case, as the settings models read them)."""
    environ = os.environ if environ is None else environ
    wanted = {n.lower() for n in names}
    return {k.lower(): v for k, v in environ.items() if k.lower() in wanted}


def record_path(index_dir: Path, pid: int | None = None) -> Path:
    return Path(index_dir) / f"{RECORD_PREFIX}{os.getpid() if pid is None else pid}.json"


def write_record(index_dir: Path, record: HolderRecord) -> Path:
    """Write ``record`` atomically, readable by this user only; returns its path."""
    path = record_path(index_dir, record.pid)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record.to_json(), f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_record(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as err:  # a read-only or vanished index folder: the record is stale anyway
        log.debug("could not remove the holder record %s: %s", path, err)


def live_records(index_dir: Path) -> list[HolderRecord]:
    """The holders of ``index_dir`` whose process still exists, newest first. Records of processes
    that are gone are deleted; records another user could have written (not ours, or readable by
    others) are ignored, so nobody can point this user's searches at their own server."""
    found = []
    try:
        candidates = list(Path(index_dir).glob(f"{RECORD_PREFIX}*.json"))
    except OSError:
        return []
    for path in candidates:
        try:
            info = path.stat()
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o077):
                log.debug("ignoring holder record %s: not private to this user", path)
                continue
            record = HolderRecord.from_json(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, TypeError) as err:
            log.debug("ignoring unreadable holder record %s: %s", path, err)
            continue
        if not pid_alive(record.pid):
            log.debug("removing the record of holder %d: the process is gone", record.pid)
            remove_record(path)
            continue
        found.append(record)
    return sorted(found, key=lambda r: r.started_at, reverse=True)
