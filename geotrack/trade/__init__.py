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

The package holds one concept per module, lower modules first:
:mod:`~geotrack.trade.model` (vocabulary, rows, figures),
:mod:`~geotrack.trade.parsing` (months, amounts, units, flags),
:mod:`~geotrack.trade.table` and :mod:`~geotrack.trade.events` (the two files),
:mod:`~geotrack.trade.selection` (conflicts and the selection rule),
:mod:`~geotrack.trade.storage` (locked, logged writes),
:mod:`~geotrack.trade.series` (listings and the chosen series),
:mod:`~geotrack.trade.importing`, :mod:`~geotrack.trade.claims`,
:mod:`~geotrack.trade.annual` (annual totals against the months) and
:mod:`~geotrack.trade.joins`.  Import the public names from ``geotrack.trade``.
"""

from __future__ import annotations

from geotrack.trade.annual import AnnualCheck, annual_checks, annual_rows
from geotrack.trade.claims import ClaimCheck, check_claim
from geotrack.trade.events import Event, load_events, read_events_csv
from geotrack.trade.importing import ImportResult, import_trade, read_import
from geotrack.trade.joins import (
    JoinMonth,
    MonthlyJoin,
    crossing_counts,
    join_csv_text,
    monthly_join,
    utc_month,
)
from geotrack.trade.model import (
    CURRENCIES,
    EVENT_COLUMNS,
    FLAGS,
    FLOWS,
    MONTH_RULE,
    PERIOD_KINDS,
    SOURCE_COLUMNS,
    TRADE_COLUMNS,
    UNITS,
    Figure,
    FxRate,
    TradeRow,
)
from geotrack.trade.parsing import parse_amount, parse_month, parse_year
from geotrack.trade.selection import (
    DEFAULT_RULE,
    Conflict,
    SelectionRule,
    choose_figures,
    find_conflicts,
)
from geotrack.trade.series import MonthEntry, SeriesPoint, chart_series, list_months, month_range
from geotrack.trade.storage import add_event, remove_event, write_trade
from geotrack.trade.table import load_trade, read_trade_csv, trade_csv_text

__all__ = [
    "CURRENCIES",
    "DEFAULT_RULE",
    "EVENT_COLUMNS",
    "FLAGS",
    "FLOWS",
    "MONTH_RULE",
    "PERIOD_KINDS",
    "SOURCE_COLUMNS",
    "TRADE_COLUMNS",
    "UNITS",
    "AnnualCheck",
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
    "annual_checks",
    "annual_rows",
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
    "parse_year",
    "read_events_csv",
    "read_import",
    "read_trade_csv",
    "remove_event",
    "trade_csv_text",
    "utc_month",
    "write_trade",
]
