"""``geotrack crossings import``: column mapping, extra policy, capped problems, dry run, ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.cli.main import cli
from geotrack.errors import ProblemList, UsageError
from geotrack.importers.fields import MAX_EXTRA_KEYS, ColumnMapper, FieldSet, parse_mapping
from geotrack.importers.prepare import CROSSING_FIELDS

A = ("127.2696", "41.5195")
B = ("128.1778", "41.4017")


def run(*args: str, input: str | bytes | None = None):
    res = CliRunner().invoke(cli, list(args), input=input)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res


@pytest.fixture
def w(ws) -> list[str]:
    return ["-w", str(ws.path)]


def files(ws) -> tuple[bytes, bytes]:
    hist = ws.crossings.history_path
    return ws.crossings.path.read_bytes(), hist.read_bytes() if hist.exists() else b""


def csv_file(tmp_path, text: str, name: str = "in.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


# -- columns and fields ------------------------------------------------------------------------


def test_aliases_and_case_insensitive_names_in_csv(ws, w, tmp_path):
    path = csv_file(
        tmp_path,
        "Longitude,LATITUDE,Type,Source,Date,Event-Start,Precision_M\n"
        f"{A[0]},{A[1]},Ford,NK News,2025-12-16,2025-10,250\n",
    )
    res = run("crossings", "import", *w, path, "--json")
    assert res.exit_code == 0, res.stderr
    (f,) = ws.read_crossings()
    p, r = f["properties"], f["properties"]["reports"][0]
    assert (p["kind"], p["uncertainty_m"]) == ("ford", 250.0)
    assert (r["source_name"], r["reported"], r["event_start"]) == (
        "NK News",
        "2025-12-16",
        "2025-10-01",
    )
    assert r["extra"] is None
    summary = json.loads(res.stdout)["summary"]
    assert summary["mapped"]["Type"] == "kind" and summary["mapped"]["Date"] == "reported"


def test_map_names_a_column_and_unknown_targets_are_usage_errors(ws, w, tmp_path):
    path = csv_file(tmp_path, f"x_dd,y_dd,Sort,Who\n{A[0]},{A[1]},ford,NK News\n")
    res = run("crossings", "import", *w, path, "--map", "x_dd=lon", "--map", "y_dd=lat",
              "--map", "Sort=type", "--map", "who=source")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert ws.read_crossings()[0]["properties"]["kind"] == "ford"
    assert "Sort -> kind" in res.stderr
    before = files(ws)
    res = run("crossings", "import", *w, path, "--map", "Sort=sort_of")
    assert res.exit_code == 2
    assert "--map Sort=sort_of: 'sort_of' is not a crossing or report field" in res.stderr
    res = run("crossings", "import", *w, path, "--map", "Sort")
    assert res.exit_code == 2 and "write NAME=VALUE" in res.stderr
    assert files(ws) == before


def test_extra_keep_drop_refuse(ws, w, tmp_path):
    rows = "".join(f"{A[0]},{A[1]},ford,NK News,{i},x{i}\n" for i in range(7))
    path = csv_file(tmp_path, "lon,lat,kind,source,fatalities,Admin 1\n" + rows)
    before = files(ws)
    res = run("crossings", "import", *w, path, "--extra", "refuse")
    assert res.exit_code == 1
    err = res.stderr
    # once per column, with its row count, never once per cell
    assert err.count("fatalities: is not a crossing or report field (7 row(s)") == 1
    assert "Admin 1: is not a crossing or report field (7 row(s): row 2, row 3, row 4 …)" in err
    assert "--map 'Admin 1=FIELD'" in err
    assert files(ws) == before
    res = run("crossings", "import", *w, path, "--extra", "drop", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["summary"]["dropped"] == {"fatalities": 7, "Admin 1": 7}
    assert "columns dropped (--extra drop): fatalities (7), Admin 1 (7)" in res.stderr
    assert all(f["properties"]["reports"][0]["extra"] is None for f in ws.read_crossings())
    res = run("crossings", "import", *w, path)  # keep is the default
    assert res.exit_code == 0, res.stderr
    assert "kept with each report as 'extra': fatalities (7), Admin 1 (7)" in res.stderr
    kept = [f["properties"]["reports"][0]["extra"] for f in ws.read_crossings()][7:]
    assert kept == [{"fatalities": str(i), "Admin 1": f"x{i}"} for i in range(7)]


def test_problems_are_capped_per_kind_with_a_count(ws, w, tmp_path):
    rows = "".join(f"{A[0]},{A[1]},zeppelin{i % 2},NK News\n" for i in range(5000))
    path = csv_file(tmp_path, "lon,lat,kind,source\n" + rows)
    res = run("crossings", "import", *w, path)
    assert res.exit_code == 1
    lines = res.stderr.splitlines()
    assert "Error: 5000 problem(s); nothing was written:" in lines
    assert len(lines) < 20, res.stderr
    assert "… and 4,995 more: kind: unknown code: use one of" in res.stderr


def test_problem_list_bounds_kinds_too():
    probs = ProblemList(cap=1)
    from geotrack.errors import Problem

    for i in range(ProblemList.MAX_KINDS + 500):
        probs.append(Problem(f"col{i}", None, "x"))
    assert len(probs) == ProblemList.MAX_KINDS + 1
    assert probs.total == ProblemList.MAX_KINDS + 500
    assert ("…", "problems of other kinds", 499) in probs.more()


def test_dry_run_writes_nothing_and_says_what_would_happen(ws, w, tmp_path):
    path = csv_file(tmp_path, f"lon,lat,kind,source,foo\n{A[0]},{A[1]},ford,NK News,1\n")
    before = files(ws)
    res = run("crossings", "import", *w, path, "--dry-run", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["dry_run"] is True and out["imported"] == 1 and out["ids"] == []
    assert out["summary"]["extra"] == {"foo": 1}
    assert files(ws) == before
    res = run("crossings", "import", *w, path, "--dry-run")
    assert "would import 1 new crossing(s); nothing was written (--dry-run)" in res.stderr
    assert res.stdout == ""
    bad = csv_file(tmp_path, f"lon,lat,kind,source\n{A[0]},{A[1]},zeppelin,NK News\n", "bad.csv")
    res = run("crossings", "import", *w, bad, "--dry-run")
    assert res.exit_code == 1 and "kind='zeppelin': unknown code" in res.stderr
    assert files(ws) == before


def test_mapper_api_for_other_layers():
    claims = FieldSet(("claim", "claimant", "date"), aliases={"who": "claimant"}, what="claim")
    m = ColumnMapper(claims, {"Statement": "claim"}, extra="refuse")
    assert m.map({"statement": "x", "WHO": "y", "other": 1}, "row 2") == {
        "claim": "x",
        "claimant": "y",
    }
    (p,) = m.refusals()
    assert p.field == "other" and "is not a claim field (1 row(s): row 2)" in p.message
    with pytest.raises(UsageError, match="not a claim field"):
        ColumnMapper(claims, {"a": "b"})
    with pytest.raises(UsageError, match="mapped twice"):
        parse_mapping(["a=claim", "a=date"])


def test_two_columns_for_one_field_are_a_problem_once():
    m = ColumnMapper(CROSSING_FIELDS)
    for i in range(3):
        m.map({"lon": 1, "Longitude": 2, "kind": "ford"}, f"row {i + 2}")
    (p,) = m.problems
    assert p.field == "Longitude" and "gives lon a second time" in p.message


def test_a_record_with_too_many_extra_columns_is_refused_with_the_fix():
    m = ColumnMapper(CROSSING_FIELDS)
    rec = m.map({"lon": 1, **{f"c{i}": i for i in range(MAX_EXTRA_KEYS + 1)}}, "feature 1")
    assert "extra" not in rec
    (p,) = m.problems
    assert "more than the 1,000 other columns a report keeps" in p.message


# -- ids -------------------------------------------------------------------------------------


def _fc(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _pt(xy=A, fid=None, **props):
    props = {"kind": "ford", "source_name": "x", **props}
    feat = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(xy[0]), float(xy[1])]},
        "properties": props,
    }
    if fid is not None:
        feat["id"] = fid
    return feat


def test_foreign_ids_become_source_references(ws, w, tmp_path):
    res = run("crossings", "import", *w, "-", input=_fc(_pt(fid=17), _pt(B, fid="pm-3")))
    assert res.exit_code == 0, res.stderr
    refs = [f["properties"]["reports"][0]["source_ref"] for f in ws.read_crossings()]
    assert refs == ["17", "pm-3"]
    path = csv_file(tmp_path, f"id,lon,lat,kind,source\n9001,{A[0]},{A[1]},ford,a\n")
    assert run("crossings", "import", *w, path).exit_code == 0
    assert ws.read_crossings()[-1]["properties"]["reports"][0]["source_ref"] == "9001"


def test_update_existing_and_new_ids(ws, w):
    assert run("crossings", "import", *w, "-", input=_fc(_pt(), _pt(B))).exit_code == 0
    before = files(ws)
    # an existing id is refused by default, naming both ways out
    res = run("crossings", "import", *w, "-", input=_fc(_pt(fid="YLU-0001", status="destroyed")))
    assert res.exit_code == 1 and "--update-existing" in res.stderr and "--new-ids" in res.stderr
    # an id not in the workspace, with --update-existing: refused, nothing written
    res = run("crossings", "import", *w, "-", "--update-existing",
              input=_fc(_pt(fid="YLU-0001", status="destroyed"), _pt(fid="YLU-0099")))  # fmt: skip
    assert res.exit_code == 1
    assert "id='YLU-0099': is not in this workspace" in res.stderr
    assert files(ws) == before
    # the update: a site field changed and a report replaced by id (an edit in the history)
    upd = _pt(fid="YLU-0001", status="destroyed")
    upd["properties"] = {
        "kind": "ford",
        "status": "destroyed",
        "reports": [{"report_id": "R1", "source_name": "x", "notes": "seen again"}],
    }
    res = run("crossings", "import", *w, "-", "--update-existing", "--json", input=_fc(upd, _pt(B, fid="YLU-0002")))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["updated_ids"], out["unchanged"], out["imported"]) == (["YLU-0001"], 1, 0)
    f = ws.read_crossings()[0]["properties"]
    assert f["status"] == "destroyed" and [r["notes"] for r in f["reports"]] == ["seen again"]
    entry = json.loads(run("crossings", "history", *w, "--json").stdout.splitlines()[-1])
    assert entry["op"] == "edit" and [c["id"] for c in entry["changes"]] == ["YLU-0001"]
    # --new-ids: a new site, the old id kept as the reference
    res = run("crossings", "import", *w, "-", "--new-ids", input=_fc(_pt(fid="YLU-0001")))
    assert res.exit_code == 0 and res.stdout == "YLU-0003\n"
    assert ws.read_crossings()[-1]["properties"]["reports"][0]["source_ref"] == "YLU-0001"
    res = run("crossings", "import", *w, "-", "--new-ids", "--update-existing", input=_fc(_pt()))
    assert res.exit_code == 2


def test_conflicting_rows_for_one_site_in_a_csv(ws, w, tmp_path):
    path = csv_file(
        tmp_path,
        "id,lon,lat,kind,report_id,source_name\n"
        f"YLU-0007,{A[0]},{A[1]},ford,R1,a\nYLU-0007,{A[0]},{A[1]},ford,R2,b\n"
        f"YLU-0008,{B[0]},{B[1]},ford,R1,a\nYLU-0008,{B[0]},{B[1]},pontoon,R2,b\n",
    )
    before = files(ws)
    res = run("crossings", "import", *w, path)
    assert res.exit_code == 1
    assert (
        "row 5: kind='pontoon': conflicts with row 4 for the same crossing YLU-0008" in res.stderr
    )
    assert files(ws) == before
    head = Path(path).read_text().splitlines()[:3]
    ok = csv_file(tmp_path, "\n".join(head) + "\n", "ok.csv")
    assert run("crossings", "import", *w, ok).exit_code == 0
    (f,) = ws.read_crossings()
    assert f["id"] == "YLU-0007" and [r["source_name"] for r in f["properties"]["reports"]] == [
        "a",
        "b",
    ]


# -- presets -----------------------------------------------------------------------------------


def test_presets_builtin_saved_and_unknown(ws, w, tmp_path):
    path = csv_file(tmp_path, f"Lieu,x_dd,y_dd,Sorte,Qui\nSYNTHETIC,{A[0]},{A[1]},ford,a\n")
    before = files(ws)
    res = run("crossings", "import", *w, path, "--preset", "nope")
    assert res.exit_code == 1
    assert "preset='nope' does not exist: use one of acled, ushahidi" in res.stderr
    res = run("crossings", "import", *w, path, "--map", "x_dd=lon", "--map", "y_dd=lat",
              "--map", "Sorte=kind", "--map", "Qui=source", "--map", "Lieu=name",
              "--save-preset", "mine", "--dry-run")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert files(ws) == before  # the dry run wrote no crossing
    saved = json.loads((ws.path / "import_presets.json").read_text())
    assert saved["mine"]["map"] == {
        "x_dd": "lon",
        "y_dd": "lat",
        "Sorte": "kind",
        "Qui": "source",
        "Lieu": "name",
    }
    res = run("crossings", "import", *w, path, "--preset", "mine")
    assert res.exit_code == 0, res.stderr
    (f,) = ws.read_crossings()
    assert (f["properties"]["name"], f["properties"]["kind"]) == ("SYNTHETIC", "ford")
    res = run("crossings", "import", *w, path, "--map", "Sorte=sort", "--save-preset", "bad")
    assert res.exit_code == 2 and "bad" not in json.loads(
        (ws.path / "import_presets.json").read_text()
    )
    res = run("crossings", "import", *w, path, "--save-preset", "acled")
    assert res.exit_code == 2 and "is built in" in res.stderr
    res = run("crossings", "import", *w, path, "--save-preset", "../x")
    assert res.exit_code == 2 and "preset name" in res.stderr


# -- invariants ------------------------------------------------------------------------------

_NAMES = st.sampled_from(
    ["lon", "Lon", "LONGITUDE", "kind", "Type", "source", "Source Name", "date", "notes",
     "n_reports", "created_at", "fatalities", "Admin 1", "x-y", "extra", "reports", "ÜBER"]
) | st.text(min_size=1, max_size=8)  # fmt: skip
_VALUES = st.none() | st.integers() | st.text(max_size=5) | st.booleans()


@settings(max_examples=300, deadline=None)
@given(
    record=st.dictionaries(_NAMES, _VALUES, max_size=8), policy=st.sampled_from(["keep", "drop"])
)
def test_every_column_is_accounted_for(record, policy):
    """Each column is a field, kept in extra (keep), dropped (drop), ignored or a reported clash."""
    record = {k: v for k, v in record.items() if k != "extra"}
    m = ColumnMapper(CROSSING_FIELDS, extra=policy, reserved=("reports",))
    out = m.map(record, "row 2")
    summary = m.summary()
    clashes = {p.field for p in m.problems}
    for column, value in record.items():
        if column in summary["ignored"] or column in clashes:
            continue
        if column in summary["mapped"] or column == "reports":
            target = summary["mapped"].get(column, column)
            assert out[target] == value
        elif policy == "keep":
            assert out["extra"][column] == value
        else:
            assert column in summary["dropped"] and column not in out.get("extra", {})
