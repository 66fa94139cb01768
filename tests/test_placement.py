"""Placing sites from words (geotrack.placement, geotrack.places) on the bundled line.

The expected chainages are computed by hand from the bundled layers: the towns layer
gives each town's chainage (``stretch_chainage_km``: Hyesan 206.82, Kimjongsuk-up 125.74,
Changbai 208.30), measured with shapely's ``line_locate_point`` in EPSG:32652 when the
layers were built, and the county segments layer gives each county's riverfront
(Kimjongsuk 94.5–164.8 km).  Chainage 0 is the west, downstream end, so "10 km downstream
of Hyesan" is km 206.82 - 10 = 196.82, spread ±2 km (20%).
"""

from __future__ import annotations

import datetime
import math

import orjson
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotrack.crs import to_measure
from geotrack.errors import NearDuplicateError, NotFoundError, ValidationError
from geotrack.placement import Placer, near_pairs
from geotrack.places import Gazetteer, Place, match_key
from geotrack.records import add_crossing, edit_crossing, retire_crossing, validate_workspace
from geotrack.schema import normalize_report, today_utc
from geotrack.workspace import init_workspace

HYESAN_KM, KIMJONGSUK_KM, CHANGBAI_KM = 206.82, 125.74, 208.30


@pytest.fixture(scope="module")
def mws(tmp_path_factory):
    return init_workspace(tmp_path_factory.mktemp("place") / "ws")


@pytest.fixture(scope="module")
def placer(mws) -> Placer:
    return mws.placer()


def _on_line(placer: Placer, p) -> float:
    """Distance in m from a placement's point to the river line (independent: shapely)."""
    x, y = to_measure(p.lon, p.lat)
    return float(shapely.distance(placer.stretch.line_m, shapely.Point(x, y)))


def _town_chainage(mws, name: str) -> float:
    doc = orjson.loads((mws.path / "towns.geojson").read_bytes())
    (f,) = [f for f in doc["features"] if f["properties"]["name"].startswith(name)]
    return f["properties"]["stretch_chainage_km"]


# -- each form against hand-computed chainages ---------------------------------------------


def test_the_towns_layer_states_the_chainages_used_here(mws):
    assert _town_chainage(mws, "Hyesan") == HYESAN_KM
    assert _town_chainage(mws, "Kimjongsuk") == KIMJONGSUK_KM
    assert _town_chainage(mws, "Changbai") == CHANGBAI_KM


@pytest.mark.parametrize("name", ["Hyesan", "hyesan", "HYE-SAN", "혜산", "Hyesan-si"])
def test_near_hyesan(placer, name):
    p = placer.near(name)
    assert p.chainage_km == pytest.approx(HYESAN_KM, abs=0.005)
    assert (p.location_precision, p.placement, p.uncertainty_m) == (
        "near_place",
        "near_place",
        2000,
    )
    assert p.inferred is True and "radius assumed" in p.placement_basis
    assert (p.chainage_from_km, p.chainage_to_km, p.bank) == (None, None, None)
    assert _on_line(placer, p) < 0.5


@pytest.mark.parametrize(
    "name", ["Kimjongsuk-up", "kimjongsuk", "Kim-jong-suk up", "김정숙", "Sinpa"]
)
def test_near_kimjongsuk_up(placer, name):
    p = placer.near(name, within_km=3)
    assert p.chainage_km == pytest.approx(KIMJONGSUK_KM, abs=0.005)
    assert p.uncertainty_m == 3000 and p.inferred is False


def test_near_on_a_stated_bank_puts_the_point_on_that_side(placer):
    for side, sign in (("KP", -1), ("CN", 1)):
        p = placer.near("Hyesan", side=side)
        km, off, banks = placer.locate([p.lon], [p.lat])
        assert banks.tolist() == [side] and sign * off[0] == pytest.approx(50, abs=0.5)
        assert km[0] == pytest.approx(HYESAN_KM, abs=0.005) and p.bank == side


def test_km_from_hyesan_10_km_downstream(placer):
    p = placer.km_from("Hyesan", 10, "downstream")
    assert p.chainage_km == pytest.approx(HYESAN_KM - 10, abs=0.005)
    assert p.chainage_from_km == pytest.approx(HYESAN_KM - 12, abs=0.005)
    assert p.chainage_to_km == pytest.approx(HYESAN_KM - 8, abs=0.005)
    assert (p.location_precision, p.placement, p.inferred) == ("reach", "km_from", True)
    assert "±20% of the distance, assumed" in p.placement_basis
    assert _on_line(placer, p) < 0.5
    # the radius is the straight-line distance to the farthest point of the spread
    assert 0 < p.uncertainty_m <= 2000


def test_km_from_upstream_with_a_stated_uncertainty(placer):
    p = placer.km_from("혜산", 10, "upstream", plus_minus_km=0.5)
    assert p.chainage_km == pytest.approx(HYESAN_KM + 10, abs=0.005)
    assert (p.chainage_from_km, p.chainage_to_km) == pytest.approx(
        (HYESAN_KM + 9.5, HYESAN_KM + 10.5), abs=0.005
    )
    assert p.inferred is False


def test_reach_between_places_in_either_order_and_between_km(placer):
    for spec in ("Hyesan..Changbai", "Changbai..hyesan", "혜산..长白"):
        p = placer.reach(spec)
        assert (p.chainage_from_km, p.chainage_to_km) == pytest.approx(
            (HYESAN_KM, CHANGBAI_KM), abs=0.005
        )
        assert p.location_precision == "reach" and p.placement == "reach"
    p = placer.reach("195..210")
    assert (p.chainage_from_km, p.chainage_to_km, p.chainage_km) == (195.0, 210.0, 202.5)
    p = placer.reach("Hyesan..220")
    assert (p.chainage_from_km, p.chainage_to_km) == pytest.approx((HYESAN_KM, 220.0), abs=0.005)


def test_county_riverfronts(placer):
    p = placer.county(["Kim Jong Suk County"])
    assert (p.chainage_from_km, p.chainage_to_km) == (94.5, 164.8)
    assert p.chainage_km == pytest.approx((94.5 + 164.8) / 2)
    assert p.location_precision == "county" and p.placement_basis.startswith("Kimjongsuk county:")
    p = placer.county(["Samjiyon", "Pochon"])
    assert (p.chainage_from_km, p.chainage_to_km) == (221.9, 305.607)


# -- bad input: field, value and fix; nothing placed ------------------------------------------


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda pl: pl.near("Hyesun"), ["near='Hyesun'", "did you mean Hyesan", "places add"]),
        (
            lambda pl: pl.near("Samjiyon-up"),
            ["within_km=2.0", "15.0 km from the river", "--within-km 15"],
        ),
        (
            lambda pl: pl.near("Hyesan", within_km=400),
            ["within_km=400", "more than the whole stretch"],
        ),
        (
            lambda pl: pl.km_from("Hyesan", 300, "downstream"),
            ["km=300", "downstream end (km 0)", "at most 206.8 km"],
        ),
        (
            lambda pl: pl.km_from("Hyesan", 120, "upstream"),
            ["km=120", "upstream end (km 305.6)", "at most 98.8 km"],
        ),
        (lambda pl: pl.km_from("Hyesan", -1, "downstream"), ["km=-1", "positive distance"]),
        (
            lambda pl: pl.km_from("Hyesan", 5, "down"),
            ["direction='down'", "downstream or upstream"],
        ),
        (
            lambda pl: pl.km_from("Baishan", 5, "upstream"),
            ["km_from='Baishan", "62.1 km from the river line"],
        ),
        (lambda pl: pl.reach("210..195"), ["reach='210..195'", "reversed", "195..210"]),
        (lambda pl: pl.reach("195..400"), ["end '400' is outside the stretch", "0 to 305.6 km"]),
        (lambda pl: pl.reach("Hyesan"), ["reach='Hyesan'", "A..B"]),
        (lambda pl: pl.reach("Hyesan..hyesan"), ["zero length"]),
        (
            lambda pl: pl.county(["Kapsan"]),
            ["county='Kapsan' has no riverfront", "Kimhyongjik, Kimjongsuk"],
        ),
        (lambda pl: pl.county(["Kimhyongjik", "Hyesan"]), ["not adjacent"]),
    ],
)
def test_bad_placements_name_the_field_the_value_and_the_fix(placer, call, words):
    with pytest.raises((ValidationError, NotFoundError)) as info:
        call(placer)
    for w in words:
        assert w in str(info.value)


def test_ambiguous_names_list_every_candidate():
    g = Gazetteer(
        [
            Place("PL-0001", "Hwajeon-ri", 128.2, 41.45, country="KP", source="a"),
            Place("PL-0002", "Hwajeon Village", 128.3, 41.5, country="KP", source="b"),
        ]
    )
    with pytest.raises(NotFoundError) as info:
        g.find("hwajeon")
    assert "is ambiguous" in str(info.value)
    assert "PL-0001" in str(info.value) and "PL-0002" in str(info.value)
    assert g.find("PL-0002").name == "Hwajeon Village"  # the id settles it


@pytest.mark.parametrize(
    ("rec", "words"),
    [
        ({"near": "Hyesan", "lon": 128.1, "lat": 41.4}, ["give either a coordinate", "not both"]),
        ({"near": "Hyesan", "county": "Hyesan"}, ["place a site one way"]),
        ({"km_from": "Hyesan", "km": 10}, ["direction: is needed", "--downstream or --upstream"]),
        ({"near": "Hyesan", "km": 10}, ["km=10", "does not go with near"]),
        ({"within_km": 3}, ["these options need one of them"]),
        (
            {"near": "Hyesan", "uncertainty_m": 30},
            ["uncertainty_m=30", "set by near", "--within-km"],
        ),
        ({"near": "Hyesan", "bank": "left"}, ["bank='left'", "CN (Chinese bank) or KP"]),
        ({"at": "128.1"}, ["at='128.1'", "LON,LAT"]),
    ],
)
def test_bad_records_write_nothing(ws, rec, words):
    before = ws.crossings.path.read_bytes()
    with pytest.raises(ValidationError) as info:
        add_crossing(ws, {"kind": "ford", "source_name": "test", **rec})
    for w in words:
        assert w in str(info.value)
    assert "nothing was written" in str(info.value)
    assert ws.crossings.path.read_bytes() == before


# -- invariants --------------------------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    d=st.floats(0.01, 300.0),
    up=st.booleans(),
    pm=st.none() | st.floats(0.0, 50.0),
)
def test_km_from_lands_d_km_along_the_river_inside_its_spread(placer, d, up, pm):
    direction = "upstream" if up else "downstream"
    target = HYESAN_KM + d if up else HYESAN_KM - d
    if not 0 <= target <= placer.length_km:
        with pytest.raises(ValidationError, match="runs off the stretch"):
            placer.km_from("Hyesan", d, direction, plus_minus_km=pm)
        return
    p = placer.km_from("Hyesan", d, direction, plus_minus_km=pm)
    u = 0.2 * d if pm is None else pm
    assert p.chainage_from_km == pytest.approx(max(target - u, 0), abs=1e-3)
    assert p.chainage_to_km == pytest.approx(min(target + u, placer.length_km), abs=1e-3)
    assert 0 <= p.chainage_from_km <= p.chainage_to_km <= placer.length_km + 1e-9
    if u:  # the point is the middle of what is known (the spread clipped to the stretch)
        assert p.chainage_km == pytest.approx((p.chainage_from_km + p.chainage_to_km) / 2, abs=1e-3)
    assert _on_line(placer, p) < 0.5


_NAMES = ["Hyesan", "Kimjongsuk-up", "Poch'on-up", "Samsu-up", "Changbai", "Songjon-ri"]


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(_NAMES),
    upper=st.lists(st.booleans(), min_size=20, max_size=20),
    junk=st.lists(st.sampled_from(["", "-", "'", " ", "’"]), min_size=20, max_size=20),
)
def test_case_hyphens_and_apostrophes_never_change_the_match(name, upper, junk):
    bare = name.replace("'", "")
    spelled = "".join(
        (c.upper() if u else c.lower()) + (j if i < len(bare) - 1 else "")
        for i, (c, u, j) in enumerate(zip(bare, upper, junk, strict=False))
    )
    assert match_key(spelled) == match_key(name)


# -- recording: near duplicates, dates, edits ----------------------------------------------------


def test_a_new_site_within_an_existing_ones_uncertainty_is_refused_unless_allowed(ws):
    first = add_crossing(ws, {"at": "128.186804,41.411114", "kind": "ford", "source_name": "A"})
    before = ws.crossings.path.read_bytes()
    with pytest.raises(NearDuplicateError) as info:  # 1.2 km away, within "near Hyesan"'s 2 km
        add_crossing(ws, {"near": "Hyesan", "kind": "ford", "source_name": "B"}, allow_near=False)
    msg = str(info.value)
    assert first in msg and f"add-report {first}" in msg and "--allow-near" in msg
    assert ws.crossings.path.read_bytes() == before
    second = add_crossing(
        ws, {"near": "Hyesan", "kind": "ford", "source_name": "B"}, allow_near=True
    )
    # a point inside a county (the S1 ford, km 208.1) is within a county-wide site's spread;
    # the town of Hyesan itself (km 206.8) lies just outside Hyesan county's riverfront (207.1)
    with pytest.raises(NearDuplicateError, match=first):
        add_crossing(ws, {"county": "Hyesan", "kind": "ford", "source_name": "C"}, allow_near=False)
    # far away along the river: no warning
    add_crossing(ws, {"county": "Kimjongsuk", "kind": "ford", "source_name": "D"}, allow_near=False)
    # a retired site does not count
    retire_crossing(ws, first, reason="test")
    retire_crossing(ws, second, reason="test")
    add_crossing(
        ws, {"reach": "Hyesan..Changbai", "kind": "ford", "source_name": "E"}, allow_near=False
    )


def test_near_pairs_uses_either_sites_uncertainty(placer):
    def site(lon, lat, r, lo=None, hi=None):
        return {
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"uncertainty_m": r, "chainage_from_km": lo, "chainage_to_km": hi},
        }

    a = site(128.186804, 41.411114, 50)
    b = site(128.1880, 41.4115, 50)  # about 110 m east: beyond both 50 m radii
    assert near_pairs([a], [b], placer) == []
    (pair,) = near_pairs([site(128.1880, 41.4115, 200)], [a], placer)  # within the new one's 200 m
    assert pair[:2] == (0, 0) and 90 < pair[2] < 130
    assert near_pairs([a], [site(128.1880, 41.4115, 200)], placer)  # or the old one's


def test_report_and_event_dates_are_bounded_to_1900_through_today():
    today = today_utc()
    tomorrow = today + datetime.timedelta(days=1)
    for key in ("reported", "event_start", "event_end", "accessed"):
        for bad, why in (
            (tomorrow.isoformat(), "is after today"),
            ("2205-03-01", "is after today"),
            ("1899-12-31", "is before 1900-01-01"),
            ("1899", "is before 1900"),
        ):
            with pytest.raises(ValidationError) as info:
                normalize_report({"source_name": "x", key: bad})
            assert f"{key}='{bad}'" in str(info.value) and why in str(info.value)
    # this month and this year are not in the future although they end after today
    ok = normalize_report(
        {"source_name": "x", "event_start": f"{today:%Y}", "event_end": f"{today:%Y-%m}"}
    )
    assert ok["event_end"] >= today.isoformat()
    assert normalize_report({"source_name": "x", "reported": "1900-01-01"})["reported"]


def test_edit_re_places_a_site_and_back(ws):
    fid = add_crossing(
        ws, {"lon": 128.186804, "lat": 41.411114, "kind": "ford", "source_name": "A"}
    )
    p = ws.read_crossings()[0]["properties"]
    assert (p["placement"], p["bank"], p["chainage_from_km"]) == ("coordinate", "KP", None)
    feat = edit_crossing(ws, fid, {"county": "Hyesan", "place_as_printed": "Hyesan county"})
    p = feat["properties"]
    assert (
        p["placement"],
        p["location_precision"],
        p["chainage_from_km"],
        p["chainage_to_km"],
    ) == (
        "county",
        "county",
        207.1,
        221.9,
    )
    assert (p["original_lon"], p["place_as_printed"]) == (None, "Hyesan county")
    feat = edit_crossing(ws, fid, {"lon": 128.186804, "lat": 41.411114})
    p = feat["properties"]
    assert (p["placement"], p["bank"], p["chainage_from_km"], p["original_lon"]) == (
        "coordinate",
        "KP",
        None,
        128.186804,
    )
    assert p["place_as_printed"] == "Hyesan county"  # kept: it is what the report printed
    with pytest.raises(ValidationError, match="bank='CN': is stated with the location"):
        edit_crossing(ws, fid, {"bank": "CN"})
    assert validate_workspace(ws) == []


def test_a_spread_site_keeps_an_rfc7946_point_on_the_river(ws):
    add_crossing(
        ws,
        {
            "km_from": "Hyesan",
            "km": 10,
            "direction": "downstream",
            "kind": "ice_road",
            "source_name": "ASIAPRESS",
            "place_as_printed": "10 km downstream of Hyesan",
        },
    )
    (f,) = ws.read_crossings()
    assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
    p = f["properties"]
    assert p["place_as_printed"] == "10 km downstream of Hyesan"
    assert p["chainage_from_km"] == pytest.approx(HYESAN_KM - 12, abs=0.005)
    assert math.isclose(p["uncertainty_m"], round(p["uncertainty_m"]))
    assert validate_workspace(ws) == []


def test_user_places_are_validated_locked_and_in_the_history(ws):
    feat = ws.add_place(
        {
            "name": "Example-ri",
            "name_local": "예시리",
            "lon": "128.1",
            "lat": "41.38",
            "source": "synthetic example for a test",
            "country": "kp",
        }
    )
    assert feat["id"] == "PL-0001" and feat["properties"]["country"] == "KP"
    assert [e.op for e in ws.places.history()] == ["add-place"]
    assert ws.gazetteer().find("예시").id == "PL-0001"
    assert ws.placer().near("example").chainage_km > 0
    before = ws.places.path.read_bytes()
    for rec, words in [
        ({"name": "X", "lon": 41.4, "lat": 128.1, "source": "s"}, "looks swapped"),
        ({"name": "X", "lon": 128.1, "lat": 41.4}, "source: is required"),
        ({"name": "--", "lon": 128.1, "lat": 41.4, "source": "s"}, "no letters"),
        ({"name": "X", "lon": 128.1, "lat": 41.4, "source": "s", "country": "RU"}, "CN or KP"),
        ({"name": "Far", "lon": 126.4, "lat": 41.94, "source": "s"}, "km from the river line"),
    ]:
        with pytest.raises(Exception, match=words):
            ws.add_place(rec)
    assert ws.places.path.read_bytes() == before
    assert validate_workspace(ws) == []


def test_a_stated_bank_is_checked_a_derived_one_is_measured_again(ws):
    with pytest.raises(ValidationError, match="bank='CN': contradicts the coordinate"):
        add_crossing(
            ws, {"at": "128.186804,41.411114", "bank": "CN", "kind": "ford", "source_name": "A"}
        )
    # a record exported by geotrack (placement 'coordinate', bank derived) whose point moved
    fid = add_crossing(
        ws,
        {"lon": 128.186804, "lat": 41.411114, "placement": "coordinate", "bank": "CN",
         "kind": "ford", "source_name": "A"},
    )  # fmt: skip
    (f,) = [f for f in ws.read_crossings() if f["id"] == fid]
    assert f["properties"]["bank"] == "KP"
