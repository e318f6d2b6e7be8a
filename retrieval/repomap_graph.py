"""The file graph a repo map ranks: an edge from each file that uses a name to each file that defines it.

Built once per symbol-store version (``repomap.py`` caches it) from the definitions and references of the
symbol index; the question only re-weights it. Edges are kept as numpy arrays (source file, defining
file, identifier, weight) so a question's boosts and the PageRank iterations are vector operations, not
Python loops over hundreds of thousands of edges.

Weights follow Aider's repo map, which found them by use: many references count, but sub-linearly (the
square root: a file calling ``send`` forty times is not forty times more dependent on it); a name defined
in several files splits its vote among them (a ``get`` defined in thirty files says little about which
one a reference needs); private names (``_helper``) count a tenth; long descriptive names
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
    references: dict[str, list[Reference]]  # per file, in line order
    names_by_lower: dict[str, tuple[str, ...]]  # "router" -> ("Router", "router"): questions are loosely cased
    files_by_stem: dict[str, tuple[str, ...]]  # "searcher" -> ("retrieval/searcher.py",)

    @property
    def edge_count(self) -> int:
        return int(self.src.size)

    def names_used_by(self, path: str) -> set[str]:
        return {r.name for r in self.references.get(path, ())}


def build_graph(definitions: Iterable[Definition], references: Iterable[Reference],
                files: Iterable[str] = ()) -> SymbolGraph:
    """The graph over ``files`` (plus every file with a definition or reference)."""
    defs_by_file: dict[str, list[Definition]] = defaultdict(list)
    definer_sets: dict[str, set[str]] = defaultdict(set)
    for d in definitions:
        defs_by_file[d.path].append(d)
        definer_sets[d.name].add(d.path)
    refs_by_file: dict[str, list[Reference]] = defaultdict(list)
    uses: Counter[tuple[str, str]] = Counter()
    for r in references:
        refs_by_file[r.path].append(r)
        if r.name in definer_sets:
            uses[(r.name, r.path)] += 1

    all_files = sorted({*files, *defs_by_file, *refs_by_file})
    file_index = {path: i for i, path in enumerate(all_files)}
    definers = {name: tuple(sorted(paths)) for name, paths in definer_sets.items()}
    names: list[str] = []
    name_index: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    ident: list[int] = []
    weight: list[float] = []
    for (name, user), count in uses.items():
        owners = definers[name]
        w = name_weight(name, len(owners)) * math.sqrt(count)
        u = file_index[user]
        for owner in owners:
            if owner == user:
                continue
            if name not in name_index:
                name_index[name] = len(names)
                names.append(name)
            src.append(u)
            dst.append(file_index[owner])
            ident.append(name_index[name])
            weight.append(w)
    for defs in defs_by_file.values():
        defs.sort(key=lambda d: (d.line_start, d.line_end))
    for refs in refs_by_file.values():
        refs.sort(key=lambda r: r.line)
    return SymbolGraph(
        files=tuple(all_files), file_index=file_index, names=tuple(names), name_index=name_index,
        src=np.asarray(src, dtype=np.int32), dst=np.asarray(dst, dtype=np.int32),
        ident=np.asarray(ident, dtype=np.int32), weight=np.asarray(weight, dtype=np.float64),
        definitions=dict(defs_by_file), definers=definers, references=dict(refs_by_file),
        names_by_lower=_grouped(definers, str.lower), files_by_stem=_grouped(all_files, _stem),
    )


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".", 1)[0].lower()


def _grouped(keys: Iterable[str], key) -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        groups[key(k)].append(k)
    return {k: tuple(v) for k, v in groups.items()}
