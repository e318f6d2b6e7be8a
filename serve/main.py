"""The `ragpilot` console script: the core group plus the commands that live in their own modules."""

from __future__ import annotations

import sys

from . import cli_eval, cli_serve
from .cli import cli, run

for _command in (*cli_serve.COMMANDS, *cli_eval.COMMANDS):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    return run(cli, argv, "ragpilot")


if __name__ == "__main__":
    sys.exit(main())
