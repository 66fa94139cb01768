"""Official China–North Korea trade: the table, conflicts, import, joins, claims.

The workspace's ``trade.csv`` holds China's customs (GACC) monthly figures as
published in news reports: **one row per month per source article**, with the
columns ``period, total_trade, cn_exports_to_kp, cn_imports_from_kp, currency,
unit, source, article_date, source_url, note`` (the format of the bundled
series and of ``geotrack trade import``) followed by three columns this module
adds: ``row_id`` (``T0001``...), ``flags`` and ``preferred_for``.

Rules kept here:

* Every row is kept.  Two figures for the same month, flow and currency are a
  :class:`Conflict`; both stay in the table and in every listing.
* Figures are :class:`~decimal.Decimal` read from and written back as the text
  that was given: no figure is rounded or reformatted.
* The figure a chart or join uses is chosen by a stated
  :class:`SelectionRule`; :meth:`SelectionRule.describe` says how.
* Gaps stay gaps.  A value computed by arithmetic (a total from its two flows)
  exists only on request and is flagged ``derived``; a value in another
  currency only with an explicit, recorded rate (:class:`FxRate`), flagged
  ``converted``.  Currencies are never mixed in one series.
* Month boundaries are UTC (see :func:`utc_month`): a calendar date is taken
  as it is, a date-time with an offset is converted to UTC first.

Writes take ``<workspace>/.trade.lock``, write a temporary file, ``fsync`` and
rename it, and append one line to ``trade_history.jsonl`` (the entry shape of
:class:`geotrack.store.HistoryEntry`, layer ``trade`` or ``events``).
"""

from __future__ import annotations

__all__ = [
    "CURRENCIES",
    "DEFAULT_RULE",
    "EVENT_COLUMNS",
    "FLAGS",
    "FLOWS",
    "MONTH_RULE",
    "SOURCE_COLUMNS",
    "TRADE_COLUMNS",
    "UNITS",
    "ClaimCheck",
    "Conflict",
    "Event",
    "Figure",
    "FxRate",
    "ImportResult",
    "JoinMonth",
    "MonthEntry",
    "MonthlyJoin",
    "SelectionRule",
    "SeriesPoint",
    "TradeRow",
    "add_event",
    "chart_series",
    "check_claim",
    "choose_figures",
    "crossing_counts",
    "find_conflicts",
    "import_trade",
    "join_csv_text",
    "list_months",
    "load_events",
    "load_trade",
    "month_range",
    "monthly_join",
    "parse_amount",
    "parse_month",
    "read_events_csv",
    "read_import",
    "read_trade_csv",
    "remove_event",
    "trade_csv_text",
    "utc_month",
    "write_trade",
]

import contextlib
import csv
import hashlib
import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

import orjson

from geotrack.errors import (
    DataError,
    ImportFileError,
    NotFoundError,
    Problem,
    StorageError,
    UsageError,
    ValidationError,
)
from geotrack.escape import csv_cell
from geotrack.store import (
    Change,
    HistoryEntry,
    append_line,
    atomic_write,
    current_user,
    file_lock,
    remove_stray_temp_files,
    utc_now,
)

# -- vocabularies ---------------------------------------------------------------

#: The three flows, from China's side (China's customs reports them so).
FLOWS: dict[str, str] = {
    "total_trade": "Total trade",
    "cn_exports_to_kp": "China's exports to North Korea",
    "cn_imports_from_kp": "China's imports from North Korea",
}
#: Currencies a figure may be in; one series never mixes them.
CURRENCIES: dict[str, str] = {"USD": "US dollars", "CNY": "Chinese yuan (renminbi)"}
#: Units and their size (a figure of 1 in that unit is this many currency units).
UNITS: dict[str, int] = {
    "one": 1,
    "thousand": 10**3,
    "ten_thousand": 10**4,
    "million": 10**6,
    "hundred_million": 10**8,
    "billion": 10**9,
}
#: Flags a row (or one flow of it, as ``flag:flow``) may carry; also the order
#: of weight in the selection rule (a doubtful figure is the last resort).
FLAGS: dict[str, str] = {
    "doubtful": "Doubtful: the source's figures do not fit each other or other sources",
    "derived": "Derived by arithmetic (e.g. a total from its two flows), not reported",
    "converted": "Converted from another currency with a recorded rate",
    "provisional": "Provisional or preliminary figure, later revised or not final",
    "secondary": "From an aggregator or a compilation, not the customs release itself",
    "approximate": "Stated approximately ('about', 'nearly', rounded)",
}
#: Columns of the bundled series and of the import format, in order.
SOURCE_COLUMNS: tuple[str, ...] = (
    "period",
    "total_trade",
    "cn_exports_to_kp",
    "cn_imports_from_kp",
    "currency",
    "unit",
    "source",
    "article_date",
    "source_url",
    "note",
)
#: Columns of the workspace's ``trade.csv``.
TRADE_COLUMNS: tuple[str, ...] = (*SOURCE_COLUMNS, "row_id", "flags", "preferred_for")
#: Columns of the workspace's ``events.csv``.
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "date",
    "date_precision",
    "label",
    "source",
    "source_url",
    "note",
)
#: How dates are placed in months (stated in join and chart outputs).
MONTH_RULE = (
    "Months are calendar months in UTC. A date without a time (YYYY-MM-DD) is a calendar "
    "date and falls in its own month; a date-time with a UTC offset is converted to UTC "
    "first; a date-time without an offset is taken as UTC."
)

TRADE_FILE = "trade.csv"
EVENTS_FILE = "events.csv"
HISTORY_FILE = "trade_history.jsonl"
LOCK_FILE = ".trade.lock"
LOCK_TIMEOUT_S = 120.0
#: Largest import file read (bytes) and rows accepted.
MAX_IMPORT_BYTES = 20_000_000
MAX_IMPORT_ROWS = 100_000
#: Largest total size of an .xlsx workbook's parts once inflated (bytes).
MAX_XLSX_INFLATED_BYTES = 128 * 1024 * 1024

_MONTH_NAMES = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_CURRENCY_WORDS = {
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "us dollar": "USD",
    "us dollars": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "美元": "USD",
    "달러": "USD",
    "ドル": "USD",
    "cny": "CNY",
    "rmb": "CNY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "元": "CNY",
    "人民币": "CNY",
    "위안": "CNY",
    "元人民币": "CNY",
}
_UNIT_WORDS = {
    "one": "one",
    "ones": "one",
    "unit": "one",
    "units": "one",
    "thousand": "thousand",
    "thousands": "thousand",
    "k": "thousand",
    "千": "thousand",
    "ten_thousand": "ten_thousand",
    "ten thousand": "ten_thousand",
    "万": "ten_thousand",
    "萬": "ten_thousand",
    "만": "ten_thousand",
    "million": "million",
    "millions": "million",
    "mn": "million",
    "mln": "million",
    "m": "million",
    "百万": "million",
    "hundred_million": "hundred_million",
    "hundred million": "hundred_million",
    "亿": "hundred_million",
    "億": "hundred_million",
    "억": "hundred_million",
    "billion": "billion",
    "billions": "billion",
    "bn": "billion",
    "b": "billion",
}
_NOT_STATED = {"", "-", "–", "—", "n/a", "na", "..", "…"}
_NUMBER_RE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_ISO_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_ISO_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROW_ID_RE = re.compile(r"^T(\d{4,})$")
_EVENT_ID_RE = re.compile(r"^E(\d+)$")


# -- values -------------------------------------------------------------------


@dataclass(frozen=True)
class TradeRow:
    """One row of the trade table: the figures one source article gives for one month.

    Figures are ``Decimal`` (exactly as written) or ``None`` when the source
    does not state them.  ``flags`` holds codes of :data:`FLAGS`, each for the
    whole row or for one flow (``"approximate:total_trade"``);
    ``preferred_for`` lists the flows for which the user recorded that this
    row wins a conflict.

    Examples
    --------
    >>> row = TradeRow(period="2025-11", total_trade=Decimal("281"), currency="USD",
    ...                unit="million", source="Korea JoongAng Daily")
    >>> row.value("total_trade"), row.value_in("total_trade", "thousand")
    (Decimal('281'), Decimal('281000'))
    """

    period: str
    total_trade: Decimal | None = None
    cn_exports_to_kp: Decimal | None = None
    cn_imports_from_kp: Decimal | None = None
    currency: str = "USD"
    unit: str = "million"
    source: str = ""
    article_date: str = ""
    source_url: str = ""
    note: str = ""
    row_id: str = ""
    flags: tuple[str, ...] = ()
    preferred_for: tuple[str, ...] = ()

    def value(self, flow: str) -> Decimal | None:
        """The figure for *flow* in the row's own unit and currency."""
        if flow not in FLOWS:
            raise NotFoundError(f"flow={flow!r}: unknown flow; use one of {', '.join(FLOWS)}")
        return getattr(self, flow)

    def value_in(self, flow: str, unit: str = "million") -> Decimal | None:
        """The figure for *flow* rescaled exactly to *unit* (currency unchanged)."""
        v = self.value(flow)
        return None if v is None else _rescale(v, self.unit, unit)

    def flagged(self, flow: str | None = None) -> tuple[str, ...]:
        """The flags that apply to *flow* (whole-row flags and those scoped to it)."""
        out = []
        for f in self.flags:
            code, _, scope = f.partition(":")
            if not scope or flow is None or scope == flow:
                out.append(code)
        return tuple(dict.fromkeys(out))

    def figures(self) -> dict[str, Decimal]:
        """The flows this row states, with their figures."""
        return {f: v for f in FLOWS if (v := getattr(self, f)) is not None}

    def to_record(self) -> dict[str, str]:
        """The row as the strings written to ``trade.csv``."""
        rec = dict.fromkeys(TRADE_COLUMNS, "")
        rec.update(
            period=self.period,
            currency=self.currency,
            unit=self.unit,
            source=self.source,
            article_date=self.article_date,
            source_url=self.source_url,
            note=self.note,
            row_id=self.row_id,
            flags=";".join(self.flags),
            preferred_for=";".join(self.preferred_for),
        )
        for f in FLOWS:
            v = getattr(self, f)
            rec[f] = "" if v is None else _dec_text(v)
        return rec


@dataclass(frozen=True)
class Figure:
    """One figure for one month and flow, with where it comes from.

    Examples
    --------
    >>> Figure("2025-11", "total_trade", Decimal("281"), "USD", "T0128", "Korea JoongAng Daily",
    ...        "2025-12-19").label()
    '281 (Korea JoongAng Daily, 2025-12-19)'
    """

    period: str
    flow: str
    value: Decimal
    currency: str
    row_id: str
    source: str
    article_date: str
    flags: tuple[str, ...] = ()
    preferred: bool = False
    order: int = 0
    source_url: str = ""

    def label(self) -> str:
        """``value (source, article date)``, the way listings cite a figure."""
        when = f", {self.article_date}" if self.article_date else ""
        return f"{_dec_text(self.value)} ({self.source}{when})"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the value as a number)."""
        return {
            "period": self.period,
            "flow": self.flow,
            "value": _json_number(self.value),
            "value_text": _dec_text(self.value),
            "currency": self.currency,
            "unit": "million",
            "row_id": self.row_id,
            "source": self.source,
            "article_date": self.article_date,
            "source_url": self.source_url,
            "flags": list(self.flags),
            "preferred": self.preferred,
        }


@dataclass(frozen=True)
class SelectionRule:
    """How one figure is chosen when several are held for a month and flow.

    In order: (1) a preference the user recorded (``trade import --prefer``),
    if *use_recorded*; (2) the sources in *prefer_sources*, earliest first
    (case-insensitive substring match on the source name); (3) figures with
    fewer warning flags, weighed in the order of :data:`FLAGS` (doubtful
    first); (4) the most recent article date (none counts as oldest); (5) more
    decimal places; (6) the earlier row in the table.  The other figures are
    kept and listed as conflicts.

    Examples
    --------
    >>> SelectionRule(prefer_sources=("Yonhap",)).describe().startswith("Figure chosen")
    True
    """

    prefer_sources: tuple[str, ...] = ()
    use_recorded: bool = True

    def key(self, fig: Figure) -> tuple[Any, ...]:
        """Sort key: the smallest key wins."""
        recorded = 0 if (self.use_recorded and fig.preferred) else 1
        src = fig.source.casefold()
        pref = next(
            (i for i, s in enumerate(self.prefer_sources) if s.casefold() in src),
            len(self.prefer_sources),
        )
        quality = tuple(1 if code in fig.flags else 0 for code in FLAGS)
        when = tuple(-x for x in _date_key(fig.article_date))
        places = -max(0, -int(fig.value.as_tuple().exponent))  # type: ignore[operator]
        return (recorded, pref, quality, when, places, fig.order)

    def choose(self, figures: Sequence[Figure]) -> Figure:
        """The winning figure among *figures* (not empty)."""
        return min(figures, key=self.key)

    def describe(self) -> str:
        """The rule in one paragraph, for outputs."""
        parts = []
        if self.use_recorded:
            parts.append("a preference recorded with `trade import --prefer`")
        if self.prefer_sources:
            parts.append("sources in this order: " + ", ".join(self.prefer_sources))
        parts.append("figures with fewer warning flags (weighed: " + ", ".join(FLAGS) + ")")
        parts.append("the most recent article date")
        parts.append("more decimal places")
        parts.append("the earlier row in the table")
        steps = "; ".join(f"({i}) {p}" for i, p in enumerate(parts, 1))
        return (
            f"Figure chosen per month, flow and currency by: {steps}. "
            "Every other figure is kept and listed as a conflict."
        )


#: The rule used when the user gives none.
DEFAULT_RULE = SelectionRule()


@dataclass(frozen=True)
class Conflict:
    """Different figures held for the same month, flow and currency.

    ``within_rounding`` is true when the figures agree once the more precise
    one is rounded to the places of the less precise one (e.g. 244 and
    243.6).  ``fits`` lists the row ids of figures for which the month's total
    equals exports plus imports within rounding (a hint, never a fill).
    """

    period: str
    flow: str
    currency: str
    figures: tuple[Figure, ...]
    chosen: Figure
    within_rounding: bool
    fits: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line: month, flow, every figure, the chosen one."""
        figs = "; ".join(
            f.label() + (" [chosen]" if f is self.chosen else "") for f in self.figures
        )
        kind = "rounding only" if self.within_rounding else "differ"
        fit = f"; total = exports + imports fits {', '.join(self.fits)}" if self.fits else ""
        return f"{self.period} {self.flow} ({self.currency} million, {kind}): {figs}{fit}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "period": self.period,
            "flow": self.flow,
            "currency": self.currency,
            "unit": "million",
            "within_rounding": self.within_rounding,
            "chosen_row_id": self.chosen.row_id,
            "fits_total": list(self.fits),
            "figures": [f.as_dict() for f in self.figures],
        }


@dataclass(frozen=True)
class FxRate:
    """An explicit conversion rate: one unit of *from_currency* is *rate* target units.

    Examples
    --------
    >>> FxRate("CNY", Decimal("0.1449"), "user-supplied average rate").describe("USD")
    '1 CNY = 0.1449 USD (user-supplied average rate)'
    """

    from_currency: str
    rate: Decimal
    source: str

    def describe(self, to_currency: str) -> str:
        """``1 CNY = 0.1449 USD (source)``."""
        return f"1 {self.from_currency} = {_dec_text(self.rate)} {to_currency} ({self.source})"


@dataclass(frozen=True)
class SeriesPoint:
    """The chosen figure for one month and flow, or a gap (``value`` is None)."""

    period: str
    flow: str
    value: Decimal | None
    currency: str
    figure: Figure | None = None
    candidates: int = 0
    conflict: bool = False
    derived: bool = False
    converted: bool = False
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``value`` null for a gap)."""
        fig = self.figure
        return {
            "period": self.period,
            "flow": self.flow,
            "value": None if self.value is None else _json_number(self.value),
            "currency": self.currency,
            "unit": "million",
            "source": fig.source if fig else None,
            "article_date": fig.article_date if fig else None,
            "row_id": fig.row_id if fig else None,
            "flags": list(fig.flags) if fig else [],
            "candidates": self.candidates,
            "conflict": self.conflict,
            "derived": self.derived,
            "converted": self.converted,
            "note": self.note,
        }


@dataclass(frozen=True)
class MonthEntry:
    """Everything held for one month: its rows, chosen figures and conflicts."""

    period: str
    rows: tuple[TradeRow, ...]
    chosen: dict[tuple[str, str], Figure]
    conflicts: tuple[Conflict, ...]

    @property
    def gap(self) -> bool:
        """True when no figure at all is held for the month."""
        return not self.rows


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


@dataclass(frozen=True)
class Event:
    """A dated event drawn on the timeline (a summit, a border closure).

    Examples
    --------
    >>> Event("E1", "2025-09", "month", "Summit", "Paper, 2025-12-19").period
    '2025-09'
    """

    event_id: str
    date: str
    date_precision: str
    label: str
    source: str
    source_url: str = ""
    note: str = ""

    @property
    def period(self) -> str:
        """The month the event falls in (``YYYY-MM``)."""
        return self.date[:7]

    def as_dict(self) -> dict[str, str]:
        """The event as the strings written to ``events.csv``."""
        return {c: getattr(self, c) for c in EVENT_COLUMNS}


@dataclass(frozen=True)
class ClaimCheck:
    """The result of checking "*month* was the highest since *since*" against the series."""

    verdict: str  # "agrees" | "disagrees" | "cannot_check"
    month: str
    since: str
    flow: str
    currency: str
    month_figure: Figure | None
    since_figure: Figure | None
    higher_between: tuple[Figure, ...]
    highest_between: Figure | None
    months_checked: tuple[str, ...]
    months_missing: tuple[str, ...]
    other_figures: tuple[str, ...]
    rule: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "verdict": self.verdict,
            "claim": f"{self.month} was the highest month since {self.since}",
            "flow": self.flow,
            "currency": self.currency,
            "unit": "million",
            "month_figure": self.month_figure.as_dict() if self.month_figure else None,
            "since_figure": self.since_figure.as_dict() if self.since_figure else None,
            "higher_between": [f.as_dict() for f in self.higher_between],
            "highest_between": self.highest_between.as_dict() if self.highest_between else None,
            "months_checked": list(self.months_checked),
            "months_missing": list(self.months_missing),
            "other_figures": list(self.other_figures),
            "rule": self.rule,
            "text": self.text,
        }


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


# -- parsing ------------------------------------------------------------------


def parse_month(value: object) -> str:
    """Parse a month in any of the usual spellings to ``YYYY-MM``.

    Accepted: ``2025-11``, ``2025-11-01`` (a date: its month), ``2025.11``,
    ``2025/11``, ``11/2025``, ``11.2025``, ``Nov 2025``, ``November 2025``,
    ``2025 Nov``, ``2025年11月``, ``2025년 11월``, ``202511``, and date or
    datetime objects (from spreadsheets).

    Raises
    ------
    ValueError
        With a message that lists the accepted forms.

    Examples
    --------
    >>> [parse_month(s) for s in ["2025-11", "Nov 2025", "2025年11月", "2025.11", "11/2025"]]
    ['2025-11', '2025-11', '2025-11', '2025-11', '2025-11']
    """
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if not isinstance(value, str):
        raise ValueError(
            f"a {type(value).__name__} is not a month; write months as text such as 2025-11"
        )
    s = value.strip()
    year = month = None
    patterns = (
        (r"^(\d{4})[-./](\d{1,2})$", (1, 2)),
        (r"^(\d{4})-(\d{2})-(\d{2})$", (1, 2)),
        (r"^(\d{1,2})[-./](\d{4})$", (2, 1)),
        (r"^(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]$", (1, 2)),
        (r"^(\d{4})(\d{2})$", (1, 2)),
    )
    for pat, (yi, mi) in patterns:
        m = re.match(pat, s)
        if m:
            year, month = int(m.group(yi)), int(m.group(mi))
            if len(m.groups()) == 3:
                date(year, month, int(m.group(3)))  # a real day, or ValueError
            break
    else:
        m = re.match(r"^([A-Za-z]+)\.?[\s,\-]*(\d{4})$", s) or re.match(
            r"^(\d{4})[\s,\-]+([A-Za-z]+)\.?$", s
        )
        if m:
            a, b = m.groups()
            name, yr = (a, b) if a.isalpha() else (b, a)
            if name.casefold() in _MONTH_NAMES:
                year, month = int(yr), _MONTH_NAMES[name.casefold()]
    if year is None or month is None:
        raise ValueError(
            "not a month; write it as 2025-11, Nov 2025, 2025年11月, 2025.11 or 11/2025"
        )
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not 1-12; write it as 2025-11")
    if not 1950 <= year <= 2100:
        raise ValueError(f"year {year} is outside 1950-2100; check the column holds months")
    return f"{year:04d}-{month:02d}"


def parse_amount(value: object) -> tuple[Decimal | None, str | None, str | None]:
    """Parse a figure, with an optional currency mark and unit word.

    Returns ``(figure, currency, unit)``; ``currency`` and ``unit`` are None
    when the cell does not say.  Empty cells and ``-``, ``—``, ``n/a`` mean
    "not stated" and give ``(None, None, None)``.  Thousands separators
    (``1,234.5``) are accepted; the figure keeps the digits given.

    Raises
    ------
    ValueError
        Non-numeric, negative, or with an unknown currency or unit.

    Examples
    --------
    >>> parse_amount("281")
    (Decimal('281'), None, None)
    >>> parse_amount("US$ 1,234.5 million")
    (Decimal('1234.5'), 'USD', 'million')
    >>> parse_amount("3100万元")
    (Decimal('3100'), 'CNY', 'ten_thousand')
    """
    if value is None:
        return None, None, None
    if isinstance(value, bool):
        raise ValueError("a true/false value is not a figure")
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        value = repr(value)
    elif isinstance(value, Decimal):
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a figure")
    s = value.strip()
    if s.casefold() in _NOT_STATED:
        return None, None, None
    if s.startswith("-") or s.startswith("−") or (s.startswith("(") and s.endswith(")")):
        raise ValueError(
            "is negative; trade figures are 0 or more (leave the cell empty if unknown)"
        )
    currency = None
    rest = s
    for word in sorted(_CURRENCY_WORDS, key=len, reverse=True):
        if rest.casefold().startswith(word):
            currency = _CURRENCY_WORDS[word]
            rest = rest[len(word) :].strip()
            break
    m = _NUMBER_RE.match(rest)
    if not m:
        raise ValueError("is not a number; write a figure such as 281 or 37.1")
    number = m.group(0).replace(",", "")
    tail = rest[m.end() :].strip()
    unit = None
    if tail:
        low = tail.casefold()
        for word in sorted(_UNIT_WORDS, key=len, reverse=True):
            if low.startswith(word) and (
                len(low) == len(word) or not low[len(word)].isalpha() or not word.isascii()
            ):
                unit = _UNIT_WORDS[word]
                low = low[len(word) :].strip()
                break
        if low:
            cur = _CURRENCY_WORDS.get(low)
            if cur is None:
                raise ValueError(
                    f"has unknown words {tail!r}; a figure may carry only a currency "
                    f"({', '.join(CURRENCIES)}) and a unit ({', '.join(UNITS)})"
                )
            if currency and cur != currency:
                raise ValueError(f"names two currencies ({currency} and {cur}); keep one")
            currency = cur
    try:
        dec = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        raise ValueError("is not a number") from None
    return dec, currency, unit


def _parse_currency(value: str) -> str:
    s = value.strip()
    code = s.upper() if s.upper() in CURRENCIES else _CURRENCY_WORDS.get(s.casefold())
    if code is None:
        raise ValueError(
            f"unknown currency; use one of {', '.join(CURRENCIES)} (or USD/US$/dollars, "
            "CNY/RMB/yuan/元)"
        )
    return code


def _parse_unit(value: str) -> str:
    s = value.strip().casefold().replace("-", " ")
    unit = _UNIT_WORDS.get(s) or _UNIT_WORDS.get(s.replace(" ", "_"))
    if unit is None:
        raise ValueError(f"unknown unit; use one of {', '.join(UNITS)}")
    return unit


def _parse_flags(value: str) -> tuple[str, ...]:
    out = []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        code, _, scope = part.partition(":")
        if code not in FLAGS:
            raise ValueError(f"unknown flag {code!r}; use one of {', '.join(FLAGS)}")
        if scope and scope not in FLOWS:
            raise ValueError(
                f"flag {part!r} names unknown flow {scope!r}; use one of {', '.join(FLOWS)}"
            )
        out.append(part)
    return tuple(out)


def _parse_flows(value: str) -> tuple[str, ...]:
    out = []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        if part not in FLOWS:
            raise ValueError(f"unknown flow {part!r}; use one of {', '.join(FLOWS)}")
        out.append(part)
    return tuple(out)


def _check_article_date(value: str) -> str:
    s = value.strip()
    if not s:
        return ""
    if re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", s):
        parts = [int(p) for p in s.split("-")]
        if len(parts) >= 2 and not 1 <= parts[1] <= 12:
            raise ValueError("month is not 1-12")
        if len(parts) == 3:
            date(*parts)
        return s
    raise ValueError("write the article date as YYYY-MM-DD, YYYY-MM or YYYY (or leave it empty)")


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
        period = raw if strict and _ISO_MONTH_RE.match(raw) else parse_month(raw)
        if strict and period != raw:
            raise ValueError(f"write the month as {period}")
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


@contextlib.contextmanager
def _locked(ws: Path) -> Iterator[None]:
    with file_lock(ws / LOCK_FILE, timeout=LOCK_TIMEOUT_S, what=f"{ws} (trade table)"):
        for name in (TRADE_FILE, EVENTS_FILE):  # left by killed writers: never read as data
            remove_stray_temp_files(ws / name)
        yield


def _append_history(
    ws: Path, *, op: str, layer: str, changes: list[Change], reason: str | None, user: str | None
) -> int:
    """Append one entry to ``trade_history.jsonl``; return the file size before it."""
    path = ws / HISTORY_FILE
    seq = 1
    if path.exists():
        with path.open("rb") as fh:
            for line in fh:
                with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                    seq = max(seq, int(orjson.loads(line)["seq"]) + 1)
    entry = HistoryEntry(
        seq=seq,
        time=utc_now(),
        user=user or current_user(),
        op=op,
        reason=reason,
        layer=layer,
        changes=changes,
    )
    return append_line(path, orjson.dumps(entry.as_dict()) + b"\n")


def _commit(
    ws: Path,
    filename: str,
    data: bytes,
    *,
    op: str,
    layer: str,
    changes: list[Change],
    reason: str | None,
    user: str | None,
) -> None:
    """Log then write atomically; if the write fails, take the log entry back."""
    if not ws.is_dir():
        raise NotFoundError(f"{ws}: no such workspace folder; create it or pass --workspace")
    _drop_unapplied(ws)
    start = _append_history(ws, op=op, layer=layer, changes=changes, reason=reason, user=user)
    try:
        atomic_write(ws / filename, data)
    except StorageError:
        if start == 0:
            (ws / HISTORY_FILE).unlink()
        else:
            with (ws / HISTORY_FILE).open("r+b") as fh:
                fh.truncate(start)
                os.fsync(fh.fileno())
        raise


def _drop_unapplied(ws: Path) -> None:
    """Under the lock: take back a last history entry whose writer was killed before writing.

    A writer logs its change, then replaces the file.  Killed in between, it leaves an entry
    for a change that never happened: the file still holds every row as the entry's
    ``before`` has it.  Such an entry is cut off (the command never reported success), so
    the history lists only what the files hold.  An entry the files do not match either way
    (files edited by hand) is left alone.
    """
    path = ws / HISTORY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    if not data.endswith(b"\n"):  # a torn append: cut it off as well
        start = data.rfind(b"\n") + 1
    else:
        start = data.rfind(b"\n", 0, len(data) - 1) + 1
        try:
            entry = orjson.loads(data[start:])
            layer, changes = entry["layer"], entry["changes"]
            if layer == "trade":
                held = {r.row_id: r.to_record() for r in load_trade(ws)}
            elif layer == "events":
                held = {e.event_id: e.as_dict() for e in load_events(ws)}
            else:
                return
            applied = all(held.get(c["id"]) == c["after"] for c in changes)
            never = all(held.get(c["id"]) == c["before"] for c in changes)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        if applied or not never:
            return
    with path.open("r+b") as fh:
        fh.truncate(start)
        os.fsync(fh.fileno())


def write_trade(
    ws_path: str | os.PathLike[str],
    rows: Sequence[TradeRow],
    *,
    op: str = "trade.write",
    reason: str | None = None,
    user: str | None = None,
) -> None:
    """Replace the workspace's trade table with *rows* (locked, atomic, logged).

    The history entry lists every row added, changed or removed.  Prefer
    :func:`import_trade`, which never removes a row.

    Examples
    --------
    >>> import tempfile
    >>> ws = tempfile.mkdtemp()
    >>> write_trade(ws, [TradeRow("2025-11", Decimal("281"), source="X")], reason="example")
    >>> [r.row_id for r in load_trade(ws)]
    ['T0001']
    """
    ws = Path(ws_path)
    rows = _assign_ids(list(rows))
    with _locked(ws):
        old = {r.row_id: r for r in load_trade(ws)}
        _write_rows_locked(ws, old, rows, op=op, reason=reason, user=user)


def _write_rows_locked(
    ws: Path,
    old: Mapping[str, TradeRow],
    rows: Sequence[TradeRow],
    *,
    op: str,
    reason: str | None,
    user: str | None,
) -> None:
    new = {r.row_id: r for r in rows}
    changes = []
    for rid in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(rid), new.get(rid)
        if before != after:
            changes.append(
                Change(
                    rid,
                    before.to_record() if before else None,
                    after.to_record() if after else None,
                )
            )
    if not changes and (ws / TRADE_FILE).exists():
        return
    data = trade_csv_text(rows).encode("utf-8")
    _commit(ws, TRADE_FILE, data, op=op, layer="trade", changes=changes, reason=reason, user=user)


# -- figures, conflicts, selection --------------------------------------------------


def _figures(rows: Sequence[TradeRow]) -> dict[tuple[str, str, str], list[Figure]]:
    """Every figure held, grouped by (period, flow, currency), in millions."""
    out: dict[tuple[str, str, str], list[Figure]] = defaultdict(list)
    for i, r in enumerate(rows):
        for flow in FLOWS:
            v = r.value_in(flow, "million")
            if v is None:
                continue
            out[(r.period, flow, r.currency)].append(
                Figure(
                    period=r.period,
                    flow=flow,
                    value=v,
                    currency=r.currency,
                    row_id=r.row_id,
                    source=r.source,
                    article_date=r.article_date,
                    flags=r.flagged(flow),
                    preferred=flow in r.preferred_for,
                    order=i,
                    source_url=r.source_url,
                )
            )
    return out


def choose_figures(
    rows: Sequence[TradeRow], *, rule: SelectionRule = DEFAULT_RULE
) -> dict[tuple[str, str, str], Figure]:
    """The chosen figure per ``(period, flow, currency)``, by *rule*.

    Examples
    --------
    >>> rows = [TradeRow("2025-09", cn_imports_from_kp=Decimal("63.6"), source="A",
    ...                  flags=("approximate",), row_id="T0001"),
    ...         TradeRow("2025-09", cn_imports_from_kp=Decimal("43"), source="B", row_id="T0002")]
    >>> choose_figures(rows)[("2025-09", "cn_imports_from_kp", "USD")].value
    Decimal('43')
    """
    return {k: rule.choose(v) for k, v in _figures(rows).items()}


def _places(d: Decimal) -> int:
    return max(0, -int(d.as_tuple().exponent))  # type: ignore[arg-type]


def _within_rounding(values: Sequence[Decimal]) -> bool:
    coarse = min(_places(v) for v in values)
    q = Decimal(1).scaleb(-coarse)
    half = q / 2
    ref = next(v for v in values if _places(v) == coarse)
    return all(abs(v - ref) <= half for v in values)


def _half_ulp(d: Decimal) -> Decimal:
    return Decimal(1).scaleb(-_places(d)) / 2


def find_conflicts(
    rows: Sequence[TradeRow], *, rule: SelectionRule = DEFAULT_RULE
) -> list[Conflict]:
    """Every month, flow and currency for which the table holds different figures.

    Figures are compared by value (``19.30`` equals ``19.3``).  Each conflict
    names the figure *rule* chooses; none is dropped.

    Examples
    --------
    >>> rows = [TradeRow("2025-09", cn_imports_from_kp=Decimal("63.6"), source="A", row_id="T0001"),
    ...         TradeRow("2025-09", cn_imports_from_kp=Decimal("43"), source="B", row_id="T0002")]
    >>> [c.describe().split(":")[0] for c in find_conflicts(rows)]
    ['2025-09 cn_imports_from_kp (USD million, differ)']
    """
    figs = _figures(rows)
    out = []
    for (period, flow, cur), group in sorted(figs.items()):
        if len({f.value for f in group}) < 2:
            continue
        chosen = rule.choose(group)
        fits = _fitting(figs, period, flow, cur, group)
        out.append(
            Conflict(
                period=period,
                flow=flow,
                currency=cur,
                figures=tuple(sorted(group, key=lambda f: f.order)),
                chosen=chosen,
                within_rounding=_within_rounding([f.value for f in group]),
                fits=fits,
            )
        )
    return out


def _fitting(
    figs: Mapping[tuple[str, str, str], list[Figure]],
    period: str,
    flow: str,
    cur: str,
    group: Sequence[Figure],
) -> tuple[str, ...]:
    """Row ids of figures in *group* for which total = exports + imports within rounding."""
    others = [f for f in FLOWS if f != flow]
    cands = {f: figs.get((period, f, cur), []) for f in others}
    if any(not c for c in cands.values()):
        return ()
    fits = []
    for g in group:
        assign = {flow: [g]} | cands
        ok = False
        for t in assign["total_trade"]:
            for e in assign["cn_exports_to_kp"]:
                for i in assign["cn_imports_from_kp"]:
                    tol = _half_ulp(t.value) + _half_ulp(e.value) + _half_ulp(i.value)
                    if abs(t.value - (e.value + i.value)) <= tol:
                        ok = True
        if ok:
            fits.append(g.row_id)
    return tuple(fits) if len(fits) < len(group) else ()


def month_range(start: str, end: str) -> list[str]:
    """Every month from *start* to *end* inclusive (``YYYY-MM``).

    Examples
    --------
    >>> month_range("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    y, m = int(start[:4]), int(start[5:7])
    ey, em = int(end[:4]), int(end[5:7])
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _bounds(
    rows: Sequence[TradeRow], start: str | None, end: str | None
) -> tuple[str | None, str | None]:
    start = parse_month(start) if start else None
    end = parse_month(end) if end else None
    periods = sorted(r.period for r in rows)
    s = start or (periods[0] if periods else None)
    e = end or (periods[-1] if periods else None)
    if s and e and s > e:
        raise UsageError(f"--from {s} is after --to {e}; swap them")
    return s, e


def list_months(
    rows: Sequence[TradeRow],
    *,
    rule: SelectionRule = DEFAULT_RULE,
    start: str | None = None,
    end: str | None = None,
) -> list[MonthEntry]:
    """Every month from *start* to *end* (default: the table's span), gaps included.

    Examples
    --------
    >>> rows = [TradeRow("2025-01", Decimal("1"), source="A", row_id="T0001"),
    ...         TradeRow("2025-03", Decimal("2"), source="A", row_id="T0002")]
    >>> [(m.period, m.gap) for m in list_months(rows)]
    [('2025-01', False), ('2025-02', True), ('2025-03', False)]
    """
    s, e = _bounds(rows, start, end)
    if s is None or e is None:
        return []
    by_month: dict[str, list[TradeRow]] = defaultdict(list)
    for r in rows:
        by_month[r.period].append(r)
    chosen: dict[str, dict[tuple[str, str], Figure]] = defaultdict(dict)
    for (period, flow, cur), fig in choose_figures(rows, rule=rule).items():
        chosen[period][(flow, cur)] = fig
    conflicts: dict[str, list[Conflict]] = defaultdict(list)
    for c in find_conflicts(rows, rule=rule):
        conflicts[c.period].append(c)
    out = []
    for p in month_range(s, e):
        out.append(
            MonthEntry(
                period=p,
                rows=tuple(by_month.get(p, ())),
                chosen=chosen.get(p, {}),
                conflicts=tuple(conflicts.get(p, ())),
            )
        )
    return out


def chart_series(
    rows: Sequence[TradeRow],
    *,
    currency: str = "USD",
    rule: SelectionRule = DEFAULT_RULE,
    start: str | None = None,
    end: str | None = None,
    derive_totals: bool = False,
    fx: Mapping[str, FxRate] | None = None,
) -> list[SeriesPoint]:
    """The chosen figure per month and flow in one *currency*, gaps as ``value=None``.

    Figures held only in another currency stay gaps unless *fx* gives an
    explicit rate for that currency (the point is then flagged ``converted``
    and its note states the rate).  With *derive_totals*, a month with both
    flows but no total gets their sum, flagged ``derived``.  Nothing else is
    filled.

    Returns
    -------
    list of SeriesPoint
        Month by month, flows in the order of :data:`FLOWS`.

    Examples
    --------
    >>> rows = [TradeRow("2025-09", Decimal("271"), source="A", row_id="T0001"),
    ...         TradeRow("2025-11", Decimal("281"), source="A", row_id="T0002")]
    >>> [(p.period, p.value) for p in chart_series(rows) if p.flow == "total_trade"]
    [('2025-09', Decimal('271')), ('2025-10', None), ('2025-11', Decimal('281'))]
    """
    if currency not in CURRENCIES:
        raise UsageError(f"currency={currency!r}: use one of {', '.join(CURRENCIES)}")
    fx = dict(fx or {})
    for cur, r in fx.items():
        if cur == currency or cur not in CURRENCIES or r.rate <= 0 or not r.source.strip():
            raise UsageError(
                f"fx {cur}: a rate converts another known currency into {currency}, is above 0 "
                "and names its source"
            )
    s, e = _bounds(rows, start, end)
    if s is None or e is None:
        return []
    figs = _figures(rows)
    out = []
    for p in month_range(s, e):
        month_pts: dict[str, SeriesPoint] = {}
        for flow in FLOWS:
            group = figs.get((p, flow, currency))
            if group:
                fig = rule.choose(group)
                month_pts[flow] = SeriesPoint(
                    p,
                    flow,
                    fig.value,
                    currency,
                    figure=fig,
                    candidates=len(group),
                    conflict=len({f.value for f in group}) > 1,
                )
                continue
            pt = SeriesPoint(p, flow, None, currency)
            for cur, rate in fx.items():
                other = figs.get((p, flow, cur))
                if other:
                    fig = rule.choose(other)
                    with localcontext() as ctx:
                        ctx.prec = 34
                        val = fig.value * rate.rate
                    pt = SeriesPoint(
                        p,
                        flow,
                        val,
                        currency,
                        figure=fig,
                        candidates=len(other),
                        conflict=len({f.value for f in other}) > 1,
                        converted=True,
                        note=f"converted from {_dec_text(fig.value)} {cur} million at "
                        + rate.describe(currency),
                    )
                    break
            month_pts[flow] = pt
        tot = month_pts["total_trade"]
        ex, im = month_pts["cn_exports_to_kp"], month_pts["cn_imports_from_kp"]
        if derive_totals and tot.value is None and ex.value is not None and im.value is not None:
            month_pts["total_trade"] = SeriesPoint(
                p,
                "total_trade",
                ex.value + im.value,
                currency,
                derived=True,
                converted=ex.converted or im.converted,
                note="derived: China's exports + imports, not a reported total",
            )
        out.extend(month_pts[f] for f in FLOWS)
    return out


# -- import --------------------------------------------------------------------------

_ALIASES = {
    "period": ("period", "month", "date", "月份", "월"),
    "total_trade": ("total_trade", "total"),
    "cn_exports_to_kp": ("cn_exports_to_kp",),
    "cn_imports_from_kp": ("cn_imports_from_kp",),
    "currency": ("currency",),
    "unit": ("unit", "units"),
    "source": ("source",),
    "article_date": ("article_date",),
    "source_url": ("source_url", "url"),
    "note": ("note", "notes"),
    "flags": ("flags",),
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
    except (UnicodeDecodeError, LookupError) as exc:
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
        Fields: ``period``, the three flows, ``currency``, ``unit``, ``source``,
        ``article_date``, ``source_url``, ``note``, ``flags``.
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
    if "period" not in cols:
        problems.append(
            Problem(
                "period",
                None,
                "no month column; name it period/month or map it: --mapping period=COLUMN "
                f"(the file's columns are: {', '.join(header)})",
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
        try:
            period = parse_month(cell("period"))
        except ValueError as exc:
            rp.append(Problem(colname.get("period", "period"), cell("period"), str(exc), where))
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


# -- claim check -------------------------------------------------------------------------


def check_claim(
    rows: Sequence[TradeRow],
    *,
    month: str,
    highest_since: str,
    flow: str = "total_trade",
    currency: str = "USD",
    rule: SelectionRule = DEFAULT_RULE,
) -> ClaimCheck:
    """Check "*month* was the highest month since *highest_since*" against the series.

    The claim holds when the figure for *highest_since* is at least the
    month's and every month held in between is below it.  Months with no
    figure for the flow and currency are named: they were not checked.
    Figures other than the chosen ones that would change the verdict are
    named too.

    Examples
    --------
    >>> rows = [TradeRow("2019-10", Decimal("287"), source="A", row_id="T0001"),
    ...         TradeRow("2020-01", Decimal("200"), source="A", row_id="T0002"),
    ...         TradeRow("2020-03", Decimal("281"), source="A", row_id="T0003")]
    >>> c = check_claim(rows, month="2020-03", highest_since="2019-10")
    >>> c.verdict, c.months_missing
    ('agrees', ('2019-11', '2019-12', '2020-02'))
    """
    if flow not in FLOWS:
        raise UsageError(f"flow={flow!r}: use one of {', '.join(FLOWS)}")
    if currency not in CURRENCIES:
        raise UsageError(f"currency={currency!r}: use one of {', '.join(CURRENCIES)}")
    try:
        m, s = parse_month(month), parse_month(highest_since)
    except ValueError as exc:
        raise UsageError(f"--month/--highest-since: {exc}") from None
    if s >= m:
        raise UsageError(f"--highest-since {s} must be before --month {m}")
    figs = _figures(rows)
    chosen = {k: rule.choose(v) for k, v in figs.items()}
    mf = chosen.get((m, flow, currency))
    sf = chosen.get((s, flow, currency))
    between = month_range(s, m)[1:-1]
    checked = tuple(p for p in between if (p, flow, currency) in chosen)
    missing = tuple(p for p in (s, *between, m) if (p, flow, currency) not in chosen)
    other_cur = [
        p for p in missing if any((p, flow, c) in figs for c in CURRENCIES if c != currency)
    ]
    cited = [chosen[(p, flow, currency)] for p in checked]
    highest = max(cited, key=lambda f: f.value) if cited else None
    label = f"{_flow_phrase(flow)} ({currency} million)"
    others: list[str] = []
    if mf is None or sf is None:
        verdict = "cannot_check"
        lacking = " and ".join(p for p, f in ((m, mf), (s, sf)) if f is None)
        higher: tuple[Figure, ...] = ()
        head = f"Cannot check: the series holds no {label} for {lacking}."
    else:
        higher = tuple(f for f in cited if f.value >= mf.value)
        problems = []
        if sf.value < mf.value:
            problems.append(
                f"{s} ({sf.label()}) is below {m} ({mf.label()}), so {m} would be the highest "
                f"since before {s}"
            )
        if higher:
            problems.append(
                "months in between at or above "
                + _dec_text(mf.value)
                + ": "
                + ", ".join(f"{f.period} {f.label()}" for f in higher)
            )
        verdict = "disagrees" if problems else "agrees"
        if verdict == "agrees":
            top = f" (highest: {highest.period}, {highest.label()})" if highest else ""
            head = (
                f"The series agrees: {s}: {sf.label()}; {m}: {mf.label()}; no later month held "
                f"is above {_dec_text(mf.value)}{top}."
            )
        else:
            head = "The series disagrees: " + "; ".join(problems) + "."
        # Figures not chosen that would change the verdict.
        for p in between:
            for f in figs.get((p, flow, currency), []):
                if f is not chosen[(p, flow, currency)] and f.value >= mf.value:
                    others.append(
                        f"{p}: {f.label()} (not chosen) is at or above {_dec_text(mf.value)}"
                    )
        for f in figs.get((m, flow, currency), []):
            if f is not mf:
                others.append(f"{m}: another figure {f.label()} (not chosen)")
        for f in figs.get((s, flow, currency), []):
            if f is not sf:
                others.append(f"{s}: another figure {f.label()} (not chosen)")
    parts = [head]
    parts.append(
        f"Checked {len(checked)} of the {len(between)} months between {s} and {m} ({label})."
    )
    if missing:
        parts.append(
            f"Not checked: no {label} held for {len(missing)} month(s): {', '.join(missing)}."
        )
        if other_cur:
            parts.append(f"Of these, {', '.join(other_cur)} have figures in another currency only.")
    if others:
        parts.append("Other figures held: " + "; ".join(others) + ".")
    return ClaimCheck(
        verdict=verdict,
        month=m,
        since=s,
        flow=flow,
        currency=currency,
        month_figure=mf,
        since_figure=sf,
        higher_between=higher,
        highest_between=highest,
        months_checked=checked,
        months_missing=missing,
        other_figures=tuple(others),
        rule=rule.describe(),
        text=" ".join(parts),
    )


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
    >>> rows = [TradeRow("2025-11", Decimal("281"), source="A", row_id="T0001")]
    >>> site = {"id": "YLU-0001", "properties": {"first_reported": "2025-11-03", "reports": []}}
    >>> j = monthly_join(rows, [site])
    >>> j.records()[0]["crossings_first_reported"], j.records()[0]["total_trade"]
    (1, 281)
    """
    crossings = list(crossings)
    counts, undated = crossing_counts(crossings)
    months = {r.period for r in rows} | set(counts) | {e.period for e in events}
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


# -- events ------------------------------------------------------------------------------


def read_events_csv(path: str | os.PathLike[str]) -> list[Event]:
    """Read and check an ``events.csv``.

    Raises
    ------
    ValidationError
        Listing each bad cell by row and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = p.write_text("event_id,date,date_precision,label,source\\nE1,2025-09,month,Summit,Paper\\n")
    >>> read_events_csv(p)[0].label
    'Summit'
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # no newline translation: "\r" in a cell
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [
        c for c in ("event_id", "date", "label", "source") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise DataError(
            f"{path}: columns {', '.join(missing)} missing; an events table has the columns "
            f"{', '.join(EVENT_COLUMNS)}"
        )
    problems: list[Problem] = []
    out: list[Event] = []
    seen: set[str] = set()
    for n, rec in enumerate(reader, start=2):
        where = f"row {n}"
        try:
            ev = _make_event(
                event_id=(rec.get("event_id") or "").strip(),
                date_text=rec.get("date") or "",
                label=rec.get("label") or "",
                source=rec.get("source") or "",
                source_url=rec.get("source_url") or "",
                note=rec.get("note") or "",
                where=where,
            )
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if ev.event_id in seen:
            problems.append(
                Problem("event_id", ev.event_id, "is used twice; give each event its own id", where)
            )
        seen.add(ev.event_id)
        prec = (rec.get("date_precision") or "").strip()
        if prec and prec != ev.date_precision:
            problems.append(
                Problem(
                    "date_precision",
                    prec,
                    f"does not match the date; it is {ev.date_precision}",
                    where,
                )
            )
        out.append(ev)
    if problems:
        raise ValidationError(problems, header=f"{path}: the events table has errors; fix them:")
    return out


def _make_event(
    *,
    event_id: str,
    date_text: str,
    label: str,
    source: str,
    source_url: str,
    note: str,
    where: str | None,
) -> Event:
    probs = []
    if not _EVENT_ID_RE.match(event_id):
        probs.append(Problem("event_id", event_id, "write event ids as E1, E2, ...", where))
    d = date_text.strip()
    prec = ""
    try:
        if _ISO_DAY_RE.match(d):
            date.fromisoformat(d)
            prec = "day"
        elif _ISO_MONTH_RE.match(d):
            parse_month(d)
            prec = "month"
        else:
            raise ValueError("write the date as YYYY-MM-DD, or YYYY-MM when no day is cited")
    except ValueError as exc:
        probs.append(Problem("date", date_text, str(exc), where))
    if not label.strip():
        probs.append(
            Problem("label", label, "an event needs a label (it is drawn on the chart)", where)
        )
    if not source.strip():
        probs.append(
            Problem("source", source, "an event needs its source (publisher, date)", where)
        )
    if probs:
        raise ValidationError(probs)
    return Event(event_id, d, prec, label.strip(), source.strip(), source_url.strip(), note)


def load_events(ws_path: str | os.PathLike[str]) -> list[Event]:
    """The events of the workspace (``<ws>/events.csv``); none if there is no file.

    Examples
    --------
    >>> import tempfile
    >>> load_events(tempfile.mkdtemp())
    []
    """
    path = Path(ws_path) / EVENTS_FILE
    return read_events_csv(path) if path.exists() else []


def _events_text(events: Iterable[Event]) -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(EVENT_COLUMNS))
    w.writeheader()
    for e in events:
        w.writerow(e.as_dict())
    return buf.getvalue()


def add_event(
    ws_path: str | os.PathLike[str],
    *,
    date: str,
    label: str,
    source: str,
    source_url: str = "",
    note: str = "",
    reason: str | None = None,
    user: str | None = None,
) -> Event:
    """Add an event (``date`` as ``YYYY-MM-DD``, or ``YYYY-MM`` when no day is cited).

    Examples
    --------
    >>> import tempfile
    >>> ws = tempfile.mkdtemp()
    >>> add_event(ws, date="2025-09", label="Summit", source="Paper, 2025-12-19").event_id
    'E1'
    """
    ws = Path(ws_path)
    with _locked(ws):
        events = load_events(ws)
        nums = [int(m.group(1)) for e in events if (m := _EVENT_ID_RE.match(e.event_id))]
        ev = _make_event(
            event_id=f"E{max(nums, default=0) + 1}",
            date_text=date,
            label=label,
            source=source,
            source_url=source_url,
            note=note,
            where=None,
        )
        _commit(
            ws,
            EVENTS_FILE,
            _events_text([*events, ev]).encode("utf-8"),
            op="events.add",
            layer="events",
            changes=[Change(ev.event_id, None, ev.as_dict())],
            reason=reason,
            user=user,
        )
    return ev


def remove_event(
    ws_path: str | os.PathLike[str],
    event_id: str,
    *,
    reason: str | None = None,
    user: str | None = None,
) -> Event:
    """Remove event *event_id*; the history keeps what it was.

    Raises
    ------
    NotFoundError
        No such event.

    Examples
    --------
    >>> import tempfile
    >>> ws = tempfile.mkdtemp()
    >>> ev = add_event(ws, date="2025-09", label="Summit", source="Paper")
    >>> remove_event(ws, ev.event_id).label, load_events(ws)
    ('Summit', [])
    """
    ws = Path(ws_path)
    with _locked(ws):
        events = load_events(ws)
        gone = next((e for e in events if e.event_id == event_id), None)
        if gone is None:
            ids = ", ".join(e.event_id for e in events) or "none"
            raise NotFoundError(
                f"event_id={event_id!r}: no such event (events: {ids}); "
                "`geotrack trade events list` shows them"
            )
        _commit(
            ws,
            EVENTS_FILE,
            _events_text([e for e in events if e is not gone]).encode("utf-8"),
            op="events.remove",
            layer="events",
            changes=[Change(gone.event_id, gone.as_dict(), None)],
            reason=reason,
            user=user,
        )
    return gone


# -- small helpers --------------------------------------------------------------------------


def _flow_phrase(flow: str) -> str:
    """The flow's label for use inside a sentence ("total trade", "China's exports...")."""
    text = FLOWS[flow]
    return text[0].lower() + text[1:] if text.startswith("Total") else text


def _dec_text(d: Decimal) -> str:
    """The figure as plain digits, never in exponent form."""
    return format(d, "f")


def _json_number(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _rescale(value: Decimal, from_unit: str, to_unit: str, *, tidy: bool = False) -> Decimal:
    if from_unit == to_unit:
        return value
    with localcontext() as ctx:
        ctx.prec = 50
        out = value * Decimal(UNITS[from_unit]) / Decimal(UNITS[to_unit])
    if tidy:
        out = out.normalize()
        if out.as_tuple().exponent > 0:  # type: ignore[operator]
            out = out.quantize(Decimal(1))
    return out


def _date_key(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split("-") if p.isdigit()] if text else []
    parts = ([*parts, 0, 0, 0])[:3]
    return parts[0], parts[1], parts[2]
