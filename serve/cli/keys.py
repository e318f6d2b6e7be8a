"""``ragpilot keys``: make team API keys and the SHA-256 lines the keys file holds instead of them."""

from __future__ import annotations

import secrets
import sys

import click

from ...indexer.errors import UsageError
from ..keys import KEY_NAME, hash_key
from .output import say


@click.group("keys")
def keys_cmd() -> None:
    """Team API keys for `ragpilot serve --keys FILE` (see SERVING.md, "Team access")."""


@keys_cmd.command("hash")
def hash_cmd() -> None:
    """Print the SHA-256 of a key read from stdin (or typed, hidden), for `sha256 = "..."` in the keys file.

    The key is read, never taken as an argument, so it stays out of shell history and `ps`."""
    if sys.stdin.isatty():
        key = click.prompt("key", hide_input=True)
    else:
        key = sys.stdin.readline().rstrip("\r\n")
    if not key.strip() or key != key.strip():
        raise UsageError("the key is empty or has spaces around it: a client's header could never match it")
    click.echo(hash_key(key))


@keys_cmd.command("new")
@click.argument("name")
@click.option("--repo", "repos", multiple=True, required=True,
              help='A repository the key reads (its name as `ragpilot serve` shows it, or "*"); repeat.')
def new_cmd(name: str, repos: tuple[str, ...]) -> None:
    """Make a new random key: the key once on stderr (give it to the team), its keys-file entry on stdout."""
    if not KEY_NAME.match(name):
        raise UsageError(f"'{name}': a key name is letters, digits, '.', '_' or '-' (at most 64)")
    key = "rpk_" + secrets.token_urlsafe(32)
    say(f"key for {name} (shown once, give it to the team): {key}")
    listed = ", ".join(f'"{r}"' for r in repos)
    click.echo(f"[keys.{name}]\nsha256 = \"{hash_key(key)}\"\nrepos = [{listed}]")
