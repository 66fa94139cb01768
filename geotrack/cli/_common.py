"""Helpers shared by the CLI modules: workspace option, JSON output, safe terminal text."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from geotrack.escape import json_safe, terminal_safe
from geotrack.workspace import Workspace

__all__ = [
    "echo_table",
    "emit_json",
    "emit_json_lines",
    "global_store",
    "json_bytes",
    "open_workspace",
    "report",
    "terminal_safe",
    "workspace_option",
    "workspace_path",
]


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


def workspace_path(path: str | None) -> str | None:
    """The command's ``--workspace``, else the one given before the command (``geotrack -w``)."""
    if path is not None:
        return path
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.find_root().params.get("workspace")


def global_store() -> str | None:
    """The ``--store`` given before the command, if any."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().params.get("store") if ctx is not None else None


def open_workspace(path: str | None) -> Workspace:
    """Open the workspace named by ``--workspace`` in the store ``--store`` names.

    Errors reach the group handler; the store's connection closes with the command.
    """
    ws = Workspace.open(workspace_path(path), store=global_store())
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().call_on_close(ws.close)
    return ws


def json_bytes(obj: Any, *, indent: bool = True) -> bytes:
    """*obj* as UTF-8 JSON with C1, bidi and invisible characters escaped as ``\\u`` sequences.

    Examples
    --------
    >>> json_bytes({"a": "x\\u202e"}, indent=False)
    b'{"a":"x\\\\u202e"}'
    """
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        text = orjson.dumps(obj, option=option).decode("utf-8")
    except TypeError:  # a lone surrogate (an undecodable file name): JSON can still carry it
        import json

        text = json.dumps(obj, indent=2 if indent else None, ensure_ascii=True, default=str)
    return json_safe(text).encode("utf-8")


def emit_json(obj: Any) -> None:
    """Write one JSON document to stdout (UTF-8; control and invisible characters escaped)."""
    sys.stdout.buffer.write(json_bytes(obj) + b"\n")
    sys.stdout.flush()


def emit_json_lines(objs: Any) -> None:
    """Write one compact JSON document per line to stdout (JSON lines)."""
    for obj in objs:
        sys.stdout.buffer.write(json_bytes(obj, indent=False) + b"\n")
    sys.stdout.flush()


def report(text: str) -> None:
    """A line about what a command did (wrote, skipped, found) on stderr, made terminal-safe."""
    click.echo(terminal_safe(text, keep_newlines=True), err=True)


def echo_table(rows: list[list[Any]], header: list[str]) -> None:
    """Print an aligned text table to stdout with every cell made terminal-safe."""
    cells = [[terminal_safe(c) for c in header]] + [[terminal_safe(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
