"""Click options and option tables shared by the CLI commands.

An option table is a list of ``(flag, dest, help)`` rows: :func:`text_options`
declares them as text options defaulting to None, and :func:`given` collects
the ones the user gave.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

__all__ = [
    "apply_options",
    "given",
    "include_retired_option",
    "output_option",
    "reason_option",
    "text_options",
]

OptionSpec = tuple[str, str, str]

#: ``--reason TEXT``, recorded in the history.
reason_option = click.option("--reason", default=None, help="Why, for the history.")
#: ``--include-retired``, for commands that count crossing sites.
include_retired_option = click.option(
    "--include-retired", is_flag=True, help="Count retired crossing sites too."
)


def apply_options(opts: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """Apply click option decorators *opts* in order (the first is listed first in --help)."""

    def deco(f):
        for o in reversed(opts):
            f = o(f)
        return f

    return deco


def text_options(specs: Sequence[OptionSpec]) -> Callable[[Any], Any]:
    """Declare each ``(flag, dest, help)`` of *specs* as a text option defaulting to None."""

    def deco(f):
        for flag, dest, help_ in reversed(specs):
            f = click.option(flag, dest, default=None, help=help_)(f)
        return f

    return deco


def given(kwargs: Mapping[str, Any], specs: Sequence[OptionSpec]) -> dict[str, Any]:
    """The options of *specs* the user gave (not None), by dest, in table order.

    Examples
    --------
    >>> given({"url": "https://x", "notes": None}, [("--url", "url", ""), ("--notes", "notes", "")])
    {'url': 'https://x'}
    """
    return {dest: kwargs[dest] for _, dest, _ in specs if kwargs.get(dest) is not None}


def output_option(*, help: str, required: bool = False) -> Callable[[Any], Any]:
    """``-o/--output FILE`` as a :class:`pathlib.Path` (None when not given and not required)."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=required,
        default=None,
        help=help,
    )
