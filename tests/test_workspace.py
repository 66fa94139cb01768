"""The workspace folder: creating and opening it, reference layers, named windows."""

from __future__ import annotations

import orjson
import pytest
from shapely.geometry import LineString

from geotrack.errors import DataError, NotFoundError, StorageError, WindowError
from geotrack.workspace import (
    DEFAULT_WORKSPACE,
    REFERENCE_FILES,
    Workspace,
    init_workspace,
    resolve_workspace,
)


def test_init_creates_reference_layers_and_an_empty_crossings_layer(tmp_path):
    ws = init_workspace(tmp_path / "new" / "ws")
    names = {p.name for p in ws.path.iterdir()}
    assert set(REFERENCE_FILES) | {"crossings.geojson"} <= names
    assert ws.read_crossings() == [] and list(ws.crossings.history()) == []
    doc = orjson.loads(ws.crossings.path.read_bytes())
    assert doc["type"] == "FeatureCollection" and doc["features"] == []


def test_init_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StorageError, match="exists and is not empty: choose a new folder"):
        init_workspace(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_init_exist_ok_keeps_an_existing_workspace(ws, record):
    from geotrack.records import add_crossing

    add_crossing(ws, record)
    before = ws.crossings.path.read_bytes()
    again = init_workspace(ws.path, exist_ok=True)
    assert again.crossings.path.read_bytes() == before


def test_open_errors(tmp_path):
    with pytest.raises(NotFoundError, match=r"is not a geotrack workspace .*geotrack init DIR"):
        Workspace.open(tmp_path / "missing")
    with pytest.raises(NotFoundError, match=r"no stretch\.geojson"):
        Workspace.open(tmp_path)


def test_resolve_workspace(monkeypatch, tmp_path):
    monkeypatch.delenv("GEOTRACK_WORKSPACE", raising=False)
    assert resolve_workspace() == DEFAULT_WORKSPACE
    monkeypatch.setenv("GEOTRACK_WORKSPACE", str(tmp_path))
    assert resolve_workspace() == tmp_path
    assert str(resolve_workspace("other")) == "other"


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".", "", "a\\b", "a\x00b"])
def test_file_names_cannot_leave_the_workspace(ws, name):
    with pytest.raises(DataError, match="would leave the workspace"):
        ws.file(name)


def test_symbolic_links_are_refused(ws, tmp_path):
    target = tmp_path / "elsewhere.csv"
    target.write_text("x")
    (ws.path / "linked.csv").symlink_to(target)
    with pytest.raises(DataError, match=r"'linked\.csv' is a symbolic link"):
        Workspace.open(ws.path)


def test_reference_geography(ws):
    st = ws.stretch
    assert st.length_km == pytest.approx(305.607, abs=0.01)
    assert isinstance(st.line_wgs84, LineString) and isinstance(st.line_m, LineString)
    west, east = st.line_wgs84.coords[0], st.line_wgs84.coords[-1]
    assert west[0] < east[0]  # chainage 0 at the west, downstream end
    assert ws.border_wgs84.geom_type in ("LineString", "MultiLineString")
    assert ws.border_wgs84.distance(st.line_wgs84) < 1e-6  # the river part lies on the border
    counties = [f["properties"]["county"] for f in ws.county_segments]
    assert counties[:5] == ["Kimhyongjik", "Kimjongsuk", "Samsu", "Hyesan", "Pochon"]
    starts = [f["properties"]["chainage_start_km"] for f in ws.county_segments]
    assert starts == sorted(starts) and starts[0] == 0.0
    assert {t.country for t in ws.towns.values()} == {"CN", "KP"}
    assert any(name.startswith("Hyesan") for name in ws.towns)
    assert ws.stretch_properties["license"] == "ODbL-1.0"
    assert any("OpenStreetMap" in line for line in ws.attribution())


def test_named_windows_and_the_reported_stretch(ws):
    assert {"reported", "river"} <= set(ws.windows)
    rep = ws.window("reported")
    assert (rep.from_km, rep.to_km) == (0.0, 238.7)
    d = ws.describe_window(rep)
    assert d["length_km"] == 238.7
    assert d["straight_km"] == pytest.approx(104.2, abs=0.05)  # the report's "98 km" is this
    assert d["crs"] == "EPSG:32652" and "NK News" in d["source"]
    assert ws.window("river").to_km == pytest.approx(ws.stretch.length_km, abs=0.001)
    assert ws.window("10:20").length_km == 10.0


def test_save_and_remove_windows(ws):
    before = (ws.path / "windows.json").read_bytes()
    w = ws.save_window("upper", "200:300", description="upper reach")
    assert (w.name, w.from_km, w.to_km, w.description) == ("upper", 200.0, 300.0, "upper reach")
    assert Workspace.open(ws.path).window("upper").to_km == 300.0
    for bad in ("5:1", "0:400", "-1:5"):
        with pytest.raises(WindowError):
            ws.save_window("bad", bad)
    with pytest.raises(WindowError, match="reserved"):
        ws.save_window("all", "1:2")
    with pytest.raises(WindowError):
        ws.save_window("../evil", "1:2")
    ws.remove_window("upper")
    assert (ws.path / "windows.json").read_bytes() == before
    with pytest.raises(NotFoundError, match="window='upper' is not saved"):
        ws.remove_window("upper")


def test_missing_reference_layer_says_how_to_restore(ws):
    (ws.path / "towns.geojson").unlink()
    fresh = Workspace.open(ws.path)
    with pytest.raises(NotFoundError, match=r"towns\.geojson is missing: restore it from git"):
        _ = fresh.towns


def test_read_crossings_hides_retired_unless_asked(ws, record):
    from geotrack.records import add_crossing, retire_crossing

    a = add_crossing(ws, record)
    b = add_crossing(ws, record)
    retire_crossing(ws, a, reason="false report")
    assert [f["id"] for f in ws.read_crossings()] == [b]
    assert [f["id"] for f in ws.read_crossings(include_retired=True)] == [a, b]
