"""``geotrack init``, ``stretch``, ``windows`` and ``validate``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import orjson
import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.records import add_crossing
from geotrack.store import utc_now


def run(*args: str, input: str | None = None):
    res = CliRunner().invoke(cli, list(args), input=input)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res


def test_init(tmp_path):
    res = run("init", str(tmp_path / "ws"))
    assert res.exit_code == 0 and res.stdout == ""
    assert "created workspace" in res.stderr
    assert run("validate", "-w", str(tmp_path / "ws")).exit_code == 0
    res = run("init", str(tmp_path / "ws"))
    assert res.exit_code == 2 and "exists and is not empty: choose a new folder" in res.stderr


def test_stretch_shows_measured_and_reported_lengths(ws):
    doc = json.loads(run("stretch", "-w", str(ws.path), "--json").stdout)
    assert doc["stretch"]["length_km"] == pytest.approx(305.607, abs=0.001)
    assert doc["stretch"]["crs"] == "EPSG:32652"
    assert "west" in doc["stretch"]["chainage_origin"]
    assert [s["county"] for s in doc["county_segments"]][:5] == [
        "Kimhyongjik",
        "Kimjongsuk",
        "Samsu",
        "Hyesan",
        "Pochon",
    ]
    rep = next(w for w in doc["windows"] if w["name"] == "reported")
    assert (rep["from_km"], rep["to_km"]) == (0.0, 238.7)
    assert rep["straight_km"] == pytest.approx(104.2, abs=0.05)
    assert doc["reported"]["figure_km"] == 98.0
    text = run("stretch", "-w", str(ws.path)).stdout
    assert "305.6 km along the line" in text and "98-kilometer" in text
    row = next(line for line in text.splitlines() if line.startswith("reported"))
    assert row.split()[:5] == ["reported", "0.0", "238.7", "238.7", "104.2"]


def test_windows_list_add_remove(ws):
    w = ["-w", str(ws.path)]
    names = [x["name"] for x in json.loads(run("windows", "list", *w, "--json").stdout)]
    assert {"reported", "river"} <= set(names)
    res = run("windows", "add", *w, "upper", "240:300", "--description", "Samjiyon reach")
    assert res.exit_code == 0 and res.stdout == "" and "saved window upper" in res.stderr
    rows = json.loads(run("windows", "list", *w, "--json").stdout)
    assert next(x for x in rows if x["name"] == "upper")["length_km"] == 60.0
    res = run("windows", "add", *w, "bad", "300:240")
    assert res.exit_code == 1 and "reversed" in res.stderr
    assert run("windows", "remove", *w, "upper").exit_code == 0
    res = run("windows", "remove", *w, "upper")
    assert res.exit_code == 1 and "window='upper' is not saved" in res.stderr


def test_validate_healthy_then_broken(ws, record):
    w = ["-w", str(ws.path)]
    add_crossing(ws, record)
    res = run("validate", *w, "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout) == {
        "workspace": str(ws.path),
        "valid": True,
        "crossings": 1,
        "problems": [],
    }
    res = run("validate", *w)
    assert res.exit_code == 0 and res.stdout == "" and "healthy (1 crossings)" in res.stderr
    # a hand edit of the layer: a bad code, and the layer no longer equals its history
    path = ws.crossings.path
    path.write_bytes(path.read_bytes().replace(b'"kind":"pontoon"', b'"kind":"zeppelin"'))
    res = run("validate", *w, "--json")
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert report["valid"] is False
    fields = {p["field"] for p in report["problems"]}
    assert {"kind", "history"} <= fields
    res = run("validate", *w)
    assert res.exit_code == 1 and "kind='zeppelin'" in res.stderr and "2 problem(s)" in res.stderr


def test_validate_completes_a_logged_but_unwritten_change(ws, record):
    """A writer killed after logging its change: validate applies it and reports healthy."""
    from geotrack.schema import order_crossing

    add_crossing(ws, record)
    (feat,) = ws.read_crossings()
    new = {**feat, "id": "YLU-0002", "properties": {**feat["properties"], "id": "YLU-0002"}}
    entry = {
        "seq": 2,
        "time": utc_now(),
        "user": "killed-writer",
        "op": "add",
        "reason": None,
        "layer": "crossings",
        "undoes": None,
        "changes": [{"id": "YLU-0002", "before": None, "after": order_crossing(new)}],
    }
    with ws.crossings.history_path.open("ab") as fh:
        fh.write(orjson.dumps(entry) + b"\n")
    layer_before = ws.crossings.path.read_bytes()
    res = run("validate", "-w", str(ws.path), "--json")
    assert res.exit_code == 0, res.stdout
    assert json.loads(res.stdout)["crossings"] == 2
    assert ws.crossings.path.read_bytes() != layer_before
    assert [f["id"] for f in ws.read_crossings()] == ["YLU-0001", "YLU-0002"]


def test_not_a_workspace(tmp_path):
    res = run("validate", "-w", str(tmp_path))
    assert res.exit_code == 1 and "is not a geotrack workspace" in res.stderr
    assert "geotrack init DIR" in res.stderr


def test_help_and_version_and_usage_errors():
    res = run("--help")
    assert res.exit_code == 0 and "crossings" in res.stdout and "validate" in res.stdout
    assert run("--version").stdout.startswith("geotrack, version ")
    assert run("no-such-command").exit_code == 2
    assert run("validate", "--bogus").exit_code == 2


def test_validate_as_a_process(ws):
    env = {**os.environ, "GEOTRACK_WORKSPACE": str(ws.path)}
    res = subprocess.run(
        [sys.executable, "-m", "geotrack", "validate", "--json"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["valid"] is True
