"""Every geotrack export imports back: GeoJSON, the reports CSV, KML, KMZ and GeoPackage.

The workspace of ``tests/_exportdata.py`` (hostile text in every text field, several
reports per site) plus a crossing reported in GCJ-02 with a source reference and
extra columns is exported to each format, imported into a fresh workspace and
compared with the original field by field; importing it back into the workspace
it came from with ``--update-existing`` changes nothing.  Only ``created_at`` and
``updated_at`` differ (set when the record is written).  Formats that cannot hold
NUL (GeoPackage, CSV; KML's site fields) hold U+FFFD instead, as their exporters
document; a KML's reports travel as JSON and keep it.
"""

from __future__ import annotations

import io

import pytest
from _exportdata import make_workspace, records

from geotrack.export.api import export_workspace
from geotrack.importers import read_crossings
from geotrack.records import import_crossings, merge_crossings
from geotrack.workspace import init_workspace

FILES = {
    "geojson": "geotrack-geojson/crossings.geojson",
    "csv": "geotrack-reports.csv",
    "kml": "geotrack.kml",
    "kmz": "geotrack.kmz",
    "gpkg": "geotrack.gpkg",
}
VOLATILE = {"created_at", "updated_at"}
#: Formats whose exporter writes NUL as U+FFFD: (in site fields, in report fields).
NUL_REPLACED = {"csv": (True, True), "gpkg": (True, True), "kml": (True, False)}
NUL_REPLACED["kmz"] = NUL_REPLACED["kml"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("roundtrip")
    ws = make_workspace(folder / "ws")
    line = ws.stretch.line_wgs84
    p = line.interpolate(0.3, normalized=True)
    import_crossings(
        ws,
        [
            {
                "lon": p.x + 0.0061,  # as GCJ-02 would offset it (about 500 m)
                "lat": p.y - 0.0013,
                "datum": "gcj02",
                "kind": "ferry_boat",
                "name": "-leading minus and 'quote",
                "source_name": "ACLED (made up for a test)",
                "source_ref": "KOR1234",
                "extra": {"fatalities": "0", "admin1": "Ryanggang", "nested": {"a": [1, 2]}},
                "event_start": "2025-03-04",
                "date_precision": "week",
                "synthetic": True,
            }
        ],
        max_border_km=None,
    )
    export_workspace(ws, folder / "out", formats=["gpkg", "geojson", "kml", "kmz", "csv"])
    return ws, folder / "out"


def _comparable(feats, nul: tuple[bool, bool] = (False, False)) -> dict:
    def fix(v, replace):
        if isinstance(v, str) and replace:
            return v.replace("\x00", "\ufffd")
        if isinstance(v, dict):
            return {k: fix(x, replace) for k, x in v.items()}
        return v

    out = {}
    for f in feats:
        props = {k: fix(v, nul[0]) for k, v in f["properties"].items() if k not in VOLATILE}
        props["reports"] = [{k: fix(v, nul[1]) for k, v in r.items()} for r in props["reports"]]
        out[f["id"]] = {"geometry": f["geometry"], "properties": props}
    return out


@pytest.mark.parametrize("fmt", list(FILES))
def test_every_export_imports_back_field_by_field(exported, tmp_path, fmt):
    ws, out = exported
    path = out / FILES[fmt]
    prep = read_crossings(path)
    assert not prep.problems, prep.problems
    assert prep.summary["extra"] == {} and prep.summary["unknown"] == {}
    fresh = init_workspace(tmp_path / "fresh")
    done = merge_crossings(fresh, prep.records, rows=prep.rows, max_border_km=None)
    original = _comparable(ws.read_crossings(), NUL_REPLACED.get(fmt, (False, False)))
    back = _comparable(fresh.read_crossings())
    assert sorted(done["new"]) == sorted(original)
    for fid, feat in original.items():
        got = back[fid]
        assert got["geometry"] == feat["geometry"], fid
        for key, value in feat["properties"].items():
            if key == "reports":
                for mine, theirs in zip(value, got["properties"]["reports"], strict=True):
                    for rkey, rvalue in mine.items():
                        assert theirs[rkey] == rvalue, (fmt, fid, mine["report_id"], rkey)
            else:
                assert got["properties"][key] == value, (fmt, fid, key)


@pytest.fixture(scope="module")
def exported_without_nul(tmp_path_factory):
    """The same records but the one with NUL (which three formats cannot carry)."""
    folder = tmp_path_factory.mktemp("roundtrip-nonul")
    ws = init_workspace(folder / "ws")
    recs = records(ws)
    recs[0]["reports"] = [r for r in recs[0]["reports"] if "\x00" not in r["source_name"]]
    import_crossings(ws, recs)
    export_workspace(ws, folder / "out", formats=["gpkg", "geojson", "kml", "kmz", "csv"])
    return ws, folder / "out"


@pytest.mark.parametrize("fmt", list(FILES))
def test_an_export_updates_the_workspace_it_came_from_without_changes(exported_without_nul, fmt):
    ws, out = exported_without_nul
    before = ws.crossings.path.read_bytes(), ws.crossings.history_path.read_bytes()
    prep = read_crossings(out / FILES[fmt])
    done = merge_crossings(ws, prep.records, rows=prep.rows, update_existing=True)
    assert (done["new"], done["updated"]) == ([], [])
    assert sorted(done["unchanged"]) == [f["id"] for f in ws.read_crossings()]
    assert (ws.crossings.path.read_bytes(), ws.crossings.history_path.read_bytes()) == before


def test_an_analyst_edit_in_qgis_comes_back_as_an_edit(exported, tmp_path):
    """A GeoJSON export with a status changed and a point moved: one edit, in the history."""
    import orjson

    _ws, out = exported
    copy = init_workspace(tmp_path / "copy")
    prep = read_crossings(out / FILES["geojson"])
    merge_crossings(copy, prep.records, rows=prep.rows, max_border_km=None)
    doc = orjson.loads((out / FILES["geojson"]).read_bytes())
    feat = doc["features"][1]
    feat["properties"]["status"] = "destroyed"
    feat["properties"]["bank"] = None  # moved onto the line: the analyst clears the bank
    feat["geometry"]["coordinates"][1] += 0.0001  # 11 m north
    edited = orjson.dumps(doc)
    prep = read_crossings(io.BytesIO(edited), fmt="geojson")
    done = merge_crossings(copy, prep.records, rows=prep.rows, update_existing=True)
    assert done["updated"] == [feat["id"]]
    got = next(f for f in copy.read_crossings() if f["id"] == feat["id"])
    assert got["properties"]["status"] == "destroyed"
    assert got["geometry"]["coordinates"] == feat["geometry"]["coordinates"]
    assert got["properties"]["datum"] == "wgs84"  # moved in QGIS: a WGS 84 position
    entry = list(copy.crossings.history())[-1]
    assert entry.op == "edit" and [c.id for c in entry.changes] == [feat["id"]]


@pytest.mark.parametrize("fmt", ["gpkg", "kmz", "csv"])
def test_export_then_import_as_real_processes(exported_without_nul, tmp_path, fmt):
    """``geotrack export`` then ``geotrack crossings import`` into an empty workspace."""
    import json
    import subprocess
    import sys

    ws, _ = exported_without_nul

    def geotrack(*args):
        return subprocess.run(
            [sys.executable, "-m", "geotrack", *args], capture_output=True, text=True, timeout=300
        )

    out = tmp_path / "out"
    res = geotrack("export", "-w", str(ws.path), "-o", str(out), "--format", fmt)
    assert res.returncode == 0, res.stderr
    fresh = tmp_path / "fresh"
    assert geotrack("init", str(fresh), "--empty").returncode == 0
    res = geotrack("crossings", "import", "-w", str(fresh), str(out / FILES[fmt]), "--json")
    assert res.returncode == 0, res.stderr
    ids = [f["id"] for f in ws.read_crossings()]
    assert json.loads(res.stdout)["ids"] == ids
    res = geotrack("crossings", "import", "-w", str(ws.path), str(out / FILES[fmt]),
                   "--update-existing", "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["unchanged"] == len(ids)


@pytest.fixture(scope="module")
def public_record(tmp_path_factory):
    """The bundled public record (sites placed from words, claims) and its exports."""
    folder = tmp_path_factory.mktemp("public")
    ws = init_workspace(folder / "ws", public_record=True)
    export_workspace(ws, folder / "out", formats=["gpkg", "geojson", "kml", "kmz", "csv"])
    return ws, folder / "out"


@pytest.mark.parametrize("fmt", list(FILES))
def test_the_public_record_comes_back_unchanged(public_record, tmp_path, fmt):
    """Sites placed from words keep their placement and no reported coordinate."""
    ws, out = public_record
    before = ws.crossings.path.read_bytes()
    prep = read_crossings(out / FILES[fmt])
    done = merge_crossings(ws, prep.records, rows=prep.rows, update_existing=True)
    assert done["updated"] == [] and len(done["unchanged"]) == len(ws.read_crossings())
    assert ws.crossings.path.read_bytes() == before
    fresh = init_workspace(tmp_path / "fresh", public_record=False)
    merge_crossings(fresh, prep.records, rows=prep.rows)
    assert _comparable(fresh.read_crossings()) == _comparable(ws.read_crossings())
