"""``ragpilot embedders``: what this install can embed with."""

from __future__ import annotations

import click

from .output import out


@click.command("embedders")
def embedders_cmd() -> None:
    """List the embedders this install knows."""
    from ...indexer.embedders import available

    for name in available():
        out.print(name)
