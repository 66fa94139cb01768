"""Exports read back with fiona, pyogrio, geopandas, rasterio, csv and an XML parser.

Every format is compared with the workspace: feature counts, field types, values,
and hostile text (markup, script, quotes, control and bidi characters, formula
starts, emoji) intact or escaped as the format requires.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import fiona
import orjson
import pyogrio
import pytest
import rasterio
from _exportdata import HOSTILE, NOTE_MARK, SHA, make_workspace
from defusedxml import ElementTree as SafeET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotrack.errors import StorageError, UsageError
from geotrack.escape import FORMULA_PREFIXES, spreadsheet_text
from geotrack.export import export_workspace
from geotrack.export._model import (
    DOMAINS,
    PUBLIC_DROPPED,
    Layer,
    check_name,
    coarsening_m,
    crossing_layers,
    replace_nul,
)
from geotrack.export.csv_out import write_csv
from geotrack.export.geojson_out import geojson_bytes
from geotrack.export.gpkg import write_gpkg
from geotrack.export.kml import kml_bytes, xml_text
from geotrack.export.qml import KIND_COLORS, layer_qml, raster_qml
from geotrack.schema import KINDS
from geotrack.workspace import init_workspace

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The hostile workspace exported in every format (once for the module)."""
    base = tmp_path_factory.mktemp("export")
    ws = make_workspace(base / "ws")
    result = export_workspace(ws, base / "out", formats="all")
    return ws, result, base / "out"


def _workspace_reports(ws):
    out = {}
    for feat in ws.read_crossings():
        for rep in feat["properties"]["reports"]:
            out[(feat["id"], rep["report_id"])] = rep
    return out


# -- the result ----------------------------------------------------------------------------------


def test_every_format_is_written(exported):
    ws, result, out = exported
    assert result.files == (
        "geotrack.gpkg",
        "geotrack-geojson",
        "geotrack.kml",
        "geotrack.kmz",
        "geotrack-reports.csv",
        "geotrack-claims.csv",
        "geotrack-density.tif",
        "geotrack-density.qml",
        "geotrack.qgz",
    )
    assert sorted(os.listdir(out)) == sorted(result.files)  # no temporary folder left
    assert result.counts["crossings"] == len(ws.read_crossings()) == 3
    assert result.counts["reports"] == len(HOSTILE) + 3
    assert result.window["name"] == "reported"
    assert result.public is False and result.removed == ()


# -- GeoPackage ----------------------------------------------------------------------------------


def test_gpkg_layers_counts_crs_and_types(exported):
    _ws, result, out = exported
    path = out / "geotrack.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {
        "crossings",
        "reports",
        "claims",
        "relays",
        "official_crossings",
        "stretch",
        "county_segments",
        "border",
        "towns",
        "density_bins",
        "density_kde",
        "layer_styles",
    }
    assert layers["crossings"] == "Point" and layers["reports"] is None
    assert layers["border"] == "MultiLineString"
    with fiona.open(path, layer="crossings") as src:
        assert src.crs.to_epsg() == 4326
        assert len(src) == 3
        schema = src.schema["properties"]
    assert schema["first_seen"] == "date" and schema["created_at"] == "datetime"
    assert schema["n_reports"] == "int32" and schema["uncertainty_m"] == "float"
    assert schema["synthetic"] == "bool"
    with fiona.open(path, layer="reports") as src:
        assert src.schema["geometry"] == "None"
        assert src.schema["properties"]["credibility"] == "int32"
        assert src.schema["properties"]["reported"] == "date"
        assert len(src) == result.counts["reports"]
    df = pyogrio.read_dataframe(path, layer="crossings")
    assert str(df["created_at"].dtype).endswith("UTC]")  # timezone-aware
    for name in ("stretch", "county_segments", "border", "towns"):
        with fiona.open(path, layer=name) as src:
            assert len(src) == result.counts[name] > 0
            assert src.crs.to_epsg() == 4326


def test_gpkg_version_ids_indexes_and_datetimes(exported):
    _, result, out = exported
    con = sqlite3.connect(out / "geotrack.gpkg")
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
    contents = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT table_name, data_type, identifier, description FROM gpkg_contents"
        )
    }
    assert contents["crossings"][:2] == ("features", "Reported crossings")
    assert "reports.site_id = crossings.id" in contents["crossings"][2]
    assert contents["reports"][0] == "attributes"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for name in ("crossings", "stretch", "county_segments", "border", "towns", "density_bins"):
        assert f"rtree_{name}_geom" in tables
        n_rtree = con.execute(f'SELECT count(*) FROM "rtree_{name}_geom"').fetchone()[0]
        assert n_rtree == result.counts[name]
    # stable FIDs: YLU-0002 is FID 2, its report R1 is 2001
    rows = dict(con.execute("SELECT id, fid FROM crossings"))
    assert rows == {"YLU-0001": 1, "YLU-0002": 2, "YLU-0003": 3}
    fids = dict(con.execute("SELECT site_id || '/' || report_id, fid FROM reports"))
    assert fids["YLU-0002/R2"] == 2002 and fids["YLU-0001/R16"] == 1016
    created = [r[0] for r in con.execute("SELECT created_at FROM crossings")]
    assert all(c.endswith("Z") and "T" in c for c in created)
    days = [r[0] for r in con.execute("SELECT first_seen FROM crossings")]
    assert "2025-10-01" in days and None in days


def test_gpkg_text_is_intact(exported):
    ws, _, out = exported
    expected = _workspace_reports(ws)
    with fiona.open(out / "geotrack.gpkg", layer="reports") as src:
        got = {(f.properties["site_id"], f.properties["report_id"]): f.properties for f in src}
    assert set(got) == set(expected)
    for key, rep in expected.items():
        for field in ("source_name", "notes", "url", "archive_url", "sha256"):
            want = rep[field]
            assert got[key][field] == (replace_nul(want) if isinstance(want, str) else want)
        assert got[key]["credibility"] == rep["credibility"]
        assert got[key]["reported"] == rep["reported"]
    with fiona.open(out / "geotrack.gpkg", layer="crossings") as src:
        names = {f.properties["id"]: f.properties["name"] for f in src}
    assert names["YLU-0001"] == HOSTILE[0]


def test_gpkg_layer_styles_as_qgis_expects(exported):
    _, _, out = exported
    con = sqlite3.connect(out / "geotrack.gpkg")
    rows = con.execute(
        "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, useAsDefault, "
        "styleQML FROM layer_styles"
    ).fetchall()
    geom_col = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")} - {"layer_styles"}
    assert {r[2] for r in rows} == tables
    for catalog, schema, table, column, default, qml in rows:
        assert catalog == "" and schema == ""  # '' not NULL: QGIS 3.22 ignores NULL silently
        assert column == geom_col.get(table, "")  # 'geom', or '' for the reports table
        assert default == 1
        root = SafeET.fromstring(qml.split("\n", 1)[1])
        assert root.tag == "qgis"
    qml = {r[2]: r[5] for r in rows}
    assert 'type="categorizedSymbol"' in qml["crossings"] and 'attr="kind"' in qml["crossings"]
    assert 'type="graduatedSymbol"' in qml["density_bins"]
    temporal = SafeET.fromstring(qml["crossings"].split("\n", 1)[1]).find("temporal")
    assert temporal.get("enabled") == "1" and temporal.get("mode") == "2"
    assert (temporal.get("startField"), temporal.get("endField")) == ("first_seen", "last_seen")


def test_gpkg_coded_domains(exported):
    _, _, out = exported
    con = sqlite3.connect(out / "geotrack.gpkg")
    ext = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'"
        )
    }
    assert ext == {"gpkg_data_columns", "gpkg_data_column_constraints"}
    enums: dict[str, dict[str, str]] = {}
    for name, value, desc in con.execute(
        "SELECT constraint_name, value, description FROM gpkg_data_column_constraints "
        "WHERE constraint_type = 'enum'"
    ):
        enums.setdefault(name, {})[value] = desc
    for name in (
        "kind",
        "status",
        "verification",
        "location_precision",
        "reliability",
        "credibility",
        "source_type",
    ):
        assert enums[name] == {str(k): v for k, v in DOMAINS[name].codes.items()}
    linked = {
        (t, c): n
        for t, c, n in con.execute(
            "SELECT table_name, column_name, constraint_name FROM gpkg_data_columns "
            "WHERE constraint_name IS NOT NULL"
        )
    }
    assert linked[("crossings", "kind")] == "kind"
    assert linked[("reports", "reliability")] == "reliability"
    assert linked[("reports", "credibility")] == "credibility"
    # every coded value in the data is one of its domain's codes
    for (table, column), dom in linked.items():
        values = {r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"')}
        assert values - {None} <= set(DOMAINS[dom].codes)


# -- GeoJSON -------------------------------------------------------------------------------------


def test_geojson_rfc7946_and_text_exact(exported):
    ws, result, out = exported
    folder = out / "geotrack-geojson"
    names = sorted(p.stem for p in folder.glob("*.geojson"))
    assert names == sorted(
        [
            "crossings",
            "claims",
            "official_crossings",
            "stretch",
            "county_segments",
            "border",
            "towns",
            "density_bins",
            "density_kde",
        ]
    )
    for stem in names:
        doc = json.loads((folder / f"{stem}.geojson").read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection" and "crs" not in doc
        assert len(doc["features"]) == result.counts[stem]
        ids = [f["id"] for f in doc["features"]]
        assert len(set(ids)) == len(ids) and all(isinstance(i, str) and i for i in ids)
        assert (folder / f"{stem}.qml").is_file()
        SafeET.fromstring((folder / f"{stem}.qml").read_text(encoding="utf-8").split("\n", 1)[1])
    doc = json.loads((folder / "crossings.geojson").read_text(encoding="utf-8"))
    by_id = {f["id"]: f for f in doc["features"]}
    for feat in ws.read_crossings():
        got = by_id[feat["id"]]
        assert got["geometry"]["coordinates"] == [
            round(c, 7) for c in feat["geometry"]["coordinates"]
        ]
        for key in ("first_seen", "last_seen", "kind", "name"):
            assert got["properties"][key] == feat["properties"][key]
        assert got["properties"]["created_at"].endswith("Z")
        assert [r["notes"] for r in got["properties"]["reports"]] == [
            r["notes"] for r in feat["properties"]["reports"]
        ]  # exact, NUL and all
    assert by_id["YLU-0001"]["properties"]["reports"][3]["notes"] == "nul\x00byte" + NOTE_MARK


def test_geojson_reads_back_typed(exported):
    _, result, out = exported
    gdf = pyogrio.read_dataframe(out / "geotrack-geojson" / "crossings.geojson")
    assert len(gdf) == result.counts["crossings"]
    assert gdf.crs.to_epsg() == 4326
    assert str(gdf["created_at"].dtype).startswith("datetime64")
    assert str(gdf["n_reports"].dtype).startswith("int")
    bins = pyogrio.read_dataframe(out / "geotrack-geojson" / "density_bins.geojson")
    # each crossing counts where it may be: the expected counts sum to the crossings
    assert float(bins["expected"].sum()) == pytest.approx(result.counts["crossings"])
    assert int(bins["count"].sum()) <= result.counts["crossings"]  # the point-located ones


# -- KML / KMZ -----------------------------------------------------------------------------------


def _kml_placemarks(data: bytes):
    root = SafeET.fromstring(data)  # refuses entities: a well-formed, plain XML document
    doc = root.find(f"{KML}Document")
    folders = {f.findtext(f"{KML}name"): f for f in doc.findall(f"{KML}Folder")}
    return doc, folders


def test_kml_placemarks_time_and_styles(exported):
    ws, _, out = exported
    data = (out / "geotrack.kml").read_bytes()
    doc, folders = _kml_placemarks(data)
    assert set(folders) >= {
        "Reported crossings",
        "Towns",
        "Stretch (river line)",
        "China-DPRK border",
        "Crossings per bin",
    }
    marks = {pm.get("id"): pm for pm in folders["Reported crossings"].findall(f"{KML}Placemark")}
    feats = {f["id"]: f for f in ws.read_crossings()}
    assert set(marks) == set(feats)
    styles = {s.get("id") for s in doc.findall(f"{KML}Style")}
    assert {f"kind-{k}" for k in KINDS} <= styles
    for fid, pm in marks.items():
        props = feats[fid]["properties"]
        assert pm.findtext(f"{KML}styleUrl") == f"#kind-{props['kind']}"
        span = pm.find(f"{KML}TimeSpan")
        if props["first_seen"]:
            assert span.findtext(f"{KML}begin") == props["first_seen"]
            assert span.findtext(f"{KML}end") == props["last_seen"]
        else:
            assert span is None
        data_el = {
            d.get("name"): d.findtext(f"{KML}value")
            for d in pm.find(f"{KML}ExtendedData").findall(f"{KML}Data")
        }
        assert data_el["kind"] == props["kind"]
        assert data_el["n_reports"] == str(len(props["reports"]))
    stretch = folders["Stretch (river line)"].find(f"{KML}Placemark")
    assert stretch.find(f"{KML}LineString") is not None


def test_kml_text_escaped_and_intact(exported):
    _, _, out = exported
    data = (out / "geotrack.kml").read_bytes()
    assert b"<script" not in data and b"<img" not in data  # only as escaped text
    _, folders = _kml_placemarks(data)
    pm = next(
        p
        for p in folders["Reported crossings"].findall(f"{KML}Placemark")
        if p.get("id") == "YLU-0001"
    )
    desc = pm.findtext(f"{KML}description")
    # The balloon is HTML: hostile text appears HTML-escaped, never as markup.
    assert "&lt;img src=x onerror=alert(1)&gt;" in desc
    assert "<img" not in desc and "<script" not in desc
    assert "&lt;/script&gt;&lt;script&gt;" in desc
    assert '<a href="https://example.org/r?a=1&amp;b=&lt;2&gt;">' in desc
    # The placemark name is plain text: exact.
    assert pm.findtext(f"{KML}name") == f"YLU-0001 {HOSTILE[0]}"
    # Carriage returns survive XML parsing; characters XML cannot hold become U+FFFD.
    assert "crlf\r\nline\rcr" in desc
    assert "nul\ufffdbyte" in desc and "esc \ufffd[31m red \ufffd bell" in desc


def test_kmz_holds_the_kml(exported):
    _, _, out = exported
    with zipfile.ZipFile(out / "geotrack.kmz") as zf:
        assert zf.namelist() == ["doc.kml"]
        inner = zf.read("doc.kml")
    assert inner == (out / "geotrack.kml").read_bytes()
    layers = dict(pyogrio.list_layers(out / "geotrack.kmz"))
    assert "Reported crossings" in layers


def test_kmz_alone_streams_the_same_document(tmp_path):
    from geotrack.export.kml import write_kmz

    sites, reports = _one_site("name\r\n<&>", "notes")
    layers = {"crossings": sites, "reports": reports}
    write_kmz(tmp_path / "a.kmz", layers, decimals=5)
    with zipfile.ZipFile(tmp_path / "a.kmz") as zf:
        assert zf.read("doc.kml") == kml_bytes(layers, decimals=5)


# -- CSV -----------------------------------------------------------------------------------------


def test_csv_one_row_per_report_no_formulas(exported):
    ws, result, out = exported
    raw = (out / "geotrack-reports.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert len(rows) == result.counts["reports"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_PREFIXES) or _numeric(value), value
    expected = _workspace_reports(ws)
    got = {(r["id"], r["report_id"]): r for r in rows}
    assert set(got) == set(expected)
    for key, rep in expected.items():
        assert got[key]["notes"] == spreadsheet_text(rep["notes"] or "")
        assert not rep["notes"] or rep["notes"].endswith(NOTE_MARK)
        assert got[key]["source_name"] == spreadsheet_text(rep["source_name"])
    assert got[("YLU-0001", "R7")]["notes"].startswith("'=HYPERLINK")
    assert got[("YLU-0001", "R7")]["source_name"].startswith("'=HYPERLINK")
    assert got[("YLU-0001", "R6")]["notes"] == "crlf\r\nline\rcr" + NOTE_MARK
    feats = {f["id"]: f for f in ws.read_crossings()}
    row = got[("YLU-0002", "R1")]
    assert float(row["lon"]) == pytest.approx(feats["YLU-0002"]["geometry"]["coordinates"][0])
    assert row["kind"] == "ford" and row["credibility"] == "1"


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_bom_for_excel(tmp_path):
    sites, reports = crossing_layers([], precision=7)
    write_csv(tmp_path / "a.csv", sites, reports, bom=True)
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbfid,lon,lat,")


@given(st.text(max_size=30))
def test_neutralise_never_leaves_a_formula(text):
    cell = spreadsheet_text(text)
    assert not cell.startswith(FORMULA_PREFIXES)
    assert cell.lstrip("'") == replace_nul(text).lstrip("'") or cell == "'" + replace_nul(text)


# -- raster and QGIS project ---------------------------------------------------------------------


def test_density_raster(exported):
    _, _, out = exported
    with rasterio.open(out / "geotrack-density.tif") as src:
        assert src.crs.to_epsg() == 32652
        assert src.nodata == -9999.0
        assert "crossings per km²" in src.descriptions[0]
        assert src.profile["tiled"] and src.compression.name.lower() == "deflate"
        assert src.overviews(1)
        assert src.tags()["window"] == "reported"
    qml = (out / "geotrack-density.qml").read_text(encoding="utf-8")
    root = SafeET.fromstring(qml.split("\n", 1)[1])
    assert root.find("pipe/rasterrenderer").get("type") == "singlebandpseudocolor"


def test_qgis_project_refers_to_the_exported_files(exported):
    ws, result, out = exported
    with zipfile.ZipFile(out / "geotrack.qgz") as zf:
        assert zf.namelist() == ["geotrack.qgs"]
        text = zf.read("geotrack.qgs").decode("utf-8")
    root = SafeET.fromstring(text.split("\n", 1)[1])
    assert root.find("projectCrs/spatialrefsys/authid").text == "EPSG:32652"
    sources = [ml.findtext("datasource") for ml in root.iter("maplayer")]
    gpkg_layers = {s.split("layername=")[1] for s in sources if s.startswith("./geotrack.gpkg|")}
    assert gpkg_layers == set(result.counts)
    assert "./geotrack-density.tif" in sources
    assert root.find("properties/Paths/Absolute").text == "false"
    order = [n.get("source").split("layername=")[-1] for n in root.iter("layer-tree-layer")]
    assert order[0] == "crossings" and order[-1] == "./geotrack-density.tif"
    assert order.index("towns") < order.index("border")
    assert order.index("density_bins") < order.index("stretch")  # the bins drawn above the line
    checked = {n.get("id"): n.get("checked") for n in root.iter("layer-tree-layer")}
    assert checked["density_raster_geotrack"] == "Qt::Checked"  # a corridor: the river shows
    assert checked["density_bins_geotrack"] == "Qt::Checked"
    ext = root.find("ProjectViewSettings/DefaultViewExtent")
    xmin, ymin, xmax, ymax = ws.stretch.line_m.bounds
    assert float(ext.get("xmin")) <= xmin and float(ext.get("xmax")) >= xmax
    assert float(ext.get("ymin")) <= ymin and float(ext.get("ymax")) >= ymax
    rel = root.find("relations/relation")
    assert rel.find("fieldRef").attrib == {"referencedField": "id", "referencingField": "site_id"}


# -- public exports ------------------------------------------------------------------------------


def test_public_export_coarsens_and_drops(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    res = export_workspace(ws, tmp_path / "out", formats="all", public=True)
    assert res.public and res.decimals == 2
    assert any("2 decimals" in line for line in res.removed)
    for layer, fields in PUBLIC_DROPPED.items():
        for field in fields:
            assert any(line.startswith(f"{layer}.{field}:") for line in res.removed)
    secrets = [b"example.org", b"web.archive.org", SHA.encode(), NOTE_MARK.encode()]
    secrets += [
        f"{c:.6f}".encode() for f in ws.read_crossings() for c in f["geometry"]["coordinates"]
    ]
    checked = 0
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and path.suffix in (".geojson", ".kml", ".csv", ".gpkg", ".kmz"):
            data = path.read_bytes()
            if path.suffix == ".kmz":
                data = zipfile.ZipFile(path).read("doc.kml")
            checked += 1
            for secret in secrets:
                assert secret not in data, (path.name, secret)
    assert checked == 14
    doc = json.loads((tmp_path / "out/geotrack-geojson/crossings.geojson").read_text("utf-8"))
    shift = coarsening_m(2, 41.6)["max_shift_m"]
    for feat in doc["features"]:
        lon, lat = feat["geometry"]["coordinates"]
        assert round(lon, 2) == lon and round(lat, 2) == lat
        assert feat["properties"]["uncertainty_m"] >= shift - 50
        assert "original_lon" not in feat["properties"]
        assert all("notes" not in r and "url" not in r for r in feat["properties"]["reports"])
    with fiona.open(tmp_path / "out/geotrack.gpkg", layer="reports") as src:
        assert "notes" not in src.schema["properties"]


def test_precision_rounds_every_coordinate(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    export_workspace(ws, tmp_path / "out", formats=["geojson"], precision=3)
    for path in (tmp_path / "out/geotrack-geojson").glob("*.geojson"):
        doc = orjson.loads(path.read_bytes())
        for feat in doc["features"]:
            for x in _flatten(feat["geometry"]["coordinates"]):
                assert round(x, 3) == x


def _flatten(coords):
    if isinstance(coords[0], int | float):
        yield from coords
    else:
        for c in coords:
            yield from _flatten(c)


# -- writing safely ------------------------------------------------------------------------------


def test_refuses_to_clobber_without_overwrite(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    export_workspace(ws, out, formats=["kml", "csv"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(StorageError, match="--overwrite"):
        export_workspace(ws, out, formats=["kml", "csv", "gpkg"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # not even the gpkg
    res = export_workspace(ws, out, formats=["kml", "csv", "gpkg"], overwrite=True)
    assert sorted(os.listdir(out)) == sorted(res.files)


def test_overwrite_replaces_a_folder_output(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    export_workspace(ws, out, formats="geojson")
    (out / "geotrack-geojson" / "stale.txt").write_text("old")
    export_workspace(ws, out, formats="geojson", overwrite=True)
    assert not (out / "geotrack-geojson" / "stale.txt").exists()
    assert (out / "geotrack-geojson" / "crossings.geojson").is_file()


def test_unwritable_folder_is_a_clear_error(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="is a file"):
        export_workspace(ws, blocker, formats="csv")
    with pytest.raises(StorageError, match="cannot write to output folder"):
        export_workspace(ws, blocker / "sub", formats="csv")
    assert blocker.read_text() == "not a folder"


def test_permission_error_leaves_nothing(tmp_path, monkeypatch):
    ws = init_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    out.mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("geotrack.export.api.tempfile.mkdtemp", refuse)
    with pytest.raises(StorageError, match="Permission denied"):
        export_workspace(ws, out, formats="csv")
    assert list(out.iterdir()) == []


def test_failure_mid_export_leaves_folder_as_it_was(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    export_workspace(ws, out, formats=["csv"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("geotrack.export.kml.write_kmz", disk_full)
    with pytest.raises(StorageError, match="No space left"):
        export_workspace(ws, out, formats=["csv", "kml", "kmz"], overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_failure_while_renaming_restores_previous_files(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    export_workspace(ws, out, formats=["kml", "csv"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("geotrack-reports.csv"):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr("geotrack.export.api.os.replace", flaky)
    with pytest.raises(StorageError, match="Input/output error"):
        export_workspace(ws, out, formats=["kml", "csv"], overwrite=True, precision=4)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_failed_folder_swap_restores_the_previous_folder(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    export_workspace(ws, out, formats=["csv", "geojson"])
    (out / "geotrack-geojson" / "mine.txt").write_text("mine")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_replace = os.replace
    failed = []

    def flaky(src, dst):
        if Path(dst) == out / "geotrack-geojson" and not failed:
            failed.append(dst)  # the new folder cannot be moved in (once)
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr("geotrack.export.api.os.replace", flaky)
    with pytest.raises(StorageError):
        export_workspace(ws, out, formats=["csv", "geojson"], overwrite=True, precision=3)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_a_folder_in_the_way_of_a_file_is_left_alone(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    (out / "geotrack.kml").mkdir(parents=True)
    (out / "geotrack.kml" / "keep.txt").write_text("keep")
    with pytest.raises(StorageError):
        export_workspace(ws, out, formats=["csv", "kml"], overwrite=True)
    assert (out / "geotrack.kml" / "keep.txt").read_text() == "keep"
    assert sorted(os.listdir(out)) == ["geotrack.kml"]


def test_stale_temporary_folders_are_cleaned(tmp_path):
    from geotrack.export.api import _host

    ws = init_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".geotrack-export-{_host()}-{dead.pid}-abc"
    live = out / f".geotrack-export-{_host()}-{os.getpid()}-abc"
    other = out / f".geotrack-export-otherhost-{dead.pid}-abc"
    for folder in (stale, live, other):
        folder.mkdir()
    export_workspace(ws, out, formats="csv")
    assert not stale.exists() and live.exists() and other.exists()


def test_outputs_get_the_usual_permissions(exported):
    _, result, out = exported
    mask = os.umask(0)
    os.umask(mask)
    for name in result.files:
        path = out / name
        want = (0o777 if path.is_dir() else 0o666) & ~mask
        assert stat.S_IMODE(path.stat().st_mode) == want, name


def test_names_that_escape_the_folder_are_refused(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    for bad in ("../x", "/etc/x", "a/b", "..", ".hidden", "a b", "x\x00"):
        with pytest.raises(UsageError, match="would leave the output folder"):
            export_workspace(ws, tmp_path / "out", formats="csv", name=bad)
        with pytest.raises(UsageError):
            check_name(bad)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("overwrite", [False, True])
def test_symlinked_output_is_refused(tmp_path, overwrite):
    ws = init_workspace(tmp_path / "ws")
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "geotrack-reports.csv").symlink_to(victim)
    with pytest.raises(StorageError, match="symbolic link"):
        export_workspace(ws, out, formats=["kml", "csv"], overwrite=overwrite)
    assert victim.read_text() == "keep me"
    assert sorted(os.listdir(out)) == ["geotrack-reports.csv"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"formats": "shp"}, "format='shp' is not known"),
        ({"formats": []}, "name at least one"),
        ({"precision": -1}, "precision=-1"),
        ({"precision": 2.5}, "precision=2.5"),
        ({"precision": True}, "precision=True"),
    ],
)
def test_bad_options(tmp_path, kwargs, message):
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(UsageError, match=message):
        export_workspace(ws, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_empty_workspace_exports_every_format(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    res = export_workspace(ws, tmp_path / "out")
    assert res.counts["crossings"] == 0 and res.counts["reports"] == 0
    with fiona.open(tmp_path / "out/geotrack.gpkg", layer="crossings") as src:
        assert len(src) == 0 and src.schema["properties"]["first_seen"] == "date"
    rows = list(csv.reader(io.StringIO((tmp_path / "out/geotrack-reports.csv").read_text())))
    assert len(rows) == 1 and rows[0][:3] == ["id", "lon", "lat"]


def test_window_sets_the_density_layers(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    res = export_workspace(ws, tmp_path / "out", formats="geojson", window="0:100")
    assert res.window["to_km"] == 100
    doc = orjson.loads((tmp_path / "out/geotrack-geojson/density_bins.geojson").read_bytes())
    assert doc["features"][-1]["properties"]["to_km"] == pytest.approx(100)
    assert len(doc["features"]) == 20


# -- styles --------------------------------------------------------------------------------------


def test_crossings_style(exported):
    _, _, out = exported
    root = SafeET.fromstring(
        (out / "geotrack-geojson/crossings.qml").read_text("utf-8").split("\n", 1)[1]
    )
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "kind"
    assert [c.get("value") for c in renderer.iter("category")] == list(KIND_COLORS)
    widgets = {f.get("name"): f.find("editWidget").get("type") for f in root.iter("field")}
    assert widgets["kind"] == widgets["status"] == "ValueMap"
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases["uncertainty_m"] == "Location uncertainty (m)"


def test_raster_style_ramp_is_increasing():
    root = SafeET.fromstring(raster_qml(vmax=3.0).split("\n", 1)[1])
    values = [float(i.get("value")) for i in root.iter("item")]
    assert values[0] == 0 and values[-1] == pytest.approx(3.0) and values == sorted(values)


# -- properties ----------------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


def _one_site(name: str, notes: str):
    feat = {
        "type": "Feature",
        "id": "YLU-0007",
        "geometry": {"type": "Point", "coordinates": [128.1, 41.4]},
        "properties": {
            "id": "YLU-0007",
            "kind": "ford",
            "name": name,
            "first_seen": "2025-01-02",
            "last_seen": "2025-03-04",
            "reports": [{"report_id": "R1", "source_name": name, "notes": notes}],
        },
    }
    return crossing_layers([feat], precision=7)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_TEXT, notes=_TEXT)
def test_any_text_round_trips(tmp_path_factory, name, notes):
    sites, reports = _one_site(name, notes)
    # GeoJSON: exact
    doc = orjson.loads(geojson_bytes(sites))
    assert doc["features"][0]["properties"]["name"] == name
    # KML: well-formed; text intact except the characters XML 1.0 cannot hold
    root = SafeET.fromstring(kml_bytes({"crossings": sites, "reports": reports}))
    pm = root.find(f"{KML}Document/{KML}Folder/{KML}Placemark")
    values = {d.get("name"): d.findtext(f"{KML}value") or "" for d in pm.iter(f"{KML}Data")}
    assert values["name"] == xml_text(name)
    # GeoPackage: intact except NUL
    path = tmp_path_factory.mktemp("gpkg") / "t.gpkg"
    write_gpkg(path, [sites, reports])
    with fiona.open(path, layer="reports") as src:
        rep = next(iter(src)).properties
    assert (rep["source_name"] or "") == replace_nul(name)
    assert (rep["notes"] or "") == replace_nul(notes)


def test_layer_names_are_checked():
    with pytest.raises(UsageError):
        Layer("../x", "t", "", None, (), [], style="x")
    assert check_name("density_bins") == "density_bins"


def test_dates_keep_their_type(tmp_path):
    sites, reports = _one_site("a", "b")
    assert sites.features[0].properties["first_seen"] == date(2025, 1, 2)
    write_gpkg(tmp_path / "t.gpkg", [sites, reports])
    with fiona.open(tmp_path / "t.gpkg", layer="crossings") as src:
        f = next(iter(src))
    assert f.id == "7"  # the FID is the id's number
    assert f.properties["first_seen"] == "2025-01-02"
    assert "categorizedSymbol" in layer_qml(sites)
