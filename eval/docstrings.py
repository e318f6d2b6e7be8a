"""Docstring -> function tasks (the CodeSearchNet method) built from real Python code nobody here wrote.

For each selected function the first sentence of its docstring becomes the query, the docstring is
removed from the indexed copy (so the answer cannot be found by matching the docstring itself) and the
gold is the function's line range in that copy.

Removal deletes the docstring's lines and the gold ranges are recomputed for the shorter file: the
indexed code then looks exactly like an undocumented function would, with no run of blank lines that
a line-sized chunker would treat differently from real code. Only the selected functions lose their
docstrings; every other docstring stays, as a realistic distractor.
"""

from __future__ import annotations

import ast
import logging
import random
import re
from dataclasses import dataclass

from .tasks import GoldSpan, Task, definition_start

log = logging.getLogger(__name__)

MIN_WORDS = 4
MAX_WORDS = 60

_BOILERPLATE = re.compile(
    r"^(return self|returns? self\b|initiali[sz]e self|implement(s)? (self|the)\b|see\b|same as\b|"
    r"alias (for|of)\b|deprecated\b|this (method|function) is deprecated|overrides?\b|todo\b|"
    r"docstring\b|for internal use|internal\b|helper\b|called by\b|wrapper (for|around)\b|"
    r"a (simple |thin )?wrapper\b|shortcut for\b|equivalent to\b)",
    re.IGNORECASE,
)
_ROLE = re.compile(r":[\w:+-]+:`(~?)([^`<]*?)(?:\s*<[^>]*>)?`")  # :func:`~pkg.name` -> name
_BACKTICKS = re.compile(r"`+([^`]*)`+")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_ABBREV = ("e.g", "i.e", "etc", "vs", "cf", "approx", "resp", "incl", "no")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A function whose docstring can become a query. Lines use the original file's numbering."""

    path: str
    qualname: str
    sentence: str
    start_line: int  # first decorator or the ``def`` line
    end_line: int
    doc_start: int
    doc_end: int


def first_sentence(doc: str) -> str:
    """The first sentence of a cleaned docstring's first paragraph, markup removed, no final period."""
    para: list[str] = []
    for line in doc.strip().split("\n"):
        if not line.strip():
            break
        para.append(line.strip())
    text = " ".join(para)
    text = _ROLE.sub(_role_text, text)
    text = _BACKTICKS.sub(r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()].rsplit(" ", 1)[-1].lower()
        if before in _ABBREV or re.fullmatch(r"[a-z]", before) or before.endswith(("e.g", "i.e")):
            continue
        text = text[: match.start()]
        break
    return text.strip().rstrip(":;,").strip()


def _role_text(match: re.Match) -> str:
    """``:func:`~pkg.mod.name``` reads ``name`` (Sphinx's tilde); without the tilde, the full target."""
    target = match.group(2).strip()
    return target.rsplit(".", 1)[-1] if match.group(1) else target


def is_meaningful(sentence: str) -> bool:
    """At least ``MIN_WORDS`` words of prose: not boilerplate like "Return self." or a doctest."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    if not sentence[0].isalpha() or _BOILERPLATE.match(sentence) or "=" in sentence or ">>>" in sentence:
        return False
    return sum(1 for w in words if re.fullmatch(r"[A-Za-z][A-Za-z'-]*[,.;:]?", w)) >= MIN_WORDS - 1


def normalise(sentence: str) -> str:
    """Key used to drop sentences shared by several functions: they would have several right answers.

    Lower-cased words with a plural/third-person ``s`` cut, so "Sends a PATCH request" (a function)
    and "Send a PATCH request" (the method it wraps) count as the same sentence.
    """
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def find_candidates(rel: str, source: str) -> tuple[list[Candidate], list[str]]:
    """Eligible functions of one file, plus the normalised first sentence of *every* documented def.

    The second list feeds corpus-wide deduplication. A file that does not parse yields nothing.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return [], []
    lines = source.split("\n")
    found: list[Candidate] = []
    every: list[str] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                doc = ast.get_docstring(node)
                if doc:
                    every.append(normalise(first_sentence(doc)))
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                sentence = first_sentence(doc)
                every.append(normalise(sentence))
                if _eligible(node, sentence, lines):
                    docnode = node.body[0]
                    assert node.end_lineno is not None and docnode.end_lineno is not None
                    found.append(Candidate(rel, prefix + node.name, sentence, definition_start(node),
                                           node.end_lineno, docnode.lineno, docnode.end_lineno))

    visit(tree.body, "")
    return found, every


def _eligible(node: ast.FunctionDef | ast.AsyncFunctionDef, sentence: str, lines: list[str]) -> bool:
    name = node.name
    if name.startswith("__") and name.endswith("__"):
        return False
    if any(_decorator_name(d) == "overload" for d in node.decorator_list):
        return False
    if not is_meaningful(sentence):
        return False
    if not any(not _is_trivial(stmt) for stmt in node.body[1:]):
        return False  # a stub: nothing but the docstring would identify it
    return _docstring_owns_its_lines(node.body[0], lines)


def _decorator_name(dec: ast.expr) -> str:
    target = dec.func if isinstance(dec, ast.Call) else dec
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _is_trivial(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # ``...`` or a stray string
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        target = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(target, ast.Name) and target.id == "NotImplementedError"
    return False


def _docstring_owns_its_lines(doc: ast.stmt, lines: list[str]) -> bool:
    """True when deleting the docstring's whole lines removes nothing else (no code shares them)."""
    assert doc.end_lineno is not None and doc.end_col_offset is not None
    first = lines[doc.lineno - 1].encode("utf-8")
    last = lines[doc.end_lineno - 1].encode("utf-8")
    tail = last[doc.end_col_offset:].decode("utf-8", "replace").strip()
    return not first[: doc.col_offset].strip() and (not tail or tail.startswith("#"))


def removable_docstrings(source: str) -> list[tuple[int, int]]:
    """Line spans of every function docstring that can be deleted leaving valid code (``--strip-all``)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.split("\n")
    spans = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and ast.get_docstring(node)
                and len(node.body) > 1 and _docstring_owns_its_lines(node.body[0], lines)):
            doc = node.body[0]
            assert doc.end_lineno is not None
            spans.append((doc.lineno, doc.end_lineno))
    return spans


def strip_docstrings(source: str, spans: list[tuple[int, int]]) -> tuple[str, dict[int, int]]:
    """Delete the given (first, last) line spans from ``source``.

    Returns the new text and a map from each surviving original line number to its new number.
    """
    lines = source.split("\n")
    removed = {n for first, last in spans for n in range(first, last + 1)}
    keep = [n for n in range(1, len(lines) + 1) if n not in removed]
    new_lines = [lines[n - 1] for n in keep]
    return "\n".join(new_lines), {old: new for new, old in enumerate(keep, 1)}


def build_docstring_tasks(
    sources: dict[str, str], *, max_tasks: int, seed: int = 0, strip_all: bool = False
) -> tuple[list[Task], dict[str, str]]:
    """Select up to ``max_tasks`` functions from Python ``sources`` (rel path -> text), deterministically.

    Returns the tasks and the rewritten text of every file that lost a docstring; files not in the
    second dict are indexed unchanged. ``strip_all`` removes every function docstring of the corpus
    (as CodeSearchNet does), not only the selected ones: no documented neighbour is left to compete.
    """
    pool: list[Candidate] = []
    counts: dict[str, int] = {}
    for rel in sorted(sources):
        if _looks_like_test(rel):
            continue
        found, every = find_candidates(rel, sources[rel])
        pool.extend(found)
        for key in every:
            counts[key] = counts.get(key, 0) + 1
    unique = [c for c in pool if counts.get(normalise(c.sentence), 0) == 1]
    log.info("docstring tasks: %d eligible functions, %d with a unique first sentence",
             len(pool), len(unique))
    random.Random(seed).shuffle(unique)
    chosen = unique[: max(0, max_tasks)]

    by_file: dict[str, list[Candidate]] = {}
    for c in chosen:
        by_file.setdefault(c.path, []).append(c)
    if strip_all:
        for rel in sources:
            by_file.setdefault(rel, [])
    rewritten: dict[str, str] = {}
    gold_of: dict[tuple[str, int], GoldSpan] = {}
    for rel, cands in by_file.items():
        spans = {(c.doc_start, c.doc_end) for c in cands}
        if strip_all:
            spans.update(removable_docstrings(sources[rel]))
        if not spans:
            continue
        text, mapping = strip_docstrings(sources[rel], sorted(spans))
        try:
            ast.parse(text)
        except SyntaxError as err:  # pragma: no cover - guarded by _docstring_owns_its_lines
            log.warning("%s no longer parses without its docstrings (%s); its tasks are dropped", rel, err)
            continue
        rewritten[rel] = text
        for c in cands:
            gold_of[(rel, c.start_line)] = GoldSpan(rel, mapping[c.start_line], mapping[c.end_line])

    tasks = [
        Task(
            id=f"{c.path}::{c.qualname}:{c.start_line}",
            query=c.sentence,
            gold=[gold_of[(c.path, c.start_line)]],
            kind="docstring",
            meta={"symbol": c.qualname, "original_lines": [c.start_line, c.end_line]},
        )
        for c in chosen
        if (c.path, c.start_line) in gold_of
    ]
    return tasks, rewritten


def _looks_like_test(rel: str) -> bool:
    parts = rel.split("/")
    name = parts[-1]
    return (any(p in ("tests", "test", "testing") for p in parts[:-1]) or name.startswith("test_")
            or name.endswith("_test.py") or name == "conftest.py")
