"""``geotrack store copy`` and ``--store``: a folder to PostGIS and back, identical; refusals."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.demo import create_demo
from geotrack.records import edit_crossing, undo


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_folder_to_postgis_to_folder_is_identical(tmp_path, pg_schema):
    ws = create_demo(tmp_path / "demo", n=5)
    edit_crossing(ws, "YLU-0002", {"status": "destroyed"}, user="ana")
    undo(ws, user="ana")
    res = run("store", "copy", str(ws.path), pg_schema, "--json")
    assert res.exit_code == 0, res.output
    copied = json.loads(res.stdout)["layers"]
    assert {"layer": "crossings", "features": 5, "history_entries": 3} in copied
    back = tmp_path / "back"
    res = run("store", "copy", pg_schema, str(back))
    assert res.exit_code == 0, res.output
    for name in ("crossings.geojson", "history.jsonl"):
        assert (back / name).read_bytes() == (ws.path / name).read_bytes(), name
    # a non-empty destination is refused (exit 2) unless told; a database never takes --overwrite
    res = run("store", "copy", str(ws.path), pg_schema)
    assert res.exit_code == 2 and "is not empty: pass --overwrite" in res.output
    res = run("store", "copy", str(ws.path), pg_schema, "--overwrite")
    assert res.exit_code == 1 and "append-only" in res.output
    res = run("store", "copy", pg_schema, str(back))
    assert res.exit_code == 2
    res = run("store", "copy", pg_schema, str(back), "--overwrite")
    assert res.exit_code == 0, res.output
    assert (back / "history.jsonl").read_bytes() == (ws.path / "history.jsonl").read_bytes()


def test_every_command_runs_against_postgis_with_store(tmp_path, pg_schema):
    ws = tmp_path / "team"
    res = run("init", str(ws), "--empty", "--store", pg_schema)
    assert res.exit_code == 0, res.output
    assert "layers in PostGIS" in res.output
    add = [
        "crossings", "add", "-w", str(ws), "--lon", "127.27", "--lat", "41.51", "--kind", "ford",
        "--source", "unit test", "--synthetic",
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "geotrack", *add], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "YLU-0001"
    assert (
        run("crossings", "edit", "-w", str(ws), "YLU-0001", "--status", "destroyed").exit_code == 0
    )
    listed = json.loads(run("crossings", "list", "-w", str(ws), "--json").stdout)
    assert [f["properties"]["status"] for f in listed["features"]] == ["destroyed"]
    res = run("crossings", "undo", "-w", str(ws))
    assert res.exit_code == 0 and "undid operation 2" in res.output
    res = run("validate", "-w", str(ws), "--json")
    assert res.exit_code == 0, res.output
    res = run("--store", "folder", "crossings", "list", "-w", str(ws), "--json")
    assert json.loads(res.stdout)["features"] == []  # the folder itself holds no crossings
    res = run("--store", "mysql://x/y", "crossings", "list", "-w", str(ws))
    assert res.exit_code == 2 and "give 'folder'" in res.output


def test_geotrack_store_names_the_store_for_every_command(tmp_path, pg_schema, monkeypatch):
    ws = tmp_path / "ws"
    assert run("init", str(ws), "--empty").exit_code == 0  # a folder workspace
    monkeypatch.setenv("GEOTRACK_STORE", pg_schema)
    res = run("store", "migrate", "-w", str(ws))
    assert res.exit_code == 0 and "PostGIS" in res.output, res.output
    add = ["crossings", "add", "-w", str(ws), "--lon", "127.27", "--lat", "41.51"]
    res = run(*add, "--kind", "ford", "--source", "unit test", "--synthetic")
    assert res.exit_code == 0, res.output
    assert [f["id"] for f in json.loads(run("crossings", "list", "-w", str(ws), "--json").stdout)[
        "features"]] == ["YLU-0001"]  # fmt: skip
    monkeypatch.delenv("GEOTRACK_STORE")
    listed = json.loads(run("crossings", "list", "-w", str(ws), "--json").stdout)
    assert listed["features"] == []  # without it, the folder's own (empty) layer
