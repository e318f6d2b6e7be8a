"""Symbol navigation over the symbol index: where is ``NAME`` defined, and who uses it.

Ranking is deterministic, best first: the exact name (or qualified name), then the same name in
another case, then a qualified name that ends with the query (``send`` -> ``Client.send`` is the bare
match; ``Client.send`` -> ``http.Client.send`` the suffix), then fuzzy matches (prefix, substring, one
typo); within a tier, definitions outside test files first, then shorter names, then the less nested
(``send`` before ``Client.send``), then by path and line. An unknown name is an
empty list, not an error; a malformed request (empty or over-long name, unknown kind, absurd limit) is a
:class:`~ragpilot.indexer.errors.UsageError`.

Fuzzy matching keeps, per index, the distinct defined names lower-cased, sorted forwards and spelled
backwards: prefixes, substrings and one-typo candidates are found by range lookups and one string
search instead of comparing every name. They are rebuilt only when the store's generation changes.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ..indexer.errors import UsageError
from ..indexer.symbols.store import SymbolStore, symbols_path
from ..indexer.symbols.types import DEFINITION_KINDS, QUALIFIER, Definition, Reference
from .testpaths import is_test_path

MAX_NAME_CHARS = 200
MAX_SYMBOL_LIMIT = 500
MAX_REFERENCE_LIMIT = 5000
DEFAULT_SYMBOL_LIMIT = 20
DEFAULT_REFERENCE_LIMIT = 200
_FUZZY_CANDIDATE_NAMES = 200

# Match tiers, best first.
EXACT, NOCASE, QUALIFIED, PREFIX, SUBSTRING, TYPO = "exact", "case-insensitive", "qualified", "prefix", "substring", "fuzzy"
MATCH_TIERS = (EXACT, NOCASE, QUALIFIED, PREFIX, SUBSTRING, TYPO)
_SEPARATORS = re.compile(r"::|#|->|/")


@dataclass(frozen=True, slots=True)
class SymbolMatch:
    """One definition found for a query, with how it matched."""

    definition: Definition
    match: str  # one of: exact, case-insensitive, qualified, prefix, substring, fuzzy

    @property
    def path(self) -> str:
        return self.definition.path

    @property
    def line(self) -> int:
        return self.definition.line_start

    @property
    def location(self) -> str:
        return f"{self.definition.path}:{self.definition.line_start}"

    def to_json(self) -> dict:
        d = self.definition
        return {"name": d.name, "qualified": d.qualified, "kind": d.kind, "path": d.path,
                "line": d.line_start, "line_end": d.line_end, "location": self.location,
                "signature": d.signature, "parent": d.parent, "language": d.language, "match": self.match}


@dataclass(frozen=True, slots=True)
class ReferenceMatch:
    """One use of a name."""

    reference: Reference

    @property
    def path(self) -> str:
        return self.reference.path

    @property
    def line(self) -> int:
        return self.reference.line

    @property
    def location(self) -> str:
        return f"{self.reference.path}:{self.reference.line}"

    def to_json(self) -> dict:
        r = self.reference
        return {"name": r.name, "path": r.path, "line": r.line, "location": self.location, "kind": r.kind}


# ----- input checks ------------------------------------------------------------------------------
def check_name(name: object) -> str:
    """The query name, stripped, with ``::``, ``#``, ``->`` and ``/`` read as the qualifier ``.``."""
    if not isinstance(name, str) or not name.strip():
        raise UsageError("the symbol name is empty: give a name such as `send` or `Client.send`")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise UsageError(f"the symbol name is {len(name)} characters long; at most {MAX_NAME_CHARS} are accepted")
    if any(c.isspace() or ord(c) < 32 for c in name):
        raise UsageError("the symbol name holds whitespace or control characters: give one identifier")
    name = _SEPARATORS.sub(QUALIFIER, name).strip(QUALIFIER)
    if not name or QUALIFIER * 2 in name:
        raise UsageError("the symbol name is not a name: give one such as `send` or `Client.send`")
    return name


def check_limit(limit: object, maximum: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise UsageError(f"the limit must be a whole number from 1 to {maximum} (got {limit!r})")
    return limit


def check_kind(kind: str | None) -> str | None:
    if kind is None or kind == "":
        return None
    kind = kind.strip().lower()
    if kind not in DEFINITION_KINDS:
        raise UsageError(f"unknown symbol kind {kind!r}; choose one of: {', '.join(DEFINITION_KINDS)}")
    return kind


# ----- queries -----------------------------------------------------------------------------------
def find_symbol(index_dir: Path, name: str, *, fuzzy: bool = True, kind: str | None = None,
                limit: int = DEFAULT_SYMBOL_LIMIT) -> list[SymbolMatch]:
    """Definitions matching ``name`` (bare or qualified), best first, at most ``limit``."""
    name = check_name(name)
    kind = check_kind(kind)
    limit = check_limit(limit, MAX_SYMBOL_LIMIT)
    bare = name.rsplit(QUALIFIER, 1)[-1]
    qualified_query = QUALIFIER in name
    wanted, suffix = name.lower(), QUALIFIER + name.lower()
    found: dict[Definition, str] = {}

    def add(defs: list[Definition], tier_of) -> None:
        for d in defs:
            if kind is not None and d.kind != kind:
                continue
            tier = tier_of(d)
            if tier is not None and (d not in found or MATCH_TIERS.index(tier) < MATCH_TIERS.index(found[d])):
                found[d] = tier

    with SymbolStore(index_dir, readonly=True) as store:
        def precise(d: Definition) -> str | None:
            full = d.qualified if qualified_query else d.name
            if full == name:
                return EXACT
            if full.lower() == wanted:
                return NOCASE
            if qualified_query and d.qualified.lower().endswith(suffix):
                return QUALIFIED
            if not qualified_query and d.qualified.lower().endswith(suffix):
                return None  # the bare name in another case: already NOCASE
            return None

        add(store.definitions_named_nocase(bare), precise)
        if fuzzy and len(found) < limit:
            names = _names_for(store, index_dir)
            tiers = names.similar(bare.lower())
            if tiers:
                parent = name.lower().rsplit(QUALIFIER, 1)[0] if qualified_query else ""

                def loose(d: Definition) -> str | None:
                    if parent and parent not in d.qualified.lower():
                        return None  # `Client.sned` looks for a typo of sned inside Client only
                    return tiers.get(d.name.lower())

                add(store.definitions_in(names.spellings(tiers)), loose)
    ranked = sorted(found.items(), key=lambda item: (
        MATCH_TIERS.index(item[1]), is_test_path(item[0].path), len(item[0].name), len(item[0].qualified),
        item[0].path, item[0].line_start, item[0].qualified))
    return [SymbolMatch(d, tier) for d, tier in ranked[:limit]]


def find_references(index_dir: Path, name: str, *, limit: int = DEFAULT_REFERENCE_LIMIT) -> list[ReferenceMatch]:
    """Uses of ``name`` (a qualified name is looked up by its last part: references are bare names),
    non-test files first, then by path and line. At most ``limit``."""
    name = check_name(name)
    limit = check_limit(limit, MAX_REFERENCE_LIMIT)
    bare = name.rsplit(QUALIFIER, 1)[-1]
    with SymbolStore(index_dir, readonly=True) as store:
        refs = store.references_named(bare)
    refs.sort(key=lambda r: (is_test_path(r.path), r.path, r.line, r.kind))
    return [ReferenceMatch(r) for r in refs[:limit]]


# ----- the fuzzy name table ----------------------------------------------------------------------
class _Names:
    """The distinct defined names of one index, for prefix, substring and one-typo lookups."""

    def __init__(self, names: list[str]):
        self.by_lower: dict[str, list[str]] = {}
        for n in names:
            self.by_lower.setdefault(n.lower(), []).append(n)
        self.sorted = sorted(self.by_lower)
        self.joined = "\n" + "\n".join(self.sorted) + "\n"
        self._backwards: list[str] | None = None  # every name spelled backwards, sorted: suffix lookups
        self._lock = threading.Lock()

    def similar(self, query: str) -> dict[str, str]:
        """Lower-cased names near ``query`` -> their tier (prefix, substring, fuzzy); at most a few
        hundred, the best tiers first."""
        out: dict[str, str] = {}
        i = bisect.bisect_left(self.sorted, query)
        while i < len(self.sorted) and self.sorted[i].startswith(query) and len(out) < _FUZZY_CANDIDATE_NAMES:
            if self.sorted[i] != query:
                out[self.sorted[i]] = PREFIX
            i += 1
        if len(query) >= 3:
            start = 0
            while len(out) < _FUZZY_CANDIDATE_NAMES:
                at = self.joined.find(query, start)
                if at < 0:
                    break
                begin = self.joined.rfind("\n", 0, at) + 1
                end = self.joined.find("\n", at)
                candidate = self.joined[begin:end]
                if candidate != query:
                    out.setdefault(candidate, SUBSTRING)
                start = end
        if len(query) >= 4:
            for candidate in self._one_typo(query):
                out.setdefault(candidate, TYPO)
        return out

    def spellings(self, tiers: dict[str, str]) -> list[str]:
        return [n for lower in tiers for n in self.by_lower.get(lower, ())]

    def _one_typo(self, query: str) -> list[str]:
        """Names one edit from ``query``. One edit leaves the first half or the end after the middle
        intact (an edit before the middle only shifts what follows it), so the candidates are the names
        starting with ``query[:h]`` or ending with ``query[h+1:]``, two range lookups in sorted lists."""
        h = len(query) // 2
        head, tail = query[:h], query[h + 1:][::-1]
        found: dict[str, None] = {}
        for pool, key, flip in ((self.sorted, head, False), (self._reversed(), tail, True)):
            lo = bisect.bisect_left(pool, key)
            hi = bisect.bisect_left(pool, key + "\uffff")
            for entry in pool[lo:hi]:
                if abs(len(entry) - len(query)) > 1:
                    continue
                candidate = entry[::-1] if flip else entry
                if candidate != query and _within_one_edit(query, candidate):
                    found[candidate] = None
        return sorted(found)

    def _reversed(self) -> list[str]:
        with self._lock:
            if self._backwards is None:
                self._backwards = sorted(n[::-1] for n in self.sorted)
            return self._backwards


def _within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours apart (Damerau, optimal alignment)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


class _NameCache:
    """One :class:`_Names` per index (a few kept: a server serves several), keyed by the store's
    generation and the file's identity (a rebuilt index starts counting again)."""

    def __init__(self, size: int = 4):
        self.size = size
        self.entries: OrderedDict[str, tuple[tuple, _Names]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, store: SymbolStore, index_dir: Path) -> _Names:
        key = str(Path(index_dir).resolve())
        stat = os.stat(symbols_path(index_dir))
        version = (stat.st_dev, stat.st_ino, store.generation())
        with self.lock:
            cached = self.entries.get(key)
            if cached is not None and cached[0] == version:
                self.entries.move_to_end(key)
                return cached[1]
        names = _Names(store.definition_names())
        with self.lock:
            self.entries[key] = (version, names)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return names


_names = _NameCache()


def _names_for(store: SymbolStore, index_dir: Path) -> _Names:
    return _names.get(store, index_dir)
