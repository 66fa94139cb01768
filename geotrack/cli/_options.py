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
    "DEFAULT_CORRIDOR_KM",
    "apply_options",
    "given",
    "include_retired_option",
    "output_option",
    "raster_corridor_option",
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
#: :data:`geotrack.analysis.DEFAULT_CORRIDOR_KM`, repeated so that ``--help`` needs no
#: numerical import (tests/test_cli_density.py checks that the two agree).
DEFAULT_CORRIDOR_KM = 3.0
#: ``--raster-corridor-km KM``, the density raster's corridor along the river (``geotrack
#: density`` and ``geotrack export``); checked by :meth:`geotrack.analysis.DensityOptions.check`.
raster_corridor_option = click.option(
    "--raster-corridor-km",
    type=float,
    default=DEFAULT_CORRIDOR_KM,
    show_default=True,
    help="Density raster: cells farther than this from the river line are nodata, km.",
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
    """``-o/--output FILE`` as a :class:`pathlib.Path` (None when not given and not required).

    No ``default`` is passed: click 8.3+ takes an explicit ``default=None`` as a value
    given, so a required option would no longer be required.
    """
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=required,
        help=help,
    )
