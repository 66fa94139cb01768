"""Helpers for the hardening suite: real ``geotrack`` processes, peak memory, snapshots, figures.

Figures (operations run, kills injected, payloads and files tried) are counted in
:data:`FIGURES`; ``tests/hardening/conftest.py`` writes them to the JSON file named by
``GEOTRACK_HARDENING_FIGURES`` at the end of a run (for ``benchmarks/RESULTS_hardening.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: Counters reported at the end of the run.
FIGURES: Counter[str] = Counter()
#: Peak resident memory allowed to a geotrack process fed a hostile file.
MAX_RSS_MB = 500


def env(**extra: str) -> dict[str, str]:
    """The environment for a geotrack subprocess."""
    out = {**os.environ, "GEOTRACK_USER": "hardening", "PYTHONUNBUFFERED": "1", **extra}
    out.pop("GEOTRACK_WORKSPACE", None)
    return out


def geotrack(
    *args: str | os.PathLike[str],
    input: bytes | None = None,
    timeout: float = 180,
    cwd: str | os.PathLike[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m geotrack ARGS`` as a real process and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "geotrack", *map(str, args)],
        input=input,
        capture_output=True,
        env=env(**(extra_env or {})),
        timeout=timeout,
        cwd=cwd,
    )


def start(*args: str | os.PathLike[str], **kw) -> subprocess.Popen[bytes]:
    """Start ``python -m geotrack ARGS`` without waiting (output discarded)."""
    return subprocess.Popen(
        [sys.executable, "-m", "geotrack", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(),
        **kw,
    )


@dataclass
class Measured:
    """A finished geotrack process and its peak resident memory."""

    returncode: int
    stdout: bytes
    stderr: bytes
    peak_mb: float


_WRAPPER = r"""
import json, resource, subprocess, sys
a = json.loads(sys.argv[1])
stdin = open(a["stdin"], "rb") if a["stdin"] else subprocess.DEVNULL
if a["pipe"]:  # the file through a pipe, which has no size to check beforehand
    cat = subprocess.Popen(["cat"], stdin=stdin, stdout=subprocess.PIPE)
    stdin = cat.stdout
p = subprocess.run(a["cmd"], stdin=stdin, capture_output=True, timeout=a["timeout"])
if a["pipe"]:
    cat.kill()
    cat.wait()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"rc": p.returncode, "out": p.stdout.decode("latin-1"),
                  "err": p.stderr.decode("latin-1"), "peak_kib": peak}))
"""


def measured(
    *args: str | os.PathLike[str],
    stdin: Path | None = None,
    pipe: bool = False,
    timeout: float = 180,
) -> Measured:
    """Run geotrack in a wrapper process whose only child it is, and report its peak RSS.

    ``resource.getrusage(RUSAGE_CHILDREN)`` of the wrapper covers exactly the geotrack
    process (and, with *pipe*, a ``cat`` feeding it), not the other children of the test run
    (browsers, earlier commands).
    """
    spec = {
        "cmd": [sys.executable, "-m", "geotrack", *map(str, args)],
        "stdin": str(stdin) if stdin else None,
        "pipe": pipe,
        "timeout": timeout,
    }
    res = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(spec)],
        capture_output=True,
        env=env(),
        timeout=timeout + 30,
        check=True,
    )
    d = json.loads(res.stdout)
    return Measured(
        d["rc"], d["out"].encode("latin-1"), d["err"].encode("latin-1"), d["peak_kib"] / 1024
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* (hidden ones too) by relative path, byte for byte.

    Lock files are left out: they hold no data and a command may create one.
    """
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.name.endswith(".lock"):
            out[str(p.relative_to(folder))] = p.read_bytes()
    return out


def assert_clear_error(res, what: str, *, exit_code: int = 1) -> None:
    """A refusal: the exit status, an ``Error:`` line on stderr, no traceback, nothing on stdout."""
    err = res.stderr.decode("utf-8", "replace")
    assert res.returncode == exit_code, f"{what}: exit {res.returncode}, stderr: {err[-2000:]}"
    assert "Error:" in err and "Traceback" not in err, f"{what}: {err[-2000:]}"
    assert res.stdout == b"", f"{what}: stdout {res.stdout[:300]!r}"
