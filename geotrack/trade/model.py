"""The trade table's vocabulary and its row and figure values.

Flows, currencies, units and flags; the columns of ``trade.csv`` and ``events.csv``;
:class:`TradeRow` (one row: one source article's figures for one month),
:class:`Figure` (one figure with its source) and :class:`FxRate`; the exact decimal
helpers every other module of :mod:`geotrack.trade` uses.
"""

from __future__ import annotations

__all__ = [
    "CURRENCIES",
    "EVENT_COLUMNS",
    "FLAGS",
    "FLOWS",
    "MONTH_RULE",
    "PERIOD_KINDS",
    "SOURCE_COLUMNS",
    "TRADE_COLUMNS",
    "UNITS",
    "Figure",
    "FxRate",
    "TradeRow",
]

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from geotrack.errors import (
    NotFoundError,
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
#: Period kinds of a row: a calendar month (``2025-11``) or a calendar year (``2025``).
PERIOD_KINDS: dict[str, str] = {
    "month": "A calendar month (period YYYY-MM)",
    "year": "A calendar year (period YYYY): an annual total as reported, never summed from months",
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

    @property
    def kind(self) -> str:
        """The period kind: ``month`` (``period`` is ``YYYY-MM``) or ``year`` (``YYYY``).

        Examples
        --------
        >>> TradeRow("2025", Decimal("2735"), source="A").kind
        'year'
        """
        return "year" if len(self.period) == 4 else "month"

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
