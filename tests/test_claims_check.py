"""``claims check``: window measures against hand-computed figures and an independent geodesic."""

from __future__ import annotations

import json
import math

import pytest
from _claimsdata import record_claims
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import shape

from geotrack.claims.check import check_claims
from geotrack.claims.records import readings
from geotrack.cli.main import cli
from geotrack.crs import to_wire
from geotrack.records import add_crossing
from geotrack.reference import Window

GEOD = Geod(ellps="WGS84")


@pytest.fixture
def checked(ws):
    record_claims(ws)
    return ws, {c["claim"]: c for c in check_claims(ws)["claims"]}


def _stated(reading, km):
    return next(s for s in reading["stated"] if s["stated_length"] == km)


def test_five_counties_hand_computed(checked):
    """Hand-computed on the bundled line: five counties = county segments 0-238.7 km;
    their ends are 104.2 km apart (README, `geotrack stretch`)."""
    _, c = checked
    (r,) = c["C1"]["readings"]
    assert (r["from_km"], r["to_km"], r["river_km"]) == (0.0, 238.7, 238.7)
    assert round(r["straight_km"], 1) == 104.2
    s95 = _stated(r, 95.0)
    assert s95["closest"] == "straight_km"
    assert round(s95["difference_pct"]["straight_km"]) == -9  # 95 / 104.2 - 1
    assert round(s95["difference_pct"]["river_km"]) == -60  # 95 / 238.7 - 1
    s98 = _stated(r, 98.0)
    assert s98["printed_by"] == ["C1-JOONGANG"]
    assert s98["difference_pct"]["straight_km"] == pytest.approx((98 / 104.156 - 1) * 100, abs=0.1)
    miles = _stated(r, 59.0)
    assert miles["stated_km"] == pytest.approx(59 * 1.609344, abs=1e-3)


def test_straight_line_agrees_with_an_independent_geodesic(checked):
    ws, c = checked
    line = shape(next(f for f in ws.read_claims() if f["id"] == "C1")["geometry"])
    (lon0, lat0), (lon1, lat1) = line.coords[0], line.coords[-1]
    _, _, metres = GEOD.inv(lon0, lat0, lon1, lat1)
    # UTM scale error near 128°E (zone 52 centre 129°E) is below 0.1 %
    assert c["C1"]["readings"][0]["straight_km"] == pytest.approx(metres / 1000, rel=1e-3)
    river = GEOD.line_length(*zip(*line.coords, strict=True)) / 1000
    assert river == pytest.approx(238.7, rel=2e-3)


def test_between_hyesan_and_kim_jong_suk_ranks_both_readings(checked):
    _, c = checked
    rs = c["C2"]["readings"]
    town = next(r for r in rs if r["from_km"] == 125.738 and r["to_km"] == 206.82)
    county = next(r for r in rs if r["from_km"] == 94.5 and r["to_km"] == 206.82)
    assert town["fit_rank"] == 1 and county["fit_rank"] > 1
    assert county["as_resolved"] and not town["as_resolved"]
    # town to town: Kimjongsuk-up at km 125.738, Hyesan at km 206.82 (nearest line points)
    assert town["river_km"] == pytest.approx(206.82 - 125.738, abs=1e-3)
    s = _stated(town, 80.0)
    assert s["closest"] == "river_km" and s["difference_pct"]["river_km"] == pytest.approx(
        (80 / 81.082 - 1) * 100, abs=0.1
    )
    assert county["river_km"] == pytest.approx(206.82 - 94.5, abs=1e-3)
    assert c["C2"]["ranked_readings"][0] == town["reading"]


def test_the_400_km_claim_says_what_lies_beyond_the_stretch(checked):
    ws, c = checked
    b = c["C3"]["beyond_stretch"]
    assert b["on_stretch_river_km"] == pytest.approx(ws.stretch.length_km, abs=1e-3)
    assert b["stated_minus_on_stretch_km"] == pytest.approx(400 - 305.607, abs=0.1)
    assert b["share_not_on_stretch_pct"] == pytest.approx((400 - 305.607) / 4, abs=0.1)
    assert c["C3"]["density"]["note"]


def test_sites_inside_the_window_are_counted(checked):
    ws, _ = checked
    # a site at the printed coordinate of report S1 (AccessDPRK, 2026-02-10) in Hyesan
    add_crossing(
        ws,
        {
            "lon": 128.186804,
            "lat": 41.411114,
            "kind": "ford",
            "source_name": "AccessDPRK",
            "location_precision": "exact",
        },
    )
    c = {x["claim"]: x for x in check_claims(ws)["claims"]}
    assert c["C1"]["sites"]["statement"] == "located 1 of at least 32"
    assert c["C2"]["sites"]["located_inside"] == 0  # Hyesan town is km 206.8; S1 is upstream
    assert c["C3"]["sites"]["point_located"] == ["YLU-0001"]


def test_overlaps_compare_densities_both_ways(checked):
    _, c = checked
    o = next(o for o in c["C1"]["overlaps"] if o["claim"] == "C2")
    assert o["this"]["per_river_km"] == pytest.approx(32 / 238.7, abs=1e-4)
    assert o["this"]["per_straight_km"] == pytest.approx(32 / 104.156, abs=1e-4)
    assert o["other"]["per_river_km"] == pytest.approx(24 / (206.82 - 94.5), abs=1e-4)
    assert o["overlap_km"] == [94.5, 206.82]


def test_cli_check_text_and_json(checked):
    ws, _ = checked
    res = CliRunner().invoke(cli, ["claims", "check", "-w", str(ws.path), "C1"])
    assert res.exit_code == 0, res.output
    assert "straight 104.2 km (−9%)" in res.stdout and "river 238.7 km (−60%)" in res.stdout
    assert "closest: straight" in res.stdout and "Measured in EPSG:32652" in res.stdout
    assert "relays differ on stated_length: 95 km" in res.stdout
    doc = json.loads(
        CliRunner().invoke(cli, ["claims", "check", "-w", str(ws.path), "--json"]).stdout
    )
    assert [c["claim"] for c in doc["claims"]] == ["C1", "C2", "C3"]
    assert math.isclose(doc["claims"][0]["density"]["per_river_km"], 0.1341, abs_tol=1e-4)
    res = CliRunner().invoke(cli, ["claims", "check", "-w", str(ws.path), "C9"])
    assert res.exit_code == 1 and "no such claim" in res.stderr


@given(st.floats(0, 300), st.floats(0.5, 305))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_river_is_never_shorter_than_max_extent_nor_that_than_straight(ws, lo, length):
    hi = min(lo + length, ws.stretch.length_km)
    if hi - lo < 0.1:
        return
    (r,) = readings(ws, {"kind": "chainage", "from_km": lo, "to_km": hi})
    d = ws.stretch.describe(Window("w", r.from_km, r.to_km))
    assert d["length_km"] + 1e-3 >= d["max_extent_km"] >= d["straight_km"] - 1e-3


def test_a_site_whose_words_name_a_far_town_is_listed(checked):
    """Site report S2 (ASIAPRESS, 2019): Sinpa, "10 km downstream of Hyesan"; the bundled towns
    put Kimjongsuk-up (formerly Sinpa) at km 125.7, Hyesan at km 206.8."""
    ws, _ = checked
    lon, lat = to_wire(*ws.stretch.point_at(206.82 - 10))
    add_crossing(
        ws,
        {
            "lon": float(lon),
            "lat": float(lat),
            "kind": "ice_road",
            "location_precision": "exact",
            "source_name": "ASIAPRESS",
            "name": "신파 (Sinpa, now Kim Jong Suk County)",
        },
    )
    add_crossing(  # a name that agrees with its position is not listed
        ws,
        {
            "lon": 128.186804,
            "lat": 41.411114,
            "kind": "ford",
            "source_name": "AccessDPRK",
            "name": "a sandbar in Hyesan",
        },
    )
    doc = check_claims(ws)
    (d,) = doc["sites_whose_words_disagree"]
    assert d["id"] == "YLU-0001" and d["town"].startswith("Kimjongsuk-up")
    assert "sinpa" in d["names"] and d["gap_km"] == pytest.approx(196.82 - 125.74, abs=0.2)
    res = CliRunner().invoke(cli, ["claims", "check", "-w", str(ws.path), "C1"])
    assert "The place name and the position disagree" in res.stdout
