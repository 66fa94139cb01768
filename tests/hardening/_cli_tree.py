"""The ``geotrack`` command tree as click builds it.

:func:`leaf_commands` walks the click group (every lazily loaded subcommand included), so
a command another change adds is fuzzed and its help examples run without editing a test.
(The commands run in forks of a prepared process: ``tests/_forkserver.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from geotrack.cli.main import cli

#: Options every command accepts before its name (the group's own), with their kind.
GLOBAL_SKIP = {"help", "version"}


@dataclass(frozen=True)
class Leaf:
    """One runnable command: its words after ``geotrack`` and the click object."""

    words: tuple[str, ...]
    command: click.Command

    @property
    def name(self) -> str:
        return " ".join(self.words)


def _walk(group: click.Group, words: tuple[str, ...], out: list) -> None:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        path = (*words, name)
        out.append(Leaf(path, cmd))
        if isinstance(cmd, click.Group):
            _walk(cmd, path, out)


def all_commands() -> list[Leaf]:
    """Every command and group under ``geotrack`` (groups included), in tree order."""
    out: list[Leaf] = []
    _walk(cli, (), out)
    return out


def leaf_commands() -> list[Leaf]:
    """Every command that does something (not a group)."""
    return [c for c in all_commands() if not isinstance(c.command, click.Group)]


def options_of(cmd: click.Command) -> list[click.Parameter]:
    """The parameters of *cmd* a user can give (help left out)."""
    return [p for p in cmd.params if p.name not in GLOBAL_SKIP and not getattr(p, "hidden", False)]


def workspace_template(folder: Path) -> Path:
    """A small workspace with synthetic crossings, a hostile report and a named window."""
    from geotrack.demo import create_demo

    ws = create_demo(folder, n=6, seed=7)
    return Path(ws.path)
