"""What the CLI prints from a repository is shown, never obeyed by the terminal; bad keys stop serve at once.

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

from ragpilot.indexer.errors import UsageError
from ragpilot.serve.cli import main
from ragpilot.serve.settings import ServeSettings
from ragpilot.serve.terminal_text import terminal_safe

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


def test_terminal_safe_shows_controls_and_keeps_newlines_tabs_and_text():
    assert terminal_safe(f"a\tb\n{TITLE}{CLEAR}\x7f\x9b\u202e\r") == "a\tb\n\\x1b]0;pwned\\x07\\x1b[2J\\x7f\\x9b\\u202e\\x0d"
    assert terminal_safe("café ✓ [red]x") == "café ✓ [red]x"


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
@pytest.mark.parametrize("key", ["", " ", "\t", " key", "key "])
def test_a_blank_or_space_padded_api_key_is_refused_at_start(key, monkeypatch):
    with pytest.raises(UsageError, match="API key"):
        ServeSettings(api_key=key).check_access()
    monkeypatch.setenv("RAGPILOT_API_KEY", key)
    with pytest.raises(UsageError, match="RAGPILOT_API_KEY"):
        ServeSettings().check_access()


def test_serve_with_a_blank_key_is_one_clear_line_before_anything_is_indexed(sample_repo, ragpilot_home, capsys):
    assert main(["serve", "--api-key", "  ", "--embedder", "hashing", str(sample_repo)]) == 2
    err = capsys.readouterr().err
    assert "API key" in err and "blank" in err and "Traceback" not in err
    assert not ragpilot_home.exists()


def test_a_bad_setting_from_the_environment_is_one_clear_line(sample_repo, monkeypatch, capsys):
    monkeypatch.setenv("RAGPILOT_PORT", "not-a-port")
    assert main(["serve", "--embedder", "hashing", str(sample_repo)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "port" in err and "internal error" not in err
