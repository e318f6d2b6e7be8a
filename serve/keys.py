"""Team API keys: which key may read which served repositories, from a small TOML file.

A server shared by several teams gives each team a key that reads its own repositories only. The file
(``ragpilot serve --keys keys.toml`` / ``RAGPILOT_KEYS_FILE``) names each key, holds the key itself or
better its SHA-256 (so the file holds no secret: ``ragpilot keys hash``), and lists the repositories it
reads, by the name the server gives them (the folder's name) or their path, or ``"*"`` for all::

    [keys.payments]
    sha256 = "5e8848..."          # or: key = "the key itself"
    repos = ["payments-api", "ledger"]

    [keys.platform]
    sha256 = "9f86d0..."
    repos = ["*"]

The single ``--api-key`` / ``RAGPILOT_API_KEY`` keeps working and reads every repository. Every mistake
in the file (bad TOML, a repository the server does not serve, the same key twice...) is a start-up
error naming the file and the entry. A presented key is hashed and compared with every entry's digest
in constant time (no early exit), so the time taken says nothing about which key was close.

Standard library only: ``ragpilot keys hash`` and the auth middleware import it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..indexer.errors import UsageError

EVERY_REPO = "*"
API_KEY_NAME = "--api-key"  # the single RAGPILOT_API_KEY's entry (not a valid name in the file)
KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
ENTRY_FIELDS = frozenset({"key", "sha256", "repos"})


class NamedRepo(Protocol):
    """What a served repository offers to be matched against a key's list (``ServedRepo``)."""

    name: str
    root: Path


def key_digest(secret: str | bytes) -> bytes:
    """The SHA-256 of a key, as the file stores it (hex) and as a presented key is compared."""
    return hashlib.sha256(secret.encode("utf-8") if isinstance(secret, str) else secret).digest()


def hash_key(secret: str) -> str:
    """The hex SHA-256 to write as ``sha256 = "..."`` (what ``ragpilot keys hash`` prints)."""
    return key_digest(secret).hex()


@dataclass(frozen=True)
class TeamKey:
    """One key: its name (for logs and errors, never the secret), its digest, the repositories it reads."""

    name: str
    digest: bytes
    repos: tuple[str, ...]  # names or paths as written; ("*",) reads every repository

    @property
    def reads_everything(self) -> bool:
        return self.repos == (EVERY_REPO,)


class KeyRing:
    """The keys a server accepts: the single API key (every repository) and the team keys of the file."""

    def __init__(self, keys: Sequence[TeamKey], *, source: str = "the keys file"):
        self.keys = tuple(keys)
        self.source = source
        seen: dict[bytes, str] = {}
        for key in self.keys:
            if key.digest in seen:
                first = seen[key.digest]
                first = "--api-key / RAGPILOT_API_KEY" if first == API_KEY_NAME else f"'{first}'"
                raise UsageError(f"{source}: keys {first} and '{key.name}' are the same key: "
                                 "give each team its own")
            seen[key.digest] = key.name

    @classmethod
    def from_settings(cls, api_key: str | None, keys_file: Path | None) -> KeyRing | None:
        """The ring for ``serve`` (None: no key at all, every request is let in)."""
        keys = [TeamKey(API_KEY_NAME, key_digest(api_key), (EVERY_REPO,))] if api_key else []
        source = "the keys file"
        if keys_file is not None:
            source = f"keys file {keys_file}"
            keys += load_keys_file(keys_file)
        return cls(keys, source=source) if keys else None

    @property
    def restricts(self) -> bool:
        """Whether some key reads fewer than every repository (then an anonymous request sees none)."""
        return any(not k.reads_everything for k in self.keys)

    def identify(self, token: bytes) -> TeamKey | None:
        """The key ``token`` is, or None. Every digest is compared (constant time each, no early exit)."""
        digest = key_digest(token)
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found

    def readable(self, key: TeamKey, served: Sequence[NamedRepo]) -> list:
        """The repositories of ``served`` that ``key`` reads; a name the server does not serve (or that
        names two of them) is an error naming the file and the key."""
        if key.reads_everything:
            return list(served)
        chosen = []
        for ref in key.repos:
            matches = [r for r in served if ref in (r.name, str(r.root))]
            if not matches:
                names = ", ".join(r.name for r in served)
                raise UsageError(f"{self.source}: key '{key.name}' reads repository '{ref}', which this "
                                 f"server does not serve (serving: {names})")
            if len(matches) > 1:
                raise UsageError(f"{self.source}: key '{key.name}' reads '{ref}', the name of several served "
                                 f"repositories ({', '.join(str(r.root) for r in matches)}): give the path")
            if matches[0] not in chosen:
                chosen.append(matches[0])
        return chosen

    def check(self, served: Sequence[NamedRepo]) -> None:
        """Start-up check: every key's repositories are served (raises the first mistake)."""
        for key in self.keys:
            self.readable(key, served)


def load_keys_file(path: Path) -> list[TeamKey]:
    """The team keys of ``path``; any mistake is a :class:`UsageError` naming the file and the entry."""
    source = f"keys file {path}"
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except OSError as err:
        raise UsageError(f"{source} cannot be read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{source} is not valid TOML: {err}") from None
    extra = set(data) - {"keys"}
    if extra:
        raise UsageError(f"{source}: unknown top-level entry {sorted(extra)[0]!r} (expected [keys.NAME] tables)")
    table = data.get("keys")
    if not isinstance(table, dict) or not table:
        raise UsageError(f"{source} defines no keys: add a [keys.NAME] table with sha256 and repos")
    return [_entry(source, name, entry) for name, entry in table.items()]


def _entry(source: str, name: str, entry: object) -> TeamKey:
    where = f"{source}: key '{name}'"
    if not KEY_NAME.match(name):
        raise UsageError(f"{where}: a key name is letters, digits, '.', '_' or '-' (at most 64)")
    if not isinstance(entry, dict):
        raise UsageError(f"{where} must be a table ([keys.{name}]) with sha256 (or key) and repos")
    unknown = set(entry) - ENTRY_FIELDS
    if unknown:
        raise UsageError(f"{where}: unknown field {sorted(unknown)[0]!r} (fields: key or sha256, repos)")
    if ("key" in entry) == ("sha256" in entry):
        raise UsageError(f"{where}: give exactly one of sha256 (better: the file then holds no secret) or key")
    if "sha256" in entry:
        value = entry["sha256"]
        if not isinstance(value, str) or not SHA256_HEX.match(value):
            raise UsageError(f"{where}: sha256 must be 64 hex digits (`ragpilot keys hash` prints it)")
        digest = bytes.fromhex(value)
    else:
        value = entry["key"]
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise UsageError(f"{where}: the key must be a non-empty string without spaces around it")
        digest = key_digest(value)
    repos = entry.get("repos")
    if not isinstance(repos, list) or not repos or not all(isinstance(r, str) and r.strip() for r in repos):
        raise UsageError(f'{where}: repos must list the repository names it reads (or ["*"] for all)')
    if EVERY_REPO in repos and len(repos) > 1:
        raise UsageError(f'{where}: "*" already means every repository: list it alone')
    return TeamKey(name, digest, tuple(dict.fromkeys(repos)))
