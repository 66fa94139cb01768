"""The trade story told in words beside the map: the payload's ``trade`` part.

Every sentence is built from the figures the chart shows (chosen by the stated
rule), with each figure's source: the latest month held, the latest total and how
far back it is the highest (checked with :func:`geotrack.trade.check_claim`), the
events on the timeline, the annual totals against the months held, and one table
row per month for readers who want the numbers.  No figure is computed here that
the trade package does not compute.
"""

from __future__ import annotations

__all__ = ["trade_story"]

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from geotrack.trade import (
    DEFAULT_RULE,
    FLOWS,
    Event,
    Figure,
    SelectionRule,
    TradeRow,
    annual_checks,
    chart_series,
    check_claim,
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SHORT = {
    "total_trade": "total",
    "cn_exports_to_kp": "China's exports to North Korea",
    "cn_imports_from_kp": "imports",
}


def _month(period: str) -> str:
    """``2025-11`` as ``Nov 2025``."""
    return f"{_MONTHS[int(period[5:7]) - 1]} {period[:4]}"


def _money(value: Decimal, currency: str) -> str:
    text = f"{value:,f}"
    return f"${text}M" if currency == "USD" else f"{text}M {currency}"


def _cite(fig: Figure) -> str:
    return fig.source + (f", {fig.article_date}" if fig.article_date else "")


def _month_line(period: str, figs: dict[str, Figure], currency: str) -> str:
    parts = []
    for flow in FLOWS:
        fig = figs.get(flow)
        if fig is None:
            parts.append(f"{_SHORT[flow]} not reported")
        else:
            parts.append(f"{_SHORT[flow]} {_money(fig.value, currency)}")
    cites = list(dict.fromkeys(_cite(f) for f in figs.values()))
    return f"{_month(period)}: " + "; ".join(parts) + " — " + "; ".join(cites)


def trade_story(
    rows: Sequence[TradeRow],
    events: Sequence[Event] = (),
    *,
    currency: str = "USD",
    rule: SelectionRule = DEFAULT_RULE,
) -> dict[str, Any]:
    """The panel's text figures and table, as plain JSON-ready data.

    Returns
    -------
    dict
        ``lines`` (``[{"kind", "text"}]``, in reading order: ``latest``,
        ``latest_total``, ``claim``, ``event``, ``annual``), ``table``
        (one row per month: period, the chosen figure per flow, flags,
        whether sources disagree, sources), ``currency``, ``rule``.

    Examples
    --------
    >>> rows = [TradeRow("2019-10", Decimal("287"), source="A", row_id="T0001"),
    ...         TradeRow("2025-11", Decimal("281"), Decimal("244"), Decimal("37.1"),
    ...                  source="B", article_date="2025-12-19", row_id="T0002")]
    >>> story = trade_story(rows)
    >>> story["lines"][0]["text"]
    "Nov 2025: total $281M; China's exports to North Korea $244M; imports $37.1M — B, 2025-12-19"
    >>> story["lines"][1]["text"].startswith("Nov 2025 total $281M: the highest since Oct 2019")
    True
    """
    monthly = [r for r in rows if r.kind == "month"]
    points = chart_series(monthly, currency=currency, rule=rule)
    by_month: dict[str, dict[str, Figure]] = {}
    table = []
    for p in points:
        if p.figure is not None and not p.converted:
            by_month.setdefault(p.period, {})[p.flow] = p.figure
    periods = sorted({p.period for p in points})
    for period in periods:
        figs = by_month.get(period, {})
        pts = {p.flow: p for p in points if p.period == period}
        table.append(
            {
                "period": period,
                "values": {f: (str(figs[f].value) if f in figs else None) for f in FLOWS},
                "flags": sorted({fl for f in figs.values() for fl in f.flags}),
                "conflict": [f for f in FLOWS if pts.get(f) is not None and pts[f].conflict],
                "sources": list(dict.fromkeys(_cite(f) for f in figs.values())),
            }
        )
    lines: list[dict[str, str]] = []
    held = [p for p in periods if p in by_month]
    if held:
        last = held[-1]
        lines.append({"kind": "latest", "text": _month_line(last, by_month[last], currency)})
    totals = [(p, by_month[p]["total_trade"]) for p in held if "total_trade" in by_month[p]]
    if totals:
        m, fig = totals[-1]
        if held[-1] != m:
            lines.append(
                {
                    "kind": "latest_total",
                    "text": "Latest total held: " + _month_line(m, by_month[m], currency),
                }
            )
        since = next((p for p, f in reversed(totals[:-1]) if f.value >= fig.value), None)
        head = f"{_month(m)} total {_money(fig.value, currency)}"
        if since is None:
            text = f"{head}: the highest of every month held ({len(totals)} months with a total)."
        else:
            c = check_claim(monthly, month=m, highest_since=since, currency=currency, rule=rule)
            sf = by_month[since]["total_trade"]
            verdict = {"agrees": "the series agrees", "disagrees": "the series disagrees"}.get(
                c.verdict, "cannot be checked"
            )
            text = (
                f"{head}: the highest since {_month(since)} ({_money(sf.value, currency)}, "
                f"{_cite(sf)}): {verdict}; {len(c.months_missing)} months not held."
            )
        lines.append({"kind": "claim", "text": text})
    for e in events:
        when = _month(e.date[:7]) if e.date_precision == "month" else e.date
        lines.append({"kind": "event", "text": f"{when}: {e.label} ({e.source})"})
    for c in annual_checks(rows, currency=currency, rule=rule):
        reported = "; ".join(f"{_money(f.value, currency)} ({_cite(f)})" for f in c.reported)
        what = "total" if c.flow == "total_trade" else _SHORT[c.flow]
        tail = f"{len(c.months_held)} months held sum to {_money(c.month_sum, currency)}"
        if c.months_missing:
            rem = next(r for f, r in c.remainders if f is c.chosen)
            tail += (
                f"; for {_money(c.chosen.value, currency)} the {len(c.months_missing)} months not "
                f"held would have to hold {_money(rem, currency)}"
            )
        lines.append({"kind": "annual", "text": f"{c.year} annual {what}: {reported}. {tail}."})
    return {"currency": currency, "rule": rule.describe(), "lines": lines, "table": table}
