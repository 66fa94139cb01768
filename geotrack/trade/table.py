"""The workspace's ``trade.csv``: reading, checking and writing its text.

Reading checks every cell and reports every problem at once; rows without an id
get the next ``T0001``-style id.  Writes go through :mod:`geotrack.trade.storage`.
"""

from __future__ import annotations

__all__ = ["TRADE_FILE", "load_trade", "read_trade_csv", "trade_csv_text"]

import csv
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from geotrack.errors import (
    DataError,
    NotFoundError,
    Problem,
    ValidationError,
)
from geotrack.trade.model import FLOWS, TRADE_COLUMNS, TradeRow
from geotrack.trade.parsing import (
    _ISO_MONTH_RE,
    _check_article_date,
    _parse_currency,
    _parse_flags,
    _parse_flows,
    _parse_unit,
    parse_amount,
    parse_month,
    parse_year,
)

TRADE_FILE = "trade.csv"
_ROW_ID_RE = re.compile(r"^T(\d{4,})$")
# -- the table on disk ----------------------------------------------------------


def read_trade_csv(path: str | os.PathLike[str]) -> list[TradeRow]:
    """Read and check a ``trade.csv`` (the workspace table), every problem at once.

    Rows without a ``row_id`` get ``T0001``, ``T0002``... in file order.

    Raises
    ------
    ValidationError
        Listing each bad cell by row and column.
    DataError
        The file is not a trade table (columns missing).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trade.csv"
    >>> _ = p.write_text("period,total_trade,currency,unit,source\\n2025-11,281,USD,million,X\\n")
    >>> read_trade_csv(p)[0].total_trade
    Decimal('281')
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # no newline translation: "\r" in a cell
    except FileNotFoundError:
        raise NotFoundError(
            f"{path}: no trade table; import one with `geotrack trade import FILE`"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in ("period", "currency", "unit", "source") if c not in header]
    if missing:
        raise DataError(
            f"{path}: columns {', '.join(missing)} missing; a trade table has the columns "
            f"{', '.join(TRADE_COLUMNS)}"
        )
    problems: list[Problem] = []
    rows: list[TradeRow] = []
    for n, rec in enumerate(reader, start=2):
        row, probs = _row_from_record(rec, f"row {n}", strict=True)
        problems.extend(probs)
        if row is not None:
            rows.append(row)
    if problems:
        raise ValidationError(problems, header=f"{path}: the trade table has errors; fix them:")
    return _assign_ids(rows)


def _row_from_record(
    rec: Mapping[str, Any], where: str, *, strict: bool
) -> tuple[TradeRow | None, list[Problem]]:
    """Build a TradeRow from a record of canonical column names (strings)."""
    probs: list[Problem] = []

    def text(col: str) -> str:
        v = rec.get(col)
        return "" if v is None else str(v)

    period = None
    try:
        raw = text("period")
        if re.match(r"^\d{4}$", raw):  # a year: an annual figure
            period = parse_year(raw)
        else:
            period = raw if strict and _ISO_MONTH_RE.match(raw) else parse_month(raw)
            if strict and period != raw:
                raise ValueError(f"write the month as {period} (or a year as YYYY)")
            parse_month(period)
    except ValueError as exc:
        probs.append(Problem("period", rec.get("period"), str(exc), where))
    currency = None
    try:
        currency = _parse_currency(text("currency"))
    except ValueError as exc:
        probs.append(Problem("currency", rec.get("currency"), str(exc), where))
    unit = None
    try:
        unit = _parse_unit(text("unit"))
    except ValueError as exc:
        probs.append(Problem("unit", rec.get("unit"), str(exc), where))
    values: dict[str, Decimal | None] = {}
    for flow in FLOWS:
        raw = text(flow).strip()
        if not raw:
            values[flow] = None
            continue
        try:
            if not re.match(r"^\d+(\.\d+)?$", raw):
                parse_amount(raw)  # raises the precise message (negative, not a number)
                raise ValueError("write the figure as plain digits (e.g. 281 or 37.1)")
            values[flow] = Decimal(raw)
        except ValueError as exc:
            probs.append(Problem(flow, raw, str(exc), where))
    source = text("source").strip()
    if not source:
        probs.append(Problem("source", rec.get("source"), "every figure needs its source", where))
    if not any(v is not None for v in values.values()) and not probs:
        probs.append(
            Problem("total_trade", "", "the row states no figure; give at least one flow", where)
        )
    article_date = ""
    try:
        article_date = _check_article_date(text("article_date"))
    except ValueError as exc:
        probs.append(Problem("article_date", rec.get("article_date"), str(exc), where))
    flags: tuple[str, ...] = ()
    try:
        flags = _parse_flags(text("flags"))
    except ValueError as exc:
        probs.append(Problem("flags", rec.get("flags"), str(exc), where))
    preferred: tuple[str, ...] = ()
    try:
        preferred = _parse_flows(text("preferred_for"))
    except ValueError as exc:
        probs.append(Problem("preferred_for", rec.get("preferred_for"), str(exc), where))
    row_id = text("row_id").strip()
    if row_id and not _ROW_ID_RE.match(row_id):
        probs.append(Problem("row_id", row_id, "write row ids as T0001 (or leave empty)", where))
    if probs:
        return None, probs
    assert period and currency and unit
    return (
        TradeRow(
            period=period,
            currency=currency,
            unit=unit,
            source=source,
            article_date=article_date,
            source_url=text("source_url").strip(),
            note=text("note"),
            row_id=row_id,
            flags=flags,
            preferred_for=preferred,
            **values,
        ),
        [],
    )


def _assign_ids(rows: list[TradeRow]) -> list[TradeRow]:
    seen: set[str] = set()
    dup = [r.row_id for r in rows if r.row_id and (r.row_id in seen or seen.add(r.row_id))]
    if dup:
        raise ValidationError(
            [Problem("row_id", d, "is used twice; give each row its own id", None) for d in dup]
        )
    nxt = _next_number(rows)
    out = []
    for r in rows:
        if not r.row_id:
            r = replace(r, row_id=f"T{nxt:04d}")
            nxt += 1
        out.append(r)
    return out


def _next_number(rows: Iterable[TradeRow]) -> int:
    nums = [int(m.group(1)) for r in rows if (m := _ROW_ID_RE.match(r.row_id))]
    return max(nums, default=0) + 1


def load_trade(ws_path: str | os.PathLike[str]) -> list[TradeRow]:
    """The trade table of the workspace folder *ws_path* (``<ws>/trade.csv``).

    A workspace without a trade table gives an empty list.

    Examples
    --------
    >>> import tempfile
    >>> load_trade(tempfile.mkdtemp())
    []
    """
    path = Path(ws_path) / TRADE_FILE
    if not path.exists():
        return []
    return read_trade_csv(path)


def trade_csv_text(rows: Iterable[TradeRow]) -> str:
    """The text of a ``trade.csv`` holding *rows* (CRLF lines, like the bundled file).

    Examples
    --------
    >>> trade_csv_text([]).splitlines()[0].split(",")[:3]
    ['period', 'total_trade', 'cn_exports_to_kp']
    """
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(TRADE_COLUMNS))
    w.writeheader()
    for r in rows:
        w.writerow(r.to_record())
    return buf.getvalue()
