"""Month-by-month views of the table: listings and the chosen series.

Gaps stay gaps; a derived total or a converted figure exists only on request and is
marked.
"""

from __future__ import annotations

__all__ = ["MonthEntry", "SeriesPoint", "chart_series", "list_months", "month_range"]

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from geotrack.errors import (
    UsageError,
)
from geotrack.trade.model import (
    CURRENCIES,
    FLOWS,
    Figure,
    FxRate,
    TradeRow,
    _dec_text,
    _json_number,
)
from geotrack.trade.parsing import parse_month
from geotrack.trade.selection import (
    DEFAULT_RULE,
    Conflict,
    SelectionRule,
    _figures,
    choose_figures,
    find_conflicts,
)


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
    periods = sorted(r.period for r in rows if r.kind == "month")
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
