"""What a question points at in the symbol graph: the identifiers and the files it names.

Questions are written loosely ("how does the router reach the handlers?"), so besides exact
identifiers (``RetryPolicy``, ``Client.send``) a word of four letters or more matches a defined name
case-insensitively (and without a plural ``s``), and a file's stem (``searcher`` for
``retrieval/searcher.py``). Words every question uses ("file", "code", "function") never match.
"""

from __future__ import annotations

import re

from .repomap_graph import SymbolGraph

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATHISH = re.compile(r"[\w.\-/]+")
LOOSE_MIN_CHARS = 4
# Words of questions about code that are rarely what the question is about.
STOPWORDS = frozenset("""
about after also back been before being call called calls caller callers class classes code come comes
defined does done each ends file files first folder folders from function functions have here into
know like main make many method methods module modules most much name need once only other over part
parts path project repo repository same show some such than that their them then there these they
this those through type types used uses using value values what when where which while will with work
works would your
""".split())


def mentioned_names(question: str, graph: SymbolGraph) -> set[str]:
    """Defined names the question mentions (a dotted ``Class.method`` mentions both parts)."""
    found: set[str] = set()
    for word in set(_IDENTIFIER.findall(question)):
        if word in graph.definers:
            found.add(word)
            continue
        folded = word.lower()
        if len(folded) < LOOSE_MIN_CHARS or folded in STOPWORDS:
            continue
        for candidate in (folded, folded.removesuffix("s")):
            found.update(graph.names_by_lower.get(candidate, ()))
    return found


def mentioned_files(question: str, graph: SymbolGraph) -> set[str]:
    """Files the question names: a path or a path's tail (``http/retry.py``, ``retry.py``), a folder
    (every file under ``src/http/``), or a file's stem as a word (``searcher``)."""
    found: set[str] = set()
    for token in set(_PATHISH.findall(question)):
        pathlike = "/" in token or "." in token.strip(".")
        token = token.strip("./-")
        if not token:
            continue
        if pathlike:
            found.update(_files_named(token, graph))
        if len(token) >= LOOSE_MIN_CHARS and token.lower() not in STOPWORDS:
            found.update(graph.files_by_stem.get(token.lower(), ()))
    return found


def _files_named(token: str, graph: SymbolGraph) -> list[str]:
    if token in graph.file_index:
        return [token]
    tail, folder = "/" + token, token + "/"
    return [p for p in graph.files if p.endswith(tail) or p.startswith(folder)]
