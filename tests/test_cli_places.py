"""``geotrack places`` and placing crossings from words on the command line.

``test_every_site_report_can_be_recorded_from_its_words`` records each row of the
project's copy of the public record, ``data/public_record/site_reports.csv`` (compiled
2026-12-02, each row with its publisher and URL; see ``data/public_record/README.md``),
with the options its words allow and no invented coordinate.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.records import validate_workspace

SITE_REPORTS = Path(__file__).parents[1] / "data" / "public_record" / "site_reports.csv"


def run(*args: str):
    res = CliRunner().invoke(cli, list(args))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res


@pytest.fixture
def w(ws) -> list[str]:
    return ["-w", str(ws.path)]


def test_places_add_and_list(ws, w):
    res = run(
        "places", "add", *w, "Example-ri", "--name-local", "예시리", "--country", "KP",
        "--lon", "128.1", "--lat", "41.38", "--source", "synthetic example",
    )  # fmt: skip
    assert (res.exit_code, res.stdout) == (0, "PL-0001\n"), res.stderr
    res = run("places", "add", *w, "example", "--lon", "128.11", "--lat", "41.385", "--source", "s")
    assert res.exit_code == 0 and "same name as Example-ri" in res.stderr
    doc = json.loads(run("places", "list", *w, "--json").stdout)
    ids = [f["id"] for f in doc["features"]]
    assert "town:Hyesan (Ryanggang capital)" in ids and ids[-2:] == ["PL-0001", "PL-0002"]
    hyesan = next(f for f in doc["features"] if f["id"].startswith("town:Hyesan"))
    assert hyesan["properties"]["chainage_km"] == pytest.approx(206.82, abs=0.005)
    table = run("places", "list", *w)
    assert table.exit_code == 0 and "혜산" in table.stdout and "14 place(s)" in table.stderr
    # the two same-named places are ambiguous by name, not by id
    res = run("crossings", "add", *w, "--near", "Example-ri", "--kind", "ford", "--source", "x")
    assert res.exit_code == 1 and "ambiguous" in res.stderr and "PL-0002" in res.stderr
    res = run("crossings", "add", *w, "--near", "PL-0002", "--kind", "ford", "--source", "x")
    assert res.exit_code == 0, res.stderr
    before = ws.places.path.read_bytes()
    res = run("places", "add", *w, "Bad", "--lon", "41.38", "--lat", "128.1", "--source", "s")
    assert res.exit_code == 1 and "looks swapped" in res.stderr and "Traceback" not in res.stderr
    assert ws.places.path.read_bytes() == before


def test_add_says_where_the_site_is(ws, w):
    res = run(
        "crossings", "add", *w, "--km-from", "Hyesan", "--km", "10", "--downstream",
        "--kind", "ice_road", "--source", "ASIAPRESS",
    )  # fmt: skip
    assert res.exit_code == 0 and res.stdout == "YLU-0001\n"
    assert res.stderr.startswith("YLU-0001 somewhere on km 194.8–198.8 (10 km downstream of Hyesan")
    res = run("crossings", "add", *w, "--at", "128.186804,41.411114", "--kind", "ford",
              "--source", "AccessDPRK")  # fmt: skip
    assert res.stderr == "YLU-0002 at km 208.1, KP bank, 62 m from the line\n"
    show = run("crossings", "show", *w, "YLU-0001").stdout
    assert "YLU-0001 somewhere on km 194.8–198.8" in show and "[an inference]" in show
    assert "km 208.1, KP bank" in run("crossings", "list", *w).stdout


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--kind", "ford", "--source", "x"], 2, "say where the site is"),
        (["--lon", "128.1", "--kind", "ford", "--source", "x"], 2, "both --lon and --lat"),
        (["--near", "Hyesun", "--kind", "ford", "--source", "x"], 1, "did you mean Hyesan"),
        (["--at", "128.1,41.4", "--near", "Hyesan", "--kind", "ford", "--source", "x"], 1, "not both"),
        (["--county", "Kapsan", "--kind", "ford", "--source", "x"], 1, "has no riverfront"),
        (["--reach", "230..200", "--kind", "ford", "--source", "x"], 1, "is reversed"),
        (["--km-from", "Hyesan", "--km", "400", "--upstream", "--kind", "ford", "--source", "x"],
         1, "runs off the stretch"),
        (["--near", "Hyesan", "--kind", "ford", "--source", "x", "--reported", "2205-01-01"],
         1, "reported='2205-01-01': is after today"),
    ],
)  # fmt: skip
def test_bad_placements_exit_with_a_message_and_write_nothing(ws, w, args, code, words):
    before = ws.crossings.path.read_bytes()
    res = run("crossings", "add", *w, *args)
    assert res.exit_code == code and words in res.stderr and "Traceback" not in res.stderr
    assert res.stdout == "" and ws.crossings.path.read_bytes() == before


def test_add_refuses_a_near_duplicate_unless_allowed(ws, w):
    run("crossings", "add", *w, "--near", "Hyesan", "--kind", "ford", "--source", "x")
    res = run(
        "crossings", "add", *w, "--reach", "Hyesan..Changbai", "--kind", "ford", "--source", "y"
    )
    assert res.exit_code == 1 and "may be YLU-0001" in res.stderr
    assert "add-report YLU-0001" in res.stderr and "--allow-near" in res.stderr
    res = run("crossings", "add", *w, "--reach", "Hyesan..Changbai", "--kind", "ford",
              "--source", "y", "--allow-near")  # fmt: skip
    assert res.exit_code == 0 and res.stdout == "YLU-0002\n"


def test_edit_places_a_site_from_words(ws, w):
    run("crossings", "add", *w, "--near", "Hyesan", "--kind", "ford", "--source", "x")
    res = run("crossings", "edit", *w, "YLU-0001", "--county", "Samjiyon", "--county", "Pochon")
    assert res.exit_code == 0 and "somewhere on km 221.9–305.6" in res.stderr
    p = ws.read_crossings()[0]["properties"]
    assert (p["placement"], p["chainage_from_km"], p["chainage_to_km"]) == (
        "county",
        221.9,
        305.607,
    )


#: How each site report's words place it: the options an investigator would give.
_WORDS = {
    # the one printed coordinate (a Google Earth analysis: WGS 84)
    "S1": ["--at", "{lon_as_printed},{lat_as_printed}", "--kind", "ford", "--event-start", "2023-08"],
    # "10 km downstream of Hyesan" (the place name, Sinpa/Kimjongsuk, disagrees: see notes)
    "S2": ["--km-from", "Hyesan", "--km", "10", "--downstream", "--kind", "ice_road"],
    # "a little downstream of Hyesan": within 5 km downstream, said as 2.5 ± 2.5 km
    "S3": ["--km-from", "Hyesan", "--km", "2.5", "--plus-minus-km", "2.5", "--downstream",
           "--kind", "other"],
    # Songjon-ri is not in the gazetteer and has no printed coordinate: its county
    "S4": ["--county", "{county}", "--kind", "ferry_boat"],
    # Hwajeon village in Bocheon (Pochon) county: its county
    "S5": ["--county", "{county}", "--kind", "other"],
    # "between Hwajeon-ri in Hyesan and Bocheon": Hyesan to Poch'on-up (보천)
    "S6": ["--reach", "Hyesan..보천", "--kind", "other"],
    # "a section of the Yalu between Hyesan and Changbai"
    "S7": ["--reach", "Hyesan..Changbai", "--kind", "other"],
    # "the border areas of Samjiyon and Pochon"
    "S8": ["--county", "Samjiyon", "--county", "Pochon", "--kind", "other"],
}  # fmt: skip


def test_every_site_report_can_be_recorded_from_its_words(ws, w):
    with SITE_REPORTS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["report_id"] for r in rows) == sorted(_WORDS)  # a new row needs its words
    for r in rows:
        args = [a.format(**r) for a in _WORDS[r["report_id"]]]
        if r["published"]:
            args += ["--reported", r["published"]]
        args += [
            "--source",
            r["publisher"],
            "--url",
            r["url"],
            "--as-printed",
            r["place_as_printed"],
        ]
        res = run("crossings", "add", *w, *args, "--allow-near", "--notes", r["notes"] or "-")
        assert res.exit_code == 0, (r["report_id"], res.stderr)
    feats = ws.read_crossings()
    assert len(feats) == len(rows)
    by_printed = {f["properties"]["place_as_printed"]: f["properties"] for f in feats}
    for r in rows:
        p = by_printed[r["place_as_printed"]]
        if r["lat_as_printed"]:
            assert (p["original_lat"], p["original_lon"]) == (
                float(r["lat_as_printed"]),
                float(r["lon_as_printed"]),
            )
            assert (p["placement"], p["location_precision"]) == ("coordinate", "exact")
        else:  # nothing invented: no coordinate, a spread or a radius instead
            assert p["original_lon"] is None and p["placement"] != "coordinate"
            assert p["chainage_from_km"] is not None or p["placement"] == "near_place"
    assert validate_workspace(ws) == []


def test_import_places_sites_from_word_columns(ws, w, tmp_path):
    src = tmp_path / "words.csv"
    src.write_text(
        "kind,source_name,near,km_from,km,direction,reach,county,bank,place_as_printed\n"
        "ford,A,Hyesan,,,,,,KP,near Hyesan\n"
        "ice_road,B,,Hyesan,10,downstream,,,,10 km downstream of Hyesan\n"
        "other,C,,,,,Hyesan..Changbai,,,between Hyesan and Changbai\n"
        'other,D,,,,,,"Samjiyon;Pochon",,the border areas of Samjiyon and Pochon\n',
        encoding="utf-8",
    )
    res = run("crossings", "import", *w, str(src))
    assert res.exit_code == 0, res.stderr
    feats = {f["properties"]["place_as_printed"]: f["properties"] for f in ws.read_crossings()}
    assert feats["near Hyesan"]["bank"] == "KP"
    assert feats["near Hyesan"]["chainage_km"] == pytest.approx(206.82, abs=0.005)
    assert feats["10 km downstream of Hyesan"]["chainage_from_km"] == pytest.approx(
        194.82, abs=0.005
    )
    assert feats["the border areas of Samjiyon and Pochon"]["chainage_to_km"] == 305.607
    assert all(p["reports"][0].get("extra") is None for p in feats.values())
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,source_name,near\nford,A,Nowhere\n", encoding="utf-8")
    before = ws.crossings.path.read_bytes()
    res = run("crossings", "import", *w, str(bad))
    assert res.exit_code == 1 and "row 2" in res.stderr and "near='Nowhere'" in res.stderr
    assert ws.crossings.path.read_bytes() == before


def test_as_real_processes(ws):
    import os
    import subprocess
    import sys

    def sh(*args):
        env = {**os.environ, "GEOTRACK_USER": "tester"}
        return subprocess.run(
            [sys.executable, "-m", "geotrack", *args, "-w", str(ws.path)],
            capture_output=True,
            env=env,
            timeout=120,
        )

    res = sh("crossings", "add", "--near", "김정숙", "--kind", "ford", "--source", "x")
    assert (res.returncode, res.stdout) == (0, b"YLU-0001\n")
    assert res.stderr.decode().startswith("YLU-0001 near Kimjongsuk-up (km 125.7), within 2 km")
    doc = json.loads(sh("places", "list", "--json").stdout)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 12
    res = sh("crossings", "add", "--near", "Nowhere", "--kind", "ford", "--source", "x")
    assert res.returncode == 1 and b"Traceback" not in res.stderr and res.stdout == b""
