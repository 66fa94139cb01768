"""Every example in ``geotrack --help`` (every command, read from the click tree) and in the README runs.

Each command's examples run in order, as a shell would run them (pipes to ``jq`` and
``ogr2ogr`` included), in a fresh sandbox: a working folder whose ``./layers`` is a new
workspace with the bundled public record and a few SYNTHETIC crossings, plus the small
input files the examples name (:data:`FILES`).  Each must exit 0 with no traceback.  A new
command's examples are run without editing this file; one that names a new input file
needs that file added to :data:`FILES`.

``geotrack`` on the shell's PATH is the fork server's relay (``tests/_forkserver.py``): each
invocation is a real process with its own descriptors, folder, environment and exit status,
forked from one process that imported geotrack and its libraries once (:data:`PRELOAD`).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _forkserver import ForkServer
from hardening._cli_tree import all_commands

from geotrack.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


COMMANDS = [("", cli), *((c.name, c.command) for c in all_commands())]
#: Libraries the examples' commands import, loaded once in the fork server.
PRELOAD = (
    "numpy",
    "scipy.ndimage",
    "shapely",
    "shapely.geometry",
    "shapely.ops",
    "pyproj",
    "pyogrio",
    "pyogrio.raw",
    "fiona",
    "rasterio",
    "rasterio.warp",
    "pyarrow",
    "orjson",
    "folium",
    "openpyxl",
)


def examples_in(help_text: str) -> list[str]:
    """The shell lines under ``Example:``/``Examples:`` (continuation lines joined)."""
    lines = help_text.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if re.match(r"^\s*Examples?:\s*$", line):
            for raw in lines[i + 1 :]:
                text = raw.strip()
                if out and out[-1].endswith("\\"):
                    out[-1] = out[-1][:-1].rstrip() + " " + text
                elif re.match(r"^(geotrack|cat|echo) ", text):
                    out.append(text)
                else:
                    break
    return out


def readme_examples() -> list[str]:
    """The command lines of the README's CLI tour (``sh`` blocks after '## A tour of the CLI')."""
    text = (REPO / "README.md").read_text()
    tour = text[text.index("## A tour of the CLI") :]
    tour = tour[: tour.index("\n## ", 5)]
    out: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", tour, flags=re.S):
        for raw in block.splitlines():
            code = raw.split("  #")[0].rstrip()
            if out and out[-1].endswith("\\"):
                out[-1] = out[-1][:-1].rstrip() + " " + code.strip()
            elif code.startswith("geotrack"):
                out.append(code)
    return out


#: Input files the examples name, made here (small, SYNTHETIC where they hold crossings).
FILES: dict[str, str] = {
    "reports.csv": "lon,lat,kind,reported,notes\n"
    "127.2696,41.5195,pontoon,2025-12-16,SYNTHETIC example row\n",
    "acled.csv": "event_id_cnty,event_date,time_precision,geo_precision,source,notes,"
    "latitude,longitude\nPRK0001,2025-11-02,1,2,Example source,SYNTHETIC row,41.5195,127.2696\n",
    "found.geojson": '{"type": "FeatureCollection", "features": [{"type": "Feature", '
    '"geometry": {"type": "Point", "coordinates": [127.2696, 41.5195]}, "properties": '
    '{"Type": "ford", "source_name": "Example", "notes": "SYNTHETIC"}}]}',
    "gacc.csv": "Month,Total\n1999-01,5000\n",
    "more.csv": "period,total_trade,currency,unit,source,article_date\n"
    "1999-02,6,USD,million,GACC (example row),2025-01-02\n",
    "customs.csv": "period,total_trade,currency,unit,source,article_date\n"
    "1999-03,7,USD,million,NK News (example row),2025-01-02\n",
}


@pytest.fixture(scope="module")
def server():
    """The fork server whose relay is ``geotrack`` on the examples' PATH."""
    env = {k: v for k, v in os.environ.items() if k != "GEOTRACK_WORKSPACE"}
    srv = ForkServer({**env, "GEOTRACK_USER": "examples"}, preload=PRELOAD)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory, server) -> Path:
    """The sandbox every command's examples start from."""
    root = tmp_path_factory.mktemp("examples")
    env = _env(server)
    geotrack = Path(server.bin, "geotrack")
    subprocess.run([geotrack, "init", "layers"], cwd=root, env=env, check=True)
    for i, (lon, lat) in enumerate([(127.2696, 41.5195), (128.18, 41.41), (127.9, 41.45)]):
        add = ["crossings", "add", "--lon", str(lon), "--lat", str(lat), "--kind", "ford"]
        more = ["--source", f"Example {i}", "--reported", f"2025-11-0{i + 1}", "--synthetic"]
        more.append("--allow-near")  # the bundled record has sites near Hyesan already
        subprocess.run(
            [geotrack, *add, *more, "--max-border-km", "20"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    for name, text in FILES.items():
        (root / name).write_text(text)
    subprocess.run(
        [geotrack, "export", "--format", "gpkg", "-o", "exp"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    shutil.move(root / "exp" / "geotrack.gpkg", root / "edited.gpkg")
    shutil.rmtree(root / "exp")
    # claims.csv: the public record's first claim under a new id (the sandbox holds C1-C3)
    with open(REPO / "data" / "public_record" / "claims.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["claim_id"] == "C1"]
    with open(root / "claims.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "claim_id": "C9", "relay_id": r["relay_id"].replace("C1-", "C9-")})
    return root


def _env(server: ForkServer) -> dict[str, str]:
    """The fork server's environment with its relay first on PATH (then the venv's scripts)."""
    path = os.pathsep.join((server.bin, str(BIN), server.env.get("PATH", "")))
    return {**server.env, "PATH": path}


def _run_all(lines: list[str], template: Path, tmp_path: Path, server: ForkServer) -> None:
    sandbox = tmp_path / "sandbox"
    shutil.copytree(template, sandbox)
    for line in lines:
        res = subprocess.run(
            ["bash", "-o", "pipefail", "-c", line],
            cwd=sandbox,
            env=_env(server),
            capture_output=True,
            timeout=300,
        )
        err = res.stderr.decode("utf-8", "replace")
        assert res.returncode == 0, f"example `{line}` exited {res.returncode}:\n{err[-2000:]}"
        assert "Traceback" not in err, f"example `{line}`:\n{err[-2000:]}"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n or "geotrack" for n, _ in COMMANDS])
def test_every_command_has_an_example_in_its_help(name, command):
    assert examples_in(command.help or ""), f"`geotrack {name} --help` shows no example"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n or "geotrack" for n, _ in COMMANDS])
def test_every_help_example_runs(name, command, template, tmp_path, server):
    _run_all(examples_in(command.help or ""), template, tmp_path, server)


@pytest.mark.slow
def test_every_readme_example_runs(template, tmp_path, server):
    lines = readme_examples()
    assert len(lines) > 20
    _run_all(lines, template, tmp_path, server)


def test_examples_are_found_in_help_text():
    text = "Do it.\n\n\b\nExamples:\n    geotrack a \\\n      --b c\n    geotrack d | jq .\nMore."
    assert examples_in(text) == ["geotrack a --b c", "geotrack d | jq ."]


def test_geotrack_in_the_examples_is_a_real_process_of_the_fork_server(template, tmp_path, server):
    """The relay passes on argv, stdin, stdout, stderr, exit status, working folder and env."""
    shutil.copy(template / "reports.csv", tmp_path)
    script = (
        'test "$(command -v geotrack)" = "$RELAY"\n'
        "geotrack --version | grep -q 'geotrack, version'\n"
        "rc=0; geotrack nope 2>err || rc=$?; test $rc = 2\n"
        "grep -q \"No such command 'nope'\" err\n"
        "if geotrack nope 2>/dev/null | cat; then exit 9; fi\n"  # pipefail: the status of a pipe
        "mkdir sub && cd sub && geotrack init here >/dev/null 2>&1 && test -f here/stretch.geojson\n"
        "GEOTRACK_WORKSPACE=here geotrack validate 2>/dev/null\n"
        "cat ../reports.csv | GEOTRACK_WORKSPACE=here geotrack crossings import - --dry-run"
        " --set source_name=S\n"
    )
    res = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=tmp_path,
        env={**_env(server), "RELAY": str(Path(server.bin, "geotrack"))},
        capture_output=True,
        timeout=300,
    )
    err = res.stderr.decode("utf-8", "replace")
    assert res.returncode == 0, err[-2000:]
    assert "read 1 record(s) from <stdin>" in err and "would import 1 new" in err, err
