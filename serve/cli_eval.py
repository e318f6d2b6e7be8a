"""``ragpilot eval``: the retrieval benchmark, the same command as ``python -m eval``."""

from __future__ import annotations

from ..eval.cli import eval_cmd

COMMANDS = [eval_cmd]
