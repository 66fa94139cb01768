"""The ``geotrack`` command: a click group whose subcommands load lazily.

Every :class:`geotrack.errors.GeotrackError` becomes a one-line message on
stderr and exit status 1 (2 for a usage error); stdout carries only data.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from geotrack import __version__
from geotrack.errors import GeotrackError, UsageError

#: Subcommand name -> "module:attribute"; each module is imported only when used.
COMMANDS: dict[str, str] = {
    "init": "geotrack.cli.workspace:init_cmd",
    "stretch": "geotrack.cli.workspace:stretch_cmd",
    "windows": "geotrack.cli.workspace:windows_cmd",
    "validate": "geotrack.cli.workspace:validate_cmd",
    "crossings": "geotrack.cli.crossings:crossings",
    "claims": "geotrack.cli.claims:claims",
    "map": "geotrack.cli.map:map_cmd",
    "demo": "geotrack.cli.map:demo_cmd",
    "trade": "geotrack.cli.trade:trade",
    "density": "geotrack.cli.density:density_cmd",
    "export": "geotrack.cli.export:export_cmd",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            click.echo(f"Error: {_safe(str(exc))}", err=True)
            ctx.exit(2)
        except GeotrackError as exc:
            click.echo(f"Error: {_safe(str(exc))}", err=True)
            ctx.exit(1)


def _safe(text: str) -> str:
    from geotrack.cli._common import terminal_safe

    return terminal_safe(text, keep_newlines=True)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geotrack")
@click.option("-v", "--verbose", count=True, help="More log output on stderr.")
@click.option("-q", "--quiet", count=True, help="Less log output on stderr.")
def cli(verbose: int, quiet: int) -> None:
    """Record, measure and map reported crossings of the Yalu (Amnok) river.

    Data goes to stdout, logs and progress to stderr.  The workspace is
    ./layers unless --workspace or GEOTRACK_WORKSPACE says otherwise.

    \b
    Example:
        geotrack crossings add --lon 127.27 --lat 41.51 --kind ford --source "NK News"
        geotrack density --window reported --json
    """
    level = max(logging.DEBUG, logging.INFO - 10 * verbose + 10 * quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter("geotrack: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


class _SafeFormatter(logging.Formatter):
    """Log lines with control characters made visible (messages may quote data or options)."""

    def format(self, record: logging.LogRecord) -> str:
        return _safe(super().format(record))
