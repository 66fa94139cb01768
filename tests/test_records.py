"""Recording crossings through the library: add, import, edit, report, retire, undo, validate."""

from __future__ import annotations

import datetime
import io
import math
import subprocess
import sys
import textwrap

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotrack.crs import gcj02_to_bd09, to_wgs84, wgs84_to_gcj02
from geotrack.errors import DataError, GeotrackError, NotFoundError, Problem, ValidationError
from geotrack.geojson import dumps_collection
from geotrack.importers import read_crossings
from geotrack.records import (
    add_crossing,
    add_report,
    build_features,
    edit_crossing,
    import_crossings,
    retire_crossing,
    undo,
    validate_workspace,
)
from geotrack.schema import (
    CREDIBILITY,
    DATE_PRECISIONS,
    DATUMS,
    KINDS,
    PRECISIONS,
    RELIABILITY,
    REPORT_FIELDS,
    SITE_FIELDS,
    SOURCE_TYPES,
    STATUSES,
    VERIFICATIONS,
    parse_date,
)
from geotrack.workspace import Workspace, init_workspace

FAR = (127.2696, 41.65)  # about 10 km from the border line, inside China
HOSTILE = (
    "</script><img src=x onerror=alert(1)>${7*7}`id`'\"\\\u202eevil\x00\x07\r\n 🚣 압록강 \ud7ff"
)


def files(ws: Workspace) -> tuple[bytes, bytes]:
    """The crossings layer and its history, byte for byte."""
    hist = ws.crossings.history_path
    return ws.crossings.path.read_bytes(), hist.read_bytes() if hist.exists() else b""


def one(ws: Workspace, fid: str) -> dict:
    return next(f for f in ws.read_crossings(include_retired=True) if f["id"] == fid)


def assert_named(problem: Problem, field: str, value_text: str, fix: str) -> None:
    text = str(problem)
    assert problem.field == field, problem
    assert value_text in text and fix in text, text


# -- add --------------------------------------------------------------------------


def test_add_stores_a_complete_site_with_its_report(ws, record):
    fid = add_crossing(ws, {**record, "url": "https://example.org/a", "notes": "n"})
    assert fid == "YLU-0001"
    f = one(ws, fid)
    assert f["type"] == "Feature" and f["id"] == fid
    assert f["geometry"] == {"type": "Point", "coordinates": [127.2696, 41.5195]}
    p = f["properties"]
    assert list(p) == list(SITE_FIELDS)
    assert (p["kind"], p["status"], p["datum"], p["synthetic"], p["retired"]) == (
        "pontoon",
        "active",
        "wgs84",
        False,
        False,
    )
    assert (p["original_lon"], p["original_lat"]) == (127.2696, 41.5195)
    assert p["created_at"] == p["updated_at"] and p["created_at"].endswith("Z")
    assert (p["first_reported"], p["last_reported"]) == ("2025-12-16", "2025-12-16")
    assert (p["first_seen"], p["last_seen"]) == ("2025-10-01", "2025-11-30")
    (r,) = p["reports"]
    assert list(r) == list(REPORT_FIELDS)
    assert (r["report_id"], r["reliability"], r["credibility"]) == ("R1", "B", 3)
    assert (r["date_precision"], r["url"], r["notes"]) == ("month", "https://example.org/a", "n")
    assert add_crossing(ws, record) == "YLU-0002"


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_chinese_datum_is_converted_and_the_original_kept(ws, record, datum):
    wgs = (128.1778, 41.4017)  # near Hyesan
    given_ = wgs84_to_gcj02(*wgs)
    if datum == "bd09":
        given_ = gcj02_to_bd09(*given_)
    fid = add_crossing(ws, {**record, "lon": given_[0], "lat": given_[1], "datum": datum})
    f = one(ws, fid)
    p = f["properties"]
    assert p["datum"] == datum
    assert (p["original_lon"], p["original_lat"]) == given_  # exactly as reported
    lon, lat = f["geometry"]["coordinates"]
    assert lon == pytest.approx(wgs[0], abs=2e-7) and lat == pytest.approx(wgs[1], abs=2e-7)
    assert abs(given_[0] - lon) > 0.004  # the shift is hundreds of metres, not rounding


def test_far_point_refused_unless_forced(ws, record):
    before = files(ws)
    with pytest.raises(ValidationError) as err:
        add_crossing(ws, {**record, "lon": FAR[0], "lat": FAR[1]})
    (p,) = err.value.problems
    assert_named(p, "lon/lat", "127.269600,41.650000", "pass --force-far")
    assert "km from the China–DPRK border (limit 5 km)" in p.message
    assert files(ws) == before
    assert add_crossing(ws, {**record, "lon": FAR[0], "lat": FAR[1]}, max_border_km=None)
    with pytest.raises(ValidationError):
        add_crossing(ws, {**record, "lon": 127.2696, "lat": 41.60}, max_border_km=5.0)
    assert add_crossing(ws, {**record, "lon": 127.2696, "lat": 41.60}, max_border_km=10.0)


BAD_INPUTS = [
    # (change to the record, field, text of the value, fix)
    ({"lat": 95.0}, "lat", "95.0", "within [-90, 90]"),
    ({"lat": -91}, "lat", "-91", "within [-90, 90]"),
    ({"lon": 181.5}, "lon", "181.5", "within [-180, 180]"),
    ({"lon": float("nan")}, "lon", "nan", "not NaN"),
    ({"lat": "NaN"}, "lat", "'NaN'", "not NaN"),
    ({"lon": None}, "lon", "lon: is missing", "is missing: give decimal degrees"),
    ({"lat": ""}, "lat", "''", "is missing"),
    ({"lon": 41.5195, "lat": 127.2696}, "lat", "127.2696", "looks swapped"),
    ({"kind": "bridge"}, "kind", "'bridge'", "use one of temporary_bridge"),
    ({"status": "gone"}, "status", "'gone'", "use one of active"),
    ({"datum": "tokyo"}, "datum", "'tokyo'", "use one of wgs84, gcj02, bd09"),
    ({"reliability": "G"}, "reliability", "'G'", "use one of A, B, C, D, E, F"),
    ({"credibility": 7}, "credibility", "7", "use one of 1, 2, 3, 4, 5, 6"),
    ({"location_precision": "close"}, "location_precision", "'close'", "use one of exact"),
    ({"verification": "sure"}, "verification", "'sure'", "use one of unverified"),
    ({"source_type": "blog"}, "source_type", "'blog'", "use one of satellite_imagery"),
    (
        {"event_start": "2025-11-20", "event_end": "2025-11-02"},
        "event_end",
        "'2025-11-02'",
        "is before event_start 2025-11-20: swap them",
    ),
    ({"reported": "2025-02-30"}, "reported", "'2025-02-30'", "for example 2025-11-30"),
    ({"event_start": "last week"}, "event_start", "'last week'", "YYYY-MM-DD"),
    ({"accessed": "12/16/2025"}, "accessed", "'12/16/2025'", "YYYY-MM-DD"),
    ({"source_name": None}, "source_name", "source_name: is required", "is required"),
    ({"uncertainty_m": -5}, "uncertainty_m", "-5", "within [0, 100000]"),
    ({"colour": "red"}, "colour", "'red'", "rename or drop it"),
    ({"id": "YLU-1"}, "id", "'YLU-1'", "must look like YLU-0001"),
]


@pytest.mark.parametrize(("change", "field", "value_text", "fix"), BAD_INPUTS)
def test_bad_input_is_named_and_leaves_the_layer_untouched(
    ws, record, change, field, value_text, fix
):
    add_crossing(ws, record)
    before = files(ws)
    with pytest.raises(ValidationError) as err:
        add_crossing(ws, {**record, **change})
    hits = [p for p in err.value.problems if p.field == field]
    assert len(hits) == 1, err.value.problems
    assert_named(hits[0], field, value_text, fix)
    assert "nothing was written" in str(err.value)
    assert files(ws) == before


def test_import_is_all_or_nothing_listing_every_problem_by_row(ws, record):
    add_crossing(ws, record)
    before = files(ws)
    rows = [
        record,
        {**record, "kind": "zeppelin"},
        record,
        {**record, "lat": 95, "reliability": "Q"},
    ]
    labels = ["row 2", "row 3", "row 4", "row 5"]
    with pytest.raises(ValidationError) as err:
        import_crossings(ws, rows, rows=labels)
    assert [(p.row, p.field) for p in err.value.problems] == [
        ("row 3", "kind"),
        ("row 5", "lat"),
        ("row 5 report 1", "reliability"),
    ]
    assert str(err.value).startswith("3 problem(s); nothing was written:")
    assert files(ws) == before
    with pytest.raises(DataError, match="no crossings to import"):
        import_crossings(ws, [])


def test_duplicate_ids_on_import(ws, record):
    import_crossings(ws, [{**record, "id": "YLU-0007"}])
    before = files(ws)
    with pytest.raises(ValidationError) as err:
        import_crossings(
            ws,
            [
                {**record, "id": "YLU-0007"},
                {**record, "id": "YLU-0009"},
                {**record, "id": "YLU-0009"},
            ],
        )
    probs = err.value.problems
    assert [(p.field, p.value, p.row) for p in probs] == [
        ("id", "YLU-0007", "record 1"),
        ("id", "YLU-0009", "record 3"),
    ]
    assert "a crossing with this id exists already" in probs[0].message
    assert "also in record 2" in probs[1].message
    assert files(ws) == before
    # new ids continue after the highest one given
    assert add_crossing(ws, record) == "YLU-0008"


def test_import_is_one_history_entry(ws, record):
    ids = import_crossings(ws, [record] * 5, reason="batch from a spreadsheet")
    assert ids == [f"YLU-{i:04d}" for i in range(1, 6)]
    (entry,) = ws.crossings.history()
    assert (entry.op, entry.reason, len(entry.changes)) == ("import", "batch from a spreadsheet", 5)


def test_hostile_text_is_stored_exactly(ws, record):
    fid = add_crossing(ws, {**record, "name": HOSTILE, "notes": HOSTILE, "source_name": HOSTILE})
    p = one(ws, fid)["properties"]
    assert p["name"] == HOSTILE
    assert p["reports"][0]["notes"] == HOSTILE and p["reports"][0]["source_name"] == HOSTILE
    assert b"\n" not in ws.crossings.path.read_bytes().split(b"\n")[1]


# -- edit, reports, retire, undo ---------------------------------------------------


def test_edit_site_fields_and_location(ws, record):
    fid = add_crossing(ws, record)
    created = one(ws, fid)["properties"]["created_at"]
    edit_crossing(
        ws,
        fid,
        {"kind": "ford", "status": "destroyed", "uncertainty_m": "250"},
        reason="imagery 2026-01-03",
    )
    p = one(ws, fid)["properties"]
    assert (p["kind"], p["status"], p["uncertainty_m"]) == ("ford", "destroyed", 250.0)
    assert p["created_at"] == created and p["updated_at"] >= created
    gcj = wgs84_to_gcj02(128.1778, 41.4017)
    f = edit_crossing(ws, fid, {"lon": gcj[0], "lat": gcj[1], "datum": "gcj02"})
    assert (f["properties"]["original_lon"], f["properties"]["datum"]) == (gcj[0], "gcj02")
    assert f["geometry"]["coordinates"][0] == pytest.approx(128.1778, abs=2e-7)
    # one coordinate changed: the other keeps the datum it was reported in
    f = edit_crossing(ws, fid, {"lat": gcj[1] + 0.001})
    assert f["properties"]["datum"] == "gcj02"
    assert f["geometry"]["coordinates"][1] == pytest.approx(
        to_wgs84(gcj[0], gcj[1] + 0.001, "gcj02")[1], abs=1e-7
    )
    entry = list(ws.crossings.history(fid))[1]
    assert entry.reason == "imagery 2026-01-03"
    assert entry.changes[0].before["properties"]["kind"] == "pontoon"
    assert entry.changes[0].after["properties"]["kind"] == "ford"


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"kind": "zeppelin"}, "kind", "use one of"),
        ({"lat": 95}, "lat", "within [-90, 90]"),
        ({"lon": FAR[0], "lat": FAR[1]}, "lon/lat", "--force-far"),
        ({"datum": "gcj02"}, "datum", "give it with --lon and --lat"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at", "cannot be edited"),
        ({"uncertainty_m": "far"}, "uncertainty_m", "must be a number"),
    ],
)
def test_bad_edit_changes_nothing(ws, record, changes, field, fix):
    fid = add_crossing(ws, record)
    before = files(ws)
    with pytest.raises(ValidationError) as err:
        edit_crossing(ws, fid, changes)
    assert any(p.field == field and fix in p.message for p in err.value.problems), err.value
    assert str(err.value).startswith("nothing was changed:")
    assert files(ws) == before


def test_edit_unknown_id_or_report(ws, record):
    fid = add_crossing(ws, record)
    before = files(ws)
    with pytest.raises(
        NotFoundError, match="id='YLU-0099': no such crossing; `geotrack crossings list`"
    ):
        edit_crossing(ws, "YLU-0099", {"kind": "ford"})
    with pytest.raises(NotFoundError, match="report='R7': crossing YLU-0001 has reports R1"):
        edit_crossing(ws, fid, {"notes": "x"}, report_id="R7")
    with pytest.raises(DataError, match="nothing to change"):
        edit_crossing(ws, fid, {})
    with pytest.raises(NotFoundError):
        add_report(ws, "YLU-0099", {"source_name": "x"})
    with pytest.raises(NotFoundError):
        retire_crossing(ws, "YLU-0099", reason="x")
    assert files(ws) == before


def test_add_and_edit_reports(ws, record):
    fid = add_crossing(ws, record)
    rid = add_report(
        ws,
        fid,
        {
            "source_name": "Daily NK",
            "reported": "2026-01-05",
            "event_start": "2025-12-28",
            "reliability": "C",
            "credibility": "2",
        },
    )
    assert rid == "R2"
    p = one(ws, fid)["properties"]
    assert [r["report_id"] for r in p["reports"]] == ["R1", "R2"]
    assert (p["first_reported"], p["last_reported"], p["last_seen"]) == (
        "2025-12-16",
        "2026-01-05",
        "2025-12-28",
    )
    edit_crossing(ws, fid, {"verification": "verified", "notes": HOSTILE}, report_id="R1")
    r1 = one(ws, fid)["properties"]["reports"][0]
    assert (r1["verification"], r1["notes"], r1["source_name"]) == (
        "verified",
        HOSTILE,
        record["source_name"],
    )
    before = files(ws)
    with pytest.raises(ValidationError):
        add_report(ws, fid, {"source_name": "x", "reliability": "Z"})
    with pytest.raises(ValidationError):
        edit_crossing(ws, fid, {"event_end": "2025-01-01"}, report_id="R1")
    assert files(ws) == before


def test_retire_keeps_a_tombstone(ws, record):
    fid = add_crossing(ws, record)
    add_crossing(ws, record)
    before = files(ws)
    with pytest.raises(DataError, match="say why"):
        retire_crossing(ws, fid, reason="  ")
    assert files(ws) == before
    retire_crossing(ws, fid, reason="duplicate of YLU-0002")
    assert [f["id"] for f in ws.read_crossings()] == ["YLU-0002"]
    p = one(ws, fid)["properties"]
    assert (p["retired"], p["retired_reason"]) == (True, "duplicate of YLU-0002")
    assert p["retired_at"].endswith("Z") and p["reports"]  # nothing deleted
    with pytest.raises(DataError, match="already retired"):
        retire_crossing(ws, fid, reason="again")
    with pytest.raises(DataError, match=r"is retired .* cannot be edited"):
        edit_crossing(ws, fid, {"kind": "ford"})
    assert [e.op for e in ws.crossings.history(fid)] == ["add", "retire"]


def test_undo_of_add_edit_and_retire(ws, record, monkeypatch):
    monkeypatch.setenv("GEOTRACK_USER", "reviewer")
    fid = add_crossing(ws, record)
    after_add = files(ws)[0]
    edit_crossing(ws, fid, {"status": "destroyed"})
    retire_crossing(ws, fid, reason="false report")
    e = undo(ws)
    assert (e.op, e.undoes, e.user) == ("undo", 3, "reviewer")
    assert one(ws, fid)["properties"]["retired"] is False
    assert one(ws, fid)["properties"]["status"] == "destroyed"
    undo(ws)
    assert one(ws, fid)["properties"]["status"] == "active"
    assert files(ws)[0].split(b"\n")[1:] == after_add.split(b"\n")[1:]
    undo(ws)
    assert ws.read_crossings(include_retired=True) == []
    with pytest.raises(NotFoundError, match="no change left to undo"):
        undo(ws)
    assert [e.op for e in ws.crossings.history()] == [
        "add",
        "edit",
        "retire",
        "undo",
        "undo",
        "undo",
    ]
    assert validate_workspace(ws) == []


# -- validate ------------------------------------------------------------------------


def test_validate_healthy_and_broken(ws, record):
    assert validate_workspace(ws) == []
    add_crossing(ws, record)
    assert validate_workspace(ws) == []
    # a hand edit that bypasses geotrack: the layer no longer equals its history
    path = ws.crossings.path
    path.write_bytes(path.read_bytes().replace(b'"kind":"pontoon"', b'"kind":"zeppelin"'))
    probs = validate_workspace(ws)
    fields = {p.field for p in probs}
    assert {"kind", "history"} <= fields
    hist = next(p for p in probs if p.field == "history")
    assert hist.value == "YLU-0001" and "record the edit with geotrack commands" in hist.message


def test_validate_reports_broken_reference_layers(ws):
    (ws.path / "stretch.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    ws2 = Workspace.open(ws.path)
    probs = validate_workspace(ws2)
    assert any(p.field == "stretch" and "exactly one LineString" in p.message for p in probs)


# -- round trips (hypothesis) ----------------------------------------------------------


@pytest.fixture(scope="module")
def two_workspaces(tmp_path_factory):
    base = tmp_path_factory.mktemp("roundtrip")
    return init_workspace(base / "a"), init_workspace(base / "b")


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
_maybe_text = st.none() | _text
_day = st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2025, 12, 31))


@st.composite
def crossing_records(draw):
    frac = draw(st.floats(0, 1))
    start = draw(st.none() | _day)
    end = draw(st.none() | _day)
    if start and end and end < start:
        start, end = end, start
    fmt = draw(st.sampled_from(["%Y-%m-%d", "%Y-%m", "%Y"]))
    return {
        "frac": frac,
        "datum": draw(st.sampled_from(sorted(DATUMS))),
        "name": draw(_maybe_text),
        "kind": draw(st.sampled_from(sorted(KINDS))),
        "status": draw(st.sampled_from(sorted(STATUSES))),
        "location_precision": draw(st.sampled_from(sorted(PRECISIONS))),
        "uncertainty_m": draw(st.none() | st.floats(0, 100_000)),
        "synthetic": draw(st.booleans()),
        "source_name": draw(_text),
        "source_type": draw(st.sampled_from(sorted(SOURCE_TYPES))),
        "url": draw(
            st.none() | st.from_regex(r"https://[a-z]{1,10}\.org/[!-~]{0,20}", fullmatch=True)
        ),
        "sha256": draw(st.none() | st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
        "reported": draw(st.none() | _day.map(str)),
        "event_start": start.strftime(fmt) if start else None,
        "event_end": end.strftime(fmt) if end else None,
        "date_precision": draw(st.none() | st.sampled_from(sorted(DATE_PRECISIONS))),
        "reliability": draw(st.sampled_from(sorted(RELIABILITY))),
        "credibility": draw(st.sampled_from(sorted(CREDIBILITY))),
        "verification": draw(st.sampled_from(sorted(VERIFICATIONS))),
        "notes": draw(_maybe_text),
    }


def _expected_props(rec: dict) -> dict:
    site_keys = ["name", "kind", "status", "location_precision", "datum", "synthetic"]
    out = {k: rec[k] for k in site_keys}
    if rec["uncertainty_m"] is not None:
        out["uncertainty_m"] = rec["uncertainty_m"]
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rec=crossing_records())
def test_records_round_trip_exactly_through_the_store_and_geojson(two_workspaces, rec):
    ws_a, ws_b = two_workspaces
    point = ws_a.stretch.line_wgs84.interpolate(rec["frac"], normalized=True)
    given_ = {k: v for k, v in rec.items() if k != "frac" and v is not None}
    given_["lon"], given_["lat"] = point.x, point.y
    fid = add_crossing(ws_a, given_, max_border_km=None)
    f = one(ws_a, fid)
    p = f["properties"]
    for key, value in _expected_props(rec).items():
        assert p[key] == value, key
    assert (p["original_lon"], p["original_lat"]) == (point.x, point.y)
    lon, lat = to_wgs84(point.x, point.y, rec["datum"])
    assert f["geometry"]["coordinates"] == [round(lon, 7), round(lat, 7)]
    (r,) = p["reports"]
    for key in (
        "source_name",
        "source_type",
        "url",
        "sha256",
        "reported",
        "reliability",
        "credibility",
        "verification",
        "notes",
    ):
        assert r[key] == rec[key], key
    if rec["event_start"]:
        assert r["event_start"] == parse_date(rec["event_start"])[0]
    if rec["event_end"]:
        assert r["event_end"] == parse_date(rec["event_end"], end=True)[0]
    if rec["date_precision"]:
        assert r["date_precision"] == rec["date_precision"]
    # out as GeoJSON, into another workspace: the same record (new id and timestamps)
    data = dumps_collection([f], name="crossings")
    prep = read_crossings(io.BytesIO(data), fmt="geojson")
    assert not prep.problems
    prep.records[0].pop("id")
    (fid_b,) = import_crossings(ws_b, prep.records, max_border_km=None)
    g = one(ws_b, fid_b)
    volatile = {"id", "created_at", "updated_at"}
    assert g["geometry"] == f["geometry"]
    assert {k: v for k, v in g["properties"].items() if k not in volatile} == {
        k: v for k, v in p.items() if k not in volatile
    }


@settings(max_examples=200, deadline=None)
@given(
    recs=st.lists(
        st.dictionaries(
            st.sampled_from([*SITE_FIELDS, *REPORT_FIELDS, "lon", "lat", "precision_m", "zz"]),
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats()
            | st.text(max_size=12)
            | st.lists(st.text(max_size=3), max_size=2)
            | st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
            max_size=10,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_building_features_from_arbitrary_input_raises_only_geotrack_errors(recs):
    try:
        feats = build_features(recs, ws=None, max_border_km=None)  # type: ignore[arg-type]
    except GeotrackError as exc:
        assert isinstance(exc, ValidationError) and exc.problems
    else:
        for f in feats:
            lon, lat = f["geometry"]["coordinates"]
            assert math.isfinite(lon) and math.isfinite(lat)


# -- processes at once -------------------------------------------------------------------

_WORKER = textwrap.dedent(
    """
    import sys
    from geotrack.records import add_crossing
    from geotrack.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    worker = int(sys.argv[2])
    for i in range(10):
        add_crossing(ws, {"lon": 127.2696 + worker / 1000, "lat": 41.5195, "kind": "ford",
                          "source_name": f"worker {worker} add {i}", "synthetic": True},
                     user=f"worker-{worker}")
    """
)


def test_processes_adding_at_once_lose_nothing(ws):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(ws.path), str(w)], stderr=subprocess.PIPE
        )
        for w in range(6)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    feats = ws.read_crossings()
    ids = [f["id"] for f in feats]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert ids == [f"YLU-{i:04d}" for i in range(1, 61)]
    sources = {f["properties"]["reports"][0]["source_name"] for f in feats}
    assert sources == {f"worker {w} add {i}" for w in range(6) for i in range(10)}
    history = list(ws.crossings.history())
    assert len(history) == 60 and [e.seq for e in history] == list(range(1, 61))
    assert {e.user for e in history} == {f"worker-{w}" for w in range(6)}
    assert ws.crossings.replay() == {f["id"]: f for f in feats}
    assert validate_workspace(ws) == []
    layer = orjson.loads(ws.crossings.path.read_bytes())
    assert layer["geotrack"]["seq"] == 60
    assert layer["geotrack"]["history_bytes"] == ws.crossings.history_path.stat().st_size


def test_layer_opens_in_gdal_as_qgis_would(ws, record):
    """QGIS reads the layer through GDAL's GeoJSON driver: points in EPSG:4326, one per site."""
    pyogrio = pytest.importorskip("pyogrio")
    no_nul = HOSTILE.replace("\x00", "")  # GDAL strings are C strings
    add_crossing(ws, {**record, "notes": no_nul, "name": no_nul})
    add_crossing(ws, {**record, "kind": "ford"})
    info = pyogrio.read_info(ws.crossings.path)
    assert (info["features"], info["geometry_type"], info["crs"]) == (2, "Point", "EPSG:4326")
    assert {"id", "kind", "status", "reports", "first_reported"} <= set(info["fields"])
    df = pyogrio.read_dataframe(ws.crossings.path)
    assert list(df["id"]) == ["YLU-0001", "YLU-0002"] and list(df["kind"]) == ["pontoon", "ford"]
    assert df["name"][0] == no_nul
    reports = df["reports"][0]  # a JSON field: parsed by recent pyogrio, text by older ones
    reports = orjson.loads(reports) if isinstance(reports, str) else reports
    assert reports[0]["notes"] == no_nul
