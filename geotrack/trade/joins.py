"""The crossing timeline beside the trade series: UTC months and the monthly join."""

from __future__ import annotations

__all__ = [
    "JoinMonth",
    "MonthlyJoin",
    "crossing_counts",
    "join_csv_text",
    "monthly_join",
    "utc_month",
]

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from geotrack.errors import (
    UsageError,
)
from geotrack.escape import csv_cell
from geotrack.schema import MIN_DATE
from geotrack.trade.events import Event
from geotrack.trade.model import FLOWS, MONTH_RULE, FxRate, TradeRow, _json_number
from geotrack.trade.parsing import _ISO_DAY_RE, parse_month
from geotrack.trade.selection import DEFAULT_RULE, SelectionRule
from geotrack.trade.series import SeriesPoint, chart_series, month_range


@dataclass(frozen=True)
class JoinMonth:
    """One month of the join: crossing-timeline counts beside the chosen trade figures."""

    period: str
    crossings_first_reported: int
    reports_received: int
    reports_active: int
    synthetic_first_reported: int
    trade: dict[str, SeriesPoint]
    events: tuple[Event, ...]

    def as_record(self) -> dict[str, Any]:
        """A flat dict (one CSV row): counts, then value/source/flags per flow, then events."""
        rec: dict[str, Any] = {
            "period": self.period,
            "crossings_first_reported": self.crossings_first_reported,
            "reports_received": self.reports_received,
            "reports_active": self.reports_active,
            "synthetic_first_reported": self.synthetic_first_reported,
        }
        for flow, pt in self.trade.items():
            fig = pt.figure
            rec[flow] = None if pt.value is None else _json_number(pt.value)
            rec[f"{flow}_source"] = fig.source if fig else ""
            rec[f"{flow}_row_id"] = fig.row_id if fig else ""
            marks = list(fig.flags) if fig else []
            if pt.conflict:
                marks.append("conflict")
            rec[f"{flow}_flags"] = ";".join(marks)
        rec["events"] = "; ".join(e.label for e in self.events)
        return rec


@dataclass(frozen=True)
class MonthlyJoin:
    """The monthly join: months in order plus the rules that made it."""

    months: tuple[JoinMonth, ...]
    currency: str
    rule: str
    month_rule: str
    undated: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()

    def records(self) -> list[dict[str, Any]]:
        """One flat dict per month (see :meth:`JoinMonth.as_record`)."""
        return [m.as_record() for m in self.months]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready document: metadata, months and events."""
        return {
            "currency": self.currency,
            "unit": "million",
            "rule": self.rule,
            "month_rule": self.month_rule,
            "counts": {
                "crossings_first_reported": "crossing sites whose first_reported date is in the month",
                "reports_received": "reports whose reported date is in the month",
                "reports_active": "reports whose event_start..event_end interval overlaps the month",
                "synthetic_first_reported": "of crossings_first_reported, sites marked synthetic",
            },
            "undated": list(self.undated),
            "events": [e.as_dict() for e in self.events],
            "months": self.records(),
        }


# -- the crossing timeline ----------------------------------------------------------------


def utc_month(value: object) -> str | None:
    """The UTC month (``YYYY-MM``) a date or date-time falls in; None if empty.

    A calendar date (``YYYY-MM-DD``) is taken as it is; a date-time with an
    offset is converted to UTC first; one without an offset is taken as UTC
    (see :data:`MONTH_RULE`).

    Raises
    ------
    ValueError
        Not a date (a year or month alone cannot be placed in one month either).

    Examples
    --------
    >>> utc_month("2025-11-30")
    '2025-11'
    >>> utc_month("2025-12-01T08:00:00+09:00")
    '2025-11'
    >>> utc_month("2025-11-30T20:00:00-05:00")
    '2025-12'
    """
    d = _utc_date(value)
    return None if d is None else f"{d.year:04d}-{d.month:02d}"


def _utc_date(value: object) -> date | None:
    """The UTC calendar date of *value*, checked against the bounds dates are written with.

    A record already stored with a date before 1900-01-01 or after today (UTC) is
    not placed in any month: the caller reports it by id and carries on.
    """
    d = _parse_utc_date(value)
    today = datetime.now(UTC).date()
    if d is not None and not MIN_DATE <= d <= today:
        raise ValueError(
            f"{d.isoformat()} is outside {MIN_DATE.isoformat()}..{today.isoformat()} (today); "
            "left out of the months (`geotrack validate` lists it; fix the year)"
        )
    return d


def _parse_utc_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        s = value.strip()
        if _ISO_DAY_RE.match(s):
            return date.fromisoformat(s)
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(
                "not a date; write YYYY-MM-DD or an ISO date-time with its offset"
            ) from None
        if len(s) <= 10:
            raise ValueError("not a full date; write YYYY-MM-DD")
    else:
        raise ValueError(f"a {type(value).__name__} is not a date")
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.date()


def _interval_months(start: object, end: object) -> tuple[str, str] | None:
    """First and last UTC month of a report's event interval (end defaults to start)."""
    a = _utc_date(start)
    b = _utc_date(end) if end not in (None, "") else a
    if a is None:
        if b is None:
            return None
        a = b
    assert b is not None
    if b < a:
        raise ValueError(f"event_end {b} is before event_start {a}")
    return f"{a.year:04d}-{a.month:02d}", f"{b.year:04d}-{b.month:02d}"


def crossing_counts(
    crossings: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per UTC month: sites first reported, reports received, reports active.

    *crossings* are GeoJSON features (or their ``properties``) of crossing
    sites.  ``first_reported`` places a site; each report's ``reported``
    date places the report; each report's ``event_start``..``event_end``
    counts it in every month the interval overlaps.

    Returns
    -------
    (counts, undated)
        ``counts[month]`` has ``crossings_first_reported``, ``reports_received``,
        ``reports_active`` and ``synthetic_first_reported``; ``undated`` names
        sites and reports that could not be placed, with why.

    Examples
    --------
    >>> site = {"id": "YLU-0001", "properties": {"first_reported": "2025-11-30", "reports": [
    ...     {"report_id": "R1", "reported": "2025-12-01", "event_start": "2025-10-15",
    ...      "event_end": "2025-11-02"}]}}
    >>> counts, _ = crossing_counts([site])
    >>> {m: c["reports_active"] for m, c in sorted(counts.items())}
    {'2025-10': 1, '2025-11': 1, '2025-12': 0}
    """
    keys = (
        "crossings_first_reported",
        "reports_received",
        "reports_active",
        "synthetic_first_reported",
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    undated: list[str] = []
    for feat in crossings:
        props = feat.get("properties", feat) if isinstance(feat, Mapping) else {}
        props = props or {}
        fid = str(feat.get("id") or props.get("id") or "?")
        try:
            m = utc_month(props.get("first_reported"))
        except ValueError as exc:
            undated.append(f"{fid}: first_reported={props.get('first_reported')!r}: {exc}")
            m = None
        else:
            if m is None:
                undated.append(f"{fid}: no first_reported date")
        if m is not None:
            counts[m]["crossings_first_reported"] += 1
            if props.get("synthetic"):
                counts[m]["synthetic_first_reported"] += 1
        for rep in props.get("reports") or []:
            rid = f"{fid}/{rep.get('report_id', '?')}"
            try:
                rm = utc_month(rep.get("reported"))
            except ValueError as exc:
                undated.append(f"{rid}: reported={rep.get('reported')!r}: {exc}")
                rm = None
            if rm is not None:
                counts[rm]["reports_received"] += 1
            try:
                span = _interval_months(rep.get("event_start"), rep.get("event_end"))
            except ValueError as exc:
                undated.append(f"{rid}: event interval: {exc}")
                span = None
            if span is not None:
                for p in month_range(*span):
                    counts[p]["reports_active"] += 1
    return dict(counts), undated


def monthly_join(
    rows: Sequence[TradeRow],
    crossings: Iterable[Mapping[str, Any]],
    events: Sequence[Event] = (),
    *,
    currency: str = "USD",
    rule: SelectionRule = DEFAULT_RULE,
    start: str | None = None,
    end: str | None = None,
    derive_totals: bool = False,
    fx: Mapping[str, FxRate] | None = None,
) -> MonthlyJoin:
    """Per month: crossings first reported, reports received and active, beside trade.

    The months run from *start* to *end*, by default from the earliest to the
    latest month of the trade table, the crossings and the events.  Trade
    figures are the chosen ones (:func:`chart_series`); gaps stay empty.

    Examples
    --------
    >>> from decimal import Decimal
    >>> rows = [TradeRow("2025-11", Decimal("281"), source="A", row_id="T0001")]
    >>> site = {"id": "YLU-0001", "properties": {"first_reported": "2025-11-03", "reports": []}}
    >>> j = monthly_join(rows, [site])
    >>> j.records()[0]["crossings_first_reported"], j.records()[0]["total_trade"]
    (1, 281)
    """
    crossings = list(crossings)
    counts, undated = crossing_counts(crossings)
    months = (
        {r.period for r in rows if r.kind == "month"} | set(counts) | {e.period for e in events}
    )
    s = parse_month(start) if start else (min(months) if months else None)
    e = parse_month(end) if end else (max(months) if months else None)
    if s is None or e is None:
        return MonthlyJoin((), currency, rule.describe(), MONTH_RULE, tuple(undated), tuple(events))
    if s > e:
        raise UsageError(f"--from {s} is after --to {e}; swap them")
    series = chart_series(
        rows, currency=currency, rule=rule, start=s, end=e, derive_totals=derive_totals, fx=fx
    )
    by_month: dict[str, dict[str, SeriesPoint]] = defaultdict(dict)
    for pt in series:
        by_month[pt.period][pt.flow] = pt
    ev: dict[str, list[Event]] = defaultdict(list)
    for x in events:
        ev[x.period].append(x)
    out = []
    for p in month_range(s, e):
        c = counts.get(p, {})
        out.append(
            JoinMonth(
                period=p,
                crossings_first_reported=c.get("crossings_first_reported", 0),
                reports_received=c.get("reports_received", 0),
                reports_active=c.get("reports_active", 0),
                synthetic_first_reported=c.get("synthetic_first_reported", 0),
                trade={f: by_month[p].get(f, SeriesPoint(p, f, None, currency)) for f in FLOWS},
                events=tuple(ev.get(p, ())),
            )
        )
    return MonthlyJoin(
        tuple(out), currency, rule.describe(), MONTH_RULE, tuple(undated), tuple(events)
    )


def join_csv_text(join: MonthlyJoin) -> str:
    """The join as CSV text (CRLF, RFC 4180), one row per month.

    Text cells that a spreadsheet would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, tab or CR) are prefixed with ``'``; numbers stay numbers.
    Columns: ``period``, the four counts, then for each flow its value,
    ``_source``, ``_row_id`` and ``_flags`` (``conflict`` when sources
    disagree), then ``events``.

    Examples
    --------
    >>> from decimal import Decimal
    >>> rows = [TradeRow("2025-11", Decimal("281"), source="=cmd", row_id="T0001")]
    >>> text = join_csv_text(monthly_join(rows, []))
    >>> text.splitlines()[1].split(",")[:7]
    ['2025-11', '0', '0', '0', '0', '281', "'=cmd"]
    """
    records = join.records()
    header = list(records[0]) if records else ["period"]
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(header)
    for rec in records:
        w.writerow([csv_cell(rec.get(c)) for c in header])
    return buf.getvalue()
