"""Which files get indexed: a stat-only walk honouring ignore files, built-in skips and secret names.

Ignore files use gitignore syntax (parsed by ``pathspec``). Precedence, highest first: the nearest
``.ragpilotignore`` up to the root one, then the nearest ``.gitignore`` up to the root one, then
``.git/info/exclude``; within one file the last matching pattern wins. So a ``.ragpilotignore`` can
re-include (``!path``) what a ``.gitignore`` or a built-in rule excluded — except VCS directories,
secrets, over-size files and symlinks, which are never indexed. As in git, nothing under an excluded
directory can be re-included (re-include the directory itself). The user's global git excludes file
is not read: what is indexed should not depend on who runs the indexer.

Symlinks are never followed: a link to a file inside the repo would index that file twice, a link out
of the repo or a dangling/looping one must not be read at all. They are counted as "symlink".
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

from .filters import (
    SECRET_DIRS,
    VCS_DIRS,
    VENV_MARKER,
    builtin_dir_reason,
    builtin_file_reason,
    is_secret_name,
)
from .types import SkipCounts

log = logging.getLogger(__name__)

GITIGNORE = ".gitignore"
RAGPILOTIGNORE = ".ragpilotignore"
GIT_EXCLUDE = ".git/info/exclude"
DEFAULT_MAX_FILE_BYTES = 1 << 20



class _IgnoreFile:
    """One parsed ignore file. ``pathspec`` tries its patterns one by one (~20 us per path for a
    40-line .gitignore); most paths match none, so one combined regex answers "no match" first and
    ``check_file`` decides only when something matched. The combined regexes are a union of
    pathspec's own compiled patterns, so they never miss a path that ``check_file`` would match."""

    __slots__ = ("spec", "_tests")
    _FLOATING = "^(?:.+/)?"  # pathspec's prefix for patterns without a slash: "at any depth"

    def __init__(self, spec: GitIgnoreSpec) -> None:
        self.spec = spec
        floating, anchored, other = [], [], []
        for pattern in spec.patterns:
            regex = getattr(pattern, "regex", None)
            if pattern.include is None or regex is None:
                continue
            src = regex.pattern.replace("(?P<ps_d>", "(?:")  # one group name may not repeat
            if src.startswith(self._FLOATING):
                floating.append(src[len(self._FLOATING):])
            elif src.startswith("^"):
                anchored.append(src[1:])
            else:
                other.append(src)
        tests: list[Callable[[str], object]] = []
        try:
            if floating:
                tests.append(re.compile(self._FLOATING + "(?:" + "|".join(floating) + ")").match)
            if anchored:
                tests.append(re.compile("^(?:" + "|".join(anchored) + ")").match)
            if other:
                tests.append(re.compile("|".join(f"(?:{src})" for src in other)).search)
        except re.error:
            tests = [bool]  # always ask pathspec
        self._tests = tuple(tests)

    def verdict(self, path: str) -> bool | None:
        """True = excluded, False = re-included by ``!``, None = no pattern matched."""
        for test in self._tests:
            if test(path):
                return self.spec.check_file(path).include
        return None


# A level of the ignore chain: (directory prefix ending in "/" or "" for the root, its ignore file).
_Level = tuple[str, _IgnoreFile]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file to index. ``rel`` is POSIX and relative to the root; size/mtime come from one lstat."""

    rel: str
    abs: Path
    size: int
    mtime_ns: int


@dataclass(slots=True)
class WalkResult:
    files: list[FileEntry] = field(default_factory=list)
    skipped: SkipCounts = field(default_factory=SkipCounts)


@dataclass(frozen=True, slots=True)
class _Chain:
    """The ignore specs that apply inside one directory, nearest last."""

    gitignores: tuple[_Level, ...] = ()
    ragpilot: tuple[_Level, ...] = ()

    def extend(self, prefix: str, gi: _IgnoreFile | None, rp: _IgnoreFile | None) -> _Chain:
        if gi is None and rp is None:
            return self
        return _Chain(self.gitignores + (((prefix, gi),) if gi else ()),
                      self.ragpilot + (((prefix, rp),) if rp else ()))


def _verdict(levels: tuple[_Level, ...], rel: str, is_dir: bool) -> bool | None:
    """True = excluded, False = re-included (``!``), None = no pattern matched. Nearest level wins."""
    for prefix, ignore in reversed(levels):
        sub = rel[len(prefix):] if prefix else rel
        verdict = ignore.verdict(sub + "/" if is_dir else sub)
        if verdict is not None:
            return verdict
    return None


class IgnoreRules:
    """Path-level rules for one repo root: builtins + nested .gitignore + .git/info/exclude + .ragpilotignore.

    Ignore files are read lazily and cached per directory, so the watcher can ask about one path
    quickly; parsed files are also cached by (mtime, size), so a re-walk re-parses only edited ones.
    """

    def __init__(self, root: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 scan_secrets: bool = True) -> None:
        self.root = Path(root)
        self.real_root = os.path.realpath(self.root)
        self.max_file_bytes = max_file_bytes
        self.scan_secrets = scan_secrets
        self._parsed: dict[str, tuple[tuple[int, int], _IgnoreFile | None]] = {}
        self._chains: dict[str, _Chain] = {}
        self._dir_reasons: dict[str, str | None] = {}

    # ----- public ------------------------------------------------------------------------------
    def skip_reason(self, rel: str, is_dir: bool) -> str | None:
        """Why ``rel`` (or one of its parent directories) is not indexed; None = keep.

        Path rules only: size, symlinks and content are checked by ``entry_for`` / the walk / filters.
        """
        rel = _norm(rel)
        if not rel:
            return None
        parent, _, name = rel.rpartition("/")
        reason = self._dir_reason(parent) if parent else None
        if reason is not None:
            return reason
        if is_dir:
            return self._dir_reason(rel)
        return self._own_reason(name, rel, False, self._chain(parent))

    def reload(self) -> None:
        """Forget which ignore files apply where (an ignore file changed); parsed files are re-checked
        against their (mtime, size) on the next use."""
        self._chains.clear()
        self._dir_reasons.clear()

    # ----- for a walk: one directory at a time, reusing what the walk already listed ------------
    def chain_above(self, dir_rel: str) -> _Chain:
        """The ignore specs in force where a walk starting at ``dir_rel`` begins ("" = the whole repo,
        after :meth:`reload`: a full walk re-checks every ignore file)."""
        if dir_rel:
            return self._chain(dir_rel.rpartition("/")[0])
        self.reload()
        return _Chain().extend("", self._git_exclude(), None)

    def enter_dir(self, parent: _Chain, dir_rel: str, names: set[str]) -> _Chain:
        """The specs in force inside ``dir_rel``, given its parent's and its listing; remembered for
        later single-path questions (the watcher's)."""
        chain = self._extend(parent, dir_rel, names)
        self._chains[dir_rel] = chain
        return chain

    def entry_reason(self, name: str, rel: str, is_dir: bool, chain: _Chain) -> str | None:
        """Why ``rel`` itself is not indexed, its parents being known to be kept; None = keep."""
        return self._own_reason(name, rel, is_dir, chain)

    def is_ignore_file(self, rel: str) -> bool:
        """True for .gitignore / .ragpilotignore at any level and for .git/info/exclude."""
        rel = _norm(rel)
        return rel == GIT_EXCLUDE or rel.rpartition("/")[2] in (GITIGNORE, RAGPILOTIGNORE)

    # ----- the rules ---------------------------------------------------------------------------
    def _own_reason(self, name: str, rel: str, is_dir: bool, chain: _Chain) -> str | None:
        """The verdict on ``rel`` itself, its parents being known to be kept."""
        if name in VCS_DIRS:
            return "builtin-dir" if is_dir else "builtin-file"  # a .git *file* marks a worktree
        if not (name.isascii() or _utf8_ok(name)):
            return "bad-name"  # undecodable bytes in a name cannot be stored or cited
        lname = name.lower()
        if self.scan_secrets and (lname in SECRET_DIRS if is_dir else is_secret_name(rel, lname)):
            return "secret"
        builtin = builtin_dir_reason(name) if is_dir else builtin_file_reason(lname)
        if builtin is not None:
            # Only an explicit "!pattern" in a .ragpilotignore brings a built-in skip back.
            return None if _verdict(chain.ragpilot, rel, is_dir) is False else builtin
        verdict = _verdict(chain.ragpilot, rel, is_dir)
        if verdict is None:
            verdict = _verdict(chain.gitignores, rel, is_dir)
        return "ignored" if verdict else None

    def _dir_reason(self, rel: str) -> str | None:
        """Verdict on a directory and all its parents, cached (the watcher asks about many siblings)."""
        try:
            return self._dir_reasons[rel]
        except KeyError:
            pass
        parent, _, name = rel.rpartition("/")
        reason = self._dir_reason(parent) if parent else None
        if reason is None:
            reason = self._own_reason(name, rel, True, self._chain(parent))
        if reason is None and os.path.isfile(os.path.join(self.root, rel, VENV_MARKER)):
            reason = "builtin-dir"
        self._dir_reasons[rel] = reason
        return reason

    # ----- ignore files ------------------------------------------------------------------------
    def _chain(self, dir_rel: str) -> _Chain:
        """The ignore specs in force inside ``dir_rel`` ("" = root), loading files on first use."""
        chain = self._chains.get(dir_rel)
        if chain is None:
            if dir_rel:
                parent = self._chain(dir_rel.rpartition("/")[0])
            else:
                parent = _Chain().extend("", self._git_exclude(), None)
            chain = self._extend(parent, dir_rel, None)
            self._chains[dir_rel] = chain
        return chain

    def _extend(self, parent: _Chain, dir_rel: str, names: set[str] | None) -> _Chain:
        """``parent`` plus ``dir_rel``'s own ignore files; ``names`` (a scandir listing) saves the
        failed opens when the walk already knows there is no ignore file."""
        base = os.path.join(self.root, dir_rel) if dir_rel else os.fspath(self.root)
        gi = self._load(os.path.join(base, GITIGNORE)) if names is None or GITIGNORE in names else None
        rp = (self._load(os.path.join(base, RAGPILOTIGNORE))
              if names is None or RAGPILOTIGNORE in names else None)
        return parent.extend(dir_rel + "/" if dir_rel else "", gi, rp)

    def _git_exclude(self) -> _IgnoreFile | None:
        git = os.path.join(self.root, ".git")
        if os.path.isfile(git):  # a worktree or submodule: ".git" names the real git dir
            git = _gitdir_from_file(git)
            if git is None:
                return None
            common = os.path.join(git, "commondir")  # worktrees share info/ with the main repo
            if os.path.isfile(common):
                try:
                    with open(common, encoding="utf-8") as fh:
                        git = os.path.normpath(os.path.join(git, fh.read().strip()))
                except OSError:
                    pass
        return self._load(os.path.join(git, "info", "exclude"))

    def _load(self, path: str) -> _IgnoreFile | None:
        try:
            st = os.stat(path)
        except OSError:
            self._parsed.pop(path, None)
            return None
        key = (st.st_mtime_ns, st.st_size)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        spec = _parse_ignore_file(path)
        self._parsed[path] = (key, spec)
        return spec


def _parse_ignore_file(path: str) -> _IgnoreFile | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.read().splitlines()
    except OSError as err:
        log.warning("cannot read %s: %s", path, err)
        return None
    try:
        spec = GitIgnoreSpec.from_lines(lines)
    except Exception:  # one bad pattern must not void the file: keep the lines that parse
        good = []
        for line in lines:
            try:
                GitIgnoreSpec.from_lines([line])
                good.append(line)
            except Exception as err:
                log.warning("%s: ignoring bad pattern %r: %s", path, line, err)
        spec = GitIgnoreSpec.from_lines(good)
    return _IgnoreFile(spec) if len(spec) else None


def _gitdir_from_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline().strip()
    except OSError:
        return None
    if not first.startswith("gitdir:"):
        return None
    return os.path.normpath(os.path.join(os.path.dirname(path), first[len("gitdir:"):].strip()))


def _norm(rel: str) -> str:
    return rel.replace(os.sep, "/").strip("/") if os.sep != "/" else rel.strip("/")


def _utf8_ok(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ----- the walk ---------------------------------------------------------------------------------


def walk_repo(root: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, rules: IgnoreRules | None = None,
              subdir: str | None = None) -> WalkResult:
    """Every indexable file under ``root`` (or under ``root/subdir``), sorted by path; skips counted.

    Stat-only: reads ignore files, never file contents. Skipped directories are counted once and not
    descended. ``rules`` (reused across walks) keeps parsed ignore files; a full walk refreshes its
    view of which ignore files exist.
    """
    root = Path(root)
    rules = rules or IgnoreRules(root, max_file_bytes=max_file_bytes)
    result = WalkResult()
    start = _norm(subdir or "")
    if start:
        reason = rules.skip_reason(start, True)
        if reason is None and os.path.realpath(os.path.join(root, start)) != os.path.join(
                rules.real_root, start):
            reason = "symlink"  # the directory or one of its parents is a link: never followed
        if reason is not None:
            result.skipped.add(reason, start)
            return result
    chain = rules.chain_above(start)
    _walk(root, start, chain, rules, max_file_bytes, result)
    result.files.sort(key=lambda e: e.rel)
    return result


def _walk(root: Path, start: str, chain: _Chain, rules: IgnoreRules, max_bytes: int,
          result: WalkResult) -> None:
    files, skipped = result.files, result.skipped
    own = rules.entry_reason
    stack: list[tuple[str, _Chain]] = [(start, chain)]  # (dir rel, chain of its parent)
    while stack:
        dir_rel, parent_chain = stack.pop()
        dir_abs = os.path.join(root, dir_rel) if dir_rel else os.fspath(root)
        try:
            with os.scandir(dir_abs) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            log.warning("cannot list %s: %s", dir_abs, err)
            skipped.add("unreadable", dir_rel or ".")
            continue
        names = {e.name for e in entries}
        if dir_rel and VENV_MARKER in names:
            skipped.add("builtin-dir", dir_rel)  # a virtualenv, whatever its name
            continue
        chain = rules.enter_dir(parent_chain, dir_rel, names)
        prefix = dir_rel + "/" if dir_rel else ""
        dir_path: Path | None = None
        subdirs = []
        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                if entry.is_symlink():
                    skipped.add("symlink", rel)
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not entry.is_file(follow_symlinks=False):
                    skipped.add("special", rel)  # fifo, socket, device
                    continue
                reason = own(name, rel, is_dir, chain)
                if reason is not None:
                    skipped.add(reason, rel)
                elif is_dir:
                    subdirs.append(rel)
                else:
                    st = entry.stat(follow_symlinks=False)
                    if st.st_size > max_bytes:
                        skipped.add("too-large", rel)
                    else:
                        if dir_path is None:
                            dir_path = Path(dir_abs)  # one parse per directory: Path(str) per file is 25%
                        files.append(FileEntry(rel, dir_path / name, st.st_size, st.st_mtime_ns))
            except OSError as err:  # vanished or unreadable between listing and stat
                log.debug("skipping %s: %s", rel, err)
                skipped.add("unreadable", rel)
        stack.extend((d, chain) for d in reversed(subdirs))


def entry_for(root: Path, rel: str, rules: IgnoreRules) -> FileEntry | None:
    """The entry for one path, or None if it is gone, not a regular file, or not to be indexed."""
    rel = _norm(rel)
    if not rel or rules.skip_reason(rel, False) is not None:
        return None
    path = os.path.join(root, rel)
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > rules.max_file_bytes:
        return None
    parent = rel.rpartition("/")[0]
    if parent and os.path.realpath(os.path.join(root, parent)) != os.path.join(rules.real_root, parent):
        return None  # reached through a directory symlink: never followed
    return FileEntry(rel, Path(path), st.st_size, st.st_mtime_ns)
