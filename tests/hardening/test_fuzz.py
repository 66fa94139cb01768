"""Property-based fuzzing of every importer and of the record schema (hypothesis).

Any input either round-trips exactly (what goes in is what the layer or table holds) or is
refused with a :class:`~geotrack.errors.GeotrackError` subclass, never another exception.
Importers: crossings from CSV, KML, KMZ and GeoJSON (``geotrack.importers``), the trade table
from CSV (``geotrack.trade``); schema: ``normalize_report``, ``normalize_site``, and
``edit_crossing`` / ``add_report`` on a stored crossing.  The GeoJSON round trip itself is in
``tests/test_records.py``; here GeoJSON gets arbitrary structures.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import os
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotrack.errors import GeotrackError, ImportFileError, ValidationError
from geotrack.importers import read_candidates, read_crossings
from geotrack.records import add_crossing, add_report, build_features, edit_crossing
from geotrack.schema import (
    KINDS,
    REPORT_FIELDS,
    SITE_FIELDS,
    SOURCE_TYPES,
    normalize_report,
    normalize_site,
)
from geotrack.workspace import init_workspace
from hardening._run import FIGURES
from hardening.payloads import PAYLOADS, XML_INVALID

#: Examples per property; GEOTRACK_FUZZ_SCALE=20 runs twenty times as many (for a long hunt).
SCALE = int(os.environ.get("GEOTRACK_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=60 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30) | (
    st.sampled_from([v for k, v in PAYLOADS.items() if k != "long_50k"])
)
JSON_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON = st.recursive(
    JSON_SCALAR,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=12,
)
_counter = itertools.count()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return init_workspace(tmp_path_factory.mktemp("fuzz") / "ws")


def _texts_of(rec: dict) -> dict:
    return {k: rec[k] for k in ("name", "source_name", "notes") if rec.get(k) is not None}


def _stored(ws, fid: str) -> dict:
    feat = next(f for f in ws.read_crossings(include_retired=True) if f["id"] == fid)
    p = feat["properties"]
    r = p["reports"][0]
    return {"name": p["name"], "source_name": r["source_name"], "notes": r["notes"]}


def _read(data: bytes, fmt: str | None):
    """The whole import pipeline before validation: read, map columns, apply the id policy."""
    prep = read_crossings(io.BytesIO(data), fmt=fmt)
    if prep.problems:
        raise ValidationError(prep.problems)
    return prep


def _import(ws, data: bytes, fmt: str, expected: dict) -> None:
    """Import *data*; on success the stored texts must equal *expected*."""
    FIGURES["fuzz: inputs tried"] += 1
    try:
        cands = _read(data, fmt)
        feats = build_features(cands.records, ws=ws, max_border_km=None, rows=cands.rows)
    except GeotrackError:
        FIGURES["fuzz: inputs refused with a GeotrackError"] += 1
        return
    assert len(feats) == 1
    from geotrack.records import import_crossings

    (fid,) = import_crossings(ws, cands.records, max_border_km=None)
    got = _stored(ws, fid)
    assert {k: got[k] for k in expected} == expected
    FIGURES["fuzz: inputs round-tripped exactly"] += 1


@st.composite
def records(draw):
    rec = {"kind": draw(st.sampled_from(sorted(KINDS))), "source_name": draw(TEXT)}
    for key in ("name", "notes"):
        if draw(st.booleans()):
            rec[key] = draw(TEXT)
    rec["source_type"] = draw(st.sampled_from(sorted(SOURCE_TYPES)))
    return rec


def _point(ws) -> tuple[float, float]:
    p = ws.stretch.line_wgs84.interpolate((next(_counter) % 97) / 130, normalized=True)
    return round(p.x, 6), round(p.y, 6)


@FUZZ
@given(rec=records(), delimiter=st.sampled_from([",", ";", "\t"]), crlf=st.booleans())
def test_csv_importer_round_trips_or_refuses(ws, rec, delimiter, crlf):
    lon, lat = _point(ws)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    w.writerow(["lon", "lat", *rec])
    w.writerow([lon, lat, *rec.values()])
    data = buf.getvalue().encode("utf-8")
    expected = _texts_of(rec)
    if any("\x00" in v for v in expected.values()):  # a CSV with NUL is refused outright
        with pytest.raises(ImportFileError):
            read_candidates(io.BytesIO(data), fmt="csv")
        return
    _import(ws, data, "csv", expected)


def _kml(rec: dict, lon: float, lat: float) -> bytes:
    token = "GTCR" + str(next(_counter)) + "X"
    root = ET.Element("kml", {"xmlns": "http://www.opengis.net/kml/2.2"})
    pm = ET.SubElement(root, "Placemark")

    def text(v: str) -> str:
        return v.replace("\r", token)

    if "name" in rec:
        ET.SubElement(pm, "name").text = text(rec["name"])
    if "notes" in rec:
        ET.SubElement(pm, "description").text = text(rec["notes"])
    ext = ET.SubElement(pm, "ExtendedData")
    for key in ("kind", "source_name", "source_type"):
        d = ET.SubElement(ext, "Data", {"name": key})
        ET.SubElement(d, "value").text = text(rec[key])
    ET.SubElement(ET.SubElement(pm, "Point"), "coordinates").text = f"{lon},{lat}"
    body = ET.tostring(root, encoding="unicode").replace(token, "&#13;")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


@FUZZ
@given(rec=records(), zipped=st.booleans())
def test_kml_and_kmz_importers_round_trip_or_refuse(ws, rec, zipped):
    lon, lat = _point(ws)
    data = _kml(rec, lon, lat)
    if zipped:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("doc.kml", data)
        data = buf.getvalue()
    expected = _texts_of(rec)
    if any(XML_INVALID.search(v) for v in [*expected.values(), rec["source_type"]]):
        # XML 1.0 cannot hold these characters: the file is not well-formed and is refused
        with pytest.raises(ImportFileError):
            read_candidates(io.BytesIO(data), fmt="kmz" if zipped else "kml")
        return
    _import(ws, data, "kmz" if zipped else "kml", expected)


@FUZZ
@given(props=st.dictionaries(st.sampled_from([*SITE_FIELDS, *REPORT_FIELDS, "x"]), JSON),
       geometry=JSON, top=JSON)  # fmt: skip
def test_geojson_importer_takes_any_structure_or_refuses(ws, props, geometry, top):
    for doc in (
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": geometry,
                                                    "properties": props}]},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [127.27, 41.52]},
         "properties": props, "id": top},
        top,
    ):  # fmt: skip
        FIGURES["fuzz: inputs tried"] += 1
        try:
            cands = _read(orjson.dumps(doc), "geojson")
            build_features(cands.records, ws=ws, max_border_km=None, rows=cands.rows)
        except GeotrackError:
            FIGURES["fuzz: inputs refused with a GeotrackError"] += 1


def _valid_inputs(ws) -> dict[str, bytes]:
    lon, lat = _point(ws)
    rec = {"kind": "ford", "source_name": "Fuzz", "notes": "압록강", "source_type": "media"}
    kml = _kml(rec, lon, lat)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", kml)
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": rec,
          "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}  # fmt: skip
    return {
        "csv": f"lon,lat,kind,source_name\n{lon},{lat},ford,Fuzz\n".encode(),
        "kml": kml,
        "kmz": buf.getvalue(),
        "geojson": orjson.dumps(fc),
    }


@settings(FUZZ, max_examples=150 * SCALE)
@given(
    fmt=st.sampled_from(["csv", "kml", "kmz", "geojson"]),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=6),
    cut=st.none() | st.integers(0, 10**6),
    guess=st.booleans(),
)
def test_damaged_files_are_refused_with_a_geotrack_error(ws, fmt, flips, cut, guess):
    data = bytearray(_valid_inputs(ws)[fmt])
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    FIGURES["fuzz: inputs tried"] += 1
    try:
        cands = _read(bytes(data), None if guess else fmt)
        build_features(cands.records, ws=ws, max_border_km=None, rows=cands.rows)
    except GeotrackError:
        FIGURES["fuzz: inputs refused with a GeotrackError"] += 1


# -- trade table ------------------------------------------------------------------------------

TRADE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20) | st.sampled_from(
    [v for k, v in PAYLOADS.items() if k != "long_50k"]
)


@st.composite
def trade_rows(draw):
    months = draw(
        st.lists(
            st.dates(datetime.date(1990, 1, 1), datetime.date(2040, 12, 1)).map(
                lambda d: d.strftime("%Y-%m")
            ),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return [
        {
            "period": m,
            "total_trade": draw(st.from_regex(r"[1-9][0-9]{0,5}(\.[0-9]{1,3})?", fullmatch=True)),
            "currency": "USD",
            "unit": "million",
            "source": draw(TRADE_TEXT),
            "source_url": draw(TRADE_TEXT),
            "note": draw(TRADE_TEXT),
        }
        for m in months
    ]


@FUZZ
@given(rows=trade_rows())
def test_trade_importer_round_trips_or_refuses(tmp_path_factory, rows):
    from geotrack.trade import import_trade, load_trade

    folder = tmp_path_factory.mktemp("trade")
    src = folder / "in.csv"
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    src.write_bytes(buf.getvalue().encode("utf-8"))
    FIGURES["fuzz: inputs tried"] += 1
    try:
        import_trade(folder, src)
    except GeotrackError:
        FIGURES["fuzz: inputs refused with a GeotrackError"] += 1
        assert not (folder / "trade.csv").exists()
        return
    held = load_trade(folder)
    assert len(held) == len(rows)
    for row, r in zip(rows, held, strict=True):
        assert (r.period, r.total_trade) == (row["period"], Decimal(row["total_trade"]))
        assert r.source == row["source"].strip() and r.source_url == row["source_url"].strip()
        assert r.note == row["note"]
    FIGURES["fuzz: inputs round-tripped exactly"] += 1


@settings(FUZZ, max_examples=100 * SCALE)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".txt", ".xlsx"]))
def test_trade_importer_refuses_any_bytes_with_a_geotrack_error(tmp_path_factory, data, suffix):
    from geotrack.trade import read_import

    src = tmp_path_factory.mktemp("bytes") / f"in{suffix}"
    src.write_bytes(data)
    FIGURES["fuzz: inputs tried"] += 1
    try:
        read_import(src, defaults={"source": "S", "currency": "USD", "unit": "million"})
    except GeotrackError:
        FIGURES["fuzz: inputs refused with a GeotrackError"] += 1


# -- the record schema ----------------------------------------------------------------------------


@settings(FUZZ, max_examples=200 * SCALE)
@given(rec=st.dictionaries(st.sampled_from([*SITE_FIELDS, *REPORT_FIELDS, "precision_m"]), JSON))
def test_schema_normalisers_raise_only_validation_errors(rec):
    for normalise in (normalize_report, normalize_site):
        FIGURES["fuzz: inputs tried"] += 1
        try:
            out = normalise(rec)
        except GeotrackError as exc:
            assert exc.problems
            FIGURES["fuzz: inputs refused with a GeotrackError"] += 1
        else:
            for key, value in out.items():  # texts are kept exactly as given
                if key in ("name", "source_name", "notes", "url", "archive_url"):
                    assert value is None or value == rec.get(key)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("schema") / "ws")
    fid = add_crossing(ws, {"lon": 127.2696, "lat": 41.5195, "kind": "ford", "source_name": "S"})
    return ws, fid


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from(["name", "kind", "status", "lon", "lat", "datum", "synthetic",
                         "uncertainty_m", "location_precision", "retired", "id",
                         *REPORT_FIELDS]),
        JSON | TEXT, min_size=1, max_size=4,
    ),
    report=st.booleans(),
)  # fmt: skip
def test_edits_of_any_value_change_nothing_or_validate(stored, changes, report):
    ws, fid = stored
    before = ws.crossings.path.read_bytes()
    FIGURES["fuzz: inputs tried"] += 1
    try:
        if report:
            add_report(ws, fid, changes)
        else:
            edit_crossing(ws, fid, changes)
    except GeotrackError:
        FIGURES["fuzz: inputs refused with a GeotrackError"] += 1
        assert ws.crossings.path.read_bytes() == before
