"""``geotrack crossings``: in-process with click's CliRunner and as real processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import filelock
import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.records import validate_workspace
from geotrack.workspace import Workspace

GOOD = ["--lon", "127.2696", "--lat", "41.5195", "--kind", "pontoon", "--source", "NK News"]
ESC = "\x1b[2J\x1b]0;pwned\x07"
HOSTILE = f"</script><b>${{x}}</b>`id`'\"\u202e {ESC} 🚣 압록강"


def run(*args: str, input: str | bytes | None = None, env: dict | None = None):
    res = CliRunner().invoke(cli, list(args), input=input, env=env)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res


def sh(*args: str, input: bytes | None = None, env: dict | None = None, timeout: float = 120):
    """Run ``python -m geotrack ARGS`` as a real process."""
    full_env = {**os.environ, "GEOTRACK_USER": "tester", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "geotrack", *args],
        input=input,
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )


def files(ws: Workspace) -> tuple[bytes, bytes]:
    hist = ws.crossings.history_path
    return ws.crossings.path.read_bytes(), hist.read_bytes() if hist.exists() else b""


@pytest.fixture
def w(ws) -> list[str]:
    """The ``--workspace`` option for the test workspace."""
    return ["-w", str(ws.path)]


# -- add, list, show ---------------------------------------------------------------------


def test_add_prints_only_the_new_id(ws, w):
    res = run(
        "crossings",
        "add",
        *w,
        *GOOD,
        "--reported",
        "2025-12-16",
        "--reliability",
        "b",
        "--credibility",
        "3",
        "--precision-m",
        "250",
        "--notes",
        HOSTILE,
    )
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "YLU-0001\n" and res.stderr.startswith("YLU-0001 at km 55.2, CN bank")
    p = ws.read_crossings()[0]["properties"]
    assert (p["uncertainty_m"], p["reports"][0]["reliability"]) == (250.0, "B")
    assert p["reports"][0]["notes"] == HOSTILE  # stored exactly as given
    res = run(
        "crossings", "add", *w, *GOOD, "--datum", "gcj02", "--synthetic", "--json", "--allow-near"
    )
    feat = json.loads(res.stdout)
    assert feat["id"] == "YLU-0002" and feat["properties"]["datum"] == "gcj02"
    assert feat["properties"]["synthetic"] is True
    assert feat["properties"]["original_lon"] == 127.2696
    assert feat["geometry"]["coordinates"] != [127.2696, 41.5195]


def test_list_and_show(ws, w):
    run("crossings", "add", *w, *GOOD, "--notes", HOSTILE, "--name", HOSTILE)
    run("crossings", "add", *w, *GOOD, "--kind", "ford", "--synthetic", "--allow-near")
    res = run("crossings", "list", *w)
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    # every column has a header (the retired and synthetic marks too)
    assert lines[0].split() == [
        "id",
        "kind",
        "status",
        "lon",
        "lat",
        "where",
        "reports",
        "first",
        "reported",
        "retired",
        "synthetic",
    ]
    assert lines[1].split()[:2] == ["YLU-0001", "pontoon"] and "SYNTHETIC" in lines[2]
    assert "2 crossing(s)" in res.stderr and "2 crossing(s)" not in res.stdout
    doc = json.loads(run("crossings", "list", *w, "--json").stdout)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    assert doc["features"][0]["properties"]["name"] == HOSTILE
    kinds = json.loads(run("crossings", "list", *w, "--kind", "ford", "--json").stdout)
    assert [f["id"] for f in kinds["features"]] == ["YLU-0002"]
    res = run("crossings", "show", *w, "YLU-0001")
    assert res.exit_code == 0 and res.stdout.startswith("YLU-0001  pontoon")
    assert "\x1b" not in res.stdout and "\u202e" not in res.stdout  # made terminal-safe
    assert "\\u001b[2J" in res.stdout and "</script>" in res.stdout
    assert (
        json.loads(run("crossings", "show", *w, "YLU-0001", "--json").stdout)["properties"]["name"]
        == HOSTILE
    )


def test_workspace_from_the_environment(ws):
    res = run("crossings", "add", *GOOD, env={"GEOTRACK_WORKSPACE": str(ws.path)})
    assert res.exit_code == 0 and res.stdout == "YLU-0001\n"


# -- bad input: exit 1, a clear message on stderr, the layer untouched ----------------------

BAD_ADDS = [
    (["--lat", "95"], "lat='95'", "within [-90, 90]"),
    (["--lat", "-90.5"], "lat='-90.5'", "within [-90, 90]"),
    (["--lon", "181"], "lon='181'", "within [-180, 180]"),
    (["--lon", "nan"], "lon='nan'", "not NaN"),
    (["--lat", ""], "lat=''", "is missing: give decimal degrees"),
    (
        ["--lon", "41.5195", "--lat", "127.2696"],
        "lat='127.2696'",
        "looks swapped: did you mean --lon 127.2696 --lat 41.5195",
    ),
    (["--lat", "41.65"], "lon/lat='127.269600,41.650000'", "pass --force-far"),
    (["--kind", "bridge"], "kind='bridge'", "use one of temporary_bridge"),
    (["--status", "gone"], "status='gone'", "use one of active"),
    (["--datum", "tokyo"], "datum='tokyo'", "use one of wgs84, gcj02, bd09"),
    (["--reliability", "G"], "reliability='G'", "use one of A, B"),
    (["--credibility", "9"], "credibility='9'", "use one of 1, 2"),
    (
        ["--event-start", "2025-11-20", "--event-end", "2025-11-02"],
        "event_end='2025-11-02'",
        "before event_start 2025-11-20: swap them",
    ),
    (["--reported", "2025-13-01"], "reported='2025-13-01'", "for example 2025-11-30"),
    (["--event-start", "Nov 2025"], "event_start='Nov 2025'", "YYYY-MM-DD"),
    (["--precision-m", "-3"], "uncertainty_m='-3'", "within [0, 100000]"),
    (["--url", "example.org"], "url='example.org'", "absolute URL"),
]


@pytest.mark.parametrize(("args", "named", "fix"), BAD_ADDS)
def test_bad_add_exits_1_with_the_field_value_and_fix(ws, w, args, named, fix):
    run("crossings", "add", *w, *GOOD)
    before = files(ws)
    res = run("crossings", "add", *w, *GOOD, *args)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.startswith("Error: ") and named in res.stderr and fix in res.stderr
    assert files(ws) == before


def test_force_far(ws, w):
    res = run("crossings", "add", *w, *GOOD, "--lat", "41.65", "--force-far")
    assert res.exit_code == 0 and res.stdout == "YLU-0001\n"
    res = run(
        "crossings", "add", *w, *GOOD, "--lat", "41.65", "--max-border-km", "12", "--allow-near"
    )
    assert res.exit_code == 0


def test_edits_and_unknown_ids(ws, w):
    run("crossings", "add", *w, *GOOD)
    before = files(ws)
    for args, message in [
        (["edit", "YLU-0042", "--kind", "ford"], "id='YLU-0042': no such crossing"),
        (["show", "YLU-0042"], "id='YLU-0042': no such crossing"),
        (["retire", "YLU-0042", "--reason", "x"], "id='YLU-0042'"),
        (["add-report", "YLU-0042", "--source", "x"], "id='YLU-0042'"),
        (["edit", "YLU-0001", "--kind", "zeppelin"], "kind='zeppelin': unknown code"),
        (["edit", "YLU-0001", "--lat", "95"], "lat='95'"),
        (["edit", "YLU-0001", "--report", "R9", "--notes", "x"], "report='R9'"),
        (["add-report", "YLU-0001", "--source", "x", "--credibility", "0"], "credibility='0'"),
        (["retire", "YLU-0001", "--reason", " "], "say why"),
    ]:
        res = run("crossings", *args, *w)
        assert res.exit_code == 1, (args, res.stderr)
        assert message in res.stderr and res.stdout == "", (args, res.stderr)
        assert files(ws) == before, args


def test_edit_report_retire_history_undo(ws, w, monkeypatch):
    monkeypatch.setenv("GEOTRACK_USER", "reviewer")
    run("crossings", "add", *w, *GOOD, "--reason", "first sighting")
    res = run("crossings", "edit", *w, "YLU-0001", "--status", "destroyed", "--reason", "imagery")
    assert (res.exit_code, res.stdout) == (0, "") and "edited YLU-0001" in res.stderr
    res = run(
        "crossings",
        "add-report",
        *w,
        "YLU-0001",
        "--source",
        "Daily NK",
        "--reported",
        "2026-01-05",
    )
    assert res.stdout == "R2\n"
    res = run("crossings", "edit", *w, "YLU-0001", "--report", "R2", "--verification", "verified")
    assert res.exit_code == 0
    res = run("crossings", "retire", *w, "YLU-0001", "--reason", "false report")
    assert res.exit_code == 0 and res.stdout == ""
    assert json.loads(run("crossings", "list", *w, "--json").stdout)["features"] == []
    assert len(json.loads(run("crossings", "list", *w, "--all", "--json").stdout)["features"]) == 1
    hist = [json.loads(x) for x in run("crossings", "history", *w, "--json").stdout.splitlines()]
    assert [h["op"] for h in hist] == ["add", "edit", "add-report", "edit", "retire"]
    assert [h["reason"] for h in hist][:2] == ["first sighting", "imagery"]
    assert {h["user"] for h in hist} == {"reviewer"}
    assert hist[1]["changes"][0]["before"]["properties"]["status"] == "unknown"
    assert hist[1]["changes"][0]["after"]["properties"]["status"] == "destroyed"
    table = run("crossings", "history", *w, "YLU-0001").stdout
    assert "retire" in table and "false report" in table
    res = run("crossings", "undo", *w)
    assert res.exit_code == 0 and "undid operation 5" in res.stderr and res.stdout == ""
    assert (
        json.loads(run("crossings", "show", *w, "YLU-0001", "--json").stdout)["properties"][
            "retired"
        ]
        is False
    )
    assert validate_workspace(ws) == []


# -- import ----------------------------------------------------------------------------------


def test_import_csv_from_a_file_and_geojson_from_stdin(ws, w, tmp_path):
    csv = tmp_path / "reports.csv"
    csv.write_text("lon;lat;kind;notes\n127.2696;41.5195;ford;a, b\n128.1778;41.4017;pontoon;\n")
    res = run("crossings", "import", *w, str(csv), "--set", "source_name=NK News", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["imported"], out["ids"], out["updated"]) == (2, ["YLU-0001", "YLU-0002"], 0)
    assert "read 2 record(s)" in res.stderr
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [127.27, 41.52]},
                "properties": {"kind": "cable", "source_name": "x"},
            }
        ],
    }
    res = run("crossings", "import", *w, "-", input=json.dumps(fc))
    assert res.exit_code == 0 and res.stdout == "YLU-0003\n"
    seq = "\n".join(json.dumps(f) for f in fc["features"] * 2)
    res = run("crossings", "import", *w, "-", "--format", "geojson", input=seq)
    assert res.stdout == "YLU-0004\nYLU-0005\n"
    entries = [json.loads(x) for x in run("crossings", "history", *w, "--json").stdout.splitlines()]
    assert [len(e["changes"]) for e in entries] == [2, 1, 2]
    assert entries[0]["reason"] == f"import of {csv}"


def _fc(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _pt(lon=127.2696, lat=41.5195, **props):
    props = {"kind": "ford", "source_name": "x", **props}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


BAD_IMPORTS = [
    ("not json", '{"type": "FeatureCollection", ', "is not valid JSON"),
    (
        "legacy crs",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [_pt()],
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
            }
        ),
        "crs='EPSG:3857': GeoJSON must be WGS 84",
    ),
    (
        "line",
        _fc(
            _pt(),
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[127, 41], [128, 42]]},
            },
        ),
        "geometry='LineString': crossings are Points",
    ),
    (
        "duplicate id",
        _fc({**_pt(), "id": "YLU-0001"}),
        "id='YLU-0001': a crossing with this id exists already: pass --update-existing",
    ),
    (
        "duplicate in file",
        _fc({**_pt(), "id": "YLU-0005"}, {**_pt(), "id": "YLU-0005"}),
        "duplicate id: also in feature 1",
    ),
    ("one bad row", _fc(_pt(), _pt(lat=95), _pt(kind="zeppelin")), "feature 2: lat=95"),
    ("nan", _fc(_pt(), _pt(lon="NaN")), "lon='NaN'"),
    ("far", _fc(_pt(), _pt(lat=41.65)), "feature 2: lon/lat='127.269600,41.650000'"),
    ("bad date", _fc(_pt(event_start="2025-11-31")), "event_start='2025-11-31'"),
    ("bad grade", _fc(_pt(reliability="Z", credibility=0)), "reliability='Z'"),
    ("bad datum", _fc(_pt(datum="osgb36")), "datum='osgb36'"),
    ("empty", _fc(), "no crossings to import"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_IMPORTS, ids=[b[0] for b in BAD_IMPORTS])
def test_bad_import_exits_1_and_changes_nothing(ws, w, name, text, message):
    run("crossings", "add", *w, *GOOD)
    before = files(ws)
    res = run("crossings", "import", *w, "-", input=text)
    assert res.exit_code == 1, res.stderr
    assert message in res.stderr and res.stdout == ""
    assert files(ws) == before


def test_import_far_points_with_force_far(ws, w):
    text = _fc(_pt(lat=41.65), _pt())
    assert run("crossings", "import", *w, "-", input=text).exit_code == 1
    res = run("crossings", "import", *w, "-", "--force-far", input=text)
    assert res.exit_code == 0 and res.stdout == "YLU-0001\nYLU-0002\n"


def test_bad_csv_rows_are_all_listed(ws, w, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "lon,lat,kind,source_name\n127.2696,41.5195,ford,a\n,41.5,ford,a\n"
        "127.2696,41.5195,zeppelin,a\n41.5195,127.2696,ford,a\n"
    )
    before = files(ws)
    res = run("crossings", "import", *w, str(csv))
    assert res.exit_code == 1
    err = res.stderr
    assert "3 problem(s); nothing was written:" in err
    assert "row 3: lon: is missing" in err and "row 4: kind='zeppelin'" in err
    assert "row 5: lat=127.2696: looks swapped" in err
    assert files(ws) == before


# -- usage errors: exit 2 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["crossings", "list", "--bogus"],
        ["crossings", "frobnicate"],
        ["crossings", "add", "--lon", "127.3"],  # --lat missing
        ["crossings", "import", "-", "--set", "kind"],
        ["crossings", "edit", "YLU-0001", "--notes", "x"],  # a report field without --report
        ["crossings", "import", "-", "--format", "shp"],
    ],
)
def test_bad_usage_exits_2(ws, w, args):
    before = files(ws)
    res = run(*args, *w, input="")
    assert res.exit_code == 2, res.stderr
    assert res.stdout == "" and "Error" in res.stderr
    assert files(ws) == before


# -- as real processes ---------------------------------------------------------------------------


def test_subprocess_round_trip(ws):
    w = ["-w", str(ws.path)]
    res = sh("crossings", "add", *w, *GOOD, "--notes", HOSTILE)
    assert (res.returncode, res.stdout) == (0, b"YLU-0001\n")
    assert res.stderr == b"YLU-0001 at km 55.2, CN bank, 812 m from the line\n"  # where it is
    fc = _fc(_pt(128.1778, 41.4017, notes=HOSTILE))
    res = sh("crossings", "import", *w, "-", "--json", input=fc.encode())
    assert res.returncode == 0 and json.loads(res.stdout)["ids"] == ["YLU-0002"]
    doc = json.loads(sh("crossings", "list", *w, "--json").stdout)
    assert [f["properties"]["reports"][0]["notes"] for f in doc["features"]] == [HOSTILE] * 2
    res = sh("crossings", "add", *w, *GOOD, "--lat", "95")
    assert res.returncode == 1 and res.stdout == b""
    assert b"lat='95'" in res.stderr and b"Traceback" not in res.stderr
    res = sh("crossings", "list", *w, "--bogus")
    assert res.returncode == 2 and res.stdout == b""
    res = sh(
        "crossings",
        "add",
        *w,
        *GOOD,
        "--source",
        "bad \xff bytes".encode("latin-1").decode("utf-8", "surrogateescape"),
    )
    assert (
        res.returncode == 1 and b"lone surrogate" in res.stderr and b"Traceback" not in res.stderr
    )
    assert len(json.loads(sh("crossings", "list", *w, "--json").stdout)["features"]) == 2


def test_processes_adding_at_once_through_the_cli(ws):
    w = ["-w", str(ws.path)]
    env = {**os.environ, "GEOTRACK_USER": "tester"}
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "geotrack", "crossings", "add", *w, *GOOD),
                *("--notes", f"p{i}", "--allow-near"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for i in range(5)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, [e for _, e in outs]
    ids = sorted(o.decode().strip() for o, _ in outs)
    assert ids == [f"YLU-{i:04d}" for i in range(1, 6)]
    notes = {f["properties"]["reports"][0]["notes"] for f in ws.read_crossings()}
    assert notes == {f"p{i}" for i in range(5)}
    assert len(list(ws.crossings.history())) == 5
    assert validate_workspace(ws) == []


# -- a writer killed mid-write --------------------------------------------------------------------

N_BIG = 4000


def _big_csv(ws: Workspace, path: Path) -> None:
    line = ws.stretch.line_wgs84
    rng = random.Random(7)
    rows = ["lon,lat,kind,source_name,notes,synthetic"]
    for i in range(N_BIG):
        p = line.interpolate(rng.random(), normalized=True)
        rows.append(f"{p.x:.6f},{p.y:.6f},ford,Synthetic source,synthetic row {i},true")
    path.write_text("\n".join(rows) + "\n")


def _wait_for(cond, proc, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None and not cond():
        time.sleep(0.0005)


def test_writer_killed_mid_write_leaves_the_previous_layer_intact(ws, tmp_path):
    big = tmp_path / "big.csv"
    _big_csv(ws, big)
    w = ["-w", str(ws.path)]
    assert sh("crossings", "add", *w, *GOOD, "--allow-near").returncode == 0
    hist = ws.crossings.history_path
    rng = random.Random(11)
    # when to kill: as soon as the history grows (mid-append or just after: the WAL case),
    # as soon as the new layer's temporary file appears, or at a random moment
    moments = ["history", "tempfile", "random", "history", "tempfile", "random"]
    killed_mid_write = 0
    for moment in moments:
        layer_before, hist_before = files(ws)
        n_before = len(ws.read_crossings())
        proc = subprocess.Popen(
            [sys.executable, "-m", "geotrack", "crossings", "import", *w, str(big)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if moment == "history":
            n_hist = len(hist_before)
            _wait_for(lambda n=n_hist: hist.stat().st_size != n, proc)
        elif moment == "tempfile":
            _wait_for(lambda: bool(ws.crossings.stray_temp_files()), proc)
        else:
            time.sleep(rng.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.returncode == -signal.SIGKILL and moment != "random":
            killed_mid_write += 1
        # readers see the old layer or the new one, never half of one
        layer_now = ws.crossings.path.read_bytes()
        doc = json.loads(layer_now)
        assert layer_now == layer_before or len(doc["features"]) == n_before + N_BIG
        # the lock died with its holder
        lock = filelock.FileLock(ws.crossings.lock_path, timeout=5)
        lock.acquire()
        lock.release()
        res = sh("validate", *w, "--json")
        report = json.loads(res.stdout)
        assert res.returncode == 0 and report["valid"], report
        assert report["crossings"] in (n_before, n_before + N_BIG)  # all or nothing
        assert ws.crossings.stray_temp_files() == []
        assert ws.crossings.replay() == {
            f["id"]: f for f in ws.read_crossings(include_retired=True)
        }
    assert killed_mid_write >= 2  # the kills did land while writing
    res = sh("crossings", "add", *w, *GOOD, "--allow-near")
    assert res.returncode == 0
    assert validate_workspace(Workspace.open(ws.path)) == []
