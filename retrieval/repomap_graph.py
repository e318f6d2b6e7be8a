"""The file graph a repo map ranks: an edge from each file that uses a name to each file that defines it.

Built once per symbol-store version (``repomap_index.py`` caches it) from the definitions and references of the
symbol index; the question only re-weights it. Edges are kept as numpy arrays (source file, defining
file, identifier, weight) so a question's boosts and the PageRank iterations are vector operations, not
Python loops over hundreds of thousands of edges.

Weights follow Aider's repo map, which found them by use: many references count, but sub-linearly (the
square root: a file calling ``send`` forty times is not forty times more dependent on it); a name defined
in several files splits its vote among them, and one defined in more than MAX_DEFINERS files (``get``,
``__init__``, ``close``) gets no edges at all: it says nothing about which definition a use needs, and
its edges (every user times every definer) would outnumber all the others on a large repository (3M of
3M edges on the benchmark's first 1,000-file tree, before this bound); private names (``_helper``) count a tenth; long descriptive names
(``should_retry``, ``parseSearchQuery``) count ten times, being specific. A file's references to its own
definitions are not edges: they say nothing about how files depend on each other.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..indexer.symbols.types import Definition, Reference

MAX_DEFINERS = 20
PRIVATE_WEIGHT = 0.1
DESCRIPTIVE_WEIGHT = 10.0
DESCRIPTIVE_MIN_CHARS = 8
_COMPOUND = re.compile(r"[a-z0-9]_[a-z0-9]|[a-z][A-Z]", re.ASCII)


def name_weight(name: str, definers: int) -> float:
    """How much one reference to ``name`` (defined in ``definers`` files) says about a dependency."""
    weight = 1.0 / max(definers, 1)
    if name.startswith("_"):
        weight *= PRIVATE_WEIGHT
    elif len(name) >= DESCRIPTIVE_MIN_CHARS and _COMPOUND.search(name):
        weight *= DESCRIPTIVE_WEIGHT
    return weight


@dataclass(frozen=True)
class SymbolGraph:
    """Files as nodes (``files[i]``), one weighted edge per (using file, defining file, identifier)."""

    files: tuple[str, ...]
    file_index: dict[str, int]
    names: tuple[str, ...]  # the identifiers edges carry (``ident`` indexes this)
    name_index: dict[str, int]
    src: np.ndarray  # int32: the file that references
    dst: np.ndarray  # int32: the file that defines
    ident: np.ndarray  # int32: the identifier
    weight: np.ndarray  # float64: before the question's boosts
    definitions: dict[str, list[Definition]]  # per file, in line order
    definers: dict[str, tuple[str, ...]]  # bare name -> the files defining it (every defined name)
    names_by_lower: dict[str, tuple[str, ...]]  # "router" -> ("Router", "router"): questions are loosely cased
    files_by_stem: dict[str, tuple[str, ...]]  # "searcher" -> ("retrieval/searcher.py",)

    @property
    def edge_count(self) -> int:
        return int(self.src.size)


def counted_uses(references: Iterable[Reference]) -> list[tuple[str, str, int]]:
    """(name, path, how many times) for each name each file references."""
    return [(name, path, n) for (name, path), n in Counter((r.name, r.path) for r in references).items()]


def build_graph(definitions: Iterable[Definition], references: Iterable[Reference] = (),
                files: Iterable[str] = (), *, uses: Iterable[tuple[str, str, int]] | None = None) -> SymbolGraph:
    """The graph over ``files`` (plus every file with a definition or reference), from the references or
    from their counts per (name, file) (``uses``: what the store aggregates without building a
    Reference per row)."""
    defs_by_file: dict[str, list[Definition]] = defaultdict(list)
    definer_sets: dict[str, set[str]] = defaultdict(set)
    for d in definitions:
        defs_by_file[d.path].append(d)
        definer_sets[d.name].add(d.path)
    edges: list[tuple[str, str, int]] = []
    users: set[str] = set()
    for name, path, count in (counted_uses(references) if uses is None else uses):
        users.add(path)
        owners = definer_sets.get(name)
        if owners is not None and len(owners) <= MAX_DEFINERS:
            edges.append((name, path, count))

    all_files = sorted({*files, *defs_by_file, *users})
    file_index = {path: i for i, path in enumerate(all_files)}
    definers = {name: tuple(sorted(paths)) for name, paths in definer_sets.items()}
    names: list[str] = []
    name_index: dict[str, int] = {}
    owner_index: dict[str, tuple[int, ...]] = {}  # per name: its definers' file numbers
    name_weights: dict[str, float] = {}
    src: list[int] = []
    dst: list[int] = []
    ident: list[int] = []
    weight: list[float] = []
    for name, user, count in edges:
        if name not in name_index:
            name_index[name] = len(names)
            names.append(name)
            owner_index[name] = tuple(file_index[p] for p in definers[name])
            name_weights[name] = name_weight(name, len(definers[name]))
        u, n = file_index[user], name_index[name]
        w = name_weights[name] * math.sqrt(count)
        for owner in owner_index[name]:
            if owner != u:
                src.append(u)
                dst.append(owner)
                ident.append(n)
                weight.append(w)
    for defs in defs_by_file.values():
        defs.sort(key=lambda d: (d.line_start, d.line_end))
    return SymbolGraph(
        files=tuple(all_files), file_index=file_index, names=tuple(names), name_index=name_index,
        src=np.asarray(src, dtype=np.int32), dst=np.asarray(dst, dtype=np.int32),
        ident=np.asarray(ident, dtype=np.int32), weight=np.asarray(weight, dtype=np.float64),
        definitions=dict(defs_by_file), definers=definers,
        names_by_lower=_grouped(definers, str.lower), files_by_stem=_grouped(all_files, _stem),
    )


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".", 1)[0].lower()


def _grouped(keys: Iterable[str], key) -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        groups[key(k)].append(k)
    return {k: tuple(v) for k, v in groups.items()}
