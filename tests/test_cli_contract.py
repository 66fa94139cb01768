"""The CLI contract kept by every command: exit codes, global options, outputs a person reads.

Each test here failed before the fix it names (issue 15).
"""

from __future__ import annotations

import contextlib
import json
import os

import click
import pytest
from click.testing import CliRunner
from hardening._cli_tree import leaf_commands, options_of

from geotrack.cli.main import EXIT_CODES, cli
from geotrack.workspace import init_workspace

GOOD = ["--lon", "127.2696", "--lat", "41.5195", "--kind", "pontoon", "--source", "NK News"]


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def ws(tmp_path):
    return init_workspace(tmp_path / "ws", public_record=False)


def test_exit_codes_are_written_in_the_help():
    res = run("--help")
    assert res.exit_code == 0
    assert "Exit status:" in res.stdout
    for code in EXIT_CODES:
        assert f"  {code}  " in res.stdout
    assert "--overwrite" in res.stdout  # an existing output is bad usage


def test_workspace_before_the_command(ws):
    # was: "No such option: -w"
    res = run("-w", str(ws.path), "crossings", "add", *GOOD)
    assert res.exit_code == 0 and res.stdout == "YLU-0001\n"
    res = run("-w", str(ws.path), "crossings", "list", "--json")
    assert [f["id"] for f in json.loads(res.stdout)["features"]] == ["YLU-0001"]
    # after the command it still wins over the one before
    other = init_workspace(ws.path.parent / "other", public_record=False)
    res = run("-w", str(ws.path), "-q", "crossings", "list", "-w", str(other.path), "--json")
    assert json.loads(res.stdout)["features"] == []


def test_init_says_what_to_run_next(tmp_path):
    res = run("init", str(tmp_path / "new"))
    assert res.exit_code == 0 and res.stdout == ""
    assert f"geotrack -w {tmp_path / 'new'} crossings add" in res.stderr
    assert "GEOTRACK_WORKSPACE" in res.stderr


def test_unknown_kind_filter_is_bad_usage(ws):
    # was: an empty table and exit 0 for a typo
    res = run("crossings", "list", "-w", str(ws.path), "--kind", "pontoom")
    assert res.exit_code == 2 and "'pontoom' is not one of" in res.stderr
    assert res.stdout == ""


def test_show_never_prints_none(ws):
    w = ["-w", str(ws.path)]
    assert run("crossings", "add", *w, *GOOD).exit_code == 0
    res = run("crossings", "show", *w, "YLU-0001")
    assert res.exit_code == 0
    assert "None" not in res.stdout
    assert "first reported not given, seen not given" in res.stdout
    assert "not graded" in res.stdout and "(unknown)" in res.stdout


def test_missing_grades_and_source_type_are_stored_as_not_given(ws):
    # was: F6 and source type 'media' when not given
    w = ["-w", str(ws.path)]
    feat = json.loads(run("crossings", "add", *w, *GOOD, "--json").stdout)
    r = feat["properties"]["reports"][0]
    assert (r["reliability"], r["credibility"], r["source_type"]) == (None, None, "unknown")
    assert run("validate", *w).exit_code == 0


def test_errors_say_not_given_rather_than_none(ws):
    res = run("crossings", "add", "-w", str(ws.path), "--lon", "127.27", "--lat", "41.51")
    assert res.exit_code == 1
    assert "=None" not in res.stderr and "source_name: is required" in res.stderr


def test_undo_names_what_it_undid(ws):
    w = ["-w", str(ws.path)]
    run("crossings", "add", *w, *GOOD, "--reason", "first sighting")
    res = run("crossings", "undo", *w)
    # was: "undid operation 1: undo of operation 1"
    assert res.exit_code == 0
    assert "undid operation 1 (add of YLU-0001; its reason: first sighting)" in res.stderr
    assert "the undo is operation 2" in res.stderr


def test_history_json_is_json_lines(ws):
    w = ["-w", str(ws.path)]
    run("crossings", "add", *w, *GOOD)
    assert run("crossings", "edit", *w, "YLU-0001", "--status", "destroyed").exit_code == 0
    res = run("crossings", "history", *w, "--json")
    lines = res.stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]
    assert "JSON lines" in run("crossings", "history", "--help").stdout


def test_reports_go_to_stderr_and_data_to_stdout(ws, tmp_path):
    w = ["-w", str(ws.path)]
    run("crossings", "add", *w, *GOOD)
    res = run("export", *w, "-o", str(tmp_path / "out"), "--format", "csv")
    assert res.exit_code == 0 and res.stdout == "" and "Exported 1 crossing(s)" in res.stderr
    src = tmp_path / "t.csv"
    src.write_text("period,total_trade\n1999-01,5\n")
    res = run(
        "trade", "import", *w, str(src), "--source", "Test", "--article-date", "2025-01-02", "--unit", "million", "--currency", "USD",
        "--dry-run",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.stdout == "" and "would add 1 row(s)" in res.stderr


def test_json_output_escapes_invisible_characters_but_keeps_the_text(ws):
    text = "a\u202eb\x9bc\u200bd\u2028e\u3164f"
    w = ["-w", str(ws.path)]
    run("crossings", "add", *w, *GOOD, "--notes", text)
    res = run("crossings", "list", *w, "--json")
    for ch in text[1::2]:
        assert ch not in res.stdout
    assert json.loads(res.stdout)["features"][0]["properties"]["reports"][0]["notes"] == text


def test_windows_add_by_towns_as_the_readme_writes_them(ws):
    # was: TypeError (numpy.float64 not JSON serializable), and 'Pochon' matched no town
    w = ["-w", str(ws.path)]
    for name, spec in (("a", "town:Hyesan..Poch"), ("b", "town:Hyesan..Pochon")):
        res = run("windows", "add", *w, name, spec)
        assert res.exit_code == 0, res.output
        assert "saved window" in res.stderr
    res = run("windows", "add", *w, "c", "lonlat:128.1,41.4..128.3,41.5")
    assert res.exit_code == 0, res.output
    doc = {x["name"]: x for x in json.loads(run("windows", "list", *w, "--json").stdout)}
    assert doc["a"]["from_km"] == doc["b"]["from_km"] and doc["a"]["to_km"] == doc["b"]["to_km"]


@pytest.mark.parametrize("spec", ["lonlat:nan,41..128,42", "lonlat:inf,1..2,3", "0:nan"])
def test_non_finite_windows_are_refused(ws, spec):
    for args in (("density", "--window", spec), ("windows", "add", "x", spec)):
        res = run(*args, "-w", str(ws.path))
        assert res.exit_code in (1, 2) and "Error:" in res.stderr, res.output
        assert "internal error" not in res.stderr


# -- the smaller faults ------------------------------------------------------------------------


@pytest.mark.parametrize("corner", [(-180, -90), (180, -90), (-180, 0), (0, -90)])
def test_bd09_at_the_edge_of_the_range_is_refused_not_stored_outside_it(ws, corner):
    # was: stored at (-180.0067584, -90.0054960)
    w = ["-w", str(ws.path)]
    lon, lat = corner
    res = run(
        "crossings", "add", *w, "--lon", str(lon), "--lat", str(lat), "--datum", "bd09",
        "--kind", "ford", "--source", "x", "--force-far",
    )  # fmt: skip
    assert res.exit_code == 1 and "outside [-180, 180] x [-90, 90]" in res.stderr, res.output
    assert ws.read_crossings() == []


def test_validate_checks_a_read_only_workspace(ws, monkeypatch):
    # was: "could not lock ...: Read-only file system" and exit 1 for a healthy workspace
    import errno

    import geotrack.store

    @contextlib.contextmanager
    def read_only_lock(path, **kw):
        try:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        except OSError as exc:
            raise geotrack.store.StorageError(f"could not lock {path}: {exc.strerror}") from exc
        yield

    monkeypatch.setattr(geotrack.store, "file_lock", read_only_lock)
    real_access = os.access
    monkeypatch.setattr(
        geotrack.store.os,
        "access",
        lambda p, mode, **kw: mode != os.W_OK and real_access(p, mode),
    )
    res = run("validate", "-w", str(ws.path))
    assert res.exit_code == 0, res.output
    assert "healthy" in res.stderr
    # a writer still cannot write there
    assert run("crossings", "add", "-w", str(ws.path), *GOOD).exit_code == 1


def test_add_report_is_refused_on_a_retired_crossing_like_edit(ws):
    w = ["-w", str(ws.path)]
    run("crossings", "add", *w, *GOOD)
    run("crossings", "retire", *w, "YLU-0001", "--reason", "duplicate")
    edit = run("crossings", "edit", *w, "YLU-0001", "--status", "active")
    assert edit.exit_code == 1
    res = run("crossings", "add-report", *w, "YLU-0001", "--source", "Later report")
    # was: accepted (exit 0, report R2 added to a tombstone)
    assert res.exit_code == 1 and "retired" in res.stderr
    assert len(ws.read_crossings(include_retired=True)[0]["properties"]["reports"]) == 1


@pytest.mark.parametrize("encoding", ["punycode", "utf-7", "rot13", "nope"])
def test_unknown_and_byte_codecs_are_refused_by_both_importers(ws, tmp_path, encoding):
    # was: a traceback (UnicodeError from the punycode codec) in both importers
    w = ["-w", str(ws.path)]
    src = tmp_path / "in.csv"
    src.write_text("lon,lat,kind,source_name,period,total_trade\n127.27,41.51,ford,x,2025-11,1\n")
    for args in (
        ("crossings", "import", *w, str(src), "--encoding", encoding),
        ("trade", "import", *w, str(src), "--encoding", encoding, "--dry-run"),
    ):
        res = run(*args)
        assert res.exit_code in (0, 1), res.output
        assert "internal error" not in res.stderr


REQUIRED = [
    (leaf.words, p)
    for leaf in leaf_commands()
    for p in options_of(leaf.command)
    if isinstance(p, click.Option) and p.required
]


@pytest.mark.parametrize(
    ("words", "option"), REQUIRED, ids=[f"{' '.join(w)} {o.opts[-1]}" for w, o in REQUIRED]
)
def test_a_required_option_left_out_is_bad_usage(ws, words, option):
    # `trade chart` without -o was an internal error: click 8.3+ takes an explicit
    # default=None as a value given, so the shared -o/--output was no longer required.
    args = [*words]
    for other in options_of(_command(words)):
        value = "2025-11" if other.name in ("month", "highest_since") else "x"
        if isinstance(other, click.Argument) and other.required:
            args.append(value)
        elif isinstance(other, click.Option) and other.required and other is not option:
            args += [other.opts[-1], value]
    res = run("-w", str(ws.path), *args)
    assert res.exit_code == 2, res.output
    assert "Missing option" in res.output and option.opts[-1] in res.output


def _command(words):
    return next(leaf.command for leaf in leaf_commands() if leaf.words == words)
