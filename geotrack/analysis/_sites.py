"""Which crossings count, and where along the river each may be: intervals, filters, banks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from geotrack.analysis._options import (
    DensityOptions,
)
from geotrack.crs import to_measure
from geotrack.linear import LineIndex
from geotrack.schema import CREDIBILITY, PRECISIONS, RELIABILITY

if TYPE_CHECKING:
    from geotrack.reference import Town


def _bank_labels(index: LineIndex, towns: dict[str, Town]) -> tuple[str, str, str]:
    """Which country lies left and right of the line, voted by towns within 5 km of it."""
    votes: dict[str, float] = {}
    named = [t for t in towns.values() if t.country in ("CN", "KP")]
    if named:
        x, y = to_measure(np.array([t.lon for t in named]), np.array([t.lat for t in named]))
        loc = index.locate(x, y)
        for t, off, dist in zip(named, loc.offset_m, loc.distance_m, strict=True):
            if dist <= 5000 and off != 0:
                votes[t.country] = votes.get(t.country, 0.0) + (1.0 if off > 0 else -1.0)
    cn, kp = votes.get("CN", 0.0), votes.get("KP", 0.0)
    if cn > 0 >= kp or (cn >= 0 > kp):
        return "CN", "KP", "towns within 5 km of the line: Chinese towns on its left"
    if cn < 0 <= kp or (cn <= 0 < kp):
        return "KP", "CN", "towns within 5 km of the line: Chinese towns on its right"
    return "CN", "KP", "assumed (the stretch runs upstream from the west end: China on the left)"


def _report_ok(r: dict[str, Any], opts: DensityOptions) -> bool:
    if opts.verification and r.get("verification") not in opts.verification:
        return False
    if opts.min_reliability is not None:
        g = r.get("reliability")
        if g not in RELIABILITY or list(RELIABILITY).index(g) > list(RELIABILITY).index(
            opts.min_reliability
        ):
            return False
    if opts.min_credibility is not None:
        g = r.get("credibility")
        if g not in CREDIBILITY or list(CREDIBILITY).index(g) > list(CREDIBILITY).index(
            opts.min_credibility
        ):
            return False
    return True


def _filter_reason(props: dict[str, Any], opts: DensityOptions) -> str | None:
    if opts.min_precision is not None:
        prec = props.get("location_precision")
        order = list(PRECISIONS)
        if prec not in PRECISIONS or order.index(prec) > order.index(opts.min_precision):
            return f"location_precision={prec} is coarser than --min-precision {opts.min_precision}"
    if opts.verification or opts.min_reliability is not None or opts.min_credibility is not None:
        reports = props.get("reports") or []
        if not any(isinstance(r, dict) and _report_ok(r, opts) for r in reports):
            wanted = []
            if opts.verification:
                wanted.append("verification in " + "/".join(opts.verification))
            if opts.min_reliability is not None:
                wanted.append(f"reliability {opts.min_reliability} or better")
            if opts.min_credibility is not None:
                wanted.append(f"credibility {opts.min_credibility} or better")
            return "no report with " + " and ".join(wanted)
    return None


def _filters_dict(opts: DensityOptions, bank_rule: str) -> dict[str, Any]:
    return {
        "retired": "never counted",
        "max_offset_km": opts.max_offset_km,
        "max_offset_rule": "crossings farther than this from the stretch line are excluded "
        "and listed",
        "min_precision": opts.min_precision,
        "verification": list(opts.verification) or None,
        "min_reliability": opts.min_reliability,
        "min_credibility": opts.min_credibility,
        "report_filters": "a crossing is kept if one of its reports meets every report filter",
        "weighting": "none: each crossing counts 1, spread over where it may be "
        "(a site partly inside the window counts for the part inside)",
        "banks": bank_rule,
    }


def site_interval(
    props: dict[str, Any], chainage_km: float, line_km: float
) -> tuple[float, float] | str:
    """Where along the river a crossing may be: ``(lo_km, hi_km)``, or why it cannot be placed.

    * ``chainage_from_km`` and ``chainage_to_km`` set: uniform over that stretch;
    * otherwise, from the point's chainage *c* and ``uncertainty_m`` *r*:
      ``exact`` (or no stated uncertainty) -> the point ``(c, c)``; any other
      precision -> uniform over ``[c - r, c + r]`` clipped to the line.

    "Point-located" means ``lo == hi``.

    Examples
    --------
    >>> site_interval({"location_precision": "exact", "uncertainty_m": 50}, 12.0, 100.0)
    (12.0, 12.0)
    >>> site_interval({"location_precision": "near_place", "uncertainty_m": 2000}, 1.0, 100.0)
    (0.0, 3.0)
    >>> site_interval({"chainage_from_km": 94.5, "chainage_to_km": 164.8}, 130.0, 238.7)
    (94.5, 164.8)
    >>> site_interval({"chainage_from_km": 50, "chainage_to_km": 40}, 45.0, 238.7)
    'chainage_from_km=50 is after chainage_to_km=40: give the stretch from its smaller chainage'
    """
    lo, hi = props.get("chainage_from_km"), props.get("chainage_to_km")
    if lo is not None or hi is not None:
        if lo is None or hi is None:
            return f"chainage_from_km={lo} and chainage_to_km={hi}: give both ends of the stretch"
        try:
            lo, hi = float(lo), float(hi)
        except (TypeError, ValueError):
            return f"chainage_from_km={lo!r}, chainage_to_km={hi!r}: give two numbers in km"
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return f"chainage_from_km={lo}, chainage_to_km={hi}: give finite chainages in km"
        if hi < lo:
            return (
                f"chainage_from_km={lo:g} is after chainage_to_km={hi:g}: give the stretch "
                "from its smaller chainage"
            )
        if lo < 0 or hi > line_km + 1e-9:
            return (
                f"chainage {lo:g}–{hi:g} km is off the stretch line: the valid range is "
                f"[0, {line_km:g}] km"
            )
        return lo, min(hi, line_km)
    if not math.isfinite(chainage_km):
        return "no point geometry"
    r = props.get("uncertainty_m")
    if props.get("location_precision") == "exact" or not isinstance(r, int | float) or r <= 0:
        return chainage_km, chainage_km
    r_km = float(r) / 1000.0
    return max(chainage_km - r_km, 0.0), min(chainage_km + r_km, line_km)
