"""The bundled public record: every row of data/public_record/ is in layers/ (or said left out)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from geotrack.claims.check import check_claims
from geotrack.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "data" / "public_record"


def _rows(name: str) -> list[dict[str, str]]:
    with (RECORD / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    """A copy of the shipped layers (a check may complete nothing, but never writes the repo)."""
    folder = tmp_path_factory.mktemp("record") / "layers"
    shutil.copytree(ROOT / "layers", folder)
    return Workspace.open(folder)


def test_every_relay_of_claims_csv_is_in_the_claims_layer(ws):
    relays = {r["relay_id"] for f in ws.read_claims() for r in f["properties"]["relays"]}
    assert relays == {r["relay_id"] for r in _rows("claims.csv")}
    by_id = {f["id"]: f["properties"] for f in ws.read_claims()}
    assert by_id["C3"]["area"]["inferred"] is True and by_id["C3"]["area"]["beyond"] == "upstream"
    assert by_id["C1"]["kinds"] == ["earth_causeway"]


def test_every_site_report_is_a_crossing_with_its_words(ws):
    feats = ws.read_crossings()
    notes = {f["properties"]["reports"][0]["notes"].split(":")[0]: f for f in feats}
    assert set(notes) == {r["report_id"] for r in _rows("site_reports.csv")}
    s1 = notes["S1"]
    assert s1["geometry"]["coordinates"] == [128.186804, 41.411114]
    assert s1["properties"]["location_precision"] == "exact"
    s2 = notes["S2"]["properties"]
    assert s2["placement"] == "km_from" and s2["inferred"] is True
    assert s2["chainage_from_km"] < 206.8 - 5 < s2["chainage_to_km"] + 5
    for rid in ("S4", "S5", "S6", "S8"):
        assert notes[rid]["properties"]["placement"] == "county", rid
    assert notes["S7"]["properties"]["kind"] == "wading"
    assert notes["S4"]["properties"]["kind"] == "raft"


def test_the_official_crossing_is_a_reference_layer_with_its_licence(ws):
    (f,) = ws.official_crossings
    (row,) = _rows("official_crossings.csv")
    assert f["geometry"]["coordinates"] == [float(row["lon"]), float(row["lat"])]
    assert "CC BY-SA 4.0" in f["properties"]["coord_licence"]
    readme = (ROOT / "layers" / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme and "Wikipedia contributors" in readme


def test_the_s2_disagreement_is_shown_by_the_check(ws):
    doc = check_claims(ws)
    (d,) = doc["sites_whose_words_disagree"]
    assert d["town"] == "Kimjongsuk-up (formerly Sinpa)" and d["gap_km"] > 60
    c1 = next(c for c in doc["claims"] if c["claim"] == "C1")
    assert c1["sites"]["located_inside"] == len(c1["sites"]["point_located"]) + len(
        c1["sites"]["spread_wholly_inside"]
    )


def test_every_trade_row_is_in_the_trade_table():
    with (ROOT / "layers" / "trade.csv").open(newline="", encoding="utf-8") as fh:
        held = {(r["period"], r["source_url"]) for r in csv.DictReader(fh)}
    for name, period in (("trade_monthly_additions.csv", "period"), ("trade_annual.csv", "year")):
        for row in _rows(name):
            assert (row[period], row["source_url"]) in held, (name, row[period], row["source"])
