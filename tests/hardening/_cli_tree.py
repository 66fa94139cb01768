"""The ``geotrack`` command tree as click builds it, and a fork server that runs commands fast.

:func:`leaf_commands` walks the click group (every lazily loaded subcommand included), so
a command another change adds is fuzzed and its help examples run without editing a test.

:class:`ForkServer` is one Python process that imports geotrack and its heavy libraries
once, then runs each command in a fresh ``fork()`` of itself: a real process with its own
file descriptors, exit status, peak memory (``wait4``) and a time limit, for a fraction
of the cost of starting Python again.  That keeps the CLI fuzz test to a few minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@dataclass
class Ran:
    """One finished command run by the fork server."""

    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    peak_mb: float
    seconds: float
    timed_out: bool


_SERVER = r"""
import json, os, resource, signal, sys, tempfile, time
import click
from geotrack.cli.main import cli, COMMANDS
import importlib
for target in COMMANDS.values():  # import every command module before forking
    importlib.import_module(target.split(":")[0])
for extra in sys.argv[1:]:
    importlib.import_module(extra)
tmp = tempfile.mkdtemp(prefix="geotrack-fork-")
for line in sys.stdin:
    job = json.loads(line)
    out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
    sys.stdout.flush(); sys.stderr.flush()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(job["cwd"])
            os.environ.clear(); os.environ.update(job["env"])
            fd_in = os.open(job.get("stdin") or os.devnull, os.O_RDONLY)
            os.dup2(fd_in, 0)
            os.dup2(os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
            os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            if job.get("mem_mb"):
                lim = job["mem_mb"] * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
            code = cli.main(args=job["argv"], prog_name="geotrack", standalone_mode=False)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 99
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 99
        try:
            sys.stdout.flush(); sys.stderr.flush()
        except BaseException:
            pass
        os._exit(code if isinstance(code, int) else 99)
    timed_out = False
    deadline = t0 + job["timeout"]
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            done, status, usage = os.wait4(pid, 0)
            timed_out = True
            break
        time.sleep(0.005)
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, "rb") as f:
        out = f.read()
    with open(err_path, "rb") as f:
        err = f.read()
    print(json.dumps({"rc": code, "out": out.decode("latin-1"), "err": err.decode("latin-1"),
                      "peak_kib": usage.ru_maxrss, "s": time.monotonic() - t0,
                      "timed_out": timed_out}), flush=True)
"""


class ForkServer:
    """Run ``geotrack ARGS`` many times in forks of one prepared process (see module doc)."""

    def __init__(self, env: dict[str, str], preload: tuple[str, ...] = ()) -> None:
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def run(
        self,
        argv: list[str],
        *,
        cwd: str | os.PathLike[str],
        timeout: float = 120,
        mem_mb: int | None = None,
        stdin: str | os.PathLike[str] | None = None,
    ) -> Ran:
        job = {
            "argv": [str(a) for a in argv],
            "cwd": str(cwd),
            "env": self.env,
            "timeout": timeout,
            "mem_mb": mem_mb,
            "stdin": str(stdin) if stdin else None,
        }
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fork server died")
        d = json.loads(line)
        return Ran(
            job["argv"],
            d["rc"],
            d["out"].encode("latin-1"),
            d["err"].encode("latin-1"),
            d["peak_kib"] / 1024,
            d["s"],
            d["timed_out"],
        )

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()
        self.proc.wait(timeout=60)


def workspace_template(folder: Path) -> Path:
    """A small workspace with synthetic crossings, a hostile report and a named window."""
    from geotrack.demo import create_demo

    ws = create_demo(folder, n=6, seed=7)
    return Path(ws.path)
