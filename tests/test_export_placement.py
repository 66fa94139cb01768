"""Exports carry where each site is: chainage, bank, offset, spread and how it was placed.

A small workspace made in code: the one printed coordinate of the public record (S1,
AccessDPRK: 41.411114, 128.186804), a site placed "10 km downstream of Hyesan" and one
placed on Kimjongsuk county's riverfront (both as the record's S2 and S4 word them; no
coordinate invented).  Read back with fiona (GeoPackage, GeoJSON), an XML parser (KML)
and the csv module.
"""

from __future__ import annotations

import csv
import io
import sqlite3

import fiona
import pytest
from defusedxml import ElementTree as SafeET

from geotrack.export import export_workspace
from geotrack.export._model import DOMAINS
from geotrack.records import import_crossings
from geotrack.workspace import init_workspace

KML = "{http://www.opengis.net/kml/2.2}"
PLACEMENT = (
    "place_as_printed",
    "placement",
    "placement_basis",
    "inferred",
    "chainage_km",
    "offset_m",
    "bank",
    "chainage_from_km",
    "chainage_to_km",
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("export-placement")
    ws = init_workspace(base / "ws")
    common = {"source_name": "test (records made for a unit test)", "synthetic": True}
    for rec in (
        {"at": "128.186804,41.411114", "kind": "ford", "place_as_printed": "a sandbar in Hyesan"},
        {"km_from": "Hyesan", "km": 10, "direction": "downstream", "kind": "ice_road",
         "place_as_printed": "10 km downstream of Hyesan"},
        {"county": "Kimjongsuk", "kind": "raft", "bank": "KP",
         "place_as_printed": "Songjon-ri, Kim Jong Suk County"},
    ):  # fmt: skip
        import_crossings(ws, [{**common, **rec}], reason="test")
    out = base / "out"
    export_workspace(ws, out, formats=["gpkg", "geojson", "kml", "csv"])
    feats = {f["properties"]["place_as_printed"]: f for f in ws.read_crossings()}
    return feats, out


def _expect(feats):
    for f in feats.values():
        yield f["id"], {k: f["properties"][k] for k in PLACEMENT}


def test_gpkg_has_typed_placement_fields_and_domains(exported):
    feats, out = exported
    with fiona.open(out / "geotrack.gpkg", layer="crossings") as src:
        schema = src.schema["properties"]
        got = {f["properties"]["id"]: dict(f["properties"]) for f in src}
    assert schema["chainage_from_km"] == schema["chainage_km"] == schema["offset_m"] == "float"
    assert schema["inferred"] == "bool" and schema["bank"].startswith("str")
    for fid, want in _expect(feats):
        for k, v in want.items():
            assert got[fid][k] == (pytest.approx(v) if isinstance(v, float) else v), (fid, k)
    spread = got[feats["10 km downstream of Hyesan"]["id"]]
    assert spread["chainage_from_km"] == pytest.approx(194.82, abs=0.005)
    assert spread["chainage_to_km"] == pytest.approx(198.82, abs=0.005)
    con = sqlite3.connect(out / "geotrack.gpkg")
    linked = dict(
        con.execute(
            "SELECT column_name, constraint_name FROM gpkg_data_columns "
            "WHERE table_name = 'crossings' AND constraint_name IS NOT NULL"
        ).fetchall()
    )
    assert linked["placement"] == "placement" and linked["bank"] == "bank"
    codes = {
        v
        for (v,) in con.execute(
            "SELECT value FROM gpkg_data_column_constraints WHERE constraint_name = 'placement'"
        )
    }
    assert codes == set(DOMAINS["placement"].codes)


def test_geojson_round_trips_the_placement_through_fiona(exported):
    feats, out = exported
    with fiona.open(out / "geotrack-geojson" / "crossings.geojson") as src:
        got = {f["properties"]["id"]: dict(f["properties"]) for f in src}
    for fid, want in _expect(feats):
        for k, v in want.items():
            assert got[fid][k] == (pytest.approx(v) if isinstance(v, float) else v), (fid, k)


def test_kml_extended_data_and_csv_carry_the_placement(exported):
    feats, out = exported
    root = SafeET.fromstring((out / "geotrack.kml").read_bytes())
    marks = {pm.get("id"): pm for pm in root.iter(f"{KML}Placemark")}
    rows = list(csv.DictReader(io.StringIO((out / "geotrack-reports.csv").read_text("utf-8"))))
    by_id = {r["id"]: r for r in rows}
    for fid, want in _expect(feats):
        data = {
            d.get("name"): d.findtext(f"{KML}value") or ""
            for d in marks[fid].find(f"{KML}ExtendedData").findall(f"{KML}Data")
        }
        for k, v in want.items():
            for cell in (data[k], by_id[fid][k]):
                if v is None:
                    assert cell == ""
                elif isinstance(v, bool):
                    assert cell.lower() in (str(v).lower(), str(int(v)))
                elif isinstance(v, float):
                    assert float(cell) == pytest.approx(v)
                else:
                    assert cell == v
