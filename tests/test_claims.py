"""Claims through the library: schema, area resolution, add, relays, conflicts, edit, retire, undo."""

from __future__ import annotations

import csv

import pytest
from _claimsdata import RECORD, record_claims
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.claim_schema import (
    QUALIFIERS,
    claim_label,
    normalize_claim,
    normalize_relay,
    relay_conflicts,
    stated_km,
)
from geotrack.claims.records import (
    add_claim,
    add_relay,
    claim_rows_to_records,
    edit_claim,
    import_claims,
    readings,
    resolve_area,
    retire_claim,
    undo_claims,
    validate_claims,
)
from geotrack.errors import DataError, NotFoundError, ValidationError
from geotrack.importers import read_table

CLAIM = {
    "claimed_by": "Test analyst (made up for a unit test)",
    "count": 5,
    "count_qualifier": "at_least",
    "area": {"kind": "counties", "counties": ["Hyesan", "Pochon"]},
    "stated_length": 30,
    "stated_unit": "km",
}
RELAY = {"publisher": "Test outlet", "url": "https://example.org/a", "published": "2025-12-09"}


def files(ws) -> tuple[bytes, bytes]:
    s = ws.claims
    read = lambda p: p.read_bytes() if p.exists() else b""  # noqa: E731
    return read(s.path), read(s.history_path)


# -- schema ------------------------------------------------------------------------------


def test_relay_needs_publisher_and_url_and_names_the_field():
    with pytest.raises(ValidationError) as exc:
        normalize_relay({"published": "2025-13"})
    fields = {p.field for p in exc.value.problems}
    assert {"publisher", "url", "published"} <= fields


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", "0"),
        ("count", "32.5"),
        ("count", "-3"),
        ("count", True),
        ("count_qualifier", "roughly"),
        ("stated_unit", "furlong"),
        ("stated_length", "ninety"),
    ],
)
def test_bad_claim_values_are_refused_by_field(field, value):
    rec = {**CLAIM, field: value}
    if field == "stated_unit":
        rec["stated_length"] = 30
    with pytest.raises(ValidationError) as exc:
        normalize_claim(rec)
    assert any(p.field == field and p.value == value for p in exc.value.problems)


def test_qualifiers_and_units_normalise():
    c = normalize_claim({**CLAIM, "count_qualifier": "More than", "stated_unit": "MI"})
    assert c["count_qualifier"] == "more_than" and c["stated_unit"] == "mi"
    assert set(QUALIFIERS) == {"exact", "at_least", "more_than", "about"}


def test_published_precision_must_match_the_date():
    with pytest.raises(ValidationError, match="published_precision"):
        normalize_relay({**RELAY, "published": "2025-12", "published_precision": "day"})
    r = normalize_relay({**RELAY, "published": "2025-12", "published_precision": "month"})
    assert (r["published"], r["published_precision"]) == ("2025-12", "month")
    r = normalize_relay({**RELAY, "published": ""})
    assert (r["published"], r["published_precision"]) == (None, "unknown")


def test_miles_are_converted_for_comparison_only():
    assert stated_km({"stated_length": 59.0, "stated_unit": "mi"}) == pytest.approx(
        94.951, abs=1e-3
    )
    assert stated_km({"stated_length": None, "stated_unit": None}) is None


@given(st.lists(st.sampled_from([80.0, 95.0, 98.0, None]), min_size=1, max_size=6))
@settings(max_examples=60)
def test_conflicts_never_merge_and_group_every_printing_relay(lengths):
    relays = [
        {"relay_id": f"R{i}", "stated_length": v, "stated_unit": "km" if v else None}
        for i, v in enumerate(lengths)
    ]
    got = relay_conflicts(relays)
    distinct = {v for v in lengths if v is not None}
    if len(distinct) < 2:
        assert got == []
    else:
        (c,) = got
        assert {v["value"] for v in c["values"]} == {f"{v:g} km" for v in distinct}
        listed = [r for v in c["values"] for r in v["relays"]] + c["silent"]
        assert sorted(listed) == sorted(r["relay_id"] for r in relays)


def test_label():
    p = {"count": 24, "count_qualifier": "more_than", "claimed_by": "ASIAPRESS"}
    assert claim_label(p) == ">24 · ASIAPRESS"


# -- areas on the bundled river ------------------------------------------------------------


def test_counties_resolve_to_their_riverfront(ws):
    a = resolve_area(
        ws,
        {
            "kind": "counties",
            "counties": ["Kim Hyong Jik", "Kimjongsuk", "Samsu", "Hyesan", "Pochon"],
        },
    )
    assert (a["from_km"], a["to_km"]) == (0.0, 238.7)


def test_unknown_county_or_place_lists_the_candidates(ws):
    with pytest.raises(ValidationError) as exc:
        resolve_area(ws, {"kind": "counties", "counties": ["Atlantis"]})
    assert "Atlantis" in str(exc.value) and "Kimjongsuk" in str(exc.value)
    with pytest.raises(ValidationError, match="Hyesan"):
        resolve_area(ws, {"kind": "between", "between": ["Hyesan", "Nowhere"]})


def test_between_gives_every_town_county_reading(ws):
    rs = readings(ws, {"kind": "between", "between": ["Hyesan", "county:Kimjongsuk"]})
    assert (rs[0].from_km, rs[0].to_km) == (94.5, 206.82)
    assert {(r.from_km, r.to_km) for r in rs[1:]} == {
        (125.738, 206.82),
        (125.738, 221.9),
        (94.5, 221.9),
    }
    rs = readings(ws, {"kind": "between", "between": ["Hyesan", "Kimjongsuk"]})
    spans = {(r.from_km, r.to_km) for r in rs}
    assert spans == {(125.738, 206.82), (94.5, 206.82), (125.738, 221.9), (94.5, 221.9)}
    assert rs[0].as_resolved and not any(r.as_resolved for r in rs[1:])


def test_counties_that_skip_one_say_so(ws):
    (r,) = readings(ws, {"kind": "counties", "counties": ["Kimjongsuk", "Hyesan"]})
    assert (r.from_km, r.to_km) == (94.5, 221.9) and "Samsu, not named" in r.label


def test_chainage_off_the_line_is_refused(ws):
    with pytest.raises(ValidationError, match="not a window of the line"):
        resolve_area(ws, {"kind": "chainage", "from_km": 200, "to_km": 400})


# -- storage -----------------------------------------------------------------------------


def test_add_stores_a_linestring_along_the_window(ws):
    cid = add_claim(ws, CLAIM, RELAY)
    (f,) = ws.read_claims()
    assert cid == f["id"] == "C1"
    assert f["geometry"]["type"] == "LineString" and len(f["geometry"]["coordinates"]) > 10
    p = f["properties"]
    assert p["area"]["from_km"] == 207.1 and p["relays"][0]["relay_id"] == "C1-R1"
    assert [e.op for e in ws.claims.history()] == ["add"]
    assert validate_claims(ws) == []


def test_a_claim_without_relay_writes_nothing(ws):
    before = files(ws)
    with pytest.raises(ValidationError, match="at least one relay"):
        import_claims(ws, [(None, CLAIM, [])])
    assert files(ws) == before


def test_a_relay_for_a_missing_claim_names_the_ids(ws):
    add_claim(ws, CLAIM, RELAY)
    with pytest.raises(NotFoundError, match=r"C9.*C1"):
        add_relay(ws, "C9", RELAY)


def test_bad_rows_list_every_problem_and_write_nothing(ws):
    before = files(ws)
    bad = [
        (None, {**CLAIM, "count": "x"}, [RELAY]),
        (None, {**CLAIM, "area": {"kind": "counties", "counties": ["Nowhere"]}}, [RELAY]),
        (None, CLAIM, [{"publisher": "No URL"}]),
    ]
    with pytest.raises(ValidationError) as exc:
        import_claims(ws, bad, rows=["row 2", "row 3", "row 4"])
    rows = {p.row.split(" relay")[0] for p in exc.value.problems}
    assert rows == {"row 2", "row 3", "row 4"}
    assert files(ws) == before


def test_record_c1_relays_conflict_on_length_and_are_all_kept(ws):
    assert record_claims(ws) == ["C1", "C2", "C3"]
    c1 = next(f for f in ws.read_claims() if f["id"] == "C1")["properties"]
    assert len(c1["relays"]) == 5
    (conflict,) = c1["conflicts"]
    assert conflict["field"] == "stated_length"
    values = {v["value"]: v["relays"] for v in conflict["values"]}
    assert values == {
        "95 km": ["C1-SBS", "C1-NEWS1G", "C1-NEWS1TV"],
        "98 km": ["C1-JOONGANG"],
    }
    assert conflict["silent"] == ["C1-CATCHUP24"]
    assert {r["stated_length"] for r in c1["relays"]} == {95.0, 59.0, 98.0, None}
    assert claim_label(c1) == "≥32 · NK Pro (NK News) · 2025-12-09"
    c2 = next(f for f in ws.read_claims() if f["id"] == "C2")["properties"]
    assert [c["field"] for c in c2["conflicts"]] == ["count_qualifier"]


def test_record_csv_rows_group_by_claim():
    with RECORD.open(newline="", encoding="utf-8") as fh:
        n = sum(1 for _ in csv.DictReader(fh))
    table = read_table(RECORD)
    recs, _ = claim_rows_to_records(table.records, table.rows)
    assert [c for c, _, _ in recs] == ["C1", "C2", "C3"]
    assert sum(len(r) for _, _, r in recs) == n == 9


def test_duplicate_claim_id_is_refused(ws):
    add_claim(ws, CLAIM, RELAY, claim_id="C1")
    with pytest.raises(ValidationError, match="exists already"):
        add_claim(ws, CLAIM, RELAY, claim_id="C1")


def test_add_relay_edit_retire_undo_roundtrip(ws):
    add_claim(ws, CLAIM, RELAY)
    rid = add_relay(
        ws, "C1", {**RELAY, "publisher": "Other", "stated_length": 35, "stated_unit": "km"}
    )
    assert rid == "C1-R2"
    f = ws.read_claims()[0]["properties"]
    assert [c["field"] for c in f["conflicts"]] == ["stated_length"]
    edit_claim(ws, "C1", {"area": {"kind": "chainage", "from_km": 200, "to_km": 230}})
    assert ws.read_claims()[0]["properties"]["area"]["to_km"] == 230.0
    edit_claim(ws, "C1", {"quote": "as printed"}, relay_id="C1-R2")
    assert ws.read_claims()[0]["properties"]["relays"][1]["quote"] == "as printed"
    with pytest.raises(ValidationError, match="cannot be edited"):
        edit_claim(ws, "C1", {"relays": []})
    retire_claim(ws, "C1", reason="test")
    assert ws.read_claims() == [] and ws.read_claims(include_retired=True)
    with pytest.raises(DataError, match="retired"):
        edit_claim(ws, "C1", {"count": 6})
    undo_claims(ws)
    assert ws.read_claims()[0]["properties"]["retired"] is False
    assert [e.op for e in ws.claims.history()] == [
        "add",
        "add-relay",
        "edit",
        "edit",
        "retire",
        "undo",
    ]
    assert validate_claims(ws) == []


def test_claims_keep_their_own_history(ws):
    add_claim(ws, CLAIM, RELAY)
    assert not ws.crossings.history_path.exists() or all(
        e.layer == "crossings" for e in ws.crossings.history()
    )
    assert ws.claims.history_path.name == "claims-history.jsonl"


def test_a_hand_edit_is_reported_by_validate(ws):
    add_claim(ws, CLAIM, RELAY)
    data = ws.claims.path.read_bytes().replace(b'"count":5', b'"count":6', 1)
    ws.claims.path.write_bytes(data)
    assert any("differs from the replay" in p.message for p in validate_claims(ws))


@pytest.mark.parametrize(
    ("rec", "words"),
    [
        ({**RELAY, "published": "1800-01-01"}, "before 1900-01-01"),
        ({**RELAY, "published": "2099-01"}, "after today"),
        ({**RELAY, "language": "English!"}, "language code"),
    ],
)
def test_relay_dates_and_codes_are_bounded(rec, words):
    with pytest.raises(ValidationError, match=words):
        normalize_relay(rec)


def test_an_edit_to_an_unknown_place_lists_the_candidates_and_writes_nothing(ws):
    add_claim(ws, CLAIM, RELAY)
    before = files(ws)
    with pytest.raises(ValidationError) as exc:
        edit_claim(ws, "C1", {"area": {"kind": "between", "between": ["Hyesan", "Atlantis"]}})
    assert "Atlantis" in str(exc.value) and "Kimjongsuk-up" in str(exc.value)
    assert files(ws) == before
