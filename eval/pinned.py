"""Pinned multi-language corpora: which repository, which commit, which part of its tree.

The registry is ``corpora_pinned.toml`` beside this file. A corpus is rebuilt from a local mirror of
its repository (a bare git directory) with ``git archive <commit> -- <source paths>``; eval/ never
downloads anything. A missing mirror is not an error: :func:`mirror_status` says how to get it and the
runner skips that corpus.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ragpilot.indexer.errors import UsageError
from ragpilot.retrieval.testpaths import is_test_path

from .git_tasks import git, tree_files

REGISTRY = Path(__file__).with_name("corpora_pinned.toml")
DEFAULT_MIRRORS = Path("/work/.mirror")
MIRRORS_ENV = "RAGPILOT_EVAL_MIRRORS"
_ALWAYS = ("README.md", "README.rst", "README", "README.txt")  # indexed with every corpus


@dataclass(frozen=True)
class PinnedCorpus:
    """One registry entry (see ``corpora_pinned.toml`` for the meaning of each field)."""

    name: str
    language: str
    repo: str
    commit: str
    source: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    large: bool = False
    header: str | None = None
    #: Where the repository's tests live; indexed only with ``with_tests`` (``--with-tests``).
    tests: tuple[str, ...] = ()
    with_tests: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def work_label(self) -> str:
        """The name of this corpus's work folder (indexes with and without tests are kept apart)."""
        return f"{self.name}-pinned" + ("+tests" if self.with_tests else "")

    @property
    def fetch_hint(self) -> str:
        return f"fetch github:{self.repo}"

    def mirror_dir(self, mirrors: Path) -> Path:
        owner, _, name = self.repo.partition("/")
        return mirrors / f"{owner}+{name}" / "repo"

    def wants(self, rel: str) -> bool:
        """Is ``rel`` (a repo-relative POSIX path) part of the indexed tree?"""
        if rel in _ALWAYS:
            return True
        if self.with_tests and is_test_path(rel) and _under(rel, (*self.source, *self.tests)):
            return not any(fnmatch.fnmatch(rel, pat) for pat in self.exclude if not is_test_path(pat))
        return _under(rel, self.source) and not any(fnmatch.fnmatch(rel, pat) for pat in self.exclude)


def _under(rel: str, roots: tuple[str, ...]) -> bool:
    return any(s == "." or rel == s or rel.startswith(s.rstrip("/") + "/") for s in roots)


def load_registry(path: Path = REGISTRY) -> list[PinnedCorpus]:
    """Every corpus of the registry, in file order."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = {"name", "language", "repo", "commit", "source", "exclude", "large", "header", "tests"}
    out = []
    for raw in data.get("corpus", []):
        out.append(PinnedCorpus(
            name=raw["name"], language=raw["language"], repo=raw["repo"], commit=raw["commit"],
            source=tuple(raw.get("source", ["."])), exclude=tuple(raw.get("exclude", [])),
            large=bool(raw.get("large", False)), header=raw.get("header"), tests=tuple(raw.get("tests", [])),
            extra={k: v for k, v in raw.items() if k not in known},
        ))
    return out


def select(spec: str, *, large: bool = False, registry: list[PinnedCorpus] | None = None) -> list[PinnedCorpus]:
    """Corpora named by ``spec``: comma-separated names, languages (``go``, ``ts``...) or ``all``.

    ``all`` and languages leave out large corpora unless ``large``; naming a large corpus selects it.
    """
    registry = load_registry() if registry is None else registry
    aliases = {"ts": "typescript", "js": "javascript", "py": "python", "rs": "rust", "c++": "cpp"}
    chosen: dict[str, PinnedCorpus] = {}
    for item in (s.strip().lower() for s in spec.split(",")):
        if not item:
            continue
        item = aliases.get(item, item)
        by_name = [c for c in registry if c.name == item]
        matches = by_name or [c for c in registry
                              if (item == "all" or c.language == item) and (large or not c.large)]
        if not matches:
            names = ", ".join(c.name for c in registry)
            raise UsageError(f"unknown corpus or language {item!r}: use all, a language, or one of {names}")
        for c in matches:
            chosen.setdefault(c.name, c)
    return list(chosen.values())


def mirrors_root(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    env = os.environ.get(MIRRORS_ENV)
    return Path(env) if env else DEFAULT_MIRRORS


def mirror_status(corpus: PinnedCorpus, mirrors: Path) -> str | None:
    """None when the pinned commit can be read; otherwise what is missing and the exact fetch to run."""
    gitdir = corpus.mirror_dir(mirrors)
    if not gitdir.is_dir():
        return (f"{corpus.name}: no mirror at {gitdir}; get it with the search tool's "
                f"`{corpus.fetch_hint}` (or `git clone --mirror https://github.com/{corpus.repo} {gitdir}`)")
    if not (gitdir / "objects").is_dir():
        return f"{corpus.name}: {gitdir} is not a bare git directory"
    try:
        git(gitdir, "cat-file", "-e", f"{corpus.commit}^{{commit}}")
    except UsageError:
        return (f"{corpus.name}: the mirror at {gitdir} lacks the pinned commit {corpus.commit[:12]}; "
                f"refresh it with `{corpus.fetch_hint}`")
    return None


def corpus_tree(corpus: PinnedCorpus, mirrors: Path, rev: str | None = None) -> dict[str, bytes]:
    """The indexed part of the tree at ``rev`` (default: the pinned commit), by repo-relative path."""
    files = tree_files(corpus.mirror_dir(mirrors), rev or corpus.commit)
    return {rel: data for rel, data in files.items() if corpus.wants(rel)}
