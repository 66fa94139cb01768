"""Geometry and time as real files write them (issue 12, item 5)."""

from __future__ import annotations

import io
import json

import pytest

from geotrack.errors import ImportFileError
from geotrack.importers import read_candidates, read_crossings
from geotrack.importers.values import parse_coordinate, parse_when

KML_NS = "http://www.opengis.net/kml/2.2"
A = (127.2696, 41.5195)


def kml(body: str) -> bytes:
    return f'<kml xmlns="{KML_NS}"><Document>{body}</Document></kml>'.encode()


def read(data: bytes, fmt: str | None = None, **kw):
    return read_crossings(io.BytesIO(data), fmt=fmt, **kw)


# -- GeoJSON -----------------------------------------------------------------------------------


def test_bare_point_and_one_point_multipoint():
    point = {"type": "Point", "coordinates": list(A)}
    prep = read(json.dumps(point).encode(), "geojson")
    assert [(r["lon"], r["lat"]) for r in prep.records] == [A]
    feat = {"type": "Feature", "properties": {"kind": "ford"},
            "geometry": {"type": "MultiPoint", "coordinates": [list(A)]}}  # fmt: skip
    assert read(json.dumps(feat).encode(), "geojson").records[0]["lon"] == A[0]
    feat["geometry"]["coordinates"].append([127.3, 41.5])
    with pytest.raises(ImportFileError, match="MultiPoint' of 2 points: a crossing is one point"):
        read(json.dumps(feat).encode(), "geojson")


@pytest.mark.parametrize(
    "geometry",
    [None, {"type": "Point", "coordinates": []}, {"type": "MultiPoint", "coordinates": []}],
)
def test_a_geometry_without_location_is_said_as_such(geometry):
    feat = {"type": "Feature", "properties": {}, "geometry": geometry}
    with pytest.raises(ImportFileError, match="has no location") as err:
        read(json.dumps(feat).encode(), "geojson")
    assert "convert lines" not in str(err.value)


def test_points_only_skips_other_geometries_with_a_count():
    line = {"type": "Feature", "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[127, 41], [128, 42]]}}  # fmt: skip
    pt = {"type": "Feature", "properties": {"kind": "ford"},
          "geometry": {"type": "Point", "coordinates": list(A)}}  # fmt: skip
    data = json.dumps({"type": "FeatureCollection", "features": [line, pt, line]}).encode()
    with pytest.raises(ImportFileError, match="--points-only"):
        read(data)
    prep = read(data, points_only=True)
    assert len(prep.records) == 1 and prep.summary["skipped"] == {"LineString": 2}


# -- CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kw"),
    [
        ('geom_wkt,kind\n"POINT (127.2696 41.5195)",ford\n', {}),
        ('WKT,kind\n"POINT Z (127.2696 41.5195 12)",ford\n', {}),
        ('wkt,kind\n"MULTIPOINT ((127.2696 41.5195))",ford\n', {}),
        ("geom_x,geom_y,kind\n127.2696,41.5195,ford\n", {}),
        ("X,Y,kind\n127.2696,41.5195,ford\n", {}),
        ("E,N,kind\n127.2696,41.5195,ford\n", {"lon_column": "E", "lat_column": "n"}),
        ("lon;lat;kind\n127,2696;41,5195;ford\n", {}),
        ('lon,lat,kind\n"127°16\'10.56""E","41°31\'10.2""N",ford\n', {}),
        ("lon,lat,kind\n127 16 10.56 E,41 31 10.2 N,ford\n", {}),
    ],
    ids=[
        "geom_wkt",
        "wkt-z",
        "multipoint",
        "geom_xy",
        "XY",
        "named",
        "decimal-comma",
        "dms",
        "dms-spaces",
    ],
)
def test_csv_location_forms(text, kw):
    (rec,) = read(text.encode(), "csv", **kw).records
    assert abs(float(rec["lon"]) - A[0]) < 1e-6 and abs(float(rec["lat"]) - A[1]) < 1e-6
    assert rec["kind"] == "ford"


def test_csv_wkt_that_is_not_a_point_and_an_empty_one():
    data = b'wkt,kind\n"LINESTRING (1 2, 3 4)",ford\n"POINT EMPTY",ford\n'
    prep = read(data, "csv")
    assert [(p.row, p.message) for p in prep.problems] == [
        ("row 2", "is not a WKT POINT (lon lat): crossings are points"),
        ("row 3", "has no location"),
    ]


def test_decimal_comma_in_numbers_of_a_semicolon_csv():
    (rec,) = read(b"lon;lat;kind;precision_m\n127,2696;41,5195;ford;250,5\n", "csv").records
    assert rec["uncertainty_m"] == "250.5"


@pytest.mark.parametrize(
    ("value", "axis", "expected"),
    [
        ("41°24'36\"N", "lat", 41.41),
        ("41°24′36″S", "lat", -41.41),
        ("W 2.5", "lon", -2.5),
        ("41.41N", "lat", 41.41),
        ("41°24.6'", "lat", 41.41),
        ("41°24'36\"E", "lat", "41°24'36\"E"),  # E is a longitude's: left for validation
        ("41°61'", "lat", "41°61'"),  # 61 minutes: not a coordinate
        ("N41 W2", "lat", "N41 W2"),
    ],
)
def test_dms(value, axis, expected):
    assert parse_coordinate(value, axis) == expected


# -- KML ---------------------------------------------------------------------------------------


def test_whitespace_inside_kml_coordinates():
    body = "<Placemark><Point><coordinates>\n  127.2696 ,\t41.5195 , 0\n</coordinates></Point></Placemark>"
    (rec,) = read_candidates(io.BytesIO(kml(body)), fmt="kml").records
    assert (rec["lon"], rec["lat"]) == ("127.2696", "41.5195")


def test_kml_multigeometry_of_one_point_is_read_of_several_refused():
    one = "<Placemark><MultiGeometry><Point><coordinates>127.2696,41.5195</coordinates></Point></MultiGeometry></Placemark>"
    assert read(kml(one), "kml").records[0]["lon"] == "127.2696"
    two = one.replace(
        "</MultiGeometry>", "<Point><coordinates>127.3,41.5</coordinates></Point></MultiGeometry>"
    )
    (p,) = read(kml(two), "kml").problems
    assert p.row == "placemark 1" and "MultiGeometry of 2 Points" in p.message
    assert "one placemark per point" in p.message


def test_kml_placemark_without_location_and_points_only():
    body = (
        "<Placemark><name>no geometry</name></Placemark>"
        "<Placemark><LineString><coordinates>1,2 3,4</coordinates></LineString></Placemark>"
    )
    with pytest.raises(ImportFileError, match="placemark 2: has no Point but a LineString"):
        read(kml(body), "kml")
    prep = read(kml(body), "kml", points_only=True)
    assert prep.summary["skipped"] == {"LineString": 1}
    (p,) = prep.problems
    assert p.row == "placemark 1" and p.message.startswith("has no location")


def test_kml_description_keeps_its_inner_xhtml_as_gdal_does():
    body = (
        "<Placemark><description><p>Seen <b>twice</b> &amp; <a href='https://x.org'>more</a>"
        "</p> tail</description><Point><coordinates>127.2696,41.5195</coordinates></Point>"
        "</Placemark>"
    )
    (rec,) = read(kml(body), "kml").records
    assert rec["notes"] == '<p>Seen <b>twice</b> & <a href="https://x.org">more</a></p> tail'


def test_kml_timestamp_and_timespan_together_are_reported():
    body = (
        "<Placemark><TimeStamp><when>2025-10-01</when></TimeStamp><TimeSpan><begin>2025-09"
        "</begin></TimeSpan><Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
    )
    (p,) = read(kml(body), "kml").problems
    assert p.field == "TimeStamp" and "both a TimeStamp and a TimeSpan" in p.message


def test_kml_container_time_spans_are_inherited():
    body = (
        "<Folder><TimeSpan><begin>2025-01</begin><end>2025-03</end></TimeSpan>"
        "<Folder><TimeSpan><begin>2025-02</begin></TimeSpan>"
        "<Placemark><name>inner</name><Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
        "</Folder>"
        "<Placemark><name>outer</name><Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
        "<Placemark><name>own</name><TimeStamp><when>2025-05-06</when></TimeStamp>"
        "<Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
        "</Folder>"
        "<Placemark><name>none</name><Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
    )
    got = {
        r["name"]: (r.get("event_start"), r.get("event_end"))
        for r in read(kml(body), "kml").records
    }
    assert got == {
        "inner": ("2025-02", None),
        "outer": ("2025-01", "2025-03"),
        "own": ("2025-05-06", None),
        "none": (None, None),
    }


def test_times_of_day_and_offsets_are_kept_in_utc():
    body = (
        "<Placemark><TimeSpan><begin>2025-10-01T01:30:00+09:00</begin>"
        "<end>2025-10-02T23:00:00Z</end></TimeSpan>"
        "<Point><coordinates>127.2696,41.5195</coordinates></Point></Placemark>"
    )
    (rec,) = read(kml(body), "kml").records
    assert (rec["event_start"], rec["event_end"], rec["date_precision"]) == (
        "2025-09-30",
        "2025-10-02",
        "day",
    )
    assert rec["extra"] == {
        "event_start_utc": "2025-09-30T16:30:00Z",
        "event_end_utc": "2025-10-02T23:00:00Z",
    }
    assert parse_when("2025-10-01 08:00") == ("2025-10-01", "2025-10-01T08:00")


def test_a_preset_date_with_a_time_of_day_keeps_it():
    from geotrack.importers.presets import get_preset

    data = (
        b"#,INCIDENT TITLE,INCIDENT DATE,LATITUDE,LONGITUDE,VERIFIED\n"
        b"7,SYNTHETIC,2025-01-02 14:31:00,41.5195,127.2696,NO\n"
    )
    (rec,) = read(data, "csv", preset=get_preset(None, "ushahidi")).records
    assert (rec["event_start"], rec["source_ref"], rec["name"]) == ("2025-01-02", "7", "SYNTHETIC")
    assert rec["extra"] == {"VERIFIED": "NO", "event_start_time": "2025-01-02T14:31:00"}
    assert (rec["source_type"], rec["source_name"]) == ("informant", "Ushahidi")


def test_a_kmz_with_only_outside_links_names_them(ws, tmp_path):
    import zipfile

    from click.testing import CliRunner

    from geotrack.cli.main import cli

    path = tmp_path / "links.kmz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("doc.kml", kml("<NetworkLink><Link><href>http://example.org/live.kml</href>"
                                  "</Link></NetworkLink>").decode())  # fmt: skip
    res = CliRunner().invoke(cli, ["crossings", "import", "-w", str(ws.path), str(path)])
    assert res.exit_code == 1
    assert "no crossings to import" in res.stderr
    assert "NetworkLink to 'http://example.org/live.kml' in doc.kml not followed" in res.stderr
