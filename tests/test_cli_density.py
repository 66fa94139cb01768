"""Tests of ``geotrack density``: the JSON keys, the table, the layers and the GeoTIFF.

Crossings are synthetic (placed in code on the bundled stretch line, flagged ``synthetic``).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.crs import to_wire
from geotrack.linear import LineIndex
from geotrack.records import import_crossings


def add_synthetic(ws, chainage_km, offset_m):
    idx = LineIndex(ws.stretch.line_m)
    d = np.asarray(chainage_km, float) * 1000
    x, y = idx.interpolate(d)
    xb, yb = idx.interpolate(np.clip(d + 1, 0, idx.length_m))
    xa, ya = idx.interpolate(np.clip(d - 1, 0, idx.length_m))
    n = np.hypot(xb - xa, yb - ya)
    off = np.asarray(offset_m, float)
    lon, lat = to_wire(x - off * (yb - ya) / n, y + off * (xb - xa) / n)
    recs = [
        {
            "lon": float(a),
            "lat": float(b),
            "kind": "pontoon",
            "location_precision": "exact",
            "synthetic": True,
            "source_name": "synthetic test data (made in code)",
        }
        for a, b in zip(lon, lat, strict=True)
    ]
    return import_crossings(ws, recs, max_border_km=None)


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def ws_with_crossings(ws):
    rng = np.random.default_rng(1)
    d = np.concatenate([rng.uniform(1, 237, 20), 120 + rng.uniform(-1, 1, 12), [290.0]])
    ids = add_synthetic(ws, d, np.where(np.arange(d.size) % 2, 120.0, -120.0))
    far = add_synthetic(ws, [70.0], [-2500.0])
    return ws, ids, far[0]


REQUIRED = {
    "window",
    "crs",
    "n_crossings",
    "n_excluded",
    "excluded",
    "mean_per_km",
    "mean_per_straight_km",
    "bins",
    "kde",
    "clustering",
    "hotspots",
    "gaps",
    "points",
    "filters",
}


def test_json_on_the_bundled_empty_workspace(ws):
    r = run("density", "-w", str(ws.path), "--json", "--simulations", "19", "--seed", "1")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc) >= REQUIRED
    assert doc["message"] == "no crossings in the window"
    assert doc["n_crossings"] == 0
    assert {"from_km", "to_km", "length_km", "straight_km", "name"} <= set(doc["window"])


def test_json_keys_and_values_with_crossings(ws_with_crossings):
    ws, ids, far = ws_with_crossings
    r = run("density", "-w", str(ws.path), "--json", "--simulations", "99", "--seed", "3")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) >= REQUIRED
    assert doc["crs"] == "EPSG:32652"
    assert doc["window"]["from_km"] == 0 and doc["window"]["to_km"] == 238.7
    assert doc["window"]["length_km"] == 238.7
    assert doc["n_crossings"] == 32 and doc["n_excluded"] == 1 and doc["n_outside_window"] == 1
    assert doc["excluded"][0]["id"] == far
    assert set(doc["bins"][0]) >= {"from_km", "to_km", "count", "per_km"}
    assert sum(b["count"] for b in doc["bins"]) == 32
    k = doc["kde"]
    assert {"bandwidth_km", "kernel", "step_km", "values"} <= set(k)
    assert set(k["values"][0]) == {"km", "per_km"}
    c = doc["clustering"]
    assert {"statistic", "p_value", "simulations"} <= set(c) and c["simulations"] == 99
    assert c["clustered"] is True
    p = {q["id"]: q for q in doc["points"]}
    assert set(p[ids[0]]) >= {"id", "chainage_km", "offset_m", "bank", "excluded", "reason"}
    assert p[ids[1]]["bank"] == "CN" and p[ids[0]]["bank"] == "KP"
    assert p[far]["excluded"] and "off the river" in p[far]["reason"]
    assert any(h["significant"] for h in doc["hotspots"]["stretches"])


def test_readable_table_by_default(ws_with_crossings):
    ws, _, far = ws_with_crossings
    r = run(
        "density",
        "-w",
        str(ws.path),
        "--window",
        "0:98.5",
        "--bin-km",
        "10",
        "--seed",
        "1",
        "--simulations",
        "19",
    )
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "Window 0:98.5: chainage 0.000–98.500 km" in out
    assert "per km of river" in out and "per straight-line km" in out
    assert "Bins of 10 km" in out and re.search(r"^90\.00\s+98\.50\s+\d+", out, re.M)
    assert "Kernel density: gaussian, bandwidth" in out
    assert far in out  # the excluded crossing is listed with its reason
    assert not out.lstrip().startswith("{")


def test_options_are_stated_in_the_json(ws_with_crossings):
    ws, *_ = ws_with_crossings
    r = run(
        "density",
        "-w",
        str(ws.path),
        "--json",
        "--bandwidth-km",
        "3",
        "--step-km",
        "0.5",
        "--bin-km",
        "20",
        "--max-offset-km",
        "3",
        "--simulations",
        "9",
        "--seed",
        "2",
        "--include-spread",
        "--verification",
        "unverified,verified",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kde"]["bandwidth_km"] == 3 and doc["kde"]["bandwidth_rule"] == "given"
    assert doc["kde"]["step_km"] == pytest.approx(238.7 / 478)
    assert doc["bin_km"] == 20 and doc["bins"][-1]["length_km"] == pytest.approx(18.7)
    assert doc["n_excluded"] == 0  # 2.5 km is within 3 km
    assert doc["filters"]["max_offset_km"] == 3
    assert doc["filters"]["verification"] == ["unverified", "verified"]
    assert doc["options"]["include_spread"] is True
    assert doc["location"]["tests"].startswith("hotspot and clustering tests use every crossing")


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--window", "50:20"], "reversed", 1),
        (["--window", "0:999"], "valid chainages are 0 to 305.607 km", 1),
        (["--bin-km", "300"], "no longer than the window", 1),
        (["--bandwidth-km", "-1"], "bandwidth_km=-1.0", 1),
        # option values wrong whatever the data: bad usage, refused before the layer is read
        (["--bin-km", "0"], "bin_km=0.0: give a bin length of at least 0.01 km", 2),
        (["--bin-km", "0.00001"], "bin_km=1e-05: give a bin length of at least 0.01 km", 2),
        (["--bin-km", "nan"], "bin_km=nan", 2),
        (["--simulations", "1000000"], "simulations=1000000: give an integer in [1, 99999]", 2),
        (["--verification", "verifed"], "verification='verifed': use one of", 2),
    ],
)
def test_bad_input_is_rejected_with_a_message(ws, args, message, code):
    r = run("density", "-w", str(ws.path), "--simulations", "9", *args)
    assert r.exit_code == code
    assert message in r.stderr
    assert r.stdout == ""


def test_bad_options_are_refused_before_the_layer_is_read(tmp_path):
    # no workspace at all: the option is refused first (exit 2), not the missing workspace
    r = run("density", "-w", str(tmp_path / "none"), "--bin-km", "0")
    assert r.exit_code == 2 and "bin_km=0.0" in r.stderr


def test_output_folder_layers_summary_and_geotiff(ws_with_crossings, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    ws, *_ = ws_with_crossings
    out = tmp_path / "out"
    r = run(
        "density",
        "-w",
        str(ws.path),
        "--json",
        "--seed",
        "1",
        "--simulations",
        "19",
        "--bandwidth-km",
        "2",
        "-o",
        str(out),
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # stdout stays pure JSON; the file list goes to stderr
    assert "wrote 7 files" in r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "density_bins.geojson",
            "density_bins.qml",
            "density_kde.geojson",
            "density_kde.qml",
            "density_summary.json",
            "density.tif",
            "density.qml",
        ]
    )
    bins = json.loads((out / "density_bins.geojson").read_text())
    assert "crs" not in bins
    assert len(bins["features"]) == len(doc["bins"])
    f0 = bins["features"][0]
    assert f0["geometry"]["type"] == "LineString"
    assert {"from_km", "to_km", "count", "per_km"} <= set(f0["properties"])
    lon, lat = f0["geometry"]["coordinates"][0]
    assert 126 < lon < 129 and 41 < lat < 43  # WGS 84 lon/lat
    assert [f["properties"]["count"] for f in bins["features"]] == [b["count"] for b in doc["bins"]]
    kde_layer = json.loads((out / "density_kde.geojson").read_text())
    assert len(kde_layer["features"]) == len(doc["kde"]["values"])
    summary = json.loads((out / "density_summary.json").read_text())
    assert summary["n_crossings"] == doc["n_crossings"]
    assert summary["raster"]["crs"] == "EPSG:32652"
    with rasterio.open(out / "density.tif") as src:
        assert src.crs.to_epsg() == 32652
        assert src.nodata == -9999.0
        assert src.dtypes == ("float32",)
        assert src.profile["tiled"] and src.profile["compress"] == "deflate"
        assert src.overviews(1)
        cell = summary["raster"]["cell_m"]
        assert src.transform.a == cell and src.transform.e == -cell
        assert list(src.bounds) == pytest.approx(summary["raster"]["bounds_m"])
        tags = src.tags()
        assert tags["units"] == "crossings per km²" and tags["kernel"] == "gaussian"
        # half the 3 km corridor (below the 2 km 1-D bandwidth)
        assert float(tags["bandwidth_m"]) == 1500.0 and float(tags["cell_m"]) == cell
        assert float(tags["corridor_m"]) == 3000.0 and tags["crs"] == "EPSG:32652"
        assert tags["window"] == "reported"
        desc = src.descriptions[0]
        assert "crossings per km²" in desc and "bandwidth 1.5 km" in desc
        assert "within 3 km of the river line" in desc
        assert src.units == ("crossings per km²",)
        data = src.read(1, masked=True)
        kept = int(data.count())
        assert 0 < kept < data.size  # the corridor keeps some cells, not all
        assert summary["raster"]["cells_kept"] == kept
        assert summary["raster"]["cells_nodata"] == data.size - kept
        # sum of kept density x cell area = the expected crossings in the corridor, most of them
        in_corridor = float(data.sum()) * (cell / 1000) ** 2
        assert in_corridor == pytest.approx(float(tags["in_corridor"]), rel=1e-4)
        assert 0.9 * doc["n_crossings"] < in_corridor <= doc["n_crossings"] * (1 + 1e-6)
        assert float(tags["total"]) == pytest.approx(doc["n_crossings"], rel=1e-3)
    assert "bandwidth 1.5 km" in r.stderr and f"{kept} cells kept" in r.stderr
    assert 'type="graduatedSymbol"' in (out / "density_bins.qml").read_text()


def test_output_files_are_never_clobbered_without_overwrite(ws, tmp_path):
    out = tmp_path / "out"
    args = ["density", "-w", str(ws.path), "--simulations", "9", "--seed", "1", "-o", str(out)]
    assert run(*args).exit_code == 0
    before = (out / "density_summary.json").read_bytes()
    r = run(*args, "--bin-km", "10")
    assert r.exit_code == 2
    assert "--overwrite" in r.stderr and "nothing was written" in r.stderr
    assert (out / "density_summary.json").read_bytes() == before
    r = run(*args, "--bin-km", "10", "--overwrite")
    assert r.exit_code == 0
    assert json.loads((out / "density_summary.json").read_text())["bin_km"] == 10
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_no_raster_option(ws, tmp_path):
    out = tmp_path / "o"
    r = run("density", "-w", str(ws.path), "--simulations", "9", "-o", str(out), "--no-raster")
    assert r.exit_code == 0
    assert not (out / "density.tif").exists() and (out / "density_bins.geojson").exists()


def test_help_has_an_example():
    r = run("density", "--help")
    assert r.exit_code == 0 and "geotrack density --window 0:98.5" in r.stdout


def test_bad_grades_are_usage_errors(ws):
    for args in (["--min-reliability", "Z"], ["--min-credibility", "9"]):
        r = run("density", "-w", str(ws.path), *args)
        assert r.exit_code == 2 and "Invalid value" in r.stderr


def test_hostile_text_is_made_safe_for_the_terminal(ws):
    ws.save_window("upper", "200:300", description="evil \x1b[31mred\u202e</script>${x}`")
    r = run("density", "-w", str(ws.path), "--window", "upper", "--simulations", "9")
    assert r.exit_code == 0, r.stderr
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout
    assert "evil \\u001b[31mred\\u202e</script>${x}`" in r.stdout  # shown, escaped
    r = run("density", "-w", str(ws.path), "--window", "upper", "--simulations", "9", "--json")
    doc = json.loads(r.stdout)
    assert doc["window"]["description"] == "evil \x1b[31mred\u202e</script>${x}`"  # exact in JSON


def test_few_sites_give_a_short_table_and_a_hint(tmp_path):
    from geotrack.records import add_crossing
    from geotrack.workspace import init_workspace

    ws = init_workspace(tmp_path / "few")
    # the printed coordinate of site report S1 (AccessDPRK, 2026-02-10)
    add_crossing(ws, {"lon": 128.186804, "lat": 41.411114, "kind": "ford", "source_name": "x"})
    res = CliRunner().invoke(cli, ["density", "-w", str(ws.path)])
    assert res.exit_code == 0, res.output
    assert "Few located sites (1)" in res.stdout and "geotrack claims check" in res.stdout
    assert "the 1 of 48 with a site" in res.stdout
    assert res.stdout.count("\n0.00     5.00") == 0  # no page of empty bins


def test_the_default_seed_is_stated_and_is_the_library_s():
    from geotrack.analysis import DEFAULT_CORRIDOR_KM, DEFAULT_SEED
    from geotrack.cli._options import DEFAULT_CORRIDOR_KM as CLI_CORRIDOR
    from geotrack.cli.density import DEFAULT_SEED as CLI_SEED

    assert CLI_SEED == DEFAULT_SEED and CLI_CORRIDOR == DEFAULT_CORRIDOR_KM
    r = run("density", "--help")
    assert f"default: {DEFAULT_SEED}" in " ".join(r.stdout.split())
    assert "--weight-by-precision" not in r.stdout and "--include-spread" in r.stdout


def test_table_states_how_sites_are_located_and_what_the_tests_use(ws_with_crossings):
    ws, _, _ = ws_with_crossings
    r = run("density", "-w", str(ws.path), "--simulations", "19")
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "Located: 32 as points, none spread" in out
    assert "hotspot and clustering tests use the 32 point-located crossings only" in out
    assert "bandwidth: auto (likelihood cross-validation with 10 or more point-located" in out
    assert "empty, not shown" in out


@pytest.mark.parametrize("value", ["0", "-1", "nan", "80"])
def test_a_bad_corridor_is_refused_naming_the_option(ws, tmp_path, value):
    out = tmp_path / "o"
    r = run("density", "-w", str(ws.path), "--raster-corridor-km", value, "-o", str(out))
    assert r.exit_code == 2
    assert "raster_corridor_km" in r.stderr and "--raster-corridor-km" in r.stderr
    assert value in r.stderr and "e.g. 3" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()  # refused before anything was computed or written
