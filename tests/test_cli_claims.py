"""``geotrack claims``: in-process with click's CliRunner and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli

RECORD = Path(__file__).resolve().parents[1] / "data" / "public_record" / "claims.csv"
ESC = "\x1b[2J\x1b]0;pwned\x07"
HOSTILE = f"</script><b>${{x}}</b>`id`'\"\u202e {ESC} 🚣 압록강"
ADD = [
    "claims",
    "add",
    "--claimed-by",
    "Test analyst (made up)",
    "--count",
    "5",
    "--qualifier",
    "at least",
    "--counties",
    "Hyesan;Pochon",
    "--stated-length",
    "30",
    "--unit",
    "km",
    "--publisher",
    "Test outlet",
    "--url",
    "https://example.org/a",
    "--published",
    "2025-12-09",
]


def run(*args: str, input: str | bytes | None = None):
    res = CliRunner().invoke(cli, list(args), input=input)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res


@pytest.fixture
def w(ws) -> list[str]:
    return ["-w", str(ws.path)]


def _files(ws):
    return tuple(
        p.read_bytes() if p.exists() else b"" for p in (ws.claims.path, ws.claims.history_path)
    )


def test_add_prints_the_id_and_list_json_is_geojson(ws, w):
    res = run(*ADD[:2], *w, *ADD[2:])
    assert res.exit_code == 0 and res.stdout == "C1\n"
    doc = json.loads(run("claims", "list", *w, "--json").stdout)
    (f,) = doc["features"]
    assert f["geometry"]["type"] == "LineString"
    assert f["properties"]["relays"][0]["counties"] == ["Hyesan", "Pochon"]
    table = run("claims", "list", *w).stdout
    assert "≥5 · Test analyst (made up) · 2025-12-09" in table and "207.1–238.7" in table


def test_add_relay_show_conflict_edit_retire_undo_history(ws, w):
    run(*ADD[:2], *w, *ADD[2:])
    res = run(
        "claims",
        "add-relay",
        *w,
        "C1",
        "--publisher",
        "Other",
        "--url",
        "https://example.org/b",
        "--stated-length",
        "35",
        "--unit",
        "km",
        "--count",
        "5",
        "--qualifier",
        "exact",
    )
    assert res.exit_code == 0 and res.stdout == "C1-R2\n"
    shown = run("claims", "show", *w, "C1").stdout
    assert "conflict in stated_length: 30 km (C1-R1); 35 km (C1-R2)" in shown
    assert "conflict in count_qualifier" in shown
    assert run("claims", "edit", *w, "C1", "--chainage", "200:230").exit_code == 0
    assert "200.000–230.000" in run("claims", "show", *w, "C1").stdout
    assert run("claims", "edit", *w, "C1", "--relay", "C1-R2", "--quote", "q").exit_code == 0
    assert run("claims", "retire", *w, "C1", "--reason", "test").exit_code == 0
    assert run("claims", "list", *w).stdout.count("C1") == 0
    assert run("claims", "undo", *w).exit_code == 0
    hist = json.loads(run("claims", "history", *w, "C1", "--json").stdout)
    assert [e["op"] for e in hist] == ["add", "add-relay", "edit", "edit", "retire", "undo"]
    assert run("validate", *w).exit_code == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--count", "0"], "count"),
        (["--qualifier", "roughly"], "count_qualifier"),
        (["--unit", "furlong"], "stated_unit"),
        (["--stated-length", "ninety"], "stated_length"),
        (["--counties", "Atlantis"], "area.counties"),
        (["--url", "not a url"], "url"),
    ],
)
def test_bad_values_exit_1_name_the_field_and_write_nothing(ws, w, args, field):
    before = _files(ws)
    argv = list(ADD)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        argv[argv.index(flag) + 1] = value
    res = run(*argv[:2], *w, *argv[2:])
    assert res.exit_code == 1 and f"{field}=" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert _files(ws) == before


def test_usage_errors_exit_2(ws, w):
    res = run(*ADD[:2], *w, *ADD[2:], "--chainage", "1:2")
    assert res.exit_code == 2 and "give one area" in res.stderr
    run(*ADD[:2], *w, *ADD[2:])
    res = run("claims", "edit", *w, "C1", "--relay", "C1-R1", "--counties", "Hyesan")
    assert res.exit_code == 2
    res = run("claims", "edit", *w, "C1", "--url", "https://example.org/c")
    assert res.exit_code == 2 and "--relay" in res.stderr


def test_relay_for_missing_claim_exits_1(ws, w):
    res = run("claims", "add-relay", *w, "C7", "--publisher", "X", "--url", "https://e.org/")
    assert res.exit_code == 1 and "claim='C7'" in res.stderr


def test_import_the_record_csv_from_stdin_lists_c3_area_problem(ws, w):
    before = _files(ws)
    res = run("claims", "import", *w, "-", input=RECORD.read_bytes())
    assert (
        res.exit_code == 1
        and "claim C3" in res.stderr
        and "area: " in res.stderr
        and "area=None" not in res.stderr
    )
    assert _files(ws) == before


def test_import_with_area_columns(ws, w, tmp_path):
    lines = RECORD.read_text(encoding="utf-8").splitlines()
    head = lines[0] + ",area_kind,area_beyond"
    body = [ln + (",beyond,upstream" if ln.startswith("C3,") else ",,") for ln in lines[1:]]
    src = tmp_path / "claims.csv"
    src.write_text("\n".join([head, *body]) + "\n", encoding="utf-8")
    res = run("claims", "import", *w, str(src), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == {
        "imported": 3,
        "ids": ["C1", "C2", "C3"],
    }
    shown = run("claims", "show", *w, "C3").stdout
    assert "beyond, resolved to chainage 0.000–305.607 km" in shown


def test_hostile_text_is_inert_on_the_terminal(ws, w):
    argv = list(ADD)
    argv[argv.index("--claimed-by") + 1] = HOSTILE
    res = run(*argv[:2], *w, *argv[2:], "--what", HOSTILE, "--quote", HOSTILE, "--notes", HOSTILE)
    assert res.exit_code == 0
    for cmd in (["list"], ["show", "C1"], ["history"]):
        out = run("claims", *cmd, *w).stdout
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    doc = json.loads(run("claims", "show", *w, "C1", "--json").stdout)
    assert doc["properties"]["claimed_by"] == HOSTILE


def test_as_a_real_process(ws):
    env = {**os.environ, "GEOTRACK_USER": "tester"}
    res = subprocess.run(
        [sys.executable, "-m", "geotrack", *ADD[:2], "-w", str(ws.path), *ADD[2:]],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0 and res.stdout == b"C1\n"
    res = subprocess.run(
        [sys.executable, "-m", "geotrack", "claims", "show", "-w", str(ws.path), "C9"],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 1 and b"no such claim" in res.stderr and b"Traceback" not in res.stderr


def test_concurrent_relay_writers_queue_and_lose_nothing(ws):
    run(*ADD[:2], "-w", str(ws.path), *ADD[2:])
    env = {**os.environ, "GEOTRACK_USER": "tester"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "geotrack", "claims", "add-relay", "-w", str(ws.path), "C1",
             "--publisher", f"Outlet {i}", "--url", f"https://example.org/{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for i in range(4)
    ]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    relays = ws.read_claims()[0]["properties"]["relays"]
    assert sorted(r["publisher"] for r in relays[1:]) == [f"Outlet {i}" for i in range(4)]
    assert len({r["relay_id"] for r in relays}) == 5
    assert [e.op for e in ws.claims.history()] == ["add"] + ["add-relay"] * 4
    assert run("validate", "-w", str(ws.path)).exit_code == 0


def test_undo_with_nothing_to_undo_points_to_the_claims_history(ws, w):
    res = run("claims", "undo", *w)
    assert res.exit_code == 1 and "no change left to undo" in res.stderr
    assert "`geotrack claims history`" in res.stderr and "crossings" not in res.stderr
