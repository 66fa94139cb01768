"""Annual totals (period kind ``year``): import, checks against the months, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.errors import ValidationError
from geotrack.trade import (
    TradeRow,
    annual_checks,
    annual_rows,
    import_trade,
    load_trade,
    read_trade_csv,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "layers" / "trade.csv"
D = Decimal


@pytest.fixture
def wsdir(tmp_path: Path) -> Path:
    d = tmp_path / "ws"
    d.mkdir()
    shutil.copy(SHIPPED, d / "trade.csv")
    return d


def _state(ws: Path) -> dict[str, bytes | None]:
    return {
        n: (ws / n).read_bytes() if (ws / n).exists() else None
        for n in ("trade.csv", "trade_history.jsonl")
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_table_holds_december_2025_and_the_annual_totals():
    rows = read_trade_csv(SHIPPED)
    dec = [r for r in rows if r.period == "2025-12"]
    assert {(r.total_trade, r.cn_exports_to_kp, r.cn_imports_from_kp) for r in dec} == {
        (None, D("257.4"), D("52.7")),
        (None, D("257.4"), None),
    }
    annual = {(r.period, r.total_trade, r.source.split(" ")[0]) for r in annual_rows(rows)}
    assert annual == {
        ("2025", D("2735"), "Asia"),
        ("2025", D("2730"), "Free"),
        ("2025", D("2700"), "TimesLive"),
        ("2024", D("2100"), "TimesLive"),
        ("2024", D("2180.39"), "TBS"),
    }
    assert all(r.kind == "year" and r.source_url.startswith("https://") for r in annual_rows(rows))


def test_the_shipped_table_is_what_the_build_script_makes():
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_trade_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr


def test_annual_check_against_hand_computed_sums():
    rows = read_trade_csv(SHIPPED)
    checks = {c.year: c for c in annual_checks(rows)}
    c25 = checks["2025"]
    # Totals held for 2025 (chosen by the default rule), added by hand:
    # Mar 238.2 (NK News; 238.1 in an earlier article), Apr 222.1, May 230, Sep 271, Oct 227,
    # Nov 281: 238.2 + 222.1 + 230 + 271 + 227 + 281 = 1469.3
    assert c25.months_held == ("2025-03", "2025-04", "2025-05", "2025-09", "2025-10", "2025-11")
    assert c25.month_sum == D("1469.3")
    assert len(c25.months_missing) == 6 and "2025-12" in c25.months_missing
    rem = {f.value: r for f, r in c25.remainders}
    assert rem == {D("2735"): D("1265.7"), D("2730"): D("1260.7"), D("2700"): D("1230.7")}
    assert "6 month(s) held sum to 1469.3" in c25.text
    assert "the 6 month(s) not held would have to hold 1265.7 (211.0 a month on average)" in (
        c25.text
    )
    # December's total was not reported: only --derive-totals counts it, marked derived.
    d25 = {c.year: c for c in annual_checks(rows, derive_totals=True)}["2025"]
    assert d25.derived == ("2025-12",)
    assert d25.month_sum == D("1469.3") + D("257.4") + D("52.7")
    assert "derived totals (exports + imports, not reported) for 2025-12" in d25.text


def test_twelve_months_held_give_the_difference():
    rows = [TradeRow("2023", D("100"), source="A", row_id="T0001")]
    rows += [
        TradeRow(f"2023-{m:02d}", D("8"), source="A", row_id=f"T{m + 1:04d}") for m in range(1, 13)
    ]
    (c,) = annual_checks(rows)
    assert c.month_sum == D("96") and c.months_missing == ()
    assert "differ from it by -4.0 (-4.0 %)" in c.text


def test_months_above_the_annual_figure_do_not_fit():
    rows = [
        TradeRow("2023", D("10"), source="A", row_id="T0001"),
        TradeRow("2023-01", D("12"), source="A", row_id="T0002"),
    ]
    (c,) = annual_checks(rows)
    assert "already exceed it by 2.0; the figures do not fit" in c.text


def test_annual_rows_are_not_months():
    rows = read_trade_csv(SHIPPED)
    from geotrack.trade import chart_series, list_months

    assert list_months(rows)[-1].period == "2025-12"
    assert all(len(p.period) == 7 for p in chart_series(rows))


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ("2025,lots,USD,million,A", "total_trade", "not a number"),
        ("2025,2.7,USD,gazillion,A", "unit", "unknown unit"),
        ("20x5,2.7,USD,billion,A", "year", "not a year"),
        ("1850,2.7,USD,billion,A", "year", "outside 1950-2100"),
        ("2025,2.7,KRW,billion,A", "currency", "unknown currency"),
    ],
)
def test_malformed_annual_rows_are_refused_and_nothing_is_written(wsdir, line, field, words):
    before = _state(wsdir)
    f = _write(wsdir.parent / "a.csv", f"year,total_trade,currency,unit,source\n{line}\n")
    with pytest.raises(ValidationError) as info:
        import_trade(wsdir, f)
    assert any(p.field == field and words in p.message for p in info.value.problems), str(
        info.value
    )
    assert _state(wsdir) == before


def test_an_annual_figure_in_a_currency_the_months_do_not_use_is_refused(wsdir):
    before = _state(wsdir)
    f = _write(
        wsdir.parent / "a.csv", "year,total_trade,currency,unit,source\n2025,19000,CNY,million,A\n"
    )
    with pytest.raises(ValidationError) as info:
        import_trade(wsdir, f)
    (p,) = info.value.problems
    assert (
        p.field == "currency"
        and p.value == "CNY"
        and "monthly series of 2025 is in USD" in (p.message)
    )
    assert _state(wsdir) == before


def test_a_file_with_month_and_year_columns_is_refused(wsdir):
    f = _write(
        wsdir.parent / "a.csv",
        "month,year,total,currency,unit,source\n2025-01,2025,1,USD,million,A\n",
    )
    with pytest.raises(ValidationError, match="separate files"):
        import_trade(wsdir, f)


def test_native_format_round_trips_with_years(tmp_path):
    ws = tmp_path / "w"
    ws.mkdir()
    res = import_trade(ws, SHIPPED)
    assert len([r for r in res.added if r.kind == "year"]) == 5
    assert [r.figures() for r in load_trade(ws)] == [r.figures() for r in read_trade_csv(SHIPPED)]


@pytest.fixture
def tws(ws):
    """A fresh workspace holding the shipped trade table."""
    shutil.copy(SHIPPED, ws.path / "trade.csv")
    return ws.path


def test_cli_list_annual_text_and_json(tws):
    wsdir = tws
    run = CliRunner().invoke
    res = run(cli, ["trade", "list", "-w", str(wsdir), "--annual"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "2725" not in res.output and "2735 !" in res.output
    assert "6 month(s) held sum to 1469.3" in res.output
    res = run(
        cli,
        ["trade", "list", "-w", str(wsdir), "--annual", "--derive-totals", "--json"],
        catch_exceptions=False,
    )
    doc = json.loads(res.output)
    assert doc["derive_totals"] is True and len(doc["rows"]) == 5
    c25 = next(c for c in doc["checks"] if c["year"] == "2025")
    assert c25["derived_months"] == ["2025-12"] and c25["month_sum"] == pytest.approx(1779.4)
    assert any(c["period"] == "2025" for c in doc["conflicts"])
    plain = run(cli, ["trade", "list", "-w", str(wsdir)], catch_exceptions=False)
    assert "5 annual totals are held too" in plain.output


def test_cli_derive_totals_needs_annual(tws):
    res = CliRunner().invoke(cli, ["trade", "list", "-w", str(tws), "--derive-totals"])
    assert res.exit_code == 2 and "--annual" in res.output
