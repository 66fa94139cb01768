"""The ``geotrack`` command: a click group whose subcommands load lazily.

The exit status says what kind of failure happened (see :data:`EXIT_CODES`):
a :class:`geotrack.errors.GeotrackError` is a one-line message on stderr and
status 1, a :class:`geotrack.errors.UsageError` or click's own usage error
status 2.  stdout carries only data.  Everything written to a terminal
passes through :func:`geotrack.escape.terminal_safe`, click's messages
included (see :mod:`geotrack.cli._terminal`).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import textwrap
from typing import Any

import click

from geotrack import __version__
from geotrack.cli._terminal import guarded_streams, safe_message
from geotrack.errors import GeotrackError, UsageError

#: Subcommand name -> "module:attribute"; each module is imported only when used.
COMMANDS: dict[str, str] = {
    "init": "geotrack.cli.workspace:init_cmd",
    "stretch": "geotrack.cli.workspace:stretch_cmd",
    "windows": "geotrack.cli.workspace:windows_cmd",
    "validate": "geotrack.cli.workspace:validate_cmd",
    "crossings": "geotrack.cli.crossings:crossings",
    "claims": "geotrack.cli.claims:claims",
    "places": "geotrack.cli.places:places",
    "map": "geotrack.cli.map:map_cmd",
    "demo": "geotrack.cli.map:demo_cmd",
    "trade": "geotrack.cli.trade:trade",
    "density": "geotrack.cli.density:density_cmd",
    "export": "geotrack.cli.export:export_cmd",
    "store": "geotrack.cli.store:store_cmd",
}

#: The exit statuses of every command.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "a failed check or bad data (the message names the field, the value and the fix; "
    "nothing was written)",
    2: "bad usage: an unknown option or value, a missing argument, an output that exists "
    "without --overwrite (checked before any work)",
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

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        standalone = extra.pop("standalone_mode", True)
        with guarded_streams():
            try:
                rv = super().main(args, prog_name, standalone_mode=False, **extra)
            except click.exceptions.Abort:
                _error("aborted")
                code = 1
            except click.ClickException as exc:
                _show_click_error(exc)
                code = exc.exit_code
            except GeotrackError as exc:
                _error(str(exc))
                code = 2 if isinstance(exc, UsageError) else 1
            except OSError as exc:  # the system refused: a path too long, no permission, disk full
                where = f"{exc.filename}: " if exc.filename else ""
                _error(f"{where}{exc.strerror or exc}")
                code = 1
            except MemoryError:
                _error("out of memory: ask for less (a smaller window, fewer bins or simulations)")
                code = 1
            except Exception as exc:
                if os.environ.get("GEOTRACK_DEBUG"):
                    raise
                _error(
                    f"internal error (a bug in geotrack {__version__}; please report it with "
                    f"the command, and GEOTRACK_DEBUG=1 shows where it happened): "
                    f"{type(exc).__name__}: {exc}"
                )
                code = 1
            else:
                code = rv if isinstance(rv, int) else 0
        if not standalone:
            return code
        sys.exit(code)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _error(str(exc))
            ctx.exit(2)
        except GeotrackError as exc:
            _error(str(exc))
            ctx.exit(1)


def _error(text: str) -> None:
    click.echo(f"Error: {safe_message(text)}", err=True)


def _show_click_error(exc: click.ClickException) -> None:
    """click's own message (usage, bad value, missing file), every quoted value escaped."""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        click.echo(safe_message(exc.ctx.get_usage()), err=True)
        hint = exc.ctx.command.get_help_option(exc.ctx)
        if hint is not None:
            click.echo(
                f"Try '{safe_message(exc.ctx.command_path)} {exc.ctx.help_option_names[0]}' "
                "for help.",
                err=True,
            )
        click.echo("", err=True)
    _error(exc.format_message())


_EXIT_HELP = "\n".join(
    textwrap.fill(text, 76, initial_indent=f"  {code}  ", subsequent_indent="     ")
    for code, text in EXIT_CODES.items()
)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="\b\nExit status:\n" + _EXIT_HELP,
)
@click.version_option(__version__, prog_name="geotrack")
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Workspace folder for every command (default: $GEOTRACK_WORKSPACE or ./layers).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr.")
@click.option("-q", "--quiet", count=True, help="Less log output on stderr.")
@click.option(
    "--store",
    "store",
    default=None,
    metavar="URL",
    help="Where the layers live: 'folder' (the workspace, default) or postgresql://host/db "
    "(password from ~/.pgpass or a service file; default: $GEOTRACK_STORE or the workspace's "
    "saved setting).",
)
def cli(workspace: str | None, verbose: int, quiet: int, store: str | None) -> None:
    """Record, measure and map reported crossings of the Yalu (Amnok) river.

    Data goes to stdout, logs and progress to stderr.  The workspace is
    ./layers unless -w/--workspace (before or after the command) or
    GEOTRACK_WORKSPACE says otherwise; its layers live in the folder, or in a
    team's PostGIS database with --store URL (or GEOTRACK_STORE).

    \b
    Example:
        geotrack -w layers crossings list
        geotrack density --window reported --json
        geotrack --store folder crossings list
    """
    level = max(logging.DEBUG, logging.INFO - 10 * verbose + 10 * quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter("geotrack: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


class _SafeFormatter(logging.Formatter):
    """Log lines with control characters made visible (messages may quote data or options)."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_message(super().format(record))
