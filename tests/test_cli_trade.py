"""Tests for ``geotrack trade``: in-process with click's CliRunner, and one as a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tws(ws: Workspace) -> Workspace:
    """A fresh workspace holding the shipped trade table and events."""
    shutil.copy(ROOT / "layers" / "trade.csv", ws.path / "trade.csv")
    shutil.copy(ROOT / "layers" / "events.csv", ws.path / "events.csv")
    return ws


def run(ws: Workspace, *args: str):
    sub = args[0]
    rest = list(args[1:])
    # --workspace belongs to the leaf command: put it after the subcommand path.
    if sub == "events":
        cmd = ["trade", "events", rest[0], "-w", str(ws.path), *rest[1:]]
    else:
        cmd = ["trade", sub, "-w", str(ws.path), *rest]
    return CliRunner().invoke(cli, cmd, catch_exceptions=False)


def _state(ws: Workspace) -> dict[str, bytes | None]:
    return {
        n: (ws.path / n).read_bytes() if (ws.path / n).exists() else None
        for n in ("trade.csv", "trade_history.jsonl", "events.csv")
    }


def test_trade_is_registered():
    res = CliRunner().invoke(cli, ["trade", "--help"])
    assert res.exit_code == 0
    for sub in ("list", "import", "conflicts", "check-claim", "join", "chart", "events"):
        assert sub in res.output


def test_list_json_shows_gaps_and_every_row(tws):
    res = run(tws, "list", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["rows"] == 131 and doc["annual_rows"] == 5 and "Figure chosen" in doc["rule"]
    assert "2019-11" in doc["gaps"] and len(doc["gaps"]) == 16
    months = {m["period"]: m for m in doc["months"]}
    assert months["2019-11"]["gap"] is True and months["2019-11"]["rows"] == []
    nov = months["2025-11"]
    jd = next(r for r in nov["rows"] if r["source"] == "Korea JoongAng Daily")
    assert (jd["total_trade"], jd["cn_exports_to_kp"], jd["cn_imports_from_kp"]) == (
        "281",
        "244",
        "37.1",
    )
    assert set(jd["chosen_for"]) == {"total_trade", "cn_exports_to_kp", "cn_imports_from_kp"}
    sep = months["2025-09"]
    assert {r["cn_imports_from_kp"] for r in sep["rows"]} >= {"63.6", "43"}
    assert any(c["flow"] == "cn_imports_from_kp" for c in sep["conflicts"])


def test_list_human_marks_gaps_conflicts_and_rule(tws):
    res = run(tws, "list", "--from", "2025-05", "--to", "Nov 2025")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert any(line.startswith("2025-06") and "gap" in line for line in lines)
    assert any(line.startswith("2025-09") and "43 !*" in line for line in lines)
    assert any(
        line.startswith("2025-09") and "63.6 !" in line and "!*" not in line for line in lines
    )
    assert "Figure chosen" in res.output
    bad = run(tws, "list", "--from", "2025-11", "--to", "2025-01")
    assert bad.exit_code == 2 and "swap" in bad.output


def test_import_good_file(tws, tmp_path):
    f = tmp_path / "gacc.csv"
    f.write_text('Month,Total\n2025年12月,"300,500"\n', encoding="utf-8")
    args = ["import", str(f), "--mapping", "period=Month", "--mapping", "total_trade=Total",
            "--source", "GACC (test)", "--currency", "USD", "--unit", "thousand"]  # fmt: skip
    dry = run(tws, *args, "--dry-run")
    assert dry.exit_code == 0 and "would add 1 row(s): T0137" in dry.output
    assert "nothing written" in dry.output
    res = run(tws, *args, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["added"][0]["total_trade"] == "300.5"  # 300,500 thousand
    assert doc["added"][0]["source"] == "GACC (test)"


def test_import_bad_file_exit_1_names_row_and_column(tws, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(
        "period,total_trade,currency,unit,source\n2025-12,-5,USD,million,A\nDecember,5,USD,million,A\n",
        encoding="utf-8",
    )
    state = _state(tws)
    res = run(tws, "import", str(f))
    assert res.exit_code == 1
    assert "row 2: total_trade='-5'" in res.output and "negative" in res.output
    assert "row 3: period='December'" in res.output
    assert _state(tws) == state


def test_import_conflict_and_prefer(tws, tmp_path):
    f = tmp_path / "sep.csv"
    f.write_text("period,cn_imports_from_kp\n2025-09,45\n", encoding="utf-8")
    common = ["--source", "GACC", "--currency", "USD", "--unit", "million"]
    res = run(tws, "import", str(f), *common, "--prefer", "GACC")
    assert res.exit_code == 0, res.output
    assert "conflicts with figures held" in res.output and "63.6" in res.output
    assert "recorded: 2025-09 cn_imports_from_kp (USD) uses T0137" in res.output
    out = run(tws, "conflicts", "--json")
    c = next(
        c
        for c in json.loads(out.output)["conflicts"]
        if (c["period"], c["flow"]) == ("2025-09", "cn_imports_from_kp")
    )
    assert c["chosen_row_id"] == "T0137" and len(c["figures"]) == 3
    ignored = run(tws, "conflicts", "--json", "--ignore-recorded")
    c2 = next(
        c
        for c in json.loads(ignored.output)["conflicts"]
        if (c["period"], c["flow"]) == ("2025-09", "cn_imports_from_kp")
    )
    assert c2["chosen_row_id"] != "T0137"


def test_import_bad_mapping_is_usage_error(tws, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("period,total_trade\n2025-12,1\n", encoding="utf-8")
    res = run(tws, "import", str(f), "--mapping", "nonsense")
    assert res.exit_code == 2 and "FIELD=COLUMN" in res.output


def test_conflicts_human_lists_sep_2025(tws):
    res = run(tws, "conflicts")
    assert res.exit_code == 0
    line = next(x for x in res.output.splitlines() if x.startswith("2025-09 cn_imports_from_kp"))
    assert "63.6 (Korea JoongAng Daily" in line and "43 (Newsis" in line and "[chosen]" in line
    pref = run(tws, "conflicts", "--prefer-source", "JoongAng")
    line = next(x for x in pref.output.splitlines() if x.startswith("2025-09 cn_imports_from_kp"))
    assert "63.6 (Korea JoongAng Daily, 2025-12-19) [chosen]" in line


def test_check_claim(tws):
    res = run(tws, "check-claim", "--month", "2025-11", "--highest-since", "2019-10")
    assert res.exit_code == 0, res.output
    assert "The series agrees" in res.output and "287" in res.output and "281" in res.output
    assert "Not checked" in res.output and "2019-11" in res.output
    js = run(tws, "check-claim", "--month", "Nov 2025", "--highest-since", "Oct 2019", "--json")
    doc = json.loads(js.output)
    assert doc["verdict"] == "agrees" and doc["since_figure"]["value"] == 287
    no = run(tws, "check-claim", "--month", "2025-11", "--highest-since", "2019-10",
             "--flow", "cn_exports_to_kp")  # fmt: skip
    assert no.exit_code == 1 and "disagrees" in no.output and "2019-12" in no.output


def test_join_csv_and_json(tws, tmp_path):
    tws_cross = tws.path / "crossings.geojson"
    assert tws_cross.exists()
    out = tmp_path / "join.csv"
    res = run(tws, "join", "--from", "2025-08", "--to", "2025-11", "-o", str(out))
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r["period"] for r in rows] == ["2025-08", "2025-09", "2025-10", "2025-11"]
    nov = rows[-1]
    assert (nov["total_trade"], nov["cn_exports_to_kp"], nov["cn_imports_from_kp"]) == (
        "281",
        "244",
        "37.1",
    )
    assert rows[1]["events"] == "Kim–Xi summit (Beijing)"
    assert rows[1]["cn_imports_from_kp_flags"] == "conflict"
    again = run(tws, "join", "-o", str(out))
    assert again.exit_code == 2 and "--overwrite" in again.output
    js = run(tws, "join", "--json", "--from", "2025-11")
    doc = json.loads(js.output)
    assert doc["months"][0]["total_trade"] == 281 and "UTC" in doc["month_rule"]


def test_join_counts_recorded_crossings(tws):
    add = CliRunner().invoke(
        cli,
        ["crossings", "add", "-w", str(tws.path), "--lon", "127.2696", "--lat", "41.5195",
         "--kind", "pontoon", "--source", "Test source (made up for a unit test)",
         "--reported", "2025-11-30", "--event-start", "2025-10", "--event-end", "2025-11",
         "--reliability", "B", "--credibility", "3", "--synthetic"],
    )  # fmt: skip
    assert add.exit_code == 0, add.output
    res = run(tws, "join", "--json", "--from", "2025-09", "--to", "2025-12")
    months = {m["period"]: m for m in json.loads(res.output)["months"]}
    assert months["2025-11"]["crossings_first_reported"] == 1
    assert months["2025-11"]["reports_received"] == 1
    assert months["2025-11"]["synthetic_first_reported"] == 1
    assert [months[p]["reports_active"] for p in ("2025-09", "2025-10", "2025-11", "2025-12")] == [
        0,
        1,
        1,
        0,
    ]


def test_chart_svg_and_spec(tws, tmp_path):
    svg = tmp_path / "trade.svg"
    res = run(tws, "chart", "-o", str(svg), "--from", "2023-01")
    assert res.exit_code == 0, res.output
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    spec = tmp_path / "trade.json"
    assert run(tws, "chart", "-o", str(spec)).exit_code == 0
    doc = json.loads(spec.read_text(encoding="utf-8"))
    assert any(
        d.get("period") == "2025-11" and d.get("flow") == "total_trade" and d.get("value") == 281
        for d in doc["data"]["values"]
    )
    bad = run(tws, "chart", "-o", str(tmp_path / "x.png"), "--fx", "CNY=0.14")
    assert bad.exit_code == 2 and "--fx-source" in bad.output
    assert run(tws, "chart", "-o", str(tmp_path / "x.gif")).exit_code == 2


def test_events_commands(tws):
    res = run(tws, "events", "list", "--json")
    assert [e["event_id"] for e in json.loads(res.output)] == ["E1"]
    add = run(tws, "events", "add", "--date", "2025-10-10", "--label", "Parade",
              "--source", "Test source, made up")  # fmt: skip
    assert add.exit_code == 0 and add.output.strip() == "E2"
    assert "Parade" in run(tws, "events", "list").output
    rm = run(tws, "events", "remove", "E2", "--reason", "test")
    assert rm.exit_code == 0 and "removed E2" in rm.output
    missing = run(tws, "events", "remove", "E7")
    assert missing.exit_code == 1 and "no such event" in missing.output
    bad = run(tws, "events", "add", "--date", "September", "--label", "x", "--source", "y")
    assert bad.exit_code == 1 and "date=" in bad.output


def test_subprocess_trade_list_json(tws):
    exe = Path(sys.executable).with_name("geotrack")
    env = {k: v for k, v in os.environ.items() if k != "GEOTRACK_WORKSPACE"}
    proc = subprocess.run(
        [str(exe), "trade", "list", "--json", "--workspace", str(tws.path)],
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    doc = json.loads(proc.stdout)
    nov = next(m for m in doc["months"] if m["period"] == "2025-11")
    assert any(r["total_trade"] == "281" for r in nov["rows"])
    assert proc.stderr == b""
