"""Bare git mirrors built in a test: what eval/ reads pinned corpora from (``<mirrors>/<owner>+<name>/repo``)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity and no user configuration; its stdout, stripped."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}).stdout.strip()


def bare_mirror(tmp_path: Path, repo: str, files: dict[str, str]) -> tuple[Path, str]:
    """One commit of ``files`` mirrored as ``<tmp_path>/mirrors/<owner>+<name>/repo``; the mirrors folder
    and the commit."""
    work = tmp_path / "work"
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "import")
    mirrors = tmp_path / "mirrors"
    owner, _, name = repo.partition("/")
    git(tmp_path, "clone", "-q", "--bare", str(work), str(mirrors / f"{owner}+{name}" / "repo"))
    return mirrors, git(work, "rev-parse", "HEAD")
