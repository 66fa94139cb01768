"""Reading crossings from untrusted files: GeoJSON, CSV, KML and KMZ."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from geotrack.errors import ImportFileError, ValidationError
from geotrack.importers import read_candidates
from geotrack.records import import_crossings

DATA = Path(__file__).parent / "data"
KML_NS = "http://www.opengis.net/kml/2.2"


def point(lon: float, lat: float, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def kml(placemarks: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}\n'
        f'<kml xmlns="{KML_NS}"><Document><Folder>{placemarks}</Folder></Document></kml>'
    ).encode()


PLACEMARK = """
<Placemark>
  <name>Pontoon at &lt;Hyesan&gt; 🚣</name>
  <description><![CDATA[<b>seen</b> on imagery & "confirmed"]]></description>
  <TimeSpan><begin>2025-10-01T00:00:00Z</begin><end>2025-11</end></TimeSpan>
  <ExtendedData>
    <Data name="kind"><value>pontoon</value></Data>
    <Data name="source_name"><value>NK News</value></Data>
    <Data name="reliability"><value>B</value></Data>
  </ExtendedData>
  <Point><coordinates>128.1778,41.4017,0</coordinates></Point>
</Placemark>
"""


def read(data: bytes, fmt: str | None = None, **kw):
    return read_candidates(io.BytesIO(data), fmt=fmt, **kw)


# -- GeoJSON -------------------------------------------------------------------------


def test_geojson_collection():
    fc = {
        "type": "FeatureCollection",
        "features": [point(127.27, 41.52, kind="ford"), {**point(127.3, 41.5), "id": "YLU-0042"}],
    }
    c = read(json.dumps(fc).encode())
    assert c.format == "geojson"
    assert c.records == [
        {"kind": "ford", "lon": 127.27, "lat": 41.52},
        {"id": "YLU-0042", "lon": 127.3, "lat": 41.5},
    ]
    assert c.rows == ["feature 1", "feature 2 (YLU-0042)"]


def test_geojson_sequences():
    feats = [point(127.27, 41.52, kind="ford"), point(127.28, 41.53, kind="cable")]
    nd = b"\n".join(json.dumps(f).encode() for f in feats)
    rs = b"".join(b"\x1e" + json.dumps(f).encode() + b"\n" for f in feats)
    assert read(nd).records == read(rs).records == read(nd, fmt="geojson").records
    assert [r["kind"] for r in read(rs).records] == ["ford", "cable"]


@pytest.mark.parametrize(
    ("geometry", "kind"),
    [
        ({"type": "LineString", "coordinates": [[127, 41], [128, 42]]}, "'LineString'"),
        (
            {"type": "Polygon", "coordinates": [[[127, 41], [128, 42], [127, 42], [127, 41]]]},
            "'Polygon'",
        ),
    ],
)
def test_geojson_non_point_geometry_refused(geometry, kind):
    fc = {
        "type": "FeatureCollection",
        "features": [
            point(127.27, 41.52),
            {"type": "Feature", "geometry": geometry, "properties": {}},
        ],
    }
    with pytest.raises(ImportFileError) as err:
        read(json.dumps(fc).encode())
    msg = str(err.value)
    assert f"feature 2: geometry={kind}" in msg and "crossings are Points" in msg
    assert "centroid" in msg


def test_geojson_point_without_two_coordinates():
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1]}}
        ],
    }
    with pytest.raises(ImportFileError, match=r"needs \[longitude, latitude\]"):
        read(json.dumps(fc).encode())


def test_geojson_not_json_and_foreign_crs():
    with pytest.raises(ImportFileError, match="is not valid JSON"):
        read(b'{"type": "FeatureCollection", "features": [', fmt="geojson")
    fc = {
        "type": "FeatureCollection",
        "features": [point(500000, 4600000)],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}},
    }
    with pytest.raises(
        ImportFileError, match="crs='urn:ogc:def:crs:EPSG::32652': GeoJSON must be WGS 84"
    ):
        read(json.dumps(fc).encode())


def test_deeply_nested_geojson_refused():
    nested: dict = {}
    node = nested
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    data = json.dumps(
        {"type": "FeatureCollection", "features": [point(127.27, 41.52, deep=nested)]}
    ).encode()
    with pytest.raises(ImportFileError, match="nested deeper than"):
        read(data)


# -- CSV -----------------------------------------------------------------------------

CSV_ROWS = [
    ["lon", "lat", "kind", "source_name", "notes"],
    ["127.2696", "41.5195", "ford", "Korea JoongAng Daily", 'Gyeongsang; "quoted", comma'],
    ["128.1778", "41.4017", "pontoon", "NK News", "near Hyesan é ü"],
]


def csv_bytes(delimiter: str = ",") -> str:
    out = io.StringIO()
    import csv

    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(CSV_ROWS)
    return out.getvalue()


EXPECTED_CSV = [
    {"lon": float(r[0]), "lat": float(r[1]), "kind": r[2], "source_name": r[3], "notes": r[4]}
    for r in CSV_ROWS[1:]
]


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (csv_bytes().encode("utf-8"), None),
        (b"\xef\xbb\xbf" + csv_bytes().encode("utf-8"), None),
        (b"\xef\xbb\xbf" + csv_bytes().encode("utf-8"), "utf-8"),
        (csv_bytes().encode("utf-16"), None),  # with its byte-order mark
        (csv_bytes().encode("latin-1"), "latin-1"),
        (csv_bytes(";").encode("utf-8"), None),
        (csv_bytes("\t").encode("utf-8"), None),
    ],
    ids=["utf8", "utf8-bom", "utf8-bom-named", "utf16", "latin1", "semicolon", "tab"],
)
def test_csv_encodings_and_separators(encoded, encoding):
    c = read(encoded, fmt="csv", encoding=encoding)
    assert c.format == "csv"
    assert c.records == EXPECTED_CSV
    assert c.rows == ["row 2", "row 3"]


def test_csv_latin1_without_encoding_says_how():
    with pytest.raises(ImportFileError, match=r"not UTF-8 .*--encoding latin-1"):
        read(csv_bytes().encode("latin-1"), fmt="csv")
    with pytest.raises(ImportFileError, match="encoding='klingon' is not a known text encoding"):
        read(b"lon,lat\n", fmt="csv", encoding="klingon")


def test_csv_column_names():
    c = read(b"Longitude,LATITUDE,Kind,Empty\n127.27,41.52,ford,\n\n", fmt="csv")
    assert c.records == [{"lon": 127.27, "lat": 41.52, "Kind": "ford"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty: a CSV needs a header row"),
        (b"x1,y1\n1,2\n", "needs lon and lat columns"),
        (b"lon,lat,kind\n127.27,41.52\n", "row 2 has 2 cells for 3 columns"),
        (b"lon,lat\n127.27,\x0041.52\n", "holds NUL bytes"),
    ],
)
def test_csv_refused(data, message):
    with pytest.raises(ImportFileError, match=message):
        read(data, fmt="csv")


def test_csv_values_are_validated_by_row(ws):
    data = b"lon,lat,kind,source_name\n127.2696,41.5195,ford,a\n127.2696,95,zeppelin,b\n"
    c = read(data, fmt="csv")
    before = ws.crossings.path.read_bytes()
    with pytest.raises(ValidationError) as err:
        import_crossings(ws, c.records, rows=c.rows)
    assert {(p.row, p.field) for p in err.value.problems} == {("row 3", "lat"), ("row 3", "kind")}
    assert ws.crossings.path.read_bytes() == before


# -- KML and KMZ ---------------------------------------------------------------------


def test_kml_placemarks():
    c = read(kml(PLACEMARK * 2))
    assert c.format == "kml" and c.rows == ["placemark 1", "placemark 2"]
    rec = c.records[0]
    assert rec == {
        "lon": "128.1778",
        "lat": "41.4017",
        "name": "Pontoon at <Hyesan> 🚣",
        "notes": '<b>seen</b> on imagery & "confirmed"',
        "event_start": "2025-10-01T00:00:00Z",  # converted to UTC by prepare_crossings
        "event_end": "2025-11",
        "kind": "pontoon",
        "source_name": "NK News",
        "reliability": "B",
    }


def test_kml_timestamp_and_schema_data():
    pm = """<Placemark><TimeStamp><when>2025-12-16</when></TimeStamp>
      <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="kind">ford</SimpleData>
      </SchemaData></ExtendedData><Point><coordinates> 127.27,41.52 </coordinates></Point></Placemark>"""
    (rec,) = read(kml(pm)).records
    assert rec == {"lon": "127.27", "lat": "41.52", "event_start": "2025-12-16", "kind": "ford"}


def test_kml_file_from_google_earth(ws):
    c = read_candidates(DATA / "google_earth_placemarks.kml")
    assert len(c.records) == 2
    ids = import_crossings(ws, c.records, rows=c.rows)
    feats = ws.read_crossings()
    assert [f["id"] for f in feats] == ids
    assert {f["properties"]["kind"] for f in feats} == {"ford", "pontoon"}
    assert all(f["properties"]["synthetic"] for f in feats)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<Placemark><name>x</name><LineString><coordinates>1,2 3,4</coordinates></LineString>"
            "</Placemark>",
            "placemark 1: has no Point",
        ),
        (
            "<Placemark><Point><coordinates>127.27</coordinates></Point></Placemark>",
            "<coordinates> must read LON,LAT",
        ),
    ],
)
def test_kml_bad_placemarks(body, message):
    with pytest.raises(ImportFileError, match=message):
        read(kml(body))


def test_kml_not_xml():
    with pytest.raises(ImportFileError, match="is not well-formed XML"):
        read(b"<kml><Placemark>", fmt="kml")


XXE = """<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"""
LAUGHS = (
    '<!DOCTYPE kml [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


@pytest.mark.parametrize(
    "prolog", [XXE, LAUGHS, "<!DOCTYPE kml>"], ids=["xxe", "billion-laughs", "dtd"]
)
def test_kml_with_dtd_or_entities_refused(prolog):
    body = PLACEMARK.replace("NK News", "&xxe;" if prolog == XXE else "&lol9;")
    with pytest.raises(ImportFileError, match="declares a DTD or entities"):
        read(kml(body, prolog=prolog))


def kmz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_kmz():
    data = kmz({"files/icon.png": b"\x89PNG", "doc.kml": kml(PLACEMARK)})
    c = read(data)
    assert c.format == "kml" and c.records[0]["kind"] == "pontoon"
    assert read(kmz({"other.kml": kml(PLACEMARK)}), fmt="kmz").records == c.records


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../evil.kml": b"x", "doc.kml": kml(PLACEMARK)}, "unsafe path"),
        ({"a/../../evil.kml": b"x", "doc.kml": kml(PLACEMARK)}, "unsafe path"),
        ({"/etc/evil.kml": b"x"}, "unsafe path"),
        ({"images/a.png": b"x"}, "holds no .kml document"),
    ],
)
def test_kmz_refused(members, message):
    with pytest.raises(ImportFileError, match=message):
        read(kmz(members), fmt="kmz")


def test_kmz_not_a_zip_and_bomb():
    with pytest.raises(ImportFileError, match="is not a KMZ"):
        read(b"PK\x03\x04 broken", fmt="kmz")
    bomb = kmz({"doc.kml": kml(PLACEMARK) + b" " * 2_000_000})
    assert len(bomb) < 20_000
    with pytest.raises(ImportFileError, match=r"inflates to|larger than"):
        read(bomb, limit=1_000_000)


# -- limits, sources and formats ---------------------------------------------------------


def test_size_limit_on_files_and_streams(tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"lon,lat\n" + b"127.27,41.52\n" * 100)
    with pytest.raises(ImportFileError) as err:
        read_candidates(big, limit=1000)
    assert "is 1308 bytes, over the 1000 bytes limit: split it" in str(err.value)
    with pytest.raises(ImportFileError, match="larger than 1000 bytes: split it"):
        read_candidates(io.BytesIO(big.read_bytes()), limit=1000)
    assert len(read_candidates(big, limit=2000).records) == 100


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImportFileError, match="does not exist"):
        read_candidates(tmp_path / "nope.csv")
    with pytest.raises(ImportFileError, match="is a folder"):
        read_candidates(tmp_path)


def test_format_guessed_from_name_and_content(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes(b"lon,lat\n127.27,41.52\n")
    assert read_candidates(p).format == "csv"
    assert read(json.dumps(point(127.27, 41.52)).encode()).format == "geojson"
    assert read(kml(PLACEMARK)).format == "kml"
    assert read(b"lon,lat\n127.27,41.52\n").format == "csv"
    with pytest.raises(
        ImportFileError, match="format='shp' is not supported: use geojson, csv, kml, kmz or gpkg"
    ):
        read(b"", fmt="shp")


def test_kml_with_too_many_elements_is_refused(monkeypatch):
    from geotrack import importers
    from geotrack.importers import kml_in

    monkeypatch.setattr(kml_in, "MAX_KML_ELEMENTS", 50)
    kml = (
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + b"<Folder/>" * 100
        + b"</Document></kml>"
    )
    with pytest.raises(ImportFileError, match="XML elements"):
        importers.read_candidates(io.BytesIO(kml), fmt="kml")
