"""Claims and relays through every export: GeoPackage, GeoJSON + QML, KML/KMZ, CSV, QGIS project."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pyogrio
import pytest
from _exportdata import CLAIM_TEXT, HOSTILE, NOTE_MARK, RELAY_TEXT, make_workspace
from defusedxml import ElementTree as SafeET

from geotrack.export import export_workspace

KML = "{http://www.opengis.net/kml/2.2}"


def _stored(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # GDAL and XML cannot hold NUL


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("claims-export")
    ws = make_workspace(base / "ws")
    result = export_workspace(ws, base / "out", formats="gpkg,geojson,kml,kmz,csv,qgis")
    return ws, result, base / "out"


def test_gpkg_holds_claims_relays_and_their_domains(exported):
    _, result, out = exported
    gpkg = out / "geotrack.gpkg"
    claims = pyogrio.read_dataframe(gpkg, layer="claims")
    relays = pyogrio.read_dataframe(gpkg, layer="relays", read_geometry=False)
    assert list(claims["id"]) == ["C1", "C2"] and result.counts["relays"] == len(HOSTILE) + 1
    assert set(claims.geom_type) == {"LineString"}
    c1 = claims.iloc[0]
    assert c1["label"].startswith("≥5 · ") and c1["from_km"] == 207.1 and c1["to_km"] == 238.7
    assert c1["area_places"] == "Hyesan;Pochon" and c1["stated_km"] == 30.0
    c2 = claims.iloc[1]
    assert c2["stated_km"] == pytest.approx(50 * 1.609344, abs=1e-3)
    assert c2["area_basis"].startswith("town Hyesan")
    stored = dict(zip(relays["relay_id"], relays["quote"], strict=True))
    for i, text in enumerate(HOSTILE, 1):
        assert stored[f"C1-R{i}"] == _stored(text)
    with sqlite3.connect(gpkg) as con:
        enums = {
            r[0] for r in con.execute("SELECT constraint_name FROM gpkg_data_column_constraints")
        }
        styles = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles")}
    assert {"count_qualifier", "stated_unit", "area_kind", "published_precision"} <= enums
    assert {"claims", "relays", "official_crossings"} <= styles


def test_geojson_nests_relays_exactly_with_a_style(exported):
    _, _, out = exported
    folder = out / "geotrack-geojson"
    doc = json.loads((folder / "claims.geojson").read_text(encoding="utf-8"))
    c1 = doc["features"][0]
    assert c1["geometry"]["type"] == "LineString"
    relays = c1["properties"]["relays"]
    assert [r["relay_id"] for r in relays] == [f"C1-R{i}" for i in range(1, len(HOSTILE) + 1)]
    for r, text in zip(relays, HOSTILE, strict=True):
        for key in RELAY_TEXT:
            assert r[key] == text, key
        assert r["notes"] == text + NOTE_MARK
    for i, key in enumerate(CLAIM_TEXT):
        assert c1["properties"][key] == HOSTILE[i % len(HOSTILE)]
    qml = (folder / "claims.qml").read_text(encoding="utf-8")
    assert 'attr="id"' in qml and "label" in qml
    assert (folder / "official_crossings.geojson").exists()


def _kml_claims(data: bytes):
    root = SafeET.fromstring(data)
    folders = {f.findtext(f"{KML}name"): f for f in root.iter(f"{KML}Folder")}
    return folders["Claims about stretches"]


@pytest.mark.parametrize("name", ["geotrack.kml", "geotrack.kmz"])
def test_kml_claims_with_relays_as_inert_text(exported, name):
    _, _, out = exported
    data = (out / name).read_bytes()
    if name.endswith(".kmz"):
        data = zipfile.ZipFile(out / name).read("doc.kml")
    folder = _kml_claims(data)
    marks = folder.findall(f"{KML}Placemark")
    assert len(marks) == 2
    html = marks[0].findtext(f"{KML}description")
    assert html.count("<h4>Relay C1-R") == len(HOSTILE)
    # the hostile texts arrive as escaped text inside the balloon's HTML, never as markup
    assert "<img" not in html and "<script" not in html and "&lt;img src=x" in html
    assert marks[0].find(f"{KML}LineString") is not None
    data_names = {d.get("name") for d in marks[0].iter(f"{KML}Data")}
    assert {"label", "count", "from_km", "to_km", "conflicts"} <= data_names


def test_csv_one_row_per_relay_with_formulas_neutralised(exported):
    _, _, out = exported
    text = (out / "geotrack-claims.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(HOSTILE) + 1
    assert rows[0]["id"] == "C1" and rows[0]["relay_id"] == "C1-R1"
    assert "lon" not in rows[0]  # claims are stretches, not points
    for row in rows:
        for key in ("publisher", "quote", "relay_what_as_printed"):
            assert not row[key].startswith(("=", "+", "-", "@", "\t", "\r")), (key, row[key][:9])
    formula = next(r for r in rows if r["quote"].endswith('"click")'))
    assert formula["quote"] == "'" + '=HYPERLINK("http://evil.example/","click")'


def test_qgis_project_relates_relays_to_claims(exported):
    _, _, out = exported
    xml = zipfile.ZipFile(out / "geotrack.qgz").read("geotrack.qgs").decode("utf-8")
    root = SafeET.fromstring(xml.split("\n", 1)[1])
    rels = {r.get("id"): r for r in root.iter("relation")}
    ref = rels["claims_relays"].find("fieldRef")
    assert (ref.get("referencedField"), ref.get("referencingField")) == ("id", "claim_id")
    sources = [ml.findtext("datasource") for ml in root.iter("maplayer")]
    assert "./geotrack.gpkg|layername=claims" in sources
    assert "./geotrack.gpkg|layername=official_crossings" in sources


def test_public_export_drops_relay_urls_and_notes(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    res = export_workspace(ws, tmp_path / "out", formats="geojson,csv", public=True)
    assert "relays.url: relay URLs" in res.removed and "claims.notes: claim notes" in res.removed
    doc = json.loads((tmp_path / "out/geotrack-geojson/claims.geojson").read_text("utf-8"))
    relay = doc["features"][0]["properties"]["relays"][0]
    assert "url" not in relay and "notes" not in relay and relay["quote"] == HOSTILE[0]
    assert NOTE_MARK not in (tmp_path / "out/geotrack-claims.csv").read_text("utf-8")
