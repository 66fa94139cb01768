"""Importing customs-style CSV or XLSX files into the trade table, all rows or none.

Columns are matched by name or by a mapping; months, figures, currencies and units
are parsed in the usual spellings and rescaled exactly to million; every problem is
reported by row and column and nothing is written unless the whole file is good.
"""

from __future__ import annotations

__all__ = [
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_XLSX_INFLATED_BYTES",
    "ImportResult",
    "import_trade",
    "read_import",
]

import contextlib
import csv
import hashlib
import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from geotrack.errors import (
    ImportFileError,
    NotFoundError,
    Problem,
    UsageError,
    ValidationError,
)
from geotrack.trade.model import CURRENCIES, FLOWS, UNITS, TradeRow, _rescale
from geotrack.trade.parsing import (
    _check_article_date,
    _parse_currency,
    _parse_flags,
    _parse_unit,
    parse_amount,
    parse_flag_word,
    parse_month,
    parse_year,
)
from geotrack.trade.selection import DEFAULT_RULE, Conflict, SelectionRule, find_conflicts
from geotrack.trade.storage import _locked, _write_rows_locked
from geotrack.trade.table import _next_number, load_trade

#: Largest import file read (bytes) and rows accepted.
MAX_IMPORT_BYTES = 20_000_000
MAX_IMPORT_ROWS = 100_000
#: Largest total size of an .xlsx workbook's parts once inflated (bytes).
MAX_XLSX_INFLATED_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    file: str
    sha256: str
    added: tuple[TradeRow, ...]
    duplicates: tuple[tuple[TradeRow, str], ...]
    conflicts: tuple[Conflict, ...]
    preferences: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    unmatched_prefer: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    dry_run: bool
    rule: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "added": [r.to_record() for r in self.added],
            "already_held": [{"row": r.to_record(), "same_as": rid} for r, rid in self.duplicates],
            "conflicts": [c.as_dict() for c in self.conflicts],
            "preferences": [
                {"period": p, "flow": f, "currency": c, "row_ids": list(ids)}
                for p, f, c, ids in self.preferences
            ],
            "unmatched_prefer": list(self.unmatched_prefer),
            "ignored_columns": list(self.ignored_columns),
            "rule": self.rule,
        }


# -- import --------------------------------------------------------------------------

_ALIASES = {
    "period": ("period", "month", "date", "月份", "월"),
    "year": ("year", "年", "年份", "연도"),
    "total_trade": ("total_trade", "total"),
    "cn_exports_to_kp": ("cn_exports_to_kp",),
    "cn_imports_from_kp": ("cn_imports_from_kp",),
    "currency": ("currency",),
    "unit": ("unit", "units"),
    "source": ("source",),
    "article_date": ("article_date",),
    "source_url": ("source_url", "url"),
    "note": ("note", "notes", "quote"),
    "flags": ("flags",),
    "approximate": ("approximate",),
}
_IMPORT_FIELDS = tuple(_ALIASES)


def _read_table(
    path: Path, *, sheet: str | None, encoding: str
) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and (line number, cells) of a CSV or XLSX file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read it ({exc.strerror})") from exc
    if size > MAX_IMPORT_BYTES:
        raise ImportFileError(
            f"{path}: {size} bytes is over the {MAX_IMPORT_BYTES} byte limit for a trade table; "
            "split it"
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet=sheet)
    if path.suffix.lower() == ".xls":
        raise ImportFileError(f"{path}: old .xls workbooks are not read; save it as .xlsx or CSV")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{path}: a binary file, not CSV text; export the sheet as CSV")
    try:
        text = raw.decode(encoding)
    except (UnicodeError, LookupError) as exc:  # punycode raises a bare UnicodeError
        raise ImportFileError(
            f"{path}: not {encoding} text ({exc}); re-save it as UTF-8 or pass --encoding "
            "(e.g. gb18030)"
        ) from None
    sample = text[:4096]
    delim = ","
    if sample:
        first = sample.splitlines()[0] if sample.splitlines() else ""
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty; it needs a header row") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path}: not readable as CSV ({exc})") from None
    body = []
    try:
        for cells in reader:
            if len(body) >= MAX_IMPORT_ROWS:
                raise ImportFileError(f"{path}: more than {MAX_IMPORT_ROWS} rows; split it")
            if not any(c.strip() for c in cells):
                continue
            body.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ImportFileError(
            f"{path}: line {reader.line_num}: not readable as CSV ({exc})"
        ) from None
    return [h.strip() for h in header], body


def _read_xlsx(path: Path, *, sheet: str | None) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    try:
        import openpyxl  # type: ignore[import-untyped]
    except ImportError:
        raise ImportFileError(
            f"{path}: reading Excel files needs openpyxl; `pip install openpyxl`, or save the "
            "sheet as CSV"
        ) from None
    import warnings

    try:  # a zip bomb: openpyxl holds the shared strings in memory (400 KB -> 850 MB seen)
        with zipfile.ZipFile(path) as zf:
            inflated = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if inflated > MAX_XLSX_INFLATED_BYTES:
        raise ImportFileError(
            f"{path}: the workbook inflates to {inflated} bytes, over the "
            f"{MAX_XLSX_INFLATED_BYTES} byte limit; save the sheet as CSV or split it"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise ImportFileError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        return _xlsx_rows(path, wb, sheet=sheet)
    except ImportFileError:
        raise
    except Exception as exc:  # the sheet is parsed while rows are read: damaged XML, bad zip
        raise ImportFileError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    finally:
        wb.close()


def _xlsx_rows(
    path: Path, wb: Any, *, sheet: str | None
) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    if sheet is not None and sheet not in wb.sheetnames:
        raise ImportFileError(
            f"{path}: no sheet {sheet!r}; the sheets are {', '.join(wb.sheetnames)}"
        )
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows_iter = ws.iter_rows(values_only=True)
    header_cells = next(rows_iter, None)
    if header_cells is None:
        raise ImportFileError(f"{path}: the sheet is empty; it needs a header row")
    header = ["" if h is None else str(h).strip() for h in header_cells]
    body = []
    for n, cells in enumerate(rows_iter, start=2):
        if len(body) >= MAX_IMPORT_ROWS:
            raise ImportFileError(f"{path}: more than {MAX_IMPORT_ROWS} rows; split it")
        vals = ["" if c is None else c for c in cells]
        if not any(str(v).strip() for v in vals):
            continue
        body.append((n, vals))
    return header, body


def read_import(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    sheet: str | None = None,
    encoding: str = "utf-8-sig",
) -> tuple[list[TradeRow], tuple[str, ...]]:
    """Read a customs-style CSV (or ``.xlsx``) into trade rows, all or nothing.

    Parameters
    ----------
    path : path
        The file.  Its first row is the header.
    mapping : dict, optional
        Field name -> column name in the file, for columns not named like the
        fields (``{"period": "Month", "total_trade": "Total (USD thousand)"}``).
        Fields: ``period`` (a month) or ``year`` (annual totals: the period kind
        ``year``), the three flows, ``currency``, ``unit``, ``source``,
        ``article_date``, ``source_url``, ``note`` (or ``quote``), ``flags``,
        ``approximate`` (yes/no: adds the flag).
    defaults : dict, optional
        Values for fields the file has no column for (``{"source": "GACC",
        "currency": "USD", "unit": "thousand"}``).
    sheet : str, optional
        The worksheet of an ``.xlsx`` file (default: the first).
    encoding : str
        Text encoding of a CSV file.

    Returns
    -------
    (rows, ignored_columns)
        Rows with figures rescaled exactly to million (the note says so when
        rescaled), and the file's columns that were not used.

    Raises
    ------
    ValidationError
        Every problem, each naming the row (the file's line) and the column:
        unparsable months, non-numeric or negative figures, unknown units or
        currencies, duplicate months, mixed currencies, missing sources.
    ImportFileError
        The file cannot be read as a table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gacc.csv"
    >>> _ = p.write_text("Month,Total\\nNov 2025,281000\\n", encoding="utf-8")
    >>> rows, _ = read_import(p, mapping={"total_trade": "Total"},
    ...                       defaults={"source": "GACC", "currency": "USD", "unit": "thousand"})
    >>> rows[0].period, rows[0].total_trade, rows[0].unit
    ('2025-11', Decimal('281'), 'million')
    """
    path = Path(path)
    mapping = dict(mapping or {})
    defaults = {k: v for k, v in (defaults or {}).items() if v is not None}
    header, body = _read_table(path, sheet=sheet, encoding=encoding)
    problems: list[Problem] = []
    for f in list(mapping) + list(defaults):
        if f not in _IMPORT_FIELDS:
            problems.append(
                Problem(
                    f,
                    mapping.get(f, defaults.get(f)),
                    f"unknown field; use one of {', '.join(_IMPORT_FIELDS)}",
                    "mapping",
                )
            )
    cols: dict[str, int] = {}
    folded = {h.casefold(): i for i, h in reversed(list(enumerate(header))) if h}
    for f in _IMPORT_FIELDS:
        if f in mapping:
            want = mapping[f]
            if want in header:
                cols[f] = header.index(want)
            elif want.casefold() in folded:
                cols[f] = folded[want.casefold()]
            else:
                problems.append(
                    Problem(
                        f,
                        want,
                        f"no such column; the file's columns are: {', '.join(header)}",
                        "mapping",
                    )
                )
            continue
        for alias in _ALIASES[f]:
            if alias.casefold() in folded and folded[alias.casefold()] not in cols.values():
                cols[f] = folded[alias.casefold()]
                break
    annual = "year" in cols and "period" not in cols
    native_period = "period" in cols and header[cols["period"]].casefold() == "period"
    if "year" in cols and "period" in cols:
        problems.append(
            Problem(
                "year",
                header[cols["year"]],
                "the file has a month column and a year column; import monthly and annual "
                "figures from separate files",
                "header",
            )
        )
    elif "period" not in cols and not annual:
        problems.append(
            Problem(
                "period",
                None,
                "no month column; name it period/month (or year, for annual totals) or map it: "
                f"--mapping period=COLUMN (the file's columns are: {', '.join(header)})",
                "header",
            )
        )
    if not any(f in cols for f in FLOWS):
        problems.append(
            Problem(
                "total_trade",
                None,
                "no figure column; map at least one flow, e.g. --mapping total_trade=COLUMN "
                f"(flows: {', '.join(FLOWS)}; the file's columns are: {', '.join(header)})",
                "header",
            )
        )
    if "source" not in cols and not str(defaults.get("source", "")).strip():
        problems.append(
            Problem(
                "source",
                None,
                "every figure needs its source: add a source column or pass --source NAME",
                "header",
            )
        )
    default_currency = default_unit = None
    if "currency" in defaults:
        try:
            default_currency = _parse_currency(defaults["currency"])
        except ValueError as exc:
            problems.append(Problem("currency", defaults["currency"], str(exc), "option"))
    if "unit" in defaults:
        try:
            default_unit = _parse_unit(defaults["unit"])
        except ValueError as exc:
            problems.append(Problem("unit", defaults["unit"], str(exc), "option"))
    if problems:
        raise ValidationError(problems, header=f"{path}: nothing imported; fix these:")
    used = set(cols.values())
    ignored = tuple(h for i, h in enumerate(header) if i not in used and h)
    colname = {f: header[i] for f, i in cols.items()}

    rows: list[tuple[int, TradeRow]] = []
    column_currency: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for line, cells in body:
        where = f"row {line}"

        def cell(f: str, cells: list[Any] = cells) -> Any:
            i = cols.get(f)
            if i is None:
                return defaults.get(f, "")
            return cells[i] if i < len(cells) else ""

        rp: list[Problem] = []
        period = None
        pfield = "year" if annual else "period"
        try:
            raw_period = cell(pfield)
            if annual or (native_period and re.match(r"^\d{4}$", str(raw_period).strip())):
                period = parse_year(raw_period)  # the native format's period holds years too
            else:
                period = parse_month(raw_period)
        except ValueError as exc:
            rp.append(Problem(colname.get(pfield, pfield), cell(pfield), str(exc), where))
        row_currency = None
        if "currency" in cols:
            try:
                row_currency = _parse_currency(str(cell("currency")))
            except ValueError as exc:
                rp.append(Problem(colname["currency"], cell("currency"), str(exc), where))
        else:
            row_currency = default_currency
        row_unit = None
        if "unit" in cols:
            try:
                row_unit = _parse_unit(str(cell("unit")))
            except ValueError as exc:
                rp.append(Problem(colname["unit"], cell("unit"), str(exc), where))
        else:
            row_unit = default_unit
        values: dict[str, Decimal | None] = {}
        currencies_seen: dict[str, str] = {}
        rescaled = False
        for flow in FLOWS:
            if flow not in cols:
                values[flow] = None
                continue
            raw = cell(flow)
            try:
                dec, cur, unit = parse_amount(raw)
            except ValueError as exc:
                rp.append(Problem(colname[flow], raw, f"{exc} (field {flow})", where))
                continue
            if dec is None:
                values[flow] = None
                continue
            if cur is not None:
                currencies_seen[flow] = cur
                column_currency[colname[flow]][cur].append(line)
                if row_currency is not None and cur != row_currency:
                    rp.append(
                        Problem(
                            colname[flow],
                            raw,
                            f"is in {cur} but the row's currency is {row_currency}: currencies "
                            "are never mixed in one row; split the row or fix the currency",
                            where,
                        )
                    )
                    continue
            use_unit = unit or row_unit
            if use_unit is None:
                rp.append(
                    Problem(
                        colname[flow],
                        raw,
                        "has no unit; add a unit column, write it in the cell (281 million) or "
                        f"pass --unit ({', '.join(UNITS)})",
                        where,
                    )
                )
                continue
            if use_unit != "million":
                rescaled = True
            values[flow] = _rescale(dec, use_unit, "million", tidy=True)
        cell_currencies = set(currencies_seen.values())
        if len(cell_currencies) > 1:
            rp.append(
                Problem(
                    ", ".join(colname[f] for f in currencies_seen),
                    ", ".join(f"{colname[f]}={c}" for f, c in currencies_seen.items()),
                    "mixed currencies in one row; a row's figures share one currency: split "
                    "the row, or convert with a recorded rate first",
                    where,
                )
            )
        currency = row_currency or (
            next(iter(cell_currencies)) if len(cell_currencies) == 1 else None
        )
        if currency is None and not rp and any(v is not None for v in values.values()):
            rp.append(
                Problem(
                    "currency",
                    None,
                    "no currency: add a currency column, mark the figures (US$, ¥) or pass "
                    f"--currency ({', '.join(CURRENCIES)})",
                    where,
                )
            )
        source = str(cell("source")).strip()
        if not source:
            rp.append(
                Problem(
                    colname.get("source", "source"),
                    cell("source"),
                    "every figure needs its source; fill it in or pass --source",
                    where,
                )
            )
        article_date = ""
        try:
            ad = cell("article_date")
            article_date = (
                ad.date().isoformat()
                if isinstance(ad, datetime)
                else (ad.isoformat() if isinstance(ad, date) else _check_article_date(str(ad)))
            )
        except ValueError as exc:
            rp.append(
                Problem(
                    colname.get("article_date", "article_date"),
                    cell("article_date"),
                    str(exc),
                    where,
                )
            )
        flags: tuple[str, ...] = ()
        try:
            flags = _parse_flags(str(cell("flags")))
        except ValueError as exc:
            rp.append(Problem(colname.get("flags", "flags"), cell("flags"), str(exc), where))
        try:
            if parse_flag_word(cell("approximate")) and "approximate" not in flags:
                flags = (*flags, "approximate")
        except ValueError as exc:
            rp.append(
                Problem(
                    colname.get("approximate", "approximate"), cell("approximate"), str(exc), where
                )
            )
        if not rp and all(v is None for v in values.values()):
            rp.append(
                Problem(
                    ", ".join(colname[f] for f in FLOWS if f in colname),
                    "",
                    "the row states no figure; fill one in or delete the row",
                    where,
                )
            )
        if rp:
            problems.extend(rp)
            continue
        note = str(cell("note"))
        if rescaled:
            extra = f"rescaled exactly to million from {row_unit or 'the unit in the cell'}"
            note = f"{note}; {extra}" if note else extra
        assert period is not None and currency is not None
        rows.append(
            (
                line,
                TradeRow(
                    period=period,
                    currency=currency,
                    unit="million",
                    source=source,
                    article_date=article_date,
                    source_url=str(cell("source_url")).strip(),
                    note=note,
                    flags=flags,
                    **values,
                ),
            )
        )
    # A column whose cells name different currencies, with no currency column: one series mixed.
    if "currency" not in cols:
        for col, by_cur in column_currency.items():
            if len(by_cur) > 1:
                detail = "; ".join(
                    f"{cur} in rows {', '.join(map(str, lines))}" for cur, lines in by_cur.items()
                )
                problems.append(
                    Problem(
                        col,
                        ", ".join(by_cur),
                        f"mixed currencies in one series ({detail}); split the file by currency "
                        "or add a currency column",
                        "column",
                    )
                )
    # Duplicate months within the file: same month, source, article and currency.
    first: dict[tuple[str, ...], int] = {}
    for line, r in rows:
        k = (r.period, r.source.casefold(), r.source_url, r.article_date, r.currency)
        if k in first:
            problems.append(
                Problem(
                    colname.get("period", "period"),
                    r.period,
                    f"duplicate month: row {first[k]} already gives {r.period} from the same "
                    "source; keep one row per month and source",
                    f"row {line}",
                )
            )
        else:
            first[k] = line
    if not body:
        problems.append(Problem("period", None, "the file has a header but no rows", "file"))
    if problems:
        raise ValidationError(problems, header=f"{path}: nothing imported; fix these:")
    return [r for _, r in rows], ignored


def _check_annual_currencies(
    file: Path, new_rows: Sequence[TradeRow], existing: Sequence[TradeRow]
) -> None:
    """An annual figure must be in a currency the monthly series of its year uses.

    Otherwise it cannot be checked against the months (currencies are never mixed);
    a year with no month held is checked against the currencies of the whole series.
    """
    monthly = [r for r in (*existing, *new_rows) if r.kind == "month"]
    if not monthly:
        return
    every = {r.currency for r in monthly}
    problems = []
    for r in new_rows:
        if r.kind != "year":
            continue
        used = {m.currency for m in monthly if m.period.startswith(r.period)} or every
        if r.currency not in used:
            problems.append(
                Problem(
                    "currency",
                    r.currency,
                    f"the annual figure for {r.period} is in {r.currency} but the monthly series "
                    f"of {r.period} is in {', '.join(sorted(used))}; import it in "
                    f"{' or '.join(sorted(used))} (converted by the source, not here), or import "
                    "the months in that currency first",
                    f"year {r.period}",
                )
            )
    if problems:
        raise ValidationError(problems, header=f"{file}: nothing imported; fix these:")


def _same_row(a: TradeRow, b: TradeRow) -> bool:
    return (
        a.period == b.period
        and a.currency == b.currency
        and a.source.casefold() == b.source.casefold()
        and a.source_url == b.source_url
        and a.article_date == b.article_date
        and all(a.value_in(f) == b.value_in(f) for f in FLOWS)
    )


def import_trade(
    ws_path: str | os.PathLike[str],
    file: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    prefer: str | None = None,
    dry_run: bool = False,
    sheet: str | None = None,
    encoding: str = "utf-8-sig",
    rule: SelectionRule = DEFAULT_RULE,
    reason: str | None = None,
    user: str | None = None,
) -> ImportResult:
    """Import *file* into the workspace's trade table: all rows or none.

    New rows are added with the next row ids; an identical row already held
    is skipped.  Existing rows are never changed or removed: a different
    figure for a month and flow is kept beside the old one and reported as a
    conflict.  With *prefer* (a source name, case-insensitive exact match),
    every conflict this import touches is settled for that source's row and
    the choice is recorded in ``preferred_for`` (and the history).

    Raises
    ------
    ValidationError
        The file has problems (nothing written; every problem listed).
    ImportFileError
        The file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ws = pathlib.Path(tempfile.mkdtemp())
    >>> f = ws / "in.csv"
    >>> _ = f.write_text("month,total\\n2025-11,281\\n", encoding="utf-8")
    >>> res = import_trade(ws, f, defaults={"source": "GACC", "currency": "USD", "unit": "million"})
    >>> [r.row_id for r in res.added], [r.total_trade for r in load_trade(ws)]
    (['T0001'], [Decimal('281')])
    """
    ws = Path(ws_path)
    file = Path(file)
    new_rows, ignored = read_import(
        file, mapping=mapping, defaults=defaults, sheet=sheet, encoding=encoding
    )
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    ctx = contextlib.nullcontext() if dry_run else _locked(ws)
    with ctx:
        existing = load_trade(ws)
        _check_annual_currencies(file, new_rows, existing)
        nxt = _next_number(existing)
        added: list[TradeRow] = []
        dups: list[tuple[TradeRow, str]] = []
        for r in new_rows:
            same = next((e for e in existing if _same_row(e, r)), None)
            if same is not None:
                dups.append((r, same.row_id))
                continue
            added.append(replace(r, row_id=f"T{nxt:04d}"))
            nxt += 1
        combined = [*existing, *added]
        new_ids = {r.row_id for r in added}
        touched = [
            c
            for c in find_conflicts(combined, rule=rule)
            if new_ids & {f.row_id for f in c.figures}
        ]
        prefs: list[tuple[str, str, str, tuple[str, ...]]] = []
        unmatched: list[str] = []
        if prefer is not None:
            want = prefer.strip().casefold()
            if not want:
                raise UsageError("--prefer needs a source name")
            settle: dict[str, set[str]] = defaultdict(set)  # row_id -> flows it wins
            lose: dict[str, set[str]] = defaultdict(set)
            for c in touched:
                winners = [f for f in c.figures if f.source.casefold() == want]
                if not winners or len({f.value for f in winners}) > 1:
                    unmatched.append(
                        f"{c.period} {c.flow}: "
                        + (
                            "no figure from that source"
                            if not winners
                            else "that source gives two figures"
                        )
                    )
                    continue
                for f in c.figures:
                    (settle if f in winners else lose)[f.row_id].add(c.flow)
                prefs.append((c.period, c.flow, c.currency, tuple(f.row_id for f in winners)))
            updated = []
            for r in combined:
                pf = set(r.preferred_for) - lose.get(r.row_id, set()) | settle.get(r.row_id, set())
                new_pf = tuple(f for f in FLOWS if f in pf)
                updated.append(r if new_pf == r.preferred_for else replace(r, preferred_for=new_pf))
            combined = updated
            added = [r for r in combined if r.row_id in new_ids]
            touched = [
                c
                for c in find_conflicts(combined, rule=rule)
                if new_ids & {f.row_id for f in c.figures}
            ]
        result = ImportResult(
            file=file.name,
            sha256=digest,
            added=tuple(added),
            duplicates=tuple(dups),
            conflicts=tuple(touched),
            preferences=tuple(prefs),
            unmatched_prefer=tuple(unmatched),
            ignored_columns=ignored,
            dry_run=dry_run,
            rule=rule.describe(),
        )
        if not dry_run and (added or prefs):
            why = reason or f"import {file.name} (sha256 {digest[:12]})" + (
                f", prefer {prefer}" if prefer else ""
            )
            _write_rows_locked(
                ws,
                {r.row_id: r for r in existing},
                combined,
                op="trade.import",
                reason=why,
                user=user,
            )
    return result
