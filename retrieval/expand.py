"""Graph expansion: follow a hit along the symbol graph to the definitions it calls and the ones calling it.

Chunk search finds the code that matches a question; an answer about how parts connect also needs the
code on the other end of a call ("what does ``send`` do with the retry policy?" needs ``RetryPolicy``).
For each of the best few hits, the functions and methods it calls (their names resolved through the
symbol index, preferring names defined in few places: a call to ``get`` could mean anything) and the
functions and methods that call what it defines are added right after it, with a lower score, so
context assembly shows them when the budget allows. Text still comes only from stored chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import numpy as np

from ..indexer.symbols.types import Definition, Reference
from .context import ChunkSource
from .filelines import FileLines
from .hits import Hit
from .repomap_graph import SymbolGraph

CALLABLE_KINDS = frozenset({"function", "method"})
EXPANDED_SCORE = 0.5  # an expansion's score, as a share of its hit's
MAX_DEFINERS = 3  # a name defined in more places than this is too ambiguous to follow


References = Callable[[str], Sequence[Reference]]  # a file's references (SymbolStore.references)


def expand_hits(hits: Sequence[Hit], graph: SymbolGraph, store: ChunkSource, references: References, *,
                top: int = 3, per_hit: int = 2) -> list[Hit]:
    """``hits`` with up to ``per_hit`` related definitions inserted after each of the ``top`` best
    (callees and callers alternately); a definition already among the hits is not added again."""
    known: dict[str, Sequence[Reference]] = {}

    def refs(path: str) -> Sequence[Reference]:
        if path not in known:
            known[path] = references(path)
        return known[path]

    taken = {(h.path, h.start_line) for h in hits}
    views: dict[str, FileLines] = {}
    out: list[Hit] = []
    for rank, hit in enumerate(hits):
        out.append(hit)
        if rank >= top:
            continue
        added = 0
        for d in _interleave(_callees(hit, graph, refs), _callers(hit, graph, refs)):
            if added >= per_hit:
                break
            if (d.path, d.line_start) in taken or _inside(d, hit):
                continue
            view = views.get(d.path)
            if view is None:
                view = views[d.path] = FileLines(store.rows_for_path(d.path))
            text = view.text(d.line_start, d.line_end)
            if text is None:  # not covered by stored chunks: never read from disk
                continue
            taken.add((d.path, d.line_start))
            out.append(Hit(path=d.path, start_line=d.line_start, end_line=d.line_end,
                           score=hit.score * EXPANDED_SCORE, symbol="", language=d.language, content=text))
            added += 1
    return out


def _inside(d: Definition, hit: Hit) -> bool:
    return d.path == hit.path and hit.start_line <= d.line_start and d.line_end <= hit.end_line


def _callees(hit: Hit, graph: SymbolGraph, refs: References) -> Iterator[Definition]:
    """Definitions of what the hit calls, names defined in fewest places first."""
    names = dict.fromkeys(r.name for r in refs(hit.path)
                          if r.kind == "call" and hit.start_line <= r.line <= hit.end_line)
    usable = [n for n in names if 0 < len(graph.definers.get(n, ())) <= MAX_DEFINERS]
    for name in sorted(usable, key=lambda n: len(graph.definers[n])):  # stable: first call first on ties
        for path in graph.definers[name]:
            for d in graph.definitions.get(path, ()):
                if d.name == name and d.kind in CALLABLE_KINDS:
                    yield d


def _callers(hit: Hit, graph: SymbolGraph, refs: References) -> Iterator[Definition]:
    """The innermost function or method around each call, in other files, of what the hit defines."""
    fidx = graph.file_index.get(hit.path)
    if fidx is None:
        return
    defined = [d.name for d in graph.definitions.get(hit.path, ())
               if hit.start_line <= d.line_start <= hit.end_line and d.name in graph.name_index]
    for name in dict.fromkeys(defined):
        edges = np.nonzero((graph.dst == fidx) & (graph.ident == graph.name_index[name]))[0]
        for src in graph.src[edges]:
            path = graph.files[int(src)]
            for ref in refs(path):
                if ref.name == name and ref.kind == "call":
                    around = _enclosing(graph.definitions.get(path, ()), ref.line)
                    if around is not None:
                        yield around


def _enclosing(definitions: Sequence[Definition], line: int) -> Definition | None:
    inner = [d for d in definitions if d.kind in CALLABLE_KINDS and d.line_start <= line <= d.line_end]
    return min(inner, key=lambda d: d.line_end - d.line_start) if inner else None


def _interleave(*sources: Iterator[Definition]) -> Iterator[Definition]:
    live = list(sources)
    while live:
        for source in list(live):
            item = next(source, None)
            if item is None:
                live.remove(source)
            else:
                yield item

