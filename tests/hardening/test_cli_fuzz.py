"""Every command, every option, hostile values: no traceback, exit 0, 1 or 2, bounded memory and time.

The commands and their options are read from the click tree (``_cli_tree``): a command
added later is fuzzed without editing this file.  For each command hypothesis draws
argument lists mixing well-formed values with hostile ones (NaN, infinities, huge and tiny
numbers, empty and control-character strings, unknown and byte-only encodings, missing,
unreadable and special paths, hostile window specs) and runs each as a real process
(a fork of a prepared server, see ``tests/_forkserver.py``) in its own copy of a small
synthetic workspace.  Each run must:

* exit 0, 1 or 2 (never a traceback, never geotrack's "internal error" fallback);
* with a non-zero status, say why on stderr in an ``Error:`` line;
* stay under :data:`MAX_RSS_MB` of memory and :data:`MAX_SECONDS` of time (grid sizes,
  bin counts and simulation counts are capped with a message that says so);
* print nothing on stderr that would act on a terminal.

``GEOTRACK_FUZZ_SCALE=N`` runs N times as many examples (for a long hunt).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import click
import pytest
from _forkserver import ForkServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardening._cli_tree import leaf_commands, options_of, workspace_template
from hardening._run import FIGURES, env
from hardening.payloads import assert_terminal_clean

SCALE = int(os.environ.get("GEOTRACK_FUZZ_SCALE", "1"))
#: Examples per command (about 45 commands: a few minutes on 2 shared cores).
EXAMPLES = 6 * SCALE
MAX_RSS_MB = 1200  # the fork shares the server's ~300 MB of libraries
MAX_SECONDS = 90
LEAVES = leaf_commands()

NUMBERS = [
    "nan", "-nan", "inf", "-inf", "1e308", "-1e308", "1e-308", "5e-324", "0", "-0", "-1",
    "1", "2", "0.5", "1e-9", "99999999999999999999", "-99999999999999999999", "0x10", "1_0",
    "", " ", "١٢",
]  # fmt: skip
TEXTS = [
    "", " ", "-", "--", "x", "YLU-0001", "R1", "E1", "reported", "all", "2025-11", "2025-13",
    "0000-00-00", "9999-12-31", "\x1b]0;pwned\x07\x1b[2J", "\x9b31m", "\u202eevil\u2066",
    "a\u2028b\u3164c\u200b", "\t\r\n", "=cmd|' /C calc'!A0", "a" * 5000, "鸭绿江 압록강",
    "kind=ford", "=", "source_name=", "period=Month", "USD=1.5", "CNY=nan", "%s%n{0}",
    "../../../etc/passwd", "C:\\x", "\ufeff", "\udcff",
]  # fmt: skip
ENCODINGS = ["punycode", "utf-7", "rot13", "hex", "base64", "zlib", "idna", "utf-16", "nope",
             "latin-1", "utf-8-sig", "cp949", "gb18030", ""]  # fmt: skip
WINDOWS = [
    "lonlat:nan,nan..nan,nan", "lonlat:inf,1..2,3", "lonlat:127,41..128,42", "town:Hyesan..Poch",
    "town:Hyesan..Pochon", "town:..", "0:1e308", "1e308:0", "nan:nan", "-inf:inf", "5:5", "0:98.5",
    "reported", "all", "hyesan", "lonlat:", "town:",
]  # fmt: skip


def _paths(root: Path) -> list[str]:
    return [
        str(root / "reports.csv"),
        str(root / "found.geojson"),
        str(root / "missing" / "nothing.csv"),
        str(root / "unreadable.csv"),
        str(root / "folder"),
        str(root / "out"),
        str(root / "new.html"),
        str(root / "new.svg"),
        str(root / "new.png"),
        str(root / "empty"),
        "/dev/null",
        "/dev/zero",
        "/proc/self/mem",
        "-",
        "",
        "out/\x1b[2J.csv",
    ]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    template = workspace_template(root / "template")
    (root / "reports.csv").write_text(
        "lon,lat,kind,source_name,reported\n127.27,41.51,ford,NK News,2025-12-16\n"
        "nan,inf,ford,\x1b[2J,2025-13-01\n"
    )
    (root / "found.geojson").write_text('{"type": "FeatureCollection", "features": [{}]}')
    (root / "unreadable.csv").write_text("period,total_trade\n2025-11,1\n")
    (root / "unreadable.csv").chmod(0)
    (root / "folder").mkdir()
    (root / "empty").write_bytes(b"")
    server = ForkServer(env())
    yield root, template, server
    server.close()
    (root / "unreadable.csv").chmod(stat.S_IRUSR | stat.S_IWUSR)


def _values(param: click.Parameter, root: Path) -> st.SearchStrategy[str]:
    t = param.type
    pools: list[st.SearchStrategy[str]] = [st.sampled_from(TEXTS)]
    if isinstance(t, click.Choice):
        pools.append(st.sampled_from([str(c) for c in t.choices]))
    if isinstance(t, click.types._NumberParamTypeBase) or param.name in ("lon", "lat"):
        pools.append(st.sampled_from(NUMBERS))
        pools.append(st.floats(allow_nan=True).map(repr))
        pools.append(st.integers(-(2**70), 2**70).map(str))
    if isinstance(t, click.Path | click.File) or param.name in ("output", "out_dir", "png"):
        pools.append(st.sampled_from(_paths(root)))
    name = param.name or ""
    if "encoding" in name:
        pools.append(st.sampled_from(ENCODINGS))
    if "window" in name or name == "spec":
        pools.append(st.sampled_from(WINDOWS))
    if name in ("workspace",):
        pools.append(st.sampled_from([str(root / "missing"), str(root / "folder"), "/", ""]))
    pools.append(st.text(max_size=12))
    return st.one_of(pools)


@st.composite
def _argv(draw, leaf, root: Path, ws: Path):
    """One command line: global options, the command words, some options and arguments."""
    argv: list[str] = []
    if draw(st.booleans()):
        argv += draw(st.sampled_from([["-v"], ["-q"], ["-vv"], ["-qq"], ["-v", "-q"]]))
    argv += ["-w", str(ws)]
    argv += list(leaf.words)
    params = options_of(leaf.command)
    options = [p for p in params if isinstance(p, click.Option)]
    chosen = draw(st.lists(st.sampled_from(options), max_size=4, unique_by=id)) if options else []
    for p in chosen:
        flag = draw(st.sampled_from(p.opts + p.secondary_opts))
        if p.is_flag or p.count:
            argv.append(flag)
        else:
            for _ in range(draw(st.integers(1, 2)) if p.multiple else 1):
                argv += [flag, draw(_values(p, root))]
    for p in params:
        if isinstance(p, click.Argument) and (p.required or draw(st.booleans())):
            argv.append(draw(_values(p, root)))
    if draw(st.integers(0, 9)) == 0:  # an unknown option or a stray argument
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(["--nope", "x", "-"])))
    return [a for a in argv if "\x00" not in a]


def _check(res, leaf) -> None:
    err = res.stderr.decode("utf-8", "replace")
    what = "geotrack " + " ".join(repr(a if len(a) < 60 else a[:40] + "…") for a in res.argv)
    assert not res.timed_out, f"{what}: still running after {MAX_SECONDS} s"
    assert "Traceback" not in err and "internal error" not in err, f"{what}:\n{err[-800:]}"
    assert res.returncode in (0, 1, 2), f"{what}: exit {res.returncode}\n{err[-800:]}"
    if res.returncode:
        assert "Error:" in err, f"{what}: exit {res.returncode} without a message: {err[-2000:]}"
    assert res.peak_mb < MAX_RSS_MB, f"{what}: peak memory {res.peak_mb:.0f} MB"
    assert_terminal_clean(res.stderr, f"stderr of {what}")
    FIGURES["cli fuzz: commands run"] += 1
    FIGURES[f"cli fuzz: exit {res.returncode}"] += 1


@pytest.mark.slow
@pytest.mark.parametrize("leaf", LEAVES, ids=[leaf.name for leaf in LEAVES])
def test_every_command_survives_hostile_arguments(sandbox, leaf, tmp_path):
    root, template, server = sandbox
    ws = tmp_path / "ws"  # each example gets a fresh copy here, and a fresh working folder
    FIGURES["cli fuzz: commands fuzzed"] += 1
    FIGURES["cli fuzz: options fuzzed"] += len(options_of(leaf.command))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(argv=_argv(leaf, root, ws))
    def run(argv):
        shutil.rmtree(tmp_path, ignore_errors=True)
        tmp_path.mkdir()
        shutil.copytree(template, ws)
        res = server.run(argv, cwd=tmp_path, timeout=MAX_SECONDS)
        _check(res, leaf)

    run()
