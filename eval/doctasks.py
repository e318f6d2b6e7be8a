"""Doc -> function tasks in any supported language, with leak filtering and a tune/confirm split.

One builder for every language: Python functions come from :mod:`eval.docstrings` (``ast``), the
others from :mod:`eval.doccomments` (tree-sitter). For each sampled function the first sentence of
its doc is the query, **only that doc** is deleted from the indexed copy (other docs stay, as
realistic distractors) and the gold is the function's line range in the shorter file.

A query *leaks* when its text (compared as lower-case words) appears anywhere in the indexed tree
besides its own doc: in another comment, a README, a string. Such a task has a second "right"
answer, or a shortcut, and is dropped. Trivial docs (fewer than 4 words, boilerplate) and test files
are skipped. Sampling is deterministic (``seed``), and each task is put in the ``tune`` or the
``confirm`` half by a hash of its id, so a setting tuned on one half can be confirmed on the other.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ragpilot.indexer.languages import language_for

from .doccomments import DOC_LANGUAGES, find_doc_candidates
from .docstrings import Candidate, find_candidates, is_meaningful, strip_docstrings
from .git_tasks import is_source_path
from .tasks import GoldSpan, Task

log = logging.getLogger(__name__)

SPLITS = ("tune", "confirm")
_WORDS = re.compile(r"[^a-z0-9]+")


def split_of(task_id: str) -> str:
    """``tune`` or ``confirm``: a fixed function of the id, so it never depends on what else was sampled."""
    return SPLITS[int(hashlib.sha1(task_id.encode("utf-8")).hexdigest()[:8], 16) % 2]


def words(text: str) -> str:
    """Lower-case words separated by single spaces: how queries and corpus text are compared."""
    return _WORDS.sub(" ", text.lower()).strip()


@dataclass
class DocTaskStats:
    """How the tasks were chosen, for the report: nothing is dropped silently."""

    files: int = 0
    functions_documented: int = 0
    eligible: int = 0
    leaked: int = 0
    chosen: int = 0
    by_split: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def build_doc_tasks(
    sources: dict[str, str], *, max_tasks: int, seed: int = 0,
    language_of: Callable[[str], str] = language_for,
) -> tuple[list[Task], dict[str, str], DocTaskStats]:
    """Sample up to ``max_tasks`` documented functions of ``sources`` (rel path -> text).

    Returns the tasks, the rewritten text of each file that lost a doc (other files are indexed
    unchanged) and the selection statistics.
    """
    stats = DocTaskStats(files=len(sources))
    pool: list[Candidate] = []
    for rel in sorted(sources):
        language = language_of(rel)
        if not is_source_path(rel) or (language != "python" and language not in DOC_LANGUAGES):
            continue
        if language == "python":
            found, every = find_candidates(rel, sources[rel])
            stats.functions_documented += len(every)
        else:
            found, _ = find_doc_candidates(rel, sources[rel], language)
            stats.functions_documented += len(found)
        pool.extend(c for c in found if is_meaningful(c.sentence))
    stats.eligible = len(pool)
    pool.sort(key=lambda c: (c.path, c.start_line))
    random.Random(seed).shuffle(pool)

    haystack = " \x00 ".join(words(sources[rel]) for rel in sorted(sources))
    chosen: list[Candidate] = []
    for cand in pool:
        if len(chosen) >= max_tasks:
            break
        if leaks(cand, sources[cand.path], haystack):
            stats.leaked += 1
            continue
        chosen.append(cand)
    tasks, rewritten = _blank_and_task(chosen, sources, language_of)
    stats.chosen = len(tasks)
    stats.by_split = {s: sum(1 for t in tasks if t.meta["split"] == s) for s in SPLITS}
    log.info("doc tasks: %d documented functions, %d eligible, %d leaked, %d chosen",
             stats.functions_documented, stats.eligible, stats.leaked, stats.chosen)
    return tasks, rewritten, stats


def leaks(cand: Candidate, source: str, haystack: str) -> bool:
    """True when the query's words occur in the corpus more often than in the candidate's own doc."""
    needle = f" {words(cand.sentence)} "
    if not needle.strip():
        return True
    own_doc = "\n".join(source.split("\n")[cand.doc_start - 1: cand.doc_end])
    own = f" {words(own_doc)} ".count(needle)
    return f" {haystack} ".count(needle) > own


def _blank_and_task(chosen: list[Candidate], sources: dict[str, str],
                    language_of: Callable[[str], str]) -> tuple[list[Task], dict[str, str]]:
    by_file: dict[str, list[Candidate]] = {}
    for c in chosen:
        by_file.setdefault(c.path, []).append(c)
    rewritten: dict[str, str] = {}
    gold: dict[tuple[str, int], GoldSpan] = {}
    for rel, cands in by_file.items():
        text, mapping = strip_docstrings(sources[rel], sorted({(c.doc_start, c.doc_end) for c in cands}))
        rewritten[rel] = text
        for c in cands:
            gold[(rel, c.start_line)] = GoldSpan(rel, mapping[c.start_line], mapping[c.end_line])
    tasks = []
    for c in chosen:
        task_id = f"{c.path}::{c.qualname}:{c.start_line}"
        tasks.append(Task(
            id=task_id, query=c.sentence, gold=[gold[(c.path, c.start_line)]], kind="docstring",
            meta={"symbol": c.qualname, "language": language_of(c.path), "split": split_of(task_id),
                  "original_lines": [c.start_line, c.end_line], "doc_lines": [c.doc_start, c.doc_end]},
        ))
    return tasks, rewritten
