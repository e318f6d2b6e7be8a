"""What the CLI prints from a repository is shown, never obeyed by the terminal; bad keys stop serve at once.

A cloned repository can name a file ``\\x1b]0;pwned\\x07.py`` (sets the window title) and hold
``\\x1b[2J`` (clears the screen): human output shows those characters as visible escapes, ``--json``
keeps them exact. In-process here; the CLI subprocesses are in tests/e2e/test_terminal_output_cli.py.
"""

from __future__ import annotations

import pytest

from ragpilot.indexer.errors import UsageError
from ragpilot.serve.cli import main
from ragpilot.serve.settings import ServeSettings
from ragpilot.serve.terminal_text import terminal_safe

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


def test_terminal_safe_shows_controls_and_keeps_newlines_tabs_and_text():
    assert terminal_safe(f"a\tb\n{TITLE}{CLEAR}\x7f\x9b\u202e\r") == "a\tb\n\\x1b]0;pwned\\x07\\x1b[2J\\x7f\\x9b\\u202e\\x0d"
    assert terminal_safe("café ✓ [red]x") == "café ✓ [red]x"


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
