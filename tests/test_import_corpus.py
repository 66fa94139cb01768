"""The import corpus (tests/data/import/, see its README) against what GDAL reads from each file.

For every feature GDAL (pyogrio) reads, geotrack reads the same point and the
same values: a column becomes its field (as the summary says), or stays in the
report's ``extra`` under its own name; nothing is lost.  Then each file imports
(or is refused for its stated reason).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely

from geotrack.importers import read_crossings
from geotrack.importers.presets import get_preset
from geotrack.records import merge_crossings

DATA = Path(__file__).parent / "data"
#: GDAL's own KML fields (LIBKML) that are not the file's: display state, not data.
GDAL_KML_FIELDS = {"id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
                   "visibility", "drawOrder", "icon"}  # fmt: skip
#: file -> (GDAL open options, geotrack options, how GDAL's columns are named in geotrack)
CORPUS: dict[str, tuple[dict[str, str], dict[str, Any], dict[str, str]]] = {
    "import/acled_events.csv": (
        {"X_POSSIBLE_NAMES": "longitude", "Y_POSSIBLE_NAMES": "latitude"},
        {"preset": "acled", "defaults": {"kind": "ford"}},
        {},
    ),
    "import/ushahidi_reports.csv": (
        {"X_POSSIBLE_NAMES": "LONGITUDE", "Y_POSSIBLE_NAMES": "LATITUDE"},
        {"preset": "ushahidi", "defaults": {"kind": "other"}},
        {},
    ),
    "import/gdal_written.csv": ({"GEOM_POSSIBLE_NAMES": "WKT"}, {}, {}),
    "import/gdal_written.kml": ({}, {}, {"Name": "name", "description": "notes"}),
    "import/qgis_written.geojson": ({}, {}, {"id": "source_ref"}),
    "import/networklink.kmz": ({}, {}, {"Name": "name", "description": "notes"}),
    "google_earth_placemarks.kml": ({}, {}, {"Name": "name", "description": "notes"}),
    # GDAL reads neither the decimal commas nor the DMS: compared on the names only
    "import/semicolon_dms.csv": ({}, {}, {}),
}


def _gdal(path: Path, options: dict[str, str]) -> list[tuple[tuple[float, float] | None, dict]]:
    out = []
    for layer, _ in pyogrio.list_layers(path):
        meta, _, geoms, fields = pyogrio.raw.read(
            path,
            layer=layer,
            datetime_as_string=True,
            **options,
        )
        for i in range(len(fields[0]) if len(fields) else len(geoms)):
            g = shapely.from_wkb(geoms[i]) if geoms is not None and geoms[i] is not None else None
            where = (g.x, g.y) if g is not None and not g.is_empty else None
            props = {}
            for name, col in zip(meta["fields"], fields, strict=True):
                v = col[i]
                if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) in ("NaT", ""):
                    continue
                props[str(name)] = v.item() if hasattr(v, "item") else v
            out.append((where, props))
    return out


def _ours(path: Path, opts: dict[str, Any]):
    kw = dict(opts)
    if "preset" in kw:
        kw["preset"] = get_preset(None, kw["preset"])
    return read_crossings(path, **kw)


def _flat(rec: dict) -> tuple[dict, dict]:
    """Site and report fields of a record, and its extra."""
    rep = rec["reports"][0] if "reports" in rec else rec
    merged = {**{k: v for k, v in rec.items() if k != "reports"}, **rep}
    return merged, dict(merged.get("extra") or {})


@pytest.mark.parametrize("name", list(CORPUS))
def test_corpus_file_reads_as_gdal_reads_it(name):
    gdal_opts, opts, renamed = CORPUS[name]
    path = DATA / name
    prep = _ours(path, opts)
    assert not prep.problems, prep.problems
    mapped = {**prep.summary["mapped"], **renamed}
    ours = [_flat(r) for r in prep.records]
    gdal = _gdal(path, gdal_opts)
    assert gdal, name
    comma_or_dms = name.endswith("semicolon_dms.csv")
    for where, props in gdal:
        if comma_or_dms:
            rec, extra = next(
                (r, e)
                for r, e in ours
                if r.get("name") == props["Nom"] or e.get("Nom") == props["Nom"]
            )
        else:
            rec, extra = next(
                (r, e)
                for r, e in ours
                if abs(float(r["lon"]) - where[0]) < 1e-9 and abs(float(r["lat"]) - where[1]) < 1e-9
            )
        for column, value in props.items():
            if column in GDAL_KML_FIELDS and column not in renamed:
                continue
            if column.lower() in ("longitude", "latitude", "wkt"):
                continue
            target = mapped.get(column)
            if column in extra:  # kept as given (also when a preset translated the code)
                got = extra[column]
            elif target is not None:
                got = rec.get(target)
            else:
                raise AssertionError(f"{name}: column {column!r} is lost")
            if target in ("event_start", "reported") and column not in extra:
                assert str(value).startswith(str(got)[:10]) or str(got) in str(value), (
                    name, column, value, got,
                )  # fmt: skip
            else:
                assert str(got) == str(value), (name, column, value, got)


CORPUS_IMPORTS = {name: opts for name, (_, opts, _) in CORPUS.items()}


@pytest.mark.parametrize("name", list(CORPUS_IMPORTS))
def test_corpus_file_imports(ws, name):
    prep = _ours(DATA / name, CORPUS_IMPORTS[name])
    done = merge_crossings(ws, prep.records, rows=prep.rows)
    assert len(done["new"]) == len(prep.records) > 0


def test_acled_precision_codes_keep_their_meanings(ws):
    prep = _ours(DATA / "import/acled_events.csv", CORPUS_IMPORTS["import/acled_events.csv"])
    merge_crossings(ws, prep.records, rows=prep.rows)
    got = {
        f["properties"]["reports"][0]["source_ref"]: (
            f["properties"]["location_precision"],
            f["properties"]["reports"][0]["date_precision"],
            f["properties"]["reports"][0]["extra"]["geo_precision"],
        )
        for f in ws.read_crossings()
        if f["properties"]["reports"][0]["source_ref"]
    }
    # 1: a particular town (its coordinates); 2: near a town / part of a region; 3: a region
    assert got == {
        "PRK9001": ("near_place", "day", "1"),
        "PRK9002": ("reach", "week", "2"),
        "PRK9003": ("county", "month", "3"),
        "PRK9004": ("near_place", "day", "1"),
    }


def test_kmz_networklink_followed_inside_and_named_outside():
    prep = read_crossings(DATA / "import/networklink.kmz")
    names = [r["name"] for r in prep.records]
    assert names == ["SYNTHETIC ford in doc.kml", "SYNTHETIC pontoon in files/part.kml"]
    assert prep.rows == ["placemark 1", "files/part.kml: placemark 1"]
    # the linked document's folder time span is inherited
    assert prep.records[1]["event_start"] == "2025-09" and prep.records[1]["event_end"] == "2025-10"
    (note,) = prep.summary["notes"]
    assert "'https://example.org/more.kml'" in note and "not followed" in note


def test_semicolon_csv_decimal_commas_and_dms():
    prep = read_crossings(DATA / "import/semicolon_dms.csv")
    (a, b) = prep.records
    assert (a["lon"], a["lat"]) == (127.13953, 41.59642)
    assert abs(b["lon"] - 128.30007) < 1e-6 and abs(b["lat"] - 41.60042) < 1e-6
