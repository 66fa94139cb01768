"""``geotrack export``: in-process with click's CliRunner, and once as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _exportdata import make_workspace
from click.testing import CliRunner

from geotrack.cli.main import cli


@pytest.fixture
def hws(tmp_path):
    """The hostile three-crossing workspace."""
    return make_workspace(tmp_path / "ws")


def run(*args: str):
    return CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)


def test_export_is_registered():
    res = CliRunner().invoke(cli, ["export", "--help"])
    assert res.exit_code == 0
    for option in ("--format", "--overwrite", "--precision", "--public", "--window", "--json"):
        assert option in res.output


def test_export_json_lists_files(hws, tmp_path):
    out = tmp_path / "out"
    res = run("-w", str(hws.path), "-o", str(out), "--format", "gpkg,csv", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["files"] == ["geotrack.gpkg", "geotrack-reports.csv", "geotrack-claims.csv"]
    assert doc["counts"]["crossings"] == 3
    assert doc["public"] is False and doc["removed"] == []
    assert doc["window"]["name"] == "reported" and doc["crossing_decimals"] == 7
    assert sorted(os.listdir(out)) == sorted(doc["files"])


def test_export_all_by_default_and_human_output(hws, tmp_path):
    out = tmp_path / "out"
    res = run("-w", str(hws.path), "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "Exported 3 crossing(s)" in res.stderr and res.stdout == ""
    for name in ("geotrack.gpkg", "geotrack.kmz", "geotrack.qgz", "geotrack-density.tif"):
        assert (out / name).exists()
        assert name in res.stderr


def test_repeated_format_options(hws, tmp_path):
    res = run(
        "-w",
        str(hws.path),
        "-o",
        str(tmp_path / "o"),
        "--format",
        "kml",
        "--format",
        "kmz",
        "--json",
    )
    assert json.loads(res.stdout)["files"] == ["geotrack.kml", "geotrack.kmz"]


def test_public_says_what_was_removed(hws, tmp_path):
    res = run("-w", str(hws.path), "-o", str(tmp_path / "out"), "--format", "csv", "--public")
    assert res.exit_code == 0, res.output
    assert "Public export: removed or coarsened:" in res.stderr
    for text in (
        "reports.url",
        "reports.notes",
        "reports.sha256",
        "reports.archive_url",
        "crossings.original_lon",
        "2 decimals",
    ):
        assert text in res.stderr
    res = run(
        "-w", str(hws.path), "-o", str(tmp_path / "o2"), "--format", "csv", "--public", "--json"
    )
    doc = json.loads(res.stdout)
    assert doc["public"] and doc["crossing_decimals"] == 2
    assert doc["coarsening_m"]["max_shift_m"] > 500


def test_existing_output_needs_overwrite(hws, tmp_path):
    out = tmp_path / "out"
    assert run("-w", str(hws.path), "-o", str(out), "--format", "csv").exit_code == 0
    before = (out / "geotrack-reports.csv").read_bytes()
    res = run("-w", str(hws.path), "-o", str(out), "--format", "csv", "--bom")
    assert res.exit_code == 2
    assert "--overwrite" in res.stderr and "nothing was written" in res.stderr
    assert (out / "geotrack-reports.csv").read_bytes() == before
    res = run("-w", str(hws.path), "-o", str(out), "--format", "csv", "--bom", "--overwrite")
    assert res.exit_code == 0
    assert (out / "geotrack-reports.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "shp"], "format='shp' is not known"),
        (["--precision", "12"], "precision=12"),
        (["--name", "../escape"], "would leave the output folder"),
    ],
)
def test_usage_errors_exit_2(hws, tmp_path, args, message):
    res = run("-w", str(hws.path), "-o", str(tmp_path / "out"), *args)
    assert res.exit_code == 2
    assert message in res.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["5", "1.5"])
def test_raster_corridor_reaches_the_geotiff_and_is_stated(hws, tmp_path, value):
    rasterio = pytest.importorskip("rasterio")
    out = tmp_path / "out"
    res = run("-w", str(hws.path), "-o", str(out), "--format", "tif", "--raster-corridor-km", value)
    assert res.exit_code == 0, res.output
    with rasterio.open(out / "geotrack-density.tif") as src:
        tags = src.tags()
    assert float(tags["corridor_m"]) == float(value) * 1000.0
    text = " ".join(res.stderr.split())
    assert "geotrack-density.tif: crossing density" in text
    assert f"only within {float(value):g} km of the river line" in text
    res = run(
        "-w",
        str(hws.path),
        "-o",
        str(out),
        "--format",
        "tif",
        "--overwrite",
        "--json",
        "--raster-corridor-km",
        value,
    )
    doc = json.loads(res.stdout)
    assert doc["raster_corridor_km"] == float(value)
    assert any(f"only within {float(value):g} km" in n for n in doc["notes"])


def test_raster_corridor_default_and_no_raster(hws, tmp_path):
    res = run("-w", str(hws.path), "-o", str(tmp_path / "a"), "--format", "tif", "--json")
    assert json.loads(res.stdout)["raster_corridor_km"] == 3.0
    assert "--raster-corridor-km" in run("--help").output
    res = run("-w", str(hws.path), "-o", str(tmp_path / "b"), "--format", "csv", "--json")
    assert json.loads(res.stdout)["raster_corridor_km"] is None  # no raster written


@pytest.mark.parametrize("value", ["0", "-1", "nan", "80"])
def test_a_bad_raster_corridor_is_refused_and_nothing_written(hws, tmp_path, value):
    out = tmp_path / "out"
    res = run("-w", str(hws.path), "-o", str(out), "--format", "tif", "--raster-corridor-km", value)
    assert res.exit_code == 2
    assert "raster_corridor_km" in res.stderr and "--raster-corridor-km" in res.stderr
    assert value in res.stderr and "e.g. 3" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()
    out.mkdir()  # an existing folder is left as it was
    res = run("-w", str(hws.path), "-o", str(out), "--raster-corridor-km", value)
    assert res.exit_code == 2 and os.listdir(out) == []


def test_unwritable_output_exits_1(hws, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("-w", str(hws.path), "-o", str(blocker / "sub"), "--format", "csv")
    assert res.exit_code == 1
    assert "cannot write to output folder" in res.stderr


def test_bad_window_exits_1(hws, tmp_path):
    res = run("-w", str(hws.path), "-o", str(tmp_path / "out"), "--window", "300:10")
    assert res.exit_code == 1
    assert "reversed" in res.stderr
    assert not (tmp_path / "out").exists()


def test_subprocess(hws, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "geotrack",
            "export",
            "-w",
            str(hws.path),
            "-o",
            str(out),
            "--format",
            "kmz",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == ["geotrack.kmz"]
    assert (out / "geotrack.kmz").stat().st_size > 1000
