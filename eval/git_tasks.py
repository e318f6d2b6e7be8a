""""Which files would I change?" tasks mined from a repository's git history.

A fix or feature commit's subject is the query; the non-test source files it modified are the gold
(file level); the corpus is the tree of its parent commit, read with ``git archive``. Tasks are
processed in commit order and each parent tree is synced into one work directory, so the index is
updated incrementally from one commit to the next instead of being rebuilt for every task.
"""

from __future__ import annotations

import io
import logging
import random
import re
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ragpilot.indexer.errors import UsageError

from .tasks import GoldSpan, Task

log = logging.getLogger(__name__)

SOURCE_EXTENSIONS = frozenset(
    ".py .pyi .js .jsx .mjs .ts .tsx .go .rs .java .kt .scala .c .h .cc .cpp .cxx .hpp .cs .rb .php "
    ".swift .m .lua .sh .ex .exs .erl .hs .ml .clj .dart .vue .svelte".split()
)
_INTENT = re.compile(
    r"\b(fix(es|ed)?|bug|feat(ure)?|add(s|ed)?|support(s|ed)?|implement(s|ed)?|handle(s|d)?|allow(s|ed)?|"
    r"prevent(s|ed)?|avoid(s|ed)?|improve(s|d)?|enable(s|d)?|correct(s|ed)?|ensure(s|d)?|make(s)?|"
    r"raise(s|d)?|respect(s|ed)?|preserve(s|d)?|detect(s|ed)?|validate(s|d)?|introduce(s|d)?|new)\b",
    re.IGNORECASE,
)
_NOISE = re.compile(
    r"^(merge|revert|release|bump|version|prepare|changelog|docs?\b|typo|format|lint|style|ci\b|chore|"
    r"tests?\b|wip\b)|\b(typo|changelog|release notes|readme|pre-commit|dependabot)\b",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^\s*[\w-]+(\([^)]*\))?!?:\s*")  # "fix(core): ..." conventional commits
_REFS = re.compile(r"\s*(\(#\d+\)|\[[^\]]*\]|#\d+|gh-\d+)\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    parent: str
    timestamp: int
    subject: str
    modified: tuple[str, ...]
    added: tuple[str, ...]


def git(repo: Path, *args: str) -> bytes:
    """Run git in ``repo``; a failure becomes a :class:`UsageError` with git's own message."""
    proc = subprocess.run(["git", "-c", "core.quotepath=false", *args], cwd=repo, capture_output=True)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip()
        raise UsageError(f"git {' '.join(args[:2])} failed in {repo}: {detail}")
    return proc.stdout


def read_history(repo: Path, *, max_commits: int = 2000, rev: str = "HEAD") -> list[Commit]:
    """The newest ``max_commits`` non-merge commits up to ``rev`` that have a parent, with their
    changed paths. ``repo`` is a work tree or a bare git directory (a mirror)."""
    if not (repo / ".git").exists():
        git(repo, "rev-parse", "--git-dir")  # raises a clear error when this is no repository
    raw = git(repo, "log", "--no-merges", "--no-renames", "--name-status", f"-n{max_commits}",
              "--format=%x1e%H%x1f%P%x1f%ct%x1f%s", rev, "--").decode("utf-8", "replace")
    commits: list[Commit] = []
    for record in raw.split("\x1e")[1:]:
        header, _, body = record.partition("\n")
        sha, parents, ts, subject = header.split("\x1f", 3)
        if not parents.strip() or " " in parents.strip():
            continue  # the root commit has nothing to search; merges are excluded above
        modified, added = [], []
        for line in body.splitlines():
            status, _, path = line.partition("\t")
            if status == "M":
                modified.append(path)
            elif status == "A":
                added.append(path)
        commits.append(Commit(sha, parents.strip(), int(ts), subject.strip(), tuple(modified), tuple(added)))
    return commits


def clean_subject(subject: str) -> str:
    """The commit subject as a query: no conventional-commit prefix, no issue references."""
    text = _PREFIX.sub("", subject, count=1) if _PREFIX.match(subject) and ":" in subject[:40] else subject
    text = _REFS.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip().rstrip(".")


def is_source_path(path: str) -> bool:
    """A non-test source file: what a "which files would I change" answer should name."""
    parts = path.split("/")
    name = parts[-1]
    if "." + name.rsplit(".", 1)[-1] not in SOURCE_EXTENSIONS or "." not in name:
        return False
    if any(p in ("test", "tests", "testing", "__tests__", "spec", "specs", "e2e") for p in parts[:-1]):
        return False
    stem = name.rsplit(".", 1)[0]
    return not (stem.startswith("test_") or stem.endswith(("_test", ".test", ".spec", "_spec"))
                or name == "conftest.py" or stem == "test")


def is_task_commit(commit: Commit, *, max_files: int) -> bool:
    """A fix/feature commit that modified 1..``max_files`` non-test source files."""
    if _NOISE.search(commit.subject) or not _INTENT.search(commit.subject):
        return False
    if len(clean_subject(commit.subject).split()) < 3:
        return False
    gold = [p for p in commit.modified if is_source_path(p)]
    return 1 <= len(gold) <= max_files


def build_git_tasks(repo: str | Path, *, max_tasks: int, seed: int = 0, max_commits: int = 2000,
                    max_files: int = 5) -> list[Task]:
    """Sample up to ``max_tasks`` commits deterministically; tasks come back oldest first."""
    repo = Path(repo).resolve()
    history = [c for c in read_history(repo, max_commits=max_commits)
               if is_task_commit(c, max_files=max_files)]
    history.sort(key=lambda c: c.sha)
    random.Random(seed).shuffle(history)
    chosen = sorted(history[: max(0, max_tasks)], key=lambda c: (c.timestamp, c.sha))
    log.info("git tasks: %d candidate commits, %d chosen", len(history), len(chosen))
    return [_task_of(c) for c in chosen]


def recent_git_tasks(gitdir: str | Path, rev: str, *, n: int, max_files: int = 4,
                     wants: Callable[[str], bool] = lambda rel: True,
                     max_commits: int = 3000) -> list[Task]:
    """The ``n`` newest task commits at or before ``rev`` (a pinned commit), oldest first.

    Walking back from the pin instead of sampling all of history keeps consecutive parent trees
    close, so indexing them one after another is incremental and cheap. A commit qualifies when
    :func:`is_task_commit` accepts it and every source file it modified is in the indexed tree
    (``wants``): a gold file the index cannot contain would make the task unanswerable.
    """
    chosen: list[Commit] = []
    for c in read_history(Path(gitdir), max_commits=max_commits, rev=rev):
        if len(chosen) >= n:
            break
        gold = [p for p in c.modified if is_source_path(p)]
        if is_task_commit(c, max_files=max_files) and all(wants(p) for p in gold):
            chosen.append(c)
    chosen.reverse()
    return [_task_of(c) for c in chosen]


def _task_of(c: Commit) -> Task:
    return Task(
        id=c.sha[:12],
        query=clean_subject(c.subject),
        gold=[GoldSpan(p) for p in c.modified if is_source_path(p)],
        kind="git",
        meta={"commit": c.sha, "parent": c.parent, "subject": c.subject},
    )


def tree_files(repo: str | Path, commit: str) -> dict[str, bytes]:
    """Every regular file of ``commit``'s tree (``git archive``, read in memory), by POSIX path."""
    data = git(Path(repo), "archive", "--format=tar", commit)
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    files[member.name] = handle.read()
    return files
