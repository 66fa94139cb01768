"""The crossing record: coded values, field rules, every problem named with its fix."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.errors import GeotrackError, Problem, ValidationError
from geotrack.schema import (
    CREDIBILITY,
    DATE_PRECISIONS,
    DATUMS,
    KINDS,
    PLACEMENT_FIELDS,
    PRECISIONS,
    RELIABILITY,
    REPORT_FIELDS,
    SITE_FIELDS,
    SOURCE_TYPES,
    STATUSES,
    VERIFICATIONS,
    check_lonlat,
    derive_site_dates,
    editable_site_fields,
    is_crossing_id,
    normalize_report,
    normalize_site,
    order_crossing,
    parse_date,
)


def problems_of(fn, rec, **kw) -> list[Problem]:
    probs: list[Problem] = []
    fn(rec, problems=probs, **kw)
    return probs


def only(probs: list[Problem], field: str) -> Problem:
    hits = [p for p in probs if p.field == field]
    assert len(hits) == 1, probs
    return hits[0]


# -- code lists ----------------------------------------------------------------


def test_code_lists_hold_the_codes_of_the_data_model():
    assert set(KINDS) == {
        "temporary_bridge",
        "pontoon",
        "ford",
        "ferry_boat",
        "ice_road",
        "cable",
        "earth_causeway",
        "raft",
        "wading",
        "other",
    }
    assert set(STATUSES) == {"active", "inactive", "destroyed", "unknown"}
    assert set(PRECISIONS) == {"exact", "near_place", "reach", "county"}
    assert set(DATUMS) == {"wgs84", "gcj02", "bd09"}
    assert set(SOURCE_TYPES) == {
        "satellite_imagery",
        "media",
        "social_media",
        "official",
        "informant",
        "other",
        "unknown",
    }
    assert set(DATE_PRECISIONS) == {"day", "week", "month", "year"}
    assert list(RELIABILITY) == list("ABCDEF")
    assert list(CREDIBILITY) == [1, 2, 3, 4, 5, 6]
    assert set(VERIFICATIONS) == {
        "unverified",
        "in_review",
        "verified",
        "unverifiable",
        "disputed",
        "false",
    }
    for codes in (KINDS, STATUSES, PRECISIONS, DATUMS, SOURCE_TYPES, VERIFICATIONS):
        assert all(isinstance(label, str) and label for label in codes.values())


def test_field_orders_start_with_the_id():
    assert SITE_FIELDS[0] == "id" and SITE_FIELDS[-1] == "reports"
    assert REPORT_FIELDS[0] == "report_id"
    assert editable_site_fields() <= set(SITE_FIELDS)
    assert "id" not in editable_site_fields()


# -- ids and dates -------------------------------------------------------------


@pytest.mark.parametrize("value", ["YLU-0001", "AB-123456789", "YLU-99999"])
def test_crossing_ids_accepted(value):
    assert is_crossing_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "ylu-0001",
        "YLU-001",
        "YLU-0001\n",
        "YLU-0001 ",
        " YLU-0001",
        "YLU-٠٠٠١",  # Arabic-Indic digits
        "../x",
        "YLU_0001",
        "",
        None,
        1,
        ["YLU-0001"],
    ],
)
def test_crossing_ids_refused(value):
    assert not is_crossing_id(value)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2025-12-16", False, ("2025-12-16", "day")),
        ("2025-12", False, ("2025-12-01", "month")),
        ("2025-12", True, ("2025-12-31", "month")),
        ("2024-02", True, ("2024-02-29", "month")),
        ("2025", False, ("2025-01-01", "year")),
        ("2025", True, ("2025-12-31", "year")),
        (" 2025-01-02 ", False, ("2025-01-02", "day")),
        (date(2025, 3, 4), False, ("2025-03-04", "day")),
    ],
)
def test_parse_date(text, end, expected):
    assert parse_date(text, end=end) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-13-01",
        "2025-02-30",
        "2025-00",
        "0000",
        "25-12-16",
        "16/12/2025",
        "2025-12-16T10:00",
        "2025-12-16\n2025",
        "２０２５-１２-１６",  # full-width digits
        "yesterday",
        "",
        20251216,
        None,
    ],
)
def test_parse_date_refuses_malformed(text):
    with pytest.raises(ValueError, match=r"YYYY|month|day|year|range"):
        parse_date(text)


# -- reports -------------------------------------------------------------------


def test_report_defaults_and_normalisation():
    rep = normalize_report(
        {
            "source_name": "NK News",
            "source_type": "Social Media",
            "reliability": " b ",
            "credibility": "2",
            "verification": "In-Review",
            "sha256": "AB" * 32,
            "event_start": "2025-10",
            "event_end": "2025-11",
        }
    )
    assert list(rep) == list(REPORT_FIELDS)
    assert rep["source_type"] == "social_media"
    assert rep["reliability"] == "B"
    assert rep["credibility"] == 2 and isinstance(rep["credibility"], int)
    assert rep["verification"] == "in_review"
    assert rep["sha256"] == "ab" * 32
    assert (rep["event_start"], rep["event_end"]) == ("2025-10-01", "2025-11-30")
    assert rep["date_precision"] == "month"
    bare = normalize_report({"source_name": "x"})
    # not given: not graded and of unknown type (not silently F6 from the media)
    assert (bare["source_type"], bare["reliability"], bare["credibility"]) == (
        "unknown",
        None,
        None,
    )
    assert bare["verification"] == "unverified"
    assert bare["date_precision"] is None


def test_credibility_given_as_float_is_stored_as_the_code():
    assert normalize_report({"source_name": "x", "credibility": 3.0})["credibility"] == 3


@pytest.mark.parametrize(
    ("field", "value", "fix"),
    [
        ("reliability", "G", "use one of A, B, C, D, E, F"),
        ("reliability", "AB", "use one of"),
        ("credibility", 7, "use one of 1, 2, 3, 4, 5, 6"),
        ("credibility", "0", "use one of"),
        ("credibility", True, "use one of"),
        ("credibility", 2.5, "use one of"),
        ("source_type", "blog", "use one of satellite_imagery"),
        ("verification", "maybe", "use one of unverified"),
        ("date_precision", "decade", "use one of day, week, month, year"),
        ("sha256", "abc", "64 hexadecimal digits"),
        ("url", "www.example.org/a", "absolute URL"),
        ("url", "https://example.org/a b", "absolute URL"),
        ("url", "https://example.org/a\n", "absolute URL"),
        ("archive_url", "not a url", "absolute URL"),
        ("reported", "2025-13-40", "for example 2025-11-30"),
        ("accessed", "16.12.2025", "YYYY-MM-DD"),
        ("event_start", "soon", "YYYY-MM-DD"),
        ("notes", 42, "must be text"),
        ("source_name", ["a"], "must be text"),
        ("nonsense", "x", "is not a report field: use report_id"),
    ],
)
def test_bad_report_values_name_field_value_and_fix(field, value, fix):
    rec = {"source_name": "NK News", field: value}
    p = only(problems_of(normalize_report, rec, row="row 7"), field)
    assert p.value == value and fix in p.message and p.row == "row 7"
    text = str(p)
    assert text.startswith(f"row 7: {field}={value!r}: ") and fix in text


def test_source_name_is_required():
    p = only(problems_of(normalize_report, {"notes": "x"}), "source_name")
    assert "is required" in p.message


def test_event_end_before_start_says_swap():
    p = only(
        problems_of(
            normalize_report,
            {"source_name": "a", "event_start": "2025-11-02", "event_end": "2025-11-01"},
        ),
        "event_end",
    )
    assert p.value == "2025-11-01"
    assert "before event_start 2025-11-02" in p.message and "swap" in p.message
    # same month given at month precision is not "before"
    rep = normalize_report({"source_name": "a", "event_start": "2025-11", "event_end": "2025-11"})
    assert rep["event_end"] == "2025-11-30"


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as err:
        normalize_report({"reliability": "Z", "credibility": 9, "reported": "x", "url": "y"})
    fields = {p.field for p in err.value.problems}
    assert fields == {"source_name", "reliability", "credibility", "reported", "url"}
    assert len(str(err.value).splitlines()) == 5


def test_text_is_kept_exactly():
    hostile = "</script><b onclick=alert(1)>${x}`y`'\"\u202e\x00\x1b[31m 🚣 \r\n"
    rep = normalize_report(
        {"source_name": hostile, "notes": hostile, "url": "https://x.org/?a=<b>"}
    )
    assert rep["source_name"] == hostile and rep["notes"] == hostile
    assert rep["url"] == "https://x.org/?a=<b>"


def test_lone_surrogate_text_refused_with_a_fix():
    p = only(problems_of(normalize_report, {"source_name": "ok\udcff"}), "source_name")
    assert "lone surrogate" in p.message and "UTF-8" in p.message


def test_overlong_text_refused():
    p = only(problems_of(normalize_report, {"source_name": "x" * 100_001}), "source_name")
    assert "shorten it" in p.message and len(str(p.value)) < 100


# -- sites ---------------------------------------------------------------------


def test_site_defaults_and_normalisation():
    site = normalize_site({"kind": "Ice Road", "datum": "GCJ-02", "precision_m": "250"})
    assert site == {
        "name": None,
        "kind": "ice_road",
        "status": "unknown",
        "location_precision": "near_place",
        "uncertainty_m": 250.0,
        "datum": "gcj02",
        "synthetic": False,
        **dict.fromkeys(PLACEMENT_FIELDS),
    }
    assert normalize_site({"kind": "ford", "location_precision": "exact"})["uncertainty_m"] == 50.0
    assert normalize_site({"kind": "ford", "datum": "BD_09"})["datum"] == "bd09"
    assert normalize_site({"kind": "ford", "synthetic": "yes"})["synthetic"] is True


@pytest.mark.parametrize(
    ("field", "value", "fix"),
    [
        ("kind", "bridge", "use one of temporary_bridge, pontoon, ford"),
        ("kind", None, "is required: use one of temporary_bridge"),
        ("status", "gone", "use one of active, inactive, destroyed, unknown"),
        ("location_precision", "roughly", "use one of exact, near_place, reach, county"),
        ("datum", "nad27", "use one of wgs84, gcj02, bd09"),
        ("uncertainty_m", -1, "must be within [0, 100000]"),
        ("uncertainty_m", "lots", "must be a number"),
        ("uncertainty_m", "2,5", "decimal point"),
        ("uncertainty_m", "nan", "finite"),
        ("uncertainty_m", math.inf, "finite"),
        ("uncertainty_m", 10**400, "must be a number"),
        ("synthetic", "perhaps", "must be true or false"),
        ("name", 5, "must be text"),
    ],
)
def test_bad_site_values_name_field_value_and_fix(field, value, fix):
    rec = {"kind": "ford", field: value}
    if value is None:
        rec.pop(field)
    p = only(problems_of(normalize_site, rec, row="feature 3"), field)
    assert fix in p.message and p.row == "feature 3"
    assert p.value == value or (isinstance(value, float) and math.isnan(value))


# -- coordinates ---------------------------------------------------------------


def test_good_coordinates_have_no_problem():
    assert check_lonlat(127.27, 41.52) == []
    assert check_lonlat("127.27", "41.52") == []
    assert check_lonlat(-180, -90) == [] and check_lonlat(180, 90) == []


@pytest.mark.parametrize(
    ("lon", "lat", "field", "fix"),
    [
        (127.27, 95.0, "lat", "within [-90, 90]"),
        (127.27, -90.5, "lat", "within [-90, 90]"),
        (181.0, 41.5, "lon", "within [-180, 180]"),
        (-200.0, 41.5, "lon", "within [-180, 180]"),
        (float("nan"), 41.5, "lon", "not NaN"),
        (127.27, "NaN", "lat", "not NaN"),
        (127.27, "inf", "lat", "finite"),
        (None, 41.5, "lon", "is missing: give decimal degrees"),
        (127.27, "", "lat", "is missing"),
        ("east", 41.5, "lon", "must be a number"),
        (True, 41.5, "lon", "must be a number"),
    ],
)
def test_bad_coordinates(lon, lat, field, fix):
    p = only(check_lonlat(lon, lat, row="row 2"), field)
    assert fix in p.message and p.row == "row 2"


def test_swapped_coordinates_say_so():
    (p,) = check_lonlat(41.5195, 127.2696)
    assert p.field == "lat" and p.value == 127.2696
    assert "looks swapped" in p.message and "--lon 127.2696 --lat 41.5195" in p.message


def test_both_missing_reports_both():
    assert {p.field for p in check_lonlat(None, None)} == {"lon", "lat"}


# -- derived dates and ordering ------------------------------------------------


def test_derive_site_dates():
    reports = [
        {"reported": "2025-12-16", "event_start": "2025-10-01", "event_end": "2025-11-30"},
        {"reported": "2025-12-01", "event_start": "2025-09-15", "event_end": None},
        {"reported": None, "event_start": None, "event_end": None},
    ]
    assert derive_site_dates(reports) == {
        "first_reported": "2025-12-01",
        "last_reported": "2025-12-16",
        "first_seen": "2025-09-15",
        "last_seen": "2025-11-30",
    }
    assert set(derive_site_dates([]).values()) == {None}


def test_order_crossing_fixes_key_order_and_rounds():
    feat = {
        "properties": {
            "reports": [{"notes": "n", "report_id": "R1"}],
            "extra": 1,
            "kind": "ford",
            "id": "YLU-0001",
        },
        "geometry": {"coordinates": [127.123456789, 41.00000004], "type": "Point"},
        "id": "YLU-0001",
        "type": "Feature",
    }
    out = order_crossing(feat)
    assert list(out) == ["type", "id", "geometry", "properties"]
    assert list(out["geometry"]) == ["type", "coordinates"]
    assert out["geometry"]["coordinates"] == [127.1234568, 41.0]
    assert list(out["properties"]) == ["id", "kind", "reports", "extra"]
    assert list(out["properties"]["reports"][0]) == ["report_id", "notes"]
    assert order_crossing(out) == out


# -- hypothesis: validation raises nothing but GeotrackError --------------------

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["ford", "A", "3", "2025-11", "gcj02", "https://x.org", "yes"]),
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_keys = st.sampled_from([*SITE_FIELDS, *REPORT_FIELDS, "lon", "lat", "precision_m", "x"]) | st.text(
    max_size=10
)


@settings(max_examples=300, deadline=None)
@given(rec=st.dictionaries(_keys, _json, max_size=12))
def test_validation_raises_only_geotrack_errors(rec):
    for fn in (normalize_site, normalize_report):
        try:
            out = fn(rec)
        except GeotrackError as exc:
            assert isinstance(exc, ValidationError) and exc.problems
            assert all(isinstance(p, Problem) and p.message for p in exc.problems)
        else:
            assert isinstance(out, dict)
        probs: list[Problem] = []
        fn(rec, problems=probs)  # with a list given, problems are collected, never raised
    for p in check_lonlat(rec.get("lon"), rec.get("lat")):
        assert p.field in ("lon", "lat") and p.message


@pytest.mark.parametrize("kind", ["earth_causeway", "raft", "wading", "Earth-causeway"])
def test_kinds_from_the_public_record_are_accepted(kind):
    # the reports describe earth piled on the riverbed (NK Pro via SBS), a raft (Daily NK),
    # chest-deep wading (Daily NK); the kinds before them stay valid
    assert normalize_site({"kind": kind})["kind"] == kind.lower().replace("-", "_")
    assert normalize_site({"kind": "pontoon"})["kind"] == "pontoon"
