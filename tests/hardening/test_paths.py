"""Paths that try to leave their folder: window names, export names and paths, workspace files.

Names are refused (``../``, absolute, separators, dots, a trailing newline); links inside a
workspace are refused by every command; an output that is a link is never written through
(the link is refused or replaced, its target never changes).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.errors import DataError, GeotrackError
from geotrack.records import add_crossing
from geotrack.workspace import Workspace, init_workspace
from hardening._run import FIGURES, snapshot

ESCAPING_NAMES = [
    "../evil",
    "../../etc/passwd",
    "/tmp/evil",
    "a/b",
    "a\\b",
    "..",
    ".",
    ".hidden",
    "evil\n",
    "x" * 65,
    "",
    "C:evil",
    "ev il",
]


def run(*args) -> tuple[int, str]:
    res = CliRunner().invoke(cli, [str(a) for a in args])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    assert "Traceback" not in res.output
    return res.exit_code, res.output  # stdout and stderr, as a terminal shows them


@pytest.fixture
def ws(tmp_path) -> Workspace:
    ws = init_workspace(tmp_path / "ws")
    add_crossing(ws, {"lon": 127.2696, "lat": 41.5195, "kind": "ford", "source_name": "Seed"})
    return ws


def _tree(root: Path) -> dict[str, bytes]:
    return snapshot(root)


@pytest.mark.parametrize("name", ESCAPING_NAMES, ids=repr)
def test_window_names_that_escape_are_refused(ws, name, tmp_path):
    before = _tree(tmp_path)
    code, out = run("windows", "add", "-w", ws.path, name, "0:10")
    assert code in (1, 2) and "Error:" in out
    assert _tree(tmp_path) == before
    assert name not in ws.windows
    FIGURES["path attempts refused"] += 1


@pytest.mark.parametrize("name", ESCAPING_NAMES, ids=repr)
def test_export_names_that_escape_are_refused(ws, name, tmp_path):
    before = _tree(tmp_path)
    code, out = run("export", "-w", ws.path, "-o", tmp_path / "out", "--name", name)
    assert code == 2 and "Error:" in out, out
    assert _tree(tmp_path) == before and not (tmp_path / "out").exists()
    FIGURES["path attempts refused"] += 1


def test_workspace_file_names_that_escape_are_refused(ws):
    for name in ["../evil", "../../etc/passwd", "/tmp/evil", "a/b", "a\\b", "..", ".", "", "x\x00"]:
        with pytest.raises(DataError):
            ws.file(name)
        FIGURES["path attempts refused"] += 1


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--format", "kml"),
        ("export", "--format", "geojson"),
        ("export", "--format", "csv"),
    ],
    ids=lambda a: a[-1],
)
def test_export_never_writes_through_a_link(ws, tmp_path, args):
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "precious.txt"
    target.write_text("keep me")
    name = {"kml": "geotrack.kml", "geojson": "geotrack-geojson", "csv": "geotrack-reports.csv"}
    link = out / name[args[-1]]
    link.symlink_to(outside if args[-1] == "geojson" else target)
    before = _tree(outside)
    for extra in ((), ("--overwrite",)):
        code, text = run(*args[:1], "-w", ws.path, "-o", out, *args[1:], *extra)
        assert code == 1 and "symbolic link" in text, text
        assert _tree(outside) == before and link.is_symlink()
        FIGURES["path attempts refused"] += 1


@pytest.mark.parametrize("command", ["map", "density", "trade-join", "trade-chart"])
def test_other_outputs_never_write_through_a_link(ws, tmp_path, command):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    if command == "density":
        out = tmp_path / "dens"
        out.mkdir()
        link = out / "density_summary.json"
        args = ["density", "-w", ws.path, "-o", out, "--simulations", "9", "--seed", "1"]
    elif command == "map":
        link = tmp_path / "map.html"
        args = ["map", "-w", ws.path, "-o", link]
    elif command == "trade-join":
        link = tmp_path / "join.csv"
        args = ["trade", "join", "-w", ws.path, "-o", link]
    else:
        link = tmp_path / "chart.svg"
        args = ["trade", "chart", "-w", ws.path, "-o", link]
    link.symlink_to(target)
    code, text = run(*args)  # without --overwrite: the output exists
    assert code in (1, 2) and "Error:" in text, text
    assert target.read_text() == "keep me"
    code, text = run(*args, "--overwrite")  # replaced: the link, not what it points to
    assert target.read_text() == "keep me"
    assert code == 0 and not link.is_symlink(), text
    FIGURES["path attempts refused"] += 1


WORKSPACE_FILES = ["crossings.geojson", "history.jsonl", "windows.json", "trade.csv"]
COMMANDS = [  # (command words, options after --workspace)
    (("crossings", "list"), ()),
    (
        ("crossings", "add"),
        ("--lon", "127.27", "--lat", "41.52", "--kind", "ford", "--source", "x"),
    ),
    (("validate",), ()),
    (("density",), ("--simulations", "9")),
    (("map",), ("-o", "{tmp}/m.html")),
    (("export",), ("-o", "{tmp}/out")),
    (("trade", "list"), ()),
    (("windows", "add"), ("w2", "0:10")),
]


@pytest.mark.parametrize("filename", [*WORKSPACE_FILES, ".crossings.lock", "subfolder"])
def test_links_inside_a_workspace_are_refused_by_every_command(ws, tmp_path, filename):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / filename
    src = ws.path / filename
    if filename == "subfolder":
        victim.mkdir()
    else:
        victim.write_bytes(src.read_bytes())
        src.unlink()
    src.symlink_to(victim)
    before = _tree(outside)
    for words, options in COMMANDS:
        code, text = run(*words, "-w", ws.path, *(a.format(tmp=tmp_path) for a in options))
        assert code == 1 and "symbolic link" in text, (words, text)
        FIGURES["path attempts refused"] += 1
    assert _tree(outside) == before
    assert not (tmp_path / "m.html").exists() and not (tmp_path / "out").exists()


def test_a_replaced_hard_link_is_not_written_through(ws, tmp_path):
    """A layer hard-linked to a file elsewhere: the write replaces the name, not the file."""
    outside = tmp_path / "outside.geojson"
    os.link(ws.crossings.path, outside)
    before = outside.read_bytes()
    code, text = run(
        "crossings", "add", "--allow-near", "-w", ws.path, "--lon", "127.27", "--lat", "41.52",
        "--kind", "ford", "--source", "x",
    )  # fmt: skip
    assert code == 0, text
    assert outside.read_bytes() == before
    assert len(Workspace.open(ws.path).read_crossings()) == 2


def test_names_refused_by_the_library(ws):
    from geotrack.export._model import check_name
    from geotrack.reference import check_name as check_window_name

    for name in ESCAPING_NAMES:
        for check in (check_name, check_window_name):
            with pytest.raises(GeotrackError):
                check(name)
    with pytest.raises(GeotrackError):
        ws.save_window("../up", "0:10")
