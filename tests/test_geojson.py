"""GeoJSON wire formats: collections and sequences in, deterministic layers out."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.errors import ImportFileError
from geotrack.geojson import (
    MAX_NESTING,
    dumps_collection,
    dumps_feature,
    loads,
    parse_features,
    round_coords,
)


def feature(i: int, **props) -> dict:
    return {
        "type": "Feature",
        "id": f"YLU-{i:04d}",
        "geometry": {"type": "Point", "coordinates": [127.0 + i / 100, 41.5]},
        "properties": props,
    }


FEATS = [feature(1, kind="ford"), feature(2, kind="pontoon")]


def test_feature_collection():
    text = json.dumps({"type": "FeatureCollection", "features": FEATS}, indent=2)
    assert parse_features(text) == FEATS
    assert parse_features(text.encode()) == FEATS


def test_single_feature():
    assert parse_features(json.dumps(FEATS[0])) == [FEATS[0]]


def test_newline_delimited_sequence():
    text = "\n".join(json.dumps(f) for f in FEATS) + "\n\n"
    assert parse_features(text) == FEATS
    crlf = "\r\n".join(json.dumps(f) for f in FEATS)
    assert parse_features(crlf) == FEATS


def test_sequence_with_unicode_line_separators_inside_strings():
    """U+0085, U+2028 and U+2029 are not escaped by JSON writers; they are not line breaks."""
    feats = [feature(1, name="a\x85b"), feature(2, notes="c\u2028d\u2029e\x0c\x1c")]
    data = b"\n".join(dumps_feature(f) for f in feats)
    assert "\u2028".encode() in data and "\x85".encode() in data
    assert parse_features(data) == feats


def test_rs_delimited_sequence_rfc8142():
    text = "".join("\x1e" + json.dumps(f) + "\n" for f in FEATS)
    assert parse_features(text) == FEATS
    assert parse_features(text.encode()) == FEATS


def test_utf8_bom_is_accepted():
    text = "\ufeff" + json.dumps({"type": "FeatureCollection", "features": FEATS})
    assert parse_features(text.encode("utf-8")) == FEATS


@pytest.mark.parametrize(
    "name",
    ["urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"],
)
def test_legacy_wgs84_crs_member_is_accepted(name):
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": name}},
        "features": FEATS,
    }
    assert parse_features(json.dumps(doc)) == FEATS


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}},
        {"type": "name", "properties": {"name": "EPSG:3857"}},
        {"type": "link", "properties": {"href": "http://example.org/crs", "type": "proj4"}},
        "EPSG:4326",
    ],
)
def test_legacy_other_crs_is_refused_with_the_fix(crs):
    doc = {"type": "FeatureCollection", "crs": crs, "features": FEATS}
    with pytest.raises(ImportFileError) as err:
        parse_features(json.dumps(doc), what="in.geojson")
    msg = str(err.value)
    assert (
        msg.startswith("in.geojson: crs=") and "WGS 84" in msg and "ogr2ogr -t_srs EPSG:4326" in msg
    )


def test_crs_on_a_feature_is_checked_too():
    f = {**FEATS[0], "crs": {"type": "name", "properties": {"name": "EPSG:32652"}}}
    with pytest.raises(ImportFileError, match="crs='EPSG:32652'"):
        parse_features(json.dumps({"type": "FeatureCollection", "features": [f]}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"not json at all", "not valid JSON"),
        (b'{"type": "FeatureCollection", "features": [}', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "expected a GeoJSON object, found list"),
        (b'"Feature"', "expected a GeoJSON object"),
        (
            b'{"type": "LineString", "coordinates": [[1, 2], [3, 4]]}',
            "type='LineString': expected a FeatureCollection",
        ),
        (b'{"type": "FeatureCollection"}', "needs a 'features' list"),
        (b'{"type": "FeatureCollection", "features": [1]}', "item 1 is not a GeoJSON Feature"),
        (b'{"type": "Feature"}\n{"type": "Feature"}\nnope', "(line 3) is not valid JSON"),
        (b'\x1e{"type": "Feature"}\n\x1e{oops}\n', "(sequence item 2) is not valid JSON"),
    ],
)
def test_bad_geojson_refused_with_a_clear_message(text, expected):
    with pytest.raises(ImportFileError) as err:
        parse_features(text, what="input.geojson")
    assert expected in str(err.value) and "input.geojson" in str(err.value)


def test_not_json_message_says_what_to_do():
    with pytest.raises(ImportFileError, match="Fix the file or export it again as GeoJSON"):
        loads("{", what="x")


def test_deeply_nested_geojson_is_refused():
    deep = {"type": "Feature", "geometry": None, "properties": {"a": None}}
    node = deep["properties"]
    for _ in range(MAX_NESTING + 5):
        node["a"] = {"a": None}
        node = node["a"]
    with pytest.raises(ImportFileError, match=f"nested deeper than {MAX_NESTING} levels"):
        parse_features(orjson.dumps(deep))
    # nesting far past what a JSON parser recurses into is refused too, without a crash
    bomb = b'{"type":"Feature","properties":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ImportFileError):
        parse_features(bomb)


def test_round_coords():
    assert round_coords([127.123456789, 41.0]) == [127.1234568, 41.0]
    assert round_coords([[[1.000000049, 2]]], 7) == [[[1.0, 2.0]]]
    assert round_coords([], 7) == []


def test_dumps_collection_is_one_feature_per_line_and_valid_geojson():
    data = dumps_collection(FEATS, name="crossings", members={"geotrack": {"seq": 3}})
    lines = data.split(b"\n")
    assert (
        lines[0]
        == b'{"type":"FeatureCollection","name":"crossings","geotrack":{"seq":3},"features":['
    )
    assert lines[1] == dumps_feature(FEATS[0]) + b","
    assert lines[2] == dumps_feature(FEATS[1])
    assert lines[3:] == [b"]}", b""]
    assert parse_features(data) == FEATS
    assert dumps_collection(FEATS, name="crossings", members={"geotrack": {"seq": 3}}) == data


def test_empty_collection():
    data = dumps_collection([], name="crossings")
    assert orjson.loads(data) == {"type": "FeatureCollection", "name": "crossings", "features": []}
    assert parse_features(data) == []


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_props = st.dictionaries(
    st.sampled_from(["name", "notes", "source_name", "kind"]),
    st.none() | _text | st.integers(-(10**9), 10**9) | st.booleans(),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(
        st.tuples(
            st.floats(-180, 180, allow_nan=False),
            st.floats(-90, 90, allow_nan=False),
            _props,
        ),
        max_size=5,
    ),
    form=st.sampled_from(["collection", "ndjson", "rs"]),
)
def test_features_round_trip_through_every_wire_form(items, form):
    feats = [
        {
            "type": "Feature",
            "id": f"YLU-{i:04d}",
            "geometry": {"type": "Point", "coordinates": round_coords([x, y])},
            "properties": p,
        }
        for i, (x, y, p) in enumerate(items, 1)
    ]
    if form == "collection":
        data = dumps_collection(feats, name="t")
    elif form == "ndjson":
        data = b"".join(dumps_feature(f) + b"\n" for f in feats)
    else:
        data = b"".join(b"\x1e" + dumps_feature(f) + b"\n" for f in feats)
    if not feats:
        data = dumps_collection(feats, name="t")  # an empty sequence is an empty file
    assert parse_features(data) == feats


def test_too_many_containers_is_refused_before_parsing(monkeypatch):
    from geotrack import geojson

    monkeypatch.setattr(geojson, "MAX_CONTAINERS", 1000)
    text = "[" + "[]," * 2000 + "[]]"
    with pytest.raises(ImportFileError, match="JSON arrays and objects"):
        geojson.parse_features(text, what="bomb.geojson")


def test_a_serialised_feature_holds_no_more_memory_than_its_length():
    import tracemalloc

    feat = {"type": "Feature", "id": "A", "geometry": None, "properties": {"notes": "x" * 500}}
    tracemalloc.start()
    try:
        lines = [dumps_feature(feat) for _ in range(200)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # orjson's own result keeps its whole 8 KiB buffer: 200 of them would hold ~1.6 MB
    assert held < 3 * sum(len(b) for b in lines)
