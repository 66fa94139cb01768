"""Helpers shared by the CLI modules: workspace option, JSON output, safe terminal text."""

from __future__ import annotations

import re
import sys
from typing import Any

import click
import orjson

from geotrack.workspace import Workspace

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: Any, *, keep_newlines: bool = False) -> str:
    """Text with control characters (terminal escapes, bidi overrides) shown as ``\\uXXXX``.

    Examples
    --------
    >>> terminal_safe("a\\x1b[31mb\\u202e")
    'a\\\\u001b[31mb\\\\u202e'
    """
    pattern = _CONTROL_NL if keep_newlines else _CONTROL
    text = "" if text is None else str(text)
    if not keep_newlines:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
