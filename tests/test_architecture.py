"""The package layers as pyproject.toml's [tool.importlinter] contracts declare them: imports run
indexer <- retrieval <- serve (eval may use all three, nothing imports eval) and no package has an
import cycle between its modules. Run in-process, so the quick loop starts no subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_imports_follow_the_layers_and_have_no_cycles(capsys, monkeypatch):
    cli = pytest.importorskip("importlinter.cli", reason="the test extra installs import-linter")
    monkeypatch.chdir(ROOT)  # import-linter reads ./pyproject.toml
    exit_code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert "Contracts: 2 kept, 0 broken." in report, report
    assert exit_code == 0, report
