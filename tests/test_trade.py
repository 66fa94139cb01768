"""Tests for geotrack.trade: the shipped table, conflicts, selection, import, claims, joins."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geotrack import trade as trade_mod
from geotrack.errors import (
    ImportFileError,
    NotFoundError,
    StorageError,
    UsageError,
    ValidationError,
)
from geotrack.trade import (
    Event,
    FxRate,
    SelectionRule,
    TradeRow,
    add_event,
    chart_series,
    check_claim,
    choose_figures,
    crossing_counts,
    find_conflicts,
    import_trade,
    list_months,
    load_events,
    load_trade,
    month_range,
    monthly_join,
    parse_amount,
    parse_month,
    read_import,
    read_trade_csv,
    remove_event,
    trade_csv_text,
    utc_month,
)
from geotrack.trade import storage as trade_storage

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "layers" / "trade.csv"
SHIPPED_EVENTS = ROOT / "layers" / "events.csv"
#: SHA-256 of the project's compilation cn_kp_trade_monthly.csv (see layers/README.md).
SOURCE_SHA256 = "b42afcb084cc8d01aa40528cc62b411b5b07d8afb14daa9a5ad499be52ae9286"
D = Decimal


@pytest.fixture(scope="module")
def shipped() -> list[TradeRow]:
    return read_trade_csv(SHIPPED)


@pytest.fixture
def wsdir(tmp_path: Path) -> Path:
    """A folder holding a copy of the shipped trade table and events."""
    d = tmp_path / "ws"
    d.mkdir()
    shutil.copy(SHIPPED, d / "trade.csv")
    shutil.copy(SHIPPED_EVENTS, d / "events.csv")
    return d


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _state(ws: Path) -> dict[str, bytes | None]:
    return {
        name: (ws / name).read_bytes() if (ws / name).exists() else None
        for name in ("trade.csv", "trade_history.jsonl", "events.csv")
    }


# -- the shipped table -----------------------------------------------------------------


def test_shipped_nov_2025_row_matches_its_source(shipped):
    rows = [r for r in shipped if r.period == "2025-11" and r.source == "Korea JoongAng Daily"]
    assert len(rows) == 1
    r = rows[0]
    assert (r.total_trade, r.cn_exports_to_kp, r.cn_imports_from_kp) == (
        D("281"),
        D("244"),
        D("37.1"),
    )
    assert (r.currency, r.unit) == ("USD", "million")
    assert r.article_date == "2025-12-19"
    assert r.source_url.startswith("https://koreajoongangdaily.joins.com/")
    chosen = choose_figures(shipped)
    assert chosen[("2025-11", "total_trade", "USD")].value == D("281")
    assert chosen[("2025-11", "cn_exports_to_kp", "USD")].value == D("244")
    assert chosen[("2025-11", "cn_imports_from_kp", "USD")].value == D("37.1")


def test_shipped_table_keeps_every_row_and_figure_of_the_source(shipped):
    assert len(shipped) == 136
    assert [r.row_id for r in shipped] == [f"T{i:04d}" for i in range(1, 137)]
    # The first ten columns of the first 128 rows, joined back together, are the source file
    # byte for byte; the public record's rows follow (scripts/build_trade_table.py).
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(trade_mod.SOURCE_COLUMNS)
    with SHIPPED.open(encoding="utf-8", newline="") as fh:
        for rec in list(csv.DictReader(fh))[:128]:
            w.writerow([rec[c] for c in trade_mod.SOURCE_COLUMNS])
    assert hashlib.sha256(buf.getvalue().encode("utf-8")).hexdigest() == SOURCE_SHA256
    # Writing the table back changes no byte.
    assert trade_csv_text(shipped).encode("utf-8") == SHIPPED.read_bytes()


def test_shipped_coverage_and_gaps(shipped):
    months = list_months(shipped)
    assert (months[0].period, months[-1].period, len(months)) == ("2017-01", "2025-12", 108)
    gaps = [m.period for m in months if m.gap]
    assert gaps == [
        "2017-02", "2017-04", "2017-05", "2019-11", "2021-12", "2022-01", "2022-02", "2022-08",
        "2022-09", "2024-03", "2024-08", "2024-11", "2025-01", "2025-02", "2025-06", "2025-07",
    ]  # fmt: skip
    assert sorted({r.currency for r in shipped}) == ["CNY", "USD"]
    assert sorted(r.period for r in shipped if r.currency == "CNY") == [
        "2017-03",
        "2018-03",
        "2018-04",
    ]


def test_sep_2025_nk_exports_conflict_is_reported_with_both_rows(shipped):
    found = [
        c
        for c in find_conflicts(shipped)
        if (c.period, c.flow) == ("2025-09", "cn_imports_from_kp")
    ]
    assert len(found) == 1
    c = found[0]
    assert sorted(f.value for f in c.figures) == [D("43"), D("63.6")]
    assert {f.source for f in c.figures} == {
        "Korea JoongAng Daily",
        "Newsis (citing NK News / GACC)",
    }
    assert not c.within_rounding
    # 63.6 is flagged approximate ('about'), so the default rule uses 43; 43 is the one that fits.
    assert c.chosen.value == D("43")
    nk43 = next(f for f in c.figures if f.value == D("43"))
    assert c.fits == (nk43.row_id,)
    assert "63.6" in c.describe() and "43" in c.describe()
    # Neither row is hidden from the month listing.
    sep = next(m for m in list_months(shipped) if m.period == "2025-09")
    assert {r.cn_imports_from_kp for r in sep.rows} >= {D("43"), D("63.6")}


def test_rounding_only_conflict_is_still_a_conflict(shipped):
    c = next(
        c for c in find_conflicts(shipped) if (c.period, c.flow) == ("2025-11", "cn_exports_to_kp")
    )
    assert c.within_rounding
    assert c.chosen.value == D("244")


def test_rule_is_user_changeable_and_stated(shipped):
    rule = SelectionRule(prefer_sources=("JoongAng",))
    chosen = choose_figures(shipped, rule=rule)
    assert chosen[("2025-09", "cn_imports_from_kp", "USD")].value == D("63.6")
    assert "JoongAng" in rule.describe()
    assert "most recent article date" in rule.describe()


def test_recorded_preference_comes_first():
    rows = [
        TradeRow("2025-09", cn_imports_from_kp=D("63.6"), source="A", row_id="T0001"),
        TradeRow(
            "2025-09",
            cn_imports_from_kp=D("43"),
            source="B",
            row_id="T0002",
            preferred_for=("cn_imports_from_kp",),
        ),
    ]
    assert choose_figures(rows, rule=SelectionRule(prefer_sources=("A",)))[
        ("2025-09", "cn_imports_from_kp", "USD")
    ].value == D("43")
    ignored = SelectionRule(prefer_sources=("A",), use_recorded=False)
    assert choose_figures(rows, rule=ignored)[("2025-09", "cn_imports_from_kp", "USD")].value == D(
        "63.6"
    )


def test_selection_prefers_unflagged_then_recent_then_precise():
    rows = [
        TradeRow("2020-01", D("10"), source="old", article_date="2020-02-01", row_id="T0001"),
        TradeRow("2020-01", D("11"), source="new", article_date="2020-03-01", row_id="T0002"),
        TradeRow(
            "2020-01",
            D("12"),
            source="newest but doubtful",
            article_date="2021-01-01",
            flags=("doubtful",),
            row_id="T0003",
        ),
    ]
    assert choose_figures(rows)[("2020-01", "total_trade", "USD")].source == "new"
    same_day = [
        TradeRow("2020-01", D("10.1"), source="a", article_date="2020-02-01", row_id="T0001"),
        TradeRow("2020-01", D("10.12"), source="b", article_date="2020-02-01", row_id="T0002"),
    ]
    assert choose_figures(same_day)[("2020-01", "total_trade", "USD")].source == "b"


def test_flag_scoped_to_one_flow_applies_only_there():
    r = TradeRow("2025-09", D("271"), None, D("63.6"), flags=("approximate:cn_imports_from_kp",))
    assert r.flagged("cn_imports_from_kp") == ("approximate",)
    assert r.flagged("total_trade") == ()


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2025-11", "Nov 2025", "November 2025", "nov. 2025", "2025 Nov", "2025年11月",
        "2025년 11월", "2025.11", "11/2025", "11.2025", "2025/11", "202511", "2025-11-30",
    ],
)  # fmt: skip
def test_parse_month_forms(text):
    assert parse_month(text) == "2025-11"


@pytest.mark.parametrize(
    "text", ["", "2025-13", "Movember 2025", "13/2025", "2025", "11/25", "1800-01", "2025-02-30"]
)
def test_parse_month_rejects(text):
    with pytest.raises(ValueError, match=r"month|year|day|range"):
        parse_month(text)


@given(st.integers(1950, 2100), st.integers(1, 12))
def test_parse_month_all_forms_agree(year, month):
    want = f"{year:04d}-{month:02d}"
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    for text in (
        want,
        f"{names[month - 1]} {year}",
        f"{year}年{month}月",
        f"{year}.{month}",
        f"{month}/{year}",
    ):
        assert parse_month(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("281", (D("281"), None, None)),
        ("37.1", (D("37.1"), None, None)),
        ("1,234.50", (D("1234.50"), None, None)),
        ("US$244 million", (D("244"), "USD", "million")),
        ("$ 281m", (D("281"), "USD", "million")),
        ("244 USD", (D("244"), "USD", None)),
        ("¥1100", (D("1100"), "CNY", None)),
        ("1100 million yuan", (D("1100"), "CNY", "million")),
        ("3100万元", (D("3100"), "CNY", "ten_thousand")),
        ("2.81亿美元", (D("2.81"), "USD", "hundred_million")),
        ("", (None, None, None)),
        ("—", (None, None, None)),
        ("n/a", (None, None, None)),
    ],
)
def test_parse_amount(text, want):
    assert parse_amount(text) == want


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("abc", "not a number"),
        ("-5", "negative"),
        ("(5)", "negative"),
        ("5 furlongs", "unknown words"),
        ("nan", "not a number"),
        ("1e3", "unknown words"),
        ("US$5 yuan", "two currencies"),
    ],
)
def test_parse_amount_rejects(text, match):
    with pytest.raises(ValueError, match=match):
        parse_amount(text)


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_parse_amount_keeps_the_digits(d):
    text = format(d, "f")
    assert parse_amount(text)[0] == d
    assert format(parse_amount(text)[0], "f") == text


# -- round trip, hostile text ---------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40).filter(
    lambda s: s == s.strip() and "\r" not in s
)


@given(source=_text.filter(bool), note=st.text(max_size=60), url=_text)
def test_table_round_trip_keeps_hostile_text(tmp_path_factory, source, note, url):
    row = TradeRow(
        "2025-11",
        D("281"),
        source=source,
        note=note.replace("\r", ""),
        source_url=url,
        row_id="T0001",
    )
    p = tmp_path_factory.mktemp("rt") / "trade.csv"
    p.write_bytes(trade_csv_text([row]).encode("utf-8"))
    assert read_trade_csv(p) == [row]


def test_read_trade_csv_lists_every_bad_cell(tmp_path):
    p = _write(
        tmp_path / "trade.csv",
        "period,total_trade,currency,unit,source\n"
        "Nov 2025,281,USD,million,A\n"
        "2025-10,-3,EUR,million,A\n"
        "2025-09,271,USD,furlong,\n",
    )
    with pytest.raises(ValidationError) as info:
        read_trade_csv(p)
    where = {(pr.row, pr.field) for pr in info.value.problems}
    assert where == {
        ("row 2", "period"),
        ("row 3", "total_trade"),
        ("row 3", "currency"),
        ("row 4", "unit"),
        ("row 4", "source"),
    }


# -- import -----------------------------------------------------------------------------------

GOOD_CUSTOMS = (
    "Month,Total (USD thousand),China exports,China imports\n"
    '2025年10月,"227,000",198000,29000\n'
    "Nov 2025,281000,244000,37100\n"
    "12/2025,300500,,\n"
)


def test_import_customs_style_file(wsdir):
    f = _write(wsdir.parent / "gacc.csv", GOOD_CUSTOMS)
    res = import_trade(
        wsdir,
        f,
        mapping={
            "total_trade": "Total (USD thousand)",
            "cn_exports_to_kp": "China exports",
            "cn_imports_from_kp": "China imports",
        },
        defaults={
            "source": "GACC (test file)",
            "currency": "USD",
            "unit": "thousand",
            "source_url": "https://example.org/gacc",
        },
    )
    assert [r.row_id for r in res.added] == ["T0137", "T0138", "T0139"]
    rows = {r.row_id: r for r in load_trade(wsdir)}
    assert len(rows) == 139
    nov = rows["T0138"]
    assert (nov.period, nov.total_trade, nov.cn_imports_from_kp, nov.unit) == (
        "2025-11",
        D("281"),
        D("37.1"),
        "million",
    )
    assert nov.source == "GACC (test file)" and "rescaled exactly" in nov.note
    assert rows["T0139"].total_trade == D("300.5")
    # Same figures as JoongAng for Oct/Nov: no new conflict except none; the shipped rows are unchanged.
    assert all(rows[f"T{i:04d}"] == r for i, r in enumerate(read_trade_csv(SHIPPED), 1))
    hist = [orjson.loads(x) for x in (wsdir / "trade_history.jsonl").read_bytes().splitlines()]
    assert hist[-1]["op"] == "trade.import" and hist[-1]["layer"] == "trade"
    assert [c["id"] for c in hist[-1]["changes"]] == ["T0137", "T0138", "T0139"]
    assert all(c["before"] is None for c in hist[-1]["changes"])
    assert "gacc.csv" in hist[-1]["reason"]
    # Importing the same file again adds nothing.
    again = import_trade(
        wsdir,
        f,
        mapping={
            "total_trade": "Total (USD thousand)",
            "cn_exports_to_kp": "China exports",
            "cn_imports_from_kp": "China imports",
        },
        defaults={
            "source": "GACC (test file)",
            "currency": "USD",
            "unit": "thousand",
            "source_url": "https://example.org/gacc",
        },
    )
    assert again.added == () and len(again.duplicates) == 3
    assert len(load_trade(wsdir)) == 139


def test_import_native_format_into_empty_workspace(tmp_path):
    ws = tmp_path / "empty"
    ws.mkdir()
    res = import_trade(ws, SHIPPED)
    assert len(res.added) == 136
    assert set(res.ignored_columns) == {"row_id", "preferred_for"}
    assert [r.figures() for r in load_trade(ws)] == [r.figures() for r in read_trade_csv(SHIPPED)]
    assert [r.flags for r in load_trade(ws)] == [r.flags for r in read_trade_csv(SHIPPED)]
    # The file's own disagreements come back as conflicts, both rows kept.
    assert any((c.period, c.flow) == ("2025-09", "cn_imports_from_kp") for c in res.conflicts)


def test_import_conflict_is_reported_not_overwritten(wsdir):
    f = _write(wsdir.parent / "sep.csv", "period,cn_imports_from_kp\n2025-09,45\n")
    before = load_trade(wsdir)
    res = import_trade(wsdir, f, defaults={"source": "GACC", "currency": "USD", "unit": "million"})
    after = load_trade(wsdir)
    assert after[: len(before)] == before
    c = next(c for c in res.conflicts if (c.period, c.flow) == ("2025-09", "cn_imports_from_kp"))
    assert sorted(f.value for f in c.figures) == [D("43"), D("45"), D("63.6")]
    assert res.preferences == ()


def test_import_prefer_records_the_winner(wsdir):
    f = _write(
        wsdir.parent / "sep.csv",
        "period,cn_imports_from_kp,source,article_date\n2025-09,45,GACC,2026-01-20\n",
    )
    res = import_trade(wsdir, f, defaults={"currency": "USD", "unit": "million"}, prefer="gacc")
    assert res.preferences == (("2025-09", "cn_imports_from_kp", "USD", ("T0137",)),)
    rows = {r.row_id: r for r in load_trade(wsdir)}
    assert rows["T0137"].preferred_for == ("cn_imports_from_kp",)
    assert choose_figures(list(rows.values()))[("2025-09", "cn_imports_from_kp", "USD")].value == D(
        "45"
    )
    # Nothing else of the old rows changed; the choice is in the history.
    shipped = {r.row_id: r for r in read_trade_csv(SHIPPED)}
    assert all(rows[k] == v for k, v in shipped.items())
    last = orjson.loads((wsdir / "trade_history.jsonl").read_bytes().splitlines()[-1])
    assert "prefer gacc" in last["reason"]
    # A later --prefer for another source moves the preference, recorded as a change.
    g = _write(
        wsdir.parent / "sep2.csv",
        "period,cn_imports_from_kp,source\n2025-09,43.0,Customs bulletin\n",
    )
    res2 = import_trade(
        wsdir, g, defaults={"currency": "USD", "unit": "million"}, prefer="Customs bulletin"
    )
    rows = {r.row_id: r for r in load_trade(wsdir)}
    assert rows["T0137"].preferred_for == ()
    assert rows["T0138"].preferred_for == ("cn_imports_from_kp",)
    assert res2.preferences[0][3] == ("T0138",)
    last = orjson.loads((wsdir / "trade_history.jsonl").read_bytes().splitlines()[-1])
    assert {c["id"] for c in last["changes"]} == {"T0137", "T0138"}


def test_import_prefer_unknown_source_is_reported(wsdir):
    f = _write(wsdir.parent / "sep.csv", "period,cn_imports_from_kp\n2025-09,45\n")
    res = import_trade(
        wsdir, f, defaults={"source": "GACC", "currency": "USD", "unit": "million"}, prefer="Nobody"
    )
    assert res.preferences == () and res.unmatched_prefer


def test_import_dry_run_writes_nothing(wsdir):
    f = _write(wsdir.parent / "sep.csv", "period,cn_imports_from_kp\n2025-09,45\n")
    state = _state(wsdir)
    res = import_trade(
        wsdir, f, defaults={"source": "GACC", "currency": "USD", "unit": "million"}, dry_run=True
    )
    assert res.dry_run and len(res.added) == 1 and res.conflicts
    assert _state(wsdir) == state


BAD_FILES = {
    "non-numeric": (
        "period,total_trade,currency,unit,source\n2025-11,281,USD,million,A\n2025-10,lots,USD,million,A\n",
        ("row 3", "total_trade", "not a number"),
    ),
    "negative": (
        "period,total_trade,currency,unit,source\n2025-11,-281,USD,million,A\n",
        ("row 2", "total_trade", "negative"),
    ),
    "unknown unit": (
        "period,total_trade,currency,unit,source\n2025-11,281,USD,lakh,A\n",
        ("row 2", "unit", "unknown unit"),
    ),
    "unknown currency": (
        "period,total_trade,currency,unit,source\n2025-11,281,EUR,million,A\n",
        ("row 2", "currency", "unknown currency"),
    ),
    "unparsable month": (
        "period,total_trade,currency,unit,source\nSmarch 2025,281,USD,million,A\n",
        ("row 2", "period", "not a month"),
    ),
    "duplicate month": (
        "period,total_trade,currency,unit,source\n2025-11,281,USD,million,A\nNov 2025,280,USD,million,A\n",
        ("row 3", "period", "duplicate month"),
    ),
    "mixed currencies in a column": (
        "period,total_trade,unit,source\n2025-10,$227,million,A\n2025-11,¥1900,million,A\n",
        ("column", "total_trade", "mixed currencies"),
    ),
    "mixed currencies in a row": (
        "period,total_trade,cn_exports_to_kp,unit,source\n2025-11,$281,¥1700,million,A\n",
        ("row 2", "total_trade, cn_exports_to_kp", "mixed currencies"),
    ),
    "cell currency differs from the currency column": (
        "period,total_trade,currency,unit,source\n2025-11,¥281,USD,million,A\n",
        ("row 2", "total_trade", "never mixed"),
    ),
    "no source": (
        "period,total_trade,currency,unit\n2025-11,281,USD,million\n",
        ("header", "source", "needs its source"),
    ),
    "no unit": (
        "period,total_trade,currency,source\n2025-11,281,USD,A\n",
        ("row 2", "total_trade", "no unit"),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_import_bad_file_names_row_and_column_and_writes_nothing(wsdir, case):
    text, (row, column, message) = BAD_FILES[case]
    f = _write(wsdir.parent / "bad.csv", text)
    state = _state(wsdir)
    with pytest.raises(ValidationError) as info:
        import_trade(wsdir, f)
    assert any(
        p.row == row and p.field == column and message in p.message for p in info.value.problems
    ), info.value.problems
    assert "nothing imported" in str(info.value)
    assert _state(wsdir) == state


def test_import_lists_every_problem_at_once(wsdir):
    f = _write(
        wsdir.parent / "bad.csv",
        "period,total_trade,currency,unit,source\n"
        "2025-13,281,USD,million,A\n"
        "2025-10,x,USD,million,A\n"
        "2025-09,5,XYZ,million,A\n",
    )
    with pytest.raises(ValidationError) as info:
        import_trade(wsdir, f)
    assert [p.row for p in info.value.problems] == ["row 2", "row 3", "row 4"]


def test_import_mapping_to_a_missing_column(wsdir):
    f = _write(wsdir.parent / "in.csv", "Month,Total\n2025-11,281\n")
    with pytest.raises(
        ValidationError, match="no such column; the file's columns are: Month, Total"
    ):
        read_import(f, mapping={"total_trade": "Totals"}, defaults={"source": "A"})


def test_import_unreadable_files(tmp_path):
    with pytest.raises(NotFoundError):
        read_import(tmp_path / "missing.csv")
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(ImportFileError, match="binary"):
        read_import(binary)
    latin = tmp_path / "l.csv"
    latin.write_bytes("period,total_trade,source\n2025-11,281,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="encoding"):
        read_import(latin)
    rows, _ = read_import(
        latin, encoding="latin-1", defaults={"currency": "USD", "unit": "million"}
    )
    assert rows[0].source == "Café"


def test_import_xlsx(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(["Month", "Total", "Source"])
    sh.append(["2025年11月", 281, "GACC (test workbook)"])
    sh.append(["Oct 2025", 227.0, "GACC (test workbook)"])
    p = tmp_path / "gacc.xlsx"
    wb.save(p)
    rows, _ = read_import(
        p, mapping={"total_trade": "Total"}, defaults={"currency": "USD", "unit": "million"}
    )
    assert [(r.period, r.total_trade) for r in rows] == [
        ("2025-11", D("281")),
        ("2025-10", D("227.0")),
    ]


def test_failed_write_leaves_table_and_history_unchanged(wsdir, monkeypatch):
    f = _write(wsdir.parent / "in.csv", "period,total_trade\n2025-12,300\n")
    import_trade(wsdir, f, defaults={"source": "A", "currency": "USD", "unit": "million"})
    state = _state(wsdir)

    def broken(path, data):
        raise StorageError("disk full (simulated)")

    monkeypatch.setattr(trade_storage, "atomic_write", broken)
    g = _write(wsdir.parent / "in2.csv", "period,total_trade\n2026-01,300\n")
    with pytest.raises(StorageError):
        import_trade(wsdir, g, defaults={"source": "A", "currency": "USD", "unit": "million"})
    assert _state(wsdir) == state


# -- series ---------------------------------------------------------------------------------


def test_chart_series_keeps_gaps_and_currencies_apart(shipped):
    pts = {(p.period, p.flow): p for p in chart_series(shipped, start="2017-01", end="2018-04")}
    assert pts[("2017-02", "total_trade")].value is None  # a gap stays a gap
    assert pts[("2017-03", "total_trade")].value is None  # held only in CNY
    assert pts[("2017-01", "total_trade")].value == D("440")
    cny = {(p.period, p.flow): p for p in chart_series(shipped, currency="CNY", end="2018-04")}
    assert cny[("2017-03", "total_trade")].value == D("3100")
    assert cny[("2017-01", "total_trade")].value is None


def test_derived_and_converted_values_are_marked():
    rows = [
        TradeRow("2025-01", None, D("200"), D("30"), source="A", row_id="T0001"),
        TradeRow("2025-02", D("1000"), currency="CNY", source="B", row_id="T0002"),
    ]
    plain = {(p.period, p.flow): p for p in chart_series(rows)}
    assert plain[("2025-01", "total_trade")].value is None
    assert plain[("2025-02", "total_trade")].value is None
    rate = FxRate("CNY", D("0.14"), "test rate, made up for a unit test")
    filled = {
        (p.period, p.flow): p for p in chart_series(rows, derive_totals=True, fx={"CNY": rate})
    }
    t1 = filled[("2025-01", "total_trade")]
    assert (t1.value, t1.derived) == (D("230"), True) and "derived" in t1.note
    t2 = filled[("2025-02", "total_trade")]
    assert (t2.value, t2.converted) == (D("140.00"), True)
    assert "0.14 USD" in t2.note and "test rate" in t2.note
    with pytest.raises(UsageError):
        chart_series(rows, fx={"CNY": FxRate("CNY", D("0.14"), "  ")})


# -- claim check ---------------------------------------------------------------------------


def test_claim_highest_since_oct_2019_agrees_and_names_missing_months(shipped):
    c = check_claim(shipped, month="2025-11", highest_since="2019-10")
    assert c.verdict == "agrees"
    assert c.since_figure.value == D("287") and c.month_figure.value == D("281")
    assert c.higher_between == ()
    assert c.highest_between.value == D("271") and c.highest_between.period == "2025-09"
    assert {"2019-11", "2019-12", "2025-06", "2025-07", "2025-08"} <= set(c.months_missing)
    assert "2025-09" not in c.months_missing
    assert len(c.months_checked) + len(c.months_missing) == 72  # 2019-11 .. 2025-10
    assert "agrees" in c.text and "287" in c.text and "2019-11" in c.text


def test_claim_disagrees_and_cannot_check():
    rows = [
        TradeRow("2020-01", D("100"), source="A", row_id="T0001"),
        TradeRow("2020-02", D("150"), source="A", row_id="T0002"),
        TradeRow("2020-03", D("120"), source="A", row_id="T0003"),
    ]
    c = check_claim(rows, month="2020-03", highest_since="2020-01")
    assert c.verdict == "disagrees"
    assert "2020-01" in c.text and [f.period for f in c.higher_between] == ["2020-02"]
    c2 = check_claim(rows, month="2020-05", highest_since="2020-01")
    assert c2.verdict == "cannot_check" and "2020-05" in c2.months_missing
    with pytest.raises(UsageError):
        check_claim(rows, month="2020-01", highest_since="2020-03")


def test_claim_names_other_figures_that_would_change_it():
    rows = [
        TradeRow("2020-01", D("300"), source="A", row_id="T0001"),
        TradeRow("2020-02", D("100"), source="A", row_id="T0002"),
        TradeRow("2020-02", D("290"), source="B", flags=("doubtful",), row_id="T0003"),
        TradeRow("2020-03", D("200"), source="A", row_id="T0004"),
    ]
    c = check_claim(rows, month="2020-03", highest_since="2020-01")
    assert c.verdict == "agrees"
    assert any("290" in o for o in c.other_figures)


# -- join -------------------------------------------------------------------------------------


def _site(fid, first, reports=(), synthetic=False):
    return {
        "type": "Feature",
        "id": fid,
        "geometry": None,
        "properties": {"first_reported": first, "synthetic": synthetic, "reports": list(reports)},
    }


def test_utc_month_boundaries():
    assert utc_month("2025-10-31") == "2025-10"
    assert utc_month("2025-11-01") == "2025-11"
    assert utc_month("2025-12-01T08:00:00+09:00") == "2025-11"  # 23:00 UTC on 30 Nov
    assert utc_month("2025-11-30T20:00:00-05:00") == "2025-12"  # 01:00 UTC on 1 Dec
    assert utc_month("2025-11-30T23:59:59Z") == "2025-11"
    assert utc_month("2025-12-01T00:00:00") == "2025-12"  # no offset: taken as UTC
    assert utc_month(None) is None
    with pytest.raises(ValueError):
        utc_month("2025-11")


def test_join_counts_across_month_boundaries_and_time_zones():
    crossings = [
        _site(
            "YLU-0001",
            "2025-10-31",
            [
                {"report_id": "R1", "reported": "2025-10-31", "event_start": "2025-10-15",
                 "event_end": "2025-12-02"},
                {"report_id": "R2", "reported": "2025-12-01T08:00:00+09:00"},
            ],
        ),
        _site(
            "YLU-0002",
            "2025-11-01",
            [{"report_id": "R1", "reported": "2025-11-30T20:00:00-05:00",
              "event_start": "2025-11-30", "event_end": None}],
            synthetic=True,
        ),
        _site("YLU-0003", None, [{"report_id": "R1", "reported": "not a date"}]),
    ]  # fmt: skip
    rows = [
        TradeRow("2025-10", D("227"), source="A", row_id="T0001"),
        TradeRow("2025-11", D("281"), D("244"), D("37.1"), source="A", row_id="T0002"),
    ]
    events = [Event("E1", "2025-11-15", "day", "Something", "Paper")]
    join = monthly_join(rows, crossings, events, start="2025-09", end="2025-12")
    got = {
        r["period"]: (
            r["crossings_first_reported"],
            r["reports_received"],
            r["reports_active"],
            r["synthetic_first_reported"],
            r["total_trade"],
            r["events"],
        )
        for r in join.records()
    }
    assert got == {
        "2025-09": (0, 0, 0, 0, None, ""),
        "2025-10": (1, 1, 1, 0, 227, ""),
        "2025-11": (1, 1, 2, 1, 281, "Something"),
        "2025-12": (0, 1, 1, 0, None, ""),
    }
    assert any("YLU-0003" in u and "first_reported" in u for u in join.undated)
    assert any("YLU-0003/R1" in u for u in join.undated)
    assert "UTC" in join.month_rule and "Figure chosen" in join.rule
    doc = join.as_dict()
    assert doc["events"][0]["label"] == "Something"
    assert orjson.loads(orjson.dumps(doc))["months"][2]["cn_imports_from_kp"] == 37.1


def test_join_default_range_spans_trade_crossings_and_events():
    rows = [TradeRow("2025-11", D("281"), source="A", row_id="T0001")]
    join = monthly_join(
        rows, [_site("YLU-0001", "2026-01-05")], [Event("E1", "2025-09", "month", "X", "Y")]
    )
    assert [m.period for m in join.months] == month_range("2025-09", "2026-01")


def test_crossing_counts_rejects_reversed_interval():
    counts, undated = crossing_counts(
        [_site("YLU-0001", "2025-11-02", [{"report_id": "R1", "event_start": "2025-11-05",
                                           "event_end": "2025-10-01"}])]
    )  # fmt: skip
    assert counts["2025-11"]["reports_active"] == 0
    assert any("before" in u for u in undated)


def test_join_csv_neutralises_formulas():
    rows = [TradeRow("2025-11", D("281"), source='=HYPERLINK("x")', row_id="T0001")]
    text = trade_mod.join_csv_text(
        monthly_join(rows, [], [Event("E1", "2025-11", "month", "@evil", "P")])
    )
    rec = next(csv.DictReader(io.StringIO(text, newline="")))
    assert rec["total_trade_source"].startswith("'=")
    assert rec["events"] == "'@evil"
    assert rec["total_trade"] == "281"


# -- events ------------------------------------------------------------------------------------


def test_shipped_event_is_the_summit_with_month_precision():
    (ev,) = load_events(ROOT / "layers")
    assert (ev.event_id, ev.date, ev.date_precision) == ("E1", "2025-09", "month")
    assert "Kim" in ev.label and "Xi" in ev.label
    assert ev.source == "Korea JoongAng Daily, 2025-12-19"


def test_events_add_remove_with_history(wsdir):
    ev = add_event(wsdir, date="2025-10-10", label="Parade", source="Test source, made up")
    assert (ev.event_id, ev.date_precision) == ("E2", "day")
    assert [e.event_id for e in load_events(wsdir)] == ["E1", "E2"]
    gone = remove_event(wsdir, "E1", reason="test")
    assert gone.event_id == "E1" and [e.event_id for e in load_events(wsdir)] == ["E2"]
    ops = [orjson.loads(x)["op"] for x in (wsdir / "trade_history.jsonl").read_bytes().splitlines()]
    assert ops == ["events.add", "events.remove"]
    with pytest.raises(NotFoundError, match="E9"):
        remove_event(wsdir, "E9")
    state = _state(wsdir)
    with pytest.raises(ValidationError) as info:
        add_event(wsdir, date="Sept 2025", label="", source="")
    assert {p.field for p in info.value.problems} == {"date", "label", "source"}
    assert _state(wsdir) == state


def test_month_range():
    assert month_range("2024-12", "2025-01") == ["2024-12", "2025-01"]
    assert month_range("2025-02", "2025-01") == []


def test_temporary_files_of_killed_writers_are_removed_under_the_lock(tmp_path):
    from geotrack.store import stray_temp_files
    from geotrack.trade import storage

    ws = tmp_path / "ws"
    ws.mkdir()
    stray = ws / ".tmp-trade.csv.abc123"
    stray.write_bytes(b"half a table")
    with storage._locked(ws):
        pass
    assert stray_temp_files(ws / "trade.csv") == []


def test_an_article_date_in_the_future_does_not_win_the_selection():
    # was: a typo'd date (2205 for 2025) made its figure the "most recent" and chosen
    rows = [
        TradeRow("2020-01", D("10"), source="real", article_date="2020-02-01", row_id="T0001"),
        TradeRow("2020-01", D("99"), source="typo", article_date="2205-02-01", row_id="T0002"),
    ]
    assert choose_figures(rows)[("2020-01", "total_trade", "USD")].source == "real"
    assert "one after today, counts as oldest" in SelectionRule().describe()
