"""The exports opened in real QGIS (Debian's python3-qgis), headless.

``tests/qgis_probe.py`` runs under Debian's system ``/usr/bin/python3`` (PyQGIS is
not importable from the project's venv) with ``QT_QPA_PLATFORM=offscreen``,
loads every exported file and the project, renders the project to a PNG and
reports what QGIS saw as JSON; the assertions are here.  Under ``CI=true`` a
skip is a failure (``tests/conftest.py``): ``.ci/run`` installs python3-qgis.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from _exportdata import HOSTILE, make_workspace

from geotrack.export import export_workspace
from geotrack.export._model import DOMAINS

pytestmark = pytest.mark.qgis

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")
GEOMETRY_LAYERS = (
    "crossings",
    "claims",
    "official_crossings",
    "stretch",
    "county_segments",
    "border",
    "towns",
    "density_bins",
    "density_kde",
)
RENDERERS = {
    "crossings": ("categorizedSymbol", "kind"),
    "claims": ("categorizedSymbol", "id"),
    "official_crossings": ("singleSymbol", None),
    "towns": ("categorizedSymbol", "country"),
    "county_segments": ("categorizedSymbol", "county"),
    "stretch": ("singleSymbol", None),
    "border": ("singleSymbol", None),
    "density_bins": ("graduatedSymbol", "per_km"),
    "density_kde": ("graduatedSymbol", "per_km"),
}
CODED = {
    "crossings": ("kind", "status", "location_precision", "datum", "placement", "bank"),
    "reports": ("source_type", "date_precision", "reliability", "credibility", "verification"),
    "claims": ("count_qualifier", "stated_unit", "area_kind"),
    "relays": ("published_precision", "count_qualifier", "stated_unit"),
}


def _clean_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        env=_clean_env(),
        timeout=120,
    )
    return proc.returncode == 0


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    """Export the hostile workspace, open everything in QGIS, return (result, report, png)."""
    if not _qgis_available():
        pytest.skip("Debian's python3-qgis is not installed (apt-get install python3-qgis)")
    base = tmp_path_factory.mktemp("qgis")
    ws = make_workspace(base / "ws")
    result = export_workspace(ws, base / "out", formats="all")
    report, png = base / "report.json", base / "project.png"
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), str(base / "out"), str(report), str(png)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    keep = os.environ.get("GEOTRACK_KEEP_QGIS_PNG")
    if keep:  # to look at the rendering: GEOTRACK_KEEP_QGIS_PNG=/tmp/project.png pytest ...
        shutil.copy(png, keep)
    return result, json.loads(report.read_text(encoding="utf-8")), png


def _gpkg(report: dict) -> dict[str, dict]:
    return {lyr["name"]: lyr for lyr in report["gpkg"]["layers"]}


def test_every_gpkg_layer_valid_with_the_workspace_counts(seen):
    result, report, _ = seen
    layers = _gpkg(report)
    assert set(layers) == set(result.counts)  # layer_styles is not listed as a layer
    for name, lyr in layers.items():
        assert lyr["valid"], name
        assert lyr["feature_count"] == lyr["features_read"] == result.counts[name], name
    assert layers["crossings"]["feature_count"] == 3
    assert layers["reports"]["feature_count"] == len(HOSTILE) + 3
    for name in GEOMETRY_LAYERS:
        assert layers[name]["crs"] == "EPSG:4326", name
    assert layers["crossings"]["wkb_type"] == "Point"
    assert layers["claims"]["wkb_type"] == "LineString"
    assert layers["claims"]["feature_count"] == 2
    assert layers["relays"]["feature_count"] == len(HOSTILE) + 1
    assert layers["relays"]["wkb_type"] == "NoGeometry"
    assert layers["border"]["wkb_type"] == "MultiLineString"
    assert layers["reports"]["wkb_type"] == "NoGeometry"


def test_field_types(seen):
    _, report, _ = seen
    layers = _gpkg(report)
    crossings = layers["crossings"]["fields"]
    for name in ("first_seen", "last_seen", "first_reported", "last_reported"):
        assert crossings[name] == "QDate", name
    for name in ("created_at", "updated_at"):
        assert crossings[name] == "QDateTime", name
    assert crossings["n_reports"] == "int"
    assert crossings["uncertainty_m"] == "double"
    assert crossings["synthetic"] == crossings["inferred"] == "bool"
    for name in ("chainage_km", "offset_m", "chainage_from_km", "chainage_to_km"):
        assert crossings[name] == "double", name
    assert crossings["placement"] == crossings["bank"] == crossings["place_as_printed"] == "QString"
    reports = layers["reports"]["fields"]
    assert reports["credibility"] == "int"
    assert reports["reported"] == reports["event_start"] == "QDate"
    assert layers["density_bins"]["fields"]["count"] == "int"
    assert layers["density_bins"]["fields"]["per_km"] == "double"


def test_default_styles_load_from_layer_styles(seen):
    _, report, _ = seen
    layers = _gpkg(report)
    for name, lyr in layers.items():
        assert lyr["style_loaded"], (name, lyr["style_message"])
        assert "Provider" in lyr["style_message"], (name, lyr["style_message"])  # the database
        assert lyr.get("db_styles") == [name], name
    for name, (rtype, attr) in RENDERERS.items():
        assert layers[name]["renderer"]["type"] == rtype, name
        assert layers[name]["renderer"].get("attr") == attr, name
    assert set(layers["crossings"]["renderer"]["categories"]) == set(DOMAINS["kind"].codes)
    assert layers["crossings"]["aliases"]["uncertainty_m"] == "Location uncertainty (m)"


def test_domains_are_value_maps(seen):
    _, report, _ = seen
    layers = _gpkg(report)
    gdal_view = report["gpkg"]["gdal"]
    for layer, fields in CODED.items():
        for field in fields:
            dom = DOMAINS[field]
            # GDAL reads the GeoPackage constraints as coded field domains ...
            assert gdal_view["fields"][layer][field] == field
            codes = gdal_view["domains"][field]["codes"]
            assert codes == {str(k): v for k, v in dom.codes.items()}
            # ... and QGIS turns them into value maps, before any style is applied,
            expected = {str(k): v for k, v in dom.codes.items()}
            assert layers[layer]["value_maps_without_style"][field] == expected, (layer, field)
            # and keeps them with the default style.
            assert layers[layer]["widgets"][field] == "ValueMap"
            assert layers[layer]["value_maps"][field] == expected


def test_stable_fids_and_layer_metadata(seen):
    _, report, _ = seen
    gdal_view = report["gpkg"]["gdal"]["layers"]
    assert gdal_view["crossings"]["fids"] == [1, 2, 3]
    assert gdal_view["crossings"]["fid_column"] == "fid"
    assert gdal_view["crossings"]["geometry_column"] == "geom"
    assert gdal_view["reports"]["fids"][:2] == [1001, 1002]
    assert gdal_view["crossings"]["metadata"]["IDENTIFIER"] == "Reported crossings"
    assert "reports" in gdal_view["crossings"]["metadata"]["DESCRIPTION"]


def test_crossings_are_time_enabled(seen):
    _, report, _ = seen
    temporal = _gpkg(report)["crossings"]["temporal"]
    assert temporal["active"] is True
    assert temporal["mode"] == 2  # start and end from fields
    assert (temporal["start"], temporal["end"]) == ("first_seen", "last_seen")
    assert temporal["limit_mode"] == 1  # the end day is included
    for name in ("stretch", "towns", "reports"):
        assert _gpkg(report)[name]["temporal"]["active"] is False


def test_raster(seen):
    _, report, _ = seen
    raster = report["raster"]
    assert raster["valid"] and raster["crs"] == "EPSG:32652"
    assert raster["has_nodata"] and raster["nodata"] == -9999.0
    assert "crossings per km²" in raster["band_description"]
    assert raster["band_unit"] == "crossings per km²"
    assert raster["overviews"] >= 1 and raster["compression"] == "DEFLATE"
    assert raster["style_loaded"]
    assert raster["renderer"] == {"type": "singlebandpseudocolor", "band": 1}


def test_geojson_with_sidecar_styles(seen):
    result, report, _ = seen
    files = {lyr["name"]: lyr for lyr in report["geojson"]}
    assert set(files) == set(GEOMETRY_LAYERS)
    for name, lyr in files.items():
        assert lyr["valid"] and lyr["crs"] == "EPSG:4326", name
        assert lyr["feature_count"] == result.counts[name], name
        assert lyr["style_loaded"], (name, lyr["style_message"])
        assert lyr["renderer"]["type"] == RENDERERS[name][0], name
    crossings = files["crossings"]
    assert crossings["fields"]["first_seen"] == "QDate"
    assert crossings["fields"]["created_at"] == "QDateTime"
    assert crossings["temporal"]["active"] and crossings["temporal"]["start"] == "first_seen"
    assert crossings["widgets"]["kind"] == "ValueMap"  # from the .qml: GeoJSON has no domains


def test_kml_and_kmz_open(seen):
    _, report, _ = seen
    for key in ("kml", "kmz"):
        layers = {lyr["name"]: lyr for lyr in report[key]}
        assert layers["Reported crossings"]["valid"]
        assert layers["Reported crossings"]["feature_count"] == 3
        assert all(lyr["valid"] for lyr in layers.values())
        # TimeSpan read as dates (Google Earth's time slider uses the same elements)
        fields = layers["Reported crossings"]["fields"]
        assert fields["begin"] == fields["end"] == "QDateTime"
        assert fields["kind"] == "QString"  # KML has no types: a secondary format
        assert layers["Claims about stretches"]["feature_count"] == 2


def test_project_opens_with_every_layer_valid(seen):
    result, report, png = seen
    project = report["project"]
    assert project["read"] and project["crs"] == "EPSG:32652"
    assert project["relative_paths"]
    layers = project["layers"]
    assert len(layers) == len(result.counts) + 1  # every GeoPackage layer and the raster
    assert all(lyr["valid"] for lyr in layers), [lyr["name"] for lyr in layers if not lyr["valid"]]
    by_title = {lyr["name"]: lyr for lyr in layers}
    assert by_title["Reported crossings"]["feature_count"] == 3
    assert by_title["Reported crossings"]["temporal"]["active"]
    assert by_title["Reported crossings"]["renderer"]["type"] == "categorizedSymbol"
    assert by_title["Reported crossings"]["value_maps"]["kind"]["ford"] == "Ford"
    assert project["legend_order"][0] == "Reported crossings"
    assert project["legend_order"][-1].startswith("Density of crossings")
    rel = project["relations"]
    assert sorted(rel, key=lambda r: r["name"]) == [
        {
            "name": "Relays of the claim",
            "valid": True,
            "referenced": "Claims about stretches",
            "referencing": "Relays of claims",
        },
        {
            "name": "Reports on the crossing",
            "valid": True,
            "referenced": "Reported crossings",
            "referencing": "Reports on crossings",
        },
    ]
    claims = by_title["Claims about stretches"]
    assert claims["feature_count"] == 2 and claims["renderer"]["type"] == "categorizedSymbol"
    assert claims["value_maps"]["count_qualifier"]["at_least"] == "At least N"
    assert project["default_view_crs"] == "EPSG:32652"
    xmin, ymin, xmax, ymax = project["default_view_extent"]
    assert 300_000 < xmin < xmax < 480_000 and 4_550_000 < ymin < ymax < 4_680_000
    assert project["time_range"] == ["2025-05-01", "2025-11-15"]
    assert project["render_errors"] == []
    assert project["png_saved"] and png.stat().st_size > 20_000
    # lines, points and labels drawn; the density raster (in a corridor) does not fill the frame
    assert 0.02 < project["png_nonwhite_fraction"] < 0.2 and project["png_colours"] > 20
    legend = project["legend_order"]
    assert legend.index("Crossings per bin") < legend.index("Stretch (river line)")


def test_layer_order_bins_above_the_river_above_the_raster(seen):
    _, report, _ = seen
    legend = report["project"]["legend_order"]
    order = [
        "Crossings per bin",
        "Kernel density along the river",
        "Stretch (river line)",
        "County segments",
        "China-DPRK border",
        "Density of crossings (per km²)",
    ]
    assert [legend.index(name) for name in order] == sorted(legend.index(name) for name in order)
    assert legend[-1] == "Density of crossings (per km²)"  # drawn first, below everything
    visible = report["project"]["visible_layers"]
    # the raster in a corridor no longer hides the river: drawn when the project opens
    assert "Density of crossings (per km²)" in visible and "Crossings per bin" in visible
    assert "Kernel density along the river" not in visible


def test_the_river_line_shows_under_the_bins(seen):
    _, report, _ = seen
    river = report["project"]["river_under_bins"]
    assert river["colour"] == [31, 120, 180]
    assert river["vertices"] > 50
    # the bins' vertices lie on the river: its own colour is seen at almost all of them
    # (a 2.2 mm opaque band drawn over the 0.9 mm line showed it at none)
    assert river["river_seen"] >= 0.9 * river["vertices"], river


def test_raster_is_nodata_beyond_the_corridor_and_says_so(seen):
    rasterio = pytest.importorskip("rasterio")
    import numpy as np
    import shapely
    from shapely.ops import substring

    from geotrack.workspace import Workspace

    _, report, png = seen
    ws = Workspace(png.parent / "ws")
    win = ws.window("reported")
    part = substring(ws.stretch.line_m, win.from_km * 1000.0, win.to_km * 1000.0)
    tif = next((png.parent / "out").glob("*.tif"))
    with rasterio.open(tif) as src:
        data, tags, t, nodata = src.read(1), src.tags(), src.transform, src.nodata
        desc = src.descriptions[0]
    corridor = float(tags["corridor_m"])
    assert corridor == 3000.0 and report["raster"]["tags"]["corridor_m"] == "3000"
    assert float(tags["bandwidth_m"]) == 1500.0 and tags["crs"] == "EPSG:32652"
    assert "within 3 km of the river line" in desc and "bandwidth 1.5 km" in desc
    rows, cols = np.indices(data.shape)
    d = shapely.distance(
        shapely.points(t.c + t.a * (cols.ravel() + 0.5), t.f + t.e * (rows.ravel() + 0.5)), part
    )
    empty = data.ravel() == nodata
    clear = np.abs(d - corridor) > 1e-6  # a centre at the corridor's edge may go either way
    assert empty.any() and (~empty).any()
    assert (d[empty & clear] > corridor).all() and (d[~empty & clear] <= corridor).all()
    assert float(tags["in_corridor"]) == pytest.approx(
        float(data[data != nodata].sum(dtype=np.float64)) * (t.a / 1000.0) ** 2, rel=1e-4
    )
    by_title = {lyr["name"]: lyr for lyr in report["project"]["layers"]}
    abstract = by_title["Density of crossings (per km²)"]["abstract"]
    assert "within 3 km of the river line" in abstract and "bandwidth 1.5 km" in abstract
    assert "EPSG:32652" in abstract and "cell 100 m" in abstract
