"""Checking a claim such as "the highest month since October 2019" against the series."""

from __future__ import annotations

__all__ = ["ClaimCheck", "check_claim"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geotrack.errors import (
    UsageError,
)
from geotrack.trade.model import CURRENCIES, FLOWS, Figure, TradeRow, _dec_text, _flow_phrase
from geotrack.trade.parsing import parse_month
from geotrack.trade.selection import DEFAULT_RULE, SelectionRule, _figures
from geotrack.trade.series import month_range


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
    >>> from decimal import Decimal
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
