"""What the CLI prints from a repository is shown, never obeyed by the terminal (real subprocesses).

A cloned repository can name a file ``\\x1b]0;pwned\\x07.py`` (sets the window title) and hold
``\\x1b[2J`` (clears the screen): human output shows those characters as visible escapes, ``--json``
keeps them exact. Real subprocesses, real index (hashing embedder), real ``ragpilot serve``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import RagpilotProcess


TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
FILE_NAME = f"{TITLE}evil{CLEAR}.py"
CONTENT = f"def zqxmarker():\n    return '{TITLE}{CLEAR}\u202eevil'\n"


def ragpilot(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAGPILOT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def assert_no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text[:400])


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    root = tmp_path / f"proj{CLEAR}"
    root.mkdir()
    (root / FILE_NAME).write_text(CONTENT, encoding="utf-8")
    (root / "ok.py").write_text("def fine():\n    return 1\n", encoding="utf-8")
    return root


def test_index_status_and_search_show_escape_sequences_instead_of_sending_them(hostile_repo, tmp_path):
    home = tmp_path / "home"
    index = ragpilot("index", str(hostile_repo), "--embedder", "hashing", home=home)
    assert index.returncode == 0, index.stderr
    status = ragpilot("status", str(hostile_repo), home=home)
    search = ragpilot("search", "zqxmarker", "--repo", str(hostile_repo), home=home)
    assert search.returncode == 0 and status.returncode == 0, search.stderr + status.stderr
    for result in (index, status, search):
        assert_no_raw_controls(result.stdout + result.stderr)
    assert "\\x1b]0;pwned\\x07evil\\x1b[2J.py" in search.stdout  # the name, visibly
    assert "\\x1b[2J" in search.stdout and "\\u202eevil" in search.stdout  # the content, visibly
    assert "\\x1b[2J" in status.stdout  # the repository's own name


def test_json_output_keeps_repository_text_exact(hostile_repo, tmp_path):
    home = tmp_path / "home"
    assert ragpilot("index", str(hostile_repo), "--embedder", "hashing", home=home).returncode == 0
    hits = json.loads(ragpilot("search", "zqxmarker", "--json", "--repo", str(hostile_repo), home=home).stdout)
    assert hits[0]["path"] == FILE_NAME and TITLE in hits[0]["content"] and CLEAR in hits[0]["content"]
    status = json.loads(ragpilot("status", str(hostile_repo), "--json", home=home).stdout)
    assert CLEAR in status["repo"]


def test_serve_startup_lines_show_a_hostile_repository_name_escaped(hostile_repo, tmp_path):
    with RagpilotProcess([str(hostile_repo), "--embedder", "hashing", "--no-watch"], tmp_path / "home",
                         tmp_path / "serve.log") as server:
        server.wait_indexed()
        log = server.log()
    assert "ragpilot serving" in log and "\\x1b[2J" in log
    assert_no_raw_controls(log)


# ----- API keys -----------------------------------------------------------------------------------------

