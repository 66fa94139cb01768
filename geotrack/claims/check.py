"""Checking claims against the river and against the located sites.

For each claim and each reading of its area, :func:`check_claims` measures
the window on the stretch line in EPSG:32652 — its length along the river,
the straight line between its ends and its maximum extent (the largest
distance between two points of the line inside it) — and sets every stated
length (the claim's and each relay's) beside them: the relative difference
``stated / measured - 1`` for each measure and the measure it is closest to.
Readings are ranked by how close the claim's stated length comes to any of
their measures.  It counts the sites of the workspace located inside each
window, says what part of an area lies beyond the bundled stretch, and sets
overlapping claims side by side as counts per river km and per straight km.

It measures and compares; it concludes nothing beyond the numbers.  Nothing
here prints.
"""

from __future__ import annotations

__all__ = ["METHOD", "NAME_GAP_KM", "check_claims", "name_disagreements", "site_intervals"]

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from geotrack.analysis import site_interval
from geotrack.claim_schema import claim_label, count_phrase, stated_km
from geotrack.claims.records import Reading, readings
from geotrack.crs import to_measure
from geotrack.errors import NotFoundError
from geotrack.workspace import Workspace

#: What the check measured and how (stated in every result).
METHOD: dict[str, str] = {
    "crs": "EPSG:32652 (UTM 52N), metres",
    "line": "the workspace's stretch line (stretch.geojson), chainage from its west end",
    "river_km": "length of the window along the stretch line",
    "straight_km": "straight-line distance between the window's two ends",
    "max_extent_km": "largest distance between two points of the line inside the window",
    "difference": "stated / measured - 1, in percent; 'closest' is the measure with the smallest "
    "absolute difference, which says which measure the figure is nearest, not how it was made",
    "rank": "readings ordered by the smallest absolute difference between the claim's stated "
    "length and any of their three measures",
    "sites": "crossings not retired, where geotrack.analysis.site_interval puts them (within "
    "max_offset_km of the line for a point); a site spread over a "
    "chainage interval (chainage_from_km/chainage_to_km) counts inside only when the whole "
    "interval is, and is listed as partly inside when it overlaps the window",
    "density": "the claimed count over the window's river km and over its straight km",
}
_MEASURES = ("river_km", "straight_km", "max_extent_km")
#: A site whose name names a town farther than this from where it is placed is listed.
NAME_GAP_KM = 5.0
#: Words of town names that do not identify a town.
_NOT_NAMES = {"formerly", "county", "capital", "seat", "autonomous", "ryanggang", "chagang"}
_NOT_NAMES |= {"prefecture", "district", "korean"}


def site_intervals(
    ws: Workspace, *, max_offset_km: float = 2.0
) -> tuple[list[tuple[str, float, float]], list[str]]:
    """Each located site as ``(id, lo_km, hi_km)`` on the stretch, and the ids not counted.

    Where a site may be is :func:`geotrack.analysis.site_interval` (the rule
    ``geotrack density`` uses): a point-located site has ``lo == hi``; a site
    spread along the river, or placed near a place, an interval.  A site
    farther than *max_offset_km* from the line, or whose interval is invalid,
    is not counted.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> site_intervals(init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w"))
    ([], [])
    """
    feats = ws.read_crossings()
    if not feats:
        return [], []
    lonlat = np.array([f["geometry"]["coordinates"][:2] for f in feats], dtype=float)
    x, y = to_measure(lonlat[:, 0], lonlat[:, 1])
    loc = ws.stretch.index.locate(x, y)
    out, far = [], []
    line_km = ws.stretch.length_km
    for f, km, dist in zip(feats, loc.chainage_m / 1000.0, loc.distance_m / 1000.0, strict=True):
        p = f["properties"]
        spread = p.get("chainage_from_km") is not None or p.get("chainage_to_km") is not None
        where = site_interval(p, float(km), line_km)
        if isinstance(where, str) or (not spread and dist > max_offset_km):
            far.append(f["id"])
        else:
            out.append((f["id"], float(where[0]), float(where[1])))
    return out, far


def _words(text: str) -> set[str]:
    low = text.lower()
    words = set(re.findall(r"[^\W\d_]+", low))
    # "Kim Jong Suk" is the town Kimjongsuk-up: join runs of words too
    runs = re.findall(r"[^\W\d_]+(?:[\s-]+[^\W\d_]+)*", low)
    words |= {re.sub(r"[\s-]+", "", r) for r in runs}
    words |= {re.sub(r"[\s-]+", "", " ".join(p)) for p in _triples(low)}
    return words


def _triples(low: str) -> list[tuple[str, ...]]:
    w = re.findall(r"[^\W\d_]+", low)
    return [tuple(w[i : i + n]) for n in (2, 3) for i in range(len(w) - n + 1)]


def name_disagreements(
    ws: Workspace, intervals: Sequence[tuple[str, float, float]]
) -> list[dict[str, Any]]:
    """Sites whose name names a town far from where they are placed.

    A site placed from one part of a report's words ("10 km downstream of
    Hyesan") may carry a name that names another town ("Sinpa"); when that
    town's chainage lies more than :data:`NAME_GAP_KM` outside the site's
    interval, both are listed, side by side: the words disagree.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> name_disagreements(init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w"), [])
    []
    """
    towns = []
    for t in ws.towns.values():
        if t.country != "KP":
            continue
        keys = {w for w in re.findall(r"[^\W\d_]+", t.name.lower()) if len(w) >= 4}
        keys -= _NOT_NAMES
        if t.name_local:
            keys.add(t.name_local.lower())
        km = float(ws.stretch.chainage_of(t.lon, t.lat))
        towns.append((t.name, keys, km))
    where = {i: (lo, hi) for i, lo, hi in intervals}
    out = []
    for f in ws.read_crossings():
        p = f["properties"]
        if f["id"] not in where:
            continue
        text = str(p.get("name") or "")
        words = _words(text)
        anchor = _words(str(p.get("placement_basis") or ""))  # the place it was placed from
        lo, hi = where[f["id"]]
        for name, keys, km in towns:
            hit = sorted((keys & words) - anchor)
            gap = max(lo - km, km - hi, 0.0)
            if hit and gap > NAME_GAP_KM:
                out.append(
                    {
                        "id": f["id"],
                        "placed_km": [round(lo, 1), round(hi, 1)],
                        "placement": p.get("placement"),
                        "placement_basis": p.get("placement_basis"),
                        "inferred": p.get("inferred"),
                        "words": text.strip(),
                        "names": hit,
                        "town": name,
                        "town_km": round(km, 1),
                        "gap_km": round(gap, 1),
                        "statement": f"{f['id']} is placed at km {lo:.1f}–{hi:.1f}"
                        + (f" ({p['placement_basis']})" if p.get("placement_basis") else "")
                        + f"; its words also name {', '.join(hit)}: town {name} at km "
                        f"{km:.1f}, {gap:.1f} km away. The place name and the position disagree.",
                    }
                )
    return out


def _compare(stated: float, measures: Mapping[str, float]) -> dict[str, Any]:
    diffs = {m: (stated / v - 1.0) * 100.0 if v > 0 else None for m, v in measures.items()}
    known = {m: d for m, d in diffs.items() if d is not None}
    closest = min(known, key=lambda m: abs(known[m])) if known else None
    return {
        "difference_pct": {m: None if d is None else round(d, 1) for m, d in diffs.items()},
        "closest": closest,
        "closest_difference_pct": None if closest is None else round(known[closest], 1),
    }


def _stated(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each distinct stated length, with who printed it (the claim, relays by id)."""
    groups: dict[tuple[float, str], dict[str, Any]] = {}
    silent = []
    for who, fig in [("claim", props), *((r["relay_id"], r) for r in props["relays"])]:
        km = stated_km(fig)
        if km is None:
            if who != "claim":
                silent.append(who)
            continue
        key = (float(fig["stated_length"]), fig["stated_unit"])
        g = groups.setdefault(
            key,
            {
                "stated_length": key[0],
                "stated_unit": key[1],
                "stated_km": round(km, 3),
                "as_printed": fig.get("stated_length_as_printed"),
                "printed_by": [],
            },
        )
        g["printed_by"].append(who)
    return [*groups.values(), *([{"no_length_printed": silent}] if silent else [])]


def _measure(ws: Workspace, r: Reading) -> dict[str, Any]:
    d = ws.stretch.describe(r.window())
    return {
        "reading": r.label,
        "as_resolved": r.as_resolved,
        "from_km": r.from_km,
        "to_km": r.to_km,
        "river_km": round(r.to_km - r.from_km, 3),
        "straight_km": d["straight_km"],
        "max_extent_km": d["max_extent_km"],
    }


def _sites(
    intervals: Sequence[tuple[str, float, float]],
    far: Sequence[str],
    lo: float,
    hi: float,
    props: Mapping[str, Any],
) -> dict[str, Any]:
    points = [i for i, a, b in intervals if a == b and lo <= a <= hi]
    whole = [i for i, a, b in intervals if a < b and lo <= a and b <= hi]
    partly = [
        i for i, a, b in intervals if a < b and a < hi and b > lo and not (lo <= a and b <= hi)
    ]
    inside = len(points) + len(whole)
    return {
        "window_km": [lo, hi],
        "located_inside": inside,
        "point_located": points,
        "spread_wholly_inside": whole,
        "spread_partly_inside": partly,
        "excluded_far_from_line": list(far),
        "claimed": props["count"],
        "claimed_qualifier": props["count_qualifier"],
        "statement": f"located {inside} of {count_phrase(props)}",
    }


def _density(count: int, m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "count": count,
        "river_km": m["river_km"],
        "straight_km": m["straight_km"],
        "per_river_km": round(count / m["river_km"], 4) if m["river_km"] else None,
        "per_straight_km": round(count / m["straight_km"], 4) if m["straight_km"] else None,
    }


def _outside(
    props: Mapping[str, Any], m: Mapping[str, Any], length_km: float
) -> dict[str, Any] | None:
    area = props["area"]
    if area["kind"] != "beyond":
        return None
    km = stated_km(props)
    out: dict[str, Any] = {
        "beyond": area["beyond"],
        "on_stretch_river_km": m["river_km"],
        "on_stretch_straight_km": m["straight_km"],
        "stretch_length_km": round(length_km, 3),
        "stated_km": None if km is None else round(km, 3),
        "stated_minus_on_stretch_km": None,
        "share_not_on_stretch_pct": None,
        "statement": f"the area continues past the stretch's {area['beyond']} end, where "
        "geotrack has no line: only the part on the stretch is measured",
    }
    if km is not None:
        rest = km - m["river_km"]
        out["stated_minus_on_stretch_km"] = round(rest, 1)
        if rest > 0:
            out["share_not_on_stretch_pct"] = round(rest / km * 100.0, 1)
            out["statement"] += (
                f"; the stated {km:g} km is {rest:.1f} km more than the {m['river_km']:.1f} km "
                f"of river the stretch holds for it ({rest / km * 100:.0f}% of the stated length)"
            )
    return out


def check_claims(
    ws: Workspace, claim_id: str | None = None, *, max_offset_km: float = 2.0
) -> dict[str, Any]:
    """Measure every claim's windows and compare them with the stated lengths and counts.

    Parameters
    ----------
    ws : Workspace
    claim_id : str, optional
        Check only this claim (overlaps still compare it with every other claim).
    max_offset_km : float
        Sites farther than this from the line are listed as excluded.

    Returns
    -------
    dict
        ``method`` (what was measured and how) and ``claims``: for each claim its
        readings with their measures, the stated lengths beside them, the
        ranking of readings, the part beyond the stretch, the sites located
        inside, the density and the overlaps with other claims.

    Raises
    ------
    NotFoundError
        *claim_id* is not a claim of the workspace.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> from geotrack.claims.records import add_claim
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> _ = add_claim(ws, {"claimed_by": "X", "count": 32, "count_qualifier": "at_least",
    ...                    "area": {"kind": "counties", "counties": ["Kimhyongjik", "Pochon"]},
    ...                    "stated_length": 95, "stated_unit": "km"},
    ...               {"publisher": "Y", "url": "https://example.org/a"})
    >>> c = check_claims(ws)["claims"][0]
    >>> r = c["readings"][0]
    >>> r["river_km"], r["straight_km"], r["stated"][0]["closest"]
    (238.7, 104.156, 'straight_km')
    """
    feats = ws.read_claims()
    if claim_id is not None and claim_id not in {f["id"] for f in feats}:
        ids = ", ".join(f["id"] for f in feats) or "none yet"
        raise NotFoundError(f"claim={claim_id!r}: no such claim (claims: {ids})")
    intervals, far = site_intervals(ws, max_offset_km=max_offset_km)
    resolved: dict[str, dict[str, Any]] = {}
    results = []
    for f in feats:
        p = f["properties"]
        measured = [_measure(ws, r) for r in readings(ws, p["area"], row=f"claim {f['id']}")]
        stated = _stated(p)
        for m in measured:
            m["stated"] = [
                {**s, **_compare(s["stated_km"], {k: m[k] for k in _MEASURES})}
                for s in stated
                if "stated_km" in s
            ]
        own = stated_km(p) or next((s["stated_km"] for s in stated if "stated_km" in s), None)
        if own is not None:
            order = sorted(
                measured,
                key=lambda m: min(abs(own / m[k] - 1.0) for k in _MEASURES if m[k] > 0),
            )
            for rank, m in enumerate(order, 1):
                m["fit_rank"] = rank
        first = measured[0]
        resolved[f["id"]] = {"props": p, "m": first}
        results.append(
            {
                "claim": f["id"],
                "label": claim_label(p),
                "claimed_by": p["claimed_by"],
                "count": p["count"],
                "count_qualifier": p["count_qualifier"],
                "area_as_printed": p.get("area_as_printed"),
                "area": p["area"],
                "stated": stated,
                "readings": measured,
                "ranked_readings": [
                    m["reading"] for m in sorted(measured, key=lambda m: m.get("fit_rank", 0))
                ]
                if own is not None and len(measured) > 1
                else None,
                "beyond_stretch": _outside(p, first, ws.stretch.length_km),
                "sites": _sites(intervals, far, first["from_km"], first["to_km"], p),
                "density": {
                    **_density(p["count"], first),
                    "note": "the count is for the whole area, which runs past the stretch; how "
                    "many lie in this window is not stated, so these figures take them all "
                    "(an upper bound)"
                    if p["area"]["kind"] == "beyond"
                    else None,
                },
                "conflicts": p.get("conflicts") or [],
            }
        )
    for res in results:
        a = resolved[res["claim"]]["m"]
        res["overlaps"] = []
        for other, o in resolved.items():
            b = o["m"]
            lo, hi = max(a["from_km"], b["from_km"]), min(a["to_km"], b["to_km"])
            if other == res["claim"] or hi <= lo:
                continue
            res["overlaps"].append(
                {
                    "claim": other,
                    "label": claim_label(o["props"]),
                    "overlap_km": [round(lo, 3), round(hi, 3)],
                    "overlap_river_km": round(hi - lo, 3),
                    "this": _density(res["count"], a),
                    "other": _density(o["props"]["count"], b),
                }
            )
    if claim_id is not None:
        results = [r for r in results if r["claim"] == claim_id]
    return {
        "method": {**METHOD, "max_offset_km": max_offset_km},
        "stretch_length_km": round(ws.stretch.length_km, 3),
        "sites_in_workspace": len(intervals) + len(far),
        "sites_whose_words_disagree": name_disagreements(ws, intervals),
        "claims": results,
    }
