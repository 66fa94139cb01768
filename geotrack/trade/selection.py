"""Conflicts between sources and the stated rule that chooses one figure.

Every figure is kept; :class:`SelectionRule` says which one a chart or join uses and
:func:`find_conflicts` lists every month, flow and currency with different figures.
"""

from __future__ import annotations

__all__ = ["DEFAULT_RULE", "Conflict", "SelectionRule", "choose_figures", "find_conflicts"]

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from geotrack.trade.model import FLAGS, FLOWS, Figure, TradeRow, _date_key


@dataclass(frozen=True)
class SelectionRule:
    """How one figure is chosen when several are held for a month and flow.

    In order: (1) a preference the user recorded (``trade import --prefer``),
    if *use_recorded*; (2) the sources in *prefer_sources*, earliest first
    (case-insensitive substring match on the source name); (3) figures with
    fewer warning flags, weighed in the order of :data:`FLAGS` (doubtful
    first); (4) the most recent article date (none, or one after today, counts
    as oldest: a future date is a typo, not news); (5) more
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
        when = tuple(-x for x in _trusted_date(fig.article_date))
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
        parts.append("the most recent article date (none, or one after today, counts as oldest)")
        parts.append("more decimal places")
        parts.append("the earlier row in the table")
        steps = "; ".join(f"({i}) {p}" for i, p in enumerate(parts, 1))
        return (
            f"Figure chosen per month, flow and currency by: {steps}. "
            "Every other figure is kept and listed as a conflict."
        )


def _trusted_date(text: str) -> tuple[int, int, int]:
    """An article date as step 4 of the rule ranks it: a date after today (UTC) as none.

    Examples
    --------
    >>> _trusted_date("2025-12-19"), _trusted_date("2999-01-01"), _trusted_date("")
    ((2025, 12, 19), (0, 0, 0), (0, 0, 0))
    """
    key = _date_key(text)
    today = datetime.now(UTC).date()
    return (0, 0, 0) if key > (today.year, today.month, today.day) else key


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
