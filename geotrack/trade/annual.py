"""Annual totals (period kind ``year``) checked against the sum of the months held.

An annual figure is kept as reported; it is never spread over months and months
are never filled from it.  :func:`annual_checks` says, per year, how many months the
table holds, what they sum to, and what the months not held would have to hold for
each reported annual figure to be right.
"""

from __future__ import annotations

__all__ = ["AnnualCheck", "annual_checks", "annual_rows"]

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from geotrack.errors import UsageError
from geotrack.trade.model import CURRENCIES, FLOWS, Figure, TradeRow, _dec_text, _json_number
from geotrack.trade.selection import DEFAULT_RULE, SelectionRule, _figures
from geotrack.trade.series import chart_series, month_range


@dataclass(frozen=True)
class AnnualCheck:
    """One year and flow: the annual figures reported beside the months held.

    ``remainders`` pairs each reported annual figure with what the months not
    held would have to add up to (the annual figure minus the months' sum; below
    zero when the months held already exceed it).
    """

    year: str
    flow: str
    currency: str
    reported: tuple[Figure, ...]
    chosen: Figure
    months_held: tuple[str, ...]
    months_missing: tuple[str, ...]
    derived: tuple[str, ...]
    month_sum: Decimal
    remainders: tuple[tuple[Figure, Decimal], ...]
    text: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "year": self.year,
            "flow": self.flow,
            "currency": self.currency,
            "unit": "million",
            "reported": [f.as_dict() for f in self.reported],
            "chosen_row_id": self.chosen.row_id,
            "months_held": list(self.months_held),
            "months_missing": list(self.months_missing),
            "derived_months": list(self.derived),
            "month_sum": _json_number(self.month_sum),
            "remainders": [
                {
                    "row_id": f.row_id,
                    "annual": _json_number(f.value),
                    "months_not_held_must_hold": _json_number(r),
                }
                for f, r in self.remainders
            ],
            "text": self.text,
        }


def annual_rows(rows: Sequence[TradeRow]) -> list[TradeRow]:
    """The rows holding annual figures (period kind ``year``), in table order.

    Examples
    --------
    >>> from decimal import Decimal
    >>> rows = [TradeRow("2025", Decimal("2735"), source="A"), TradeRow("2025-11", Decimal("281"), source="A")]
    >>> [r.period for r in annual_rows(rows)]
    ['2025']
    """
    return [r for r in rows if r.kind == "year"]


def _one(d: Decimal) -> str:
    return _dec_text(d.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


def annual_checks(
    rows: Sequence[TradeRow],
    *,
    currency: str = "USD",
    rule: SelectionRule = DEFAULT_RULE,
    derive_totals: bool = False,
) -> list[AnnualCheck]:
    """Per year and flow with an annual figure in *currency*: the check against the months.

    The months are the chosen monthly figures (:func:`chart_series`, same
    *rule*); with *derive_totals* a month with both flows but no total counts
    with their sum, and the check names it as derived.

    Examples
    --------
    >>> from decimal import Decimal
    >>> rows = [TradeRow("2025", Decimal("30"), source="A", row_id="T0001"),
    ...         TradeRow("2025-01", Decimal("2"), source="A", row_id="T0002"),
    ...         TradeRow("2025-02", Decimal("3"), source="A", row_id="T0003")]
    >>> c = annual_checks(rows)[0]
    >>> c.month_sum, len(c.months_missing), c.remainders[0][1]
    (Decimal('5'), 10, Decimal('25'))
    """
    if currency not in CURRENCIES:
        raise UsageError(f"currency={currency!r}: use one of {', '.join(CURRENCIES)}")
    figs = _figures(annual_rows(rows))
    monthly = [r for r in rows if r.kind == "month"]
    out = []
    for (year, flow, cur), group in sorted(figs.items()):
        if cur != currency:
            continue
        months = month_range(f"{year}-01", f"{year}-12")
        pts = {
            p.period: p
            for p in chart_series(
                monthly,
                currency=currency,
                rule=rule,
                start=months[0],
                end=months[-1],
                derive_totals=derive_totals,
            )
            if p.flow == flow
        }
        held = tuple(m for m in months if m in pts and pts[m].value is not None)
        missing = tuple(m for m in months if m not in held)
        derived = tuple(m for m in held if pts[m].derived)
        total = sum((pts[m].value for m in held), Decimal(0))  # type: ignore[misc]
        reported = tuple(sorted(group, key=lambda f: f.order))
        remainders = tuple((f, f.value - total) for f in reported)
        out.append(
            AnnualCheck(
                year=year,
                flow=flow,
                currency=cur,
                reported=reported,
                chosen=rule.choose(group),
                months_held=held,
                months_missing=missing,
                derived=derived,
                month_sum=total,
                remainders=remainders,
                text=_describe(year, flow, cur, held, missing, derived, total, remainders),
            )
        )
    return out


def _describe(
    year: str,
    flow: str,
    currency: str,
    held: Sequence[str],
    missing: Sequence[str],
    derived: Sequence[str],
    total: Decimal,
    remainders: Sequence[tuple[Figure, Decimal]],
) -> str:
    what = "total trade" if flow == "total_trade" else FLOWS[flow]
    head = (
        f"{year} ({what}, {currency} million): {len(held)} month(s) held sum to {_dec_text(total)}"
    )
    if derived:
        head += (
            f", including derived totals (exports + imports, not reported) for {', '.join(derived)}"
        )
    parts = [head + "."]
    if missing:
        parts.append(f"Not held: {', '.join(missing)}.")
    for fig, rem in remainders:
        lead = f"Reported annual {fig.label()}: "
        if not missing:
            pct = (rem / fig.value * 100) if fig.value else Decimal(0)
            parts.append(
                lead + f"the twelve months differ from it by {_one(-rem)} ({_one(-pct)} %)."
            )
        elif rem < 0:
            parts.append(
                lead + f"the months held already exceed it by {_one(-rem)}; the figures do not fit."
            )
        else:
            avg = rem / len(missing)
            parts.append(
                lead + f"the {len(missing)} month(s) not held would have to hold {_one(rem)} "
                f"({_one(avg)} a month on average)."
            )
    return " ".join(parts)
