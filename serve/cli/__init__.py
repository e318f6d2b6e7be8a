"""The ``ragpilot`` command line: the only place that prints. Errors become one clear line, no traceback.

Commands live one group per module and are imported only when run (click's LazyGroup pattern), so
``ragpilot --version`` or ``--help`` of one command does not load lancedb, onnxruntime or FastAPI.
Other packages add commands through the ``ragpilot.commands`` entry point group (``ragpilot eval``
comes from ``ragpilot.eval``: serving never imports the benchmark).
"""

from __future__ import annotations

import importlib
import logging

import click

from ...indexer.errors import RagpilotError
from .output import TerminalSafeFormatter, err, esc

ENTRY_POINT_GROUP = "ragpilot.commands"

# command name -> "module:attribute", relative to this package
COMMANDS = {
    "index": ".index:index_cmd",
    "status": ".status:status_cmd",
    "search": ".search:search_cmd",
    "watch": ".watch:watch_cmd",
    "serve": ".serve:serve_cmd",
    "continue-config": ".serve:continue_config_cmd",
    "mcp": ".mcp:mcp_cmd",
    "embedders": ".models:embedders_cmd",
    "keys": ".keys:keys_cmd",
    "map": ".map:map_cmd",
    "def": ".symbols:def_cmd",
    "refs": ".symbols:refs_cmd",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use: built-ins from :data:`COMMANDS`, then the
    ``ragpilot.commands`` entry points of installed packages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS, *_plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attr = COMMANDS[name].split(":")
            return getattr(importlib.import_module(module, __name__), attr)
        plugin = _plugins().get(name)
        if plugin is not None:
            return plugin.load()
        return super().get_command(ctx, name)


def _plugins() -> dict:
    # importlib.metadata parses package metadata (the email package): only when a name is not built in
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in COMMANDS}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="ragpilot")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """ragpilot: a private, local repository brain for AI coding assistants."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = {}


def run(command: click.Command, argv: list[str] | None, prog_name: str) -> int:
    """Run a click command and translate errors at the edge: one clear line, never a traceback."""
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except RagpilotError as e:
        err.print(f"[red]error:[/] {esc(e)}")
        return e.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except OSError as e:
        err.print(f"[red]error:[/] {esc(e)}")
        return 1
    except Exception as e:  # a bug: one line for the user, the traceback with -vv
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        err.print(f"[red]internal error:[/] {type(e).__name__}: {esc(e)} (run with -vv for the traceback)")
        return 70
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``ragpilot`` console script."""
    return run(cli, argv, "ragpilot")


__all__ = ["ENTRY_POINT_GROUP", "LazyGroup", "cli", "main", "run"]
