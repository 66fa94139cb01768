"""Helpers shared by the CLI modules: workspace option, JSON output, safe terminal text."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from geotrack.escape import terminal_safe
from geotrack.workspace import Workspace

__all__ = ["echo_table", "emit_json", "open_workspace", "terminal_safe", "workspace_option"]


def workspace_option(f):
    """``--workspace DIR`` (default: $GEOTRACK_WORKSPACE or ./layers)."""
    return click.option(
        "--workspace",
        "-w",
        "workspace",
        type=click.Path(file_okay=False, path_type=str),
        default=None,
        help="Workspace folder (default: $GEOTRACK_WORKSPACE or ./layers).",
    )(f)


def open_workspace(path: str | None) -> Workspace:
    """Open the workspace named by ``--workspace`` (errors reach the group handler)."""
    return Workspace.open(path)


def emit_json(obj: Any) -> None:
    """Write one JSON document to stdout (UTF-8; control characters escaped by JSON)."""
    sys.stdout.buffer.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def echo_table(rows: list[list[Any]], header: list[str]) -> None:
    """Print an aligned text table to stdout with every cell made terminal-safe."""
    cells = [[terminal_safe(c) for c in header]] + [[terminal_safe(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
