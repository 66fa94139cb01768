"""The crossing sites of the map payload: columns plus a string table.

Each crossing is one entry in every column (``id``, ``lat``, ``kind``, ``km``...) and
its reports are rows of string-table indices, so 100,000 crossings stay compact.
The symbol vocabulary (fill per kind, shape per status, outline per verification)
lives here too.
"""

from __future__ import annotations

__all__ = [
    "KIND_COLOURS",
    "STATUS_SHAPES",
    "VERIFICATION_OUTLINES",
    "crossing_columns",
    "crossing_verification",
]

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from geotrack import schema
from geotrack.crs import to_measure
from geotrack.errors import DataError
from geotrack.linear import LineIndex
from geotrack.render.encode import EPOCH, StringTable, code_index, day_number, finite, rounded

#: Marker fill per crossing kind (Okabe-Ito palette, distinguishable with colour blindness).
KIND_COLOURS: dict[str, str] = {
    "temporary_bridge": "#E69F00",
    "pontoon": "#0072B2",
    "ford": "#009E73",
    "ferry_boat": "#56B4E9",
    "ice_road": "#CC79A7",
    "cable": "#D55E00",
    "earth_causeway": "#A6761D",
    "raft": "#F0E442",
    "wading": "#332288",
    "other": "#7F7F7F",
}
#: Marker shape per status.
STATUS_SHAPES: dict[str, str] = {
    "active": "circle",
    "inactive": "square",
    "destroyed": "cross",
    "unknown": "diamond",
}
#: Marker outline per (crossing-level) verification: colour, width px, dash pattern.
VERIFICATION_OUTLINES: dict[str, tuple[str, float, str]] = {
    "verified": ("#000000", 2.6, ""),
    "in_review": ("#000000", 1.6, "3 2"),
    "unverified": ("#FFFFFF", 1.6, ""),
    "unverifiable": ("#555555", 1.6, "1 2"),
    "disputed": ("#C00000", 2.2, "4 2"),
    "false": ("#C00000", 2.6, ""),
}


def crossing_verification(reports: Iterable[Mapping[str, Any]]) -> str:
    """One verification status for a crossing site, from its reports.

    ``false`` when every graded report says false; ``disputed`` when any
    report is disputed or reports disagree (some verified, some false);
    otherwise the strongest status present, in the order verified, in review,
    unverified, unverifiable.  A site with no report is ``unverified``.

    Examples
    --------
    >>> crossing_verification([{"verification": "unverified"}, {"verification": "verified"}])
    'verified'
    >>> crossing_verification([{"verification": "verified"}, {"verification": "false"}])
    'disputed'
    >>> crossing_verification([])
    'unverified'
    """
    found = {r.get("verification") for r in reports} & set(schema.VERIFICATIONS)
    if not found:
        return "unverified"
    if found == {"false"}:
        return "false"
    if "disputed" in found or ("verified" in found and "false" in found):
        return "disputed"
    for v in ("verified", "in_review", "unverified", "unverifiable"):
        if v in found:
            return v
    return "unverified"  # pragma: no cover - only "false" mixed with nothing else handled above


def _spread(props: Mapping[str, Any]) -> list[float] | None:
    """``[from_km, to_km]`` of a site known only to a stretch of river, else None."""
    lo, hi = finite(props.get("chainage_from_km")), finite(props.get("chainage_to_km"))
    if lo is None or hi is None or not hi > lo:
        return None
    return [round(lo, 3), round(hi, 3)]


def _day_in_bounds(
    report: Mapping[str, Any], key: str, rid: str, problems: list[str] | None
) -> object:
    """``report[key]`` when it is a date from 1900-01-01 to today (UTC), else None.

    A stored date out of those bounds (written before they were checked) is left out
    of the page's time filter and named in *problems*, so the crossing stays shown.
    """
    value = report.get(key)
    n = day_number(value)
    if n is None:
        return value
    today = (datetime.now(UTC).date() - EPOCH).days
    if (schema.MIN_DATE - EPOCH).days <= n <= today:
        return value
    if problems is not None:
        problems.append(
            f"{rid}: {key}={value!r} is outside {schema.MIN_DATE.isoformat()}..today; left out of the "
            "time filter (`geotrack validate` lists it; fix the year)"
        )
    return None


def crossing_columns(
    crossings: Sequence[Mapping[str, Any]],
    index: LineIndex,
    strings: StringTable,
    *,
    max_offset_m: float,
    report_strings: StringTable | None = None,
    problems: list[str] | None = None,
) -> dict[str, list]:
    """The crossings as columns of the payload (``c``), text as *strings* indices.

    Report rows (column ``r``) index *report_strings* when given (the page ships
    them apart, read by the popups), else *strings*.  ``sp`` is ``[from_km,
    to_km]`` for a site spread along the river (the page draws that stretch,
    not a pin), ``np`` 1 for a site placed near a named place (drawn as its
    circle), ``pb``/``pp`` the placement basis and the place as printed.  ``olon``/``olat`` (the
    coordinate as reported) are null where it equals the WGS 84 position shown.

    Raises
    ------
    DataError
        A crossing whose geometry is not a Point with finite lon/lat (named by id).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> from geotrack.reference import Stretch
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.2, 41.5)]))
    >>> f = {"id": "YLU-0001", "geometry": {"type": "Point", "coordinates": [127.1, 41.5]},
    ...      "properties": {"kind": "ford"}}
    >>> strings = StringTable()
    >>> cols = crossing_columns([f], LineIndex(s.line_m), strings, max_offset_m=2000.0)
    >>> strings.items[cols["id"][0]], round(cols["km"][0])
    ('YLU-0001', 8)
    """
    n = len(crossings)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for i, f in enumerate(crossings):
        geom = f.get("geometry") or {}
        c = geom.get("coordinates") if isinstance(geom, Mapping) else None
        if geom.get("type") == "Point" and isinstance(c, list | tuple) and len(c) >= 2:
            lon[i] = finite(c[0]) if finite(c[0]) is not None else np.nan
            lat[i] = finite(c[1]) if finite(c[1]) is not None else np.nan
    ok = np.isfinite(lon) & np.isfinite(lat)
    if n and not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        fid = crossings[bad].get("id") or (crossings[bad].get("properties") or {}).get("id")
        raise DataError(
            f"crossing id={fid!r}: geometry must be a Point with finite lon/lat; "
            "fix the record with `geotrack edit`"
        )
    x, y = to_measure(lon, lat) if n else (np.empty(0), np.empty(0))
    loc = index.locate(x, y)
    km = np.round(loc.chainage_m / 1000.0, 3)
    off = np.round(loc.offset_m, 1)
    cols: dict[str, list] = {
        k: []
        for k in (
            "id",
            "name",
            "lat",
            "lon",
            "kind",
            "status",
            "ver",
            "prec",
            "datum",
            "unc",
            "olon",
            "olat",
            "syn",
            "km",
            "off",
            "far",
            "sp",
            "np",
            "pb",
            "pp",
            "iv",
            "r",
        )
    }
    for i, f in enumerate(crossings):
        p = f.get("properties") or {}
        reports = [r for r in (p.get("reports") or []) if isinstance(r, Mapping)]
        cols["id"].append(strings(f.get("id") or p.get("id")))
        cols["name"].append(strings(p.get("name")))
        cols["lat"].append(round(float(lat[i]), 6))
        cols["lon"].append(round(float(lon[i]), 6))
        cols["kind"].append(code_index(schema.KINDS, p.get("kind"), "other"))
        cols["status"].append(code_index(schema.STATUSES, p.get("status"), "unknown"))
        cols["ver"].append(
            code_index(schema.VERIFICATIONS, crossing_verification(reports), "unverified")
        )
        cols["prec"].append(code_index(schema.PRECISIONS, p.get("location_precision"), "county"))
        cols["datum"].append(code_index(schema.DATUMS, p.get("datum"), "wgs84"))
        unc = finite(p.get("uncertainty_m"))
        cols["unc"].append(None if unc is None or unc < 0 else round(unc))
        ol, oa = (
            rounded(finite(p.get("original_lon")), 6),
            rounded(finite(p.get("original_lat")), 6),
        )
        if ol == cols["lon"][-1] and oa == cols["lat"][-1]:
            ol = oa = None  # the same as shown: the page says so without repeating it
        cols["olon"].append(ol)
        cols["olat"].append(oa)
        cols["syn"].append(1 if p.get("synthetic") is True else 0)
        cols["km"].append(float(km[i]))
        cols["off"].append(float(off[i]))
        cols["far"].append(1 if abs(loc.offset_m[i]) > max_offset_m else 0)
        cols["sp"].append(_spread(p))
        cols["np"].append(1 if p.get("placement") == "near_place" else 0)
        cols["pb"].append(strings(p.get("placement_basis")))
        cols["pp"].append(strings(p.get("place_as_printed")))
        intervals = []
        rows = []
        rs = strings if report_strings is None else report_strings
        for r in reports:
            rid = f"{f.get('id') or p.get('id')}/{r.get('report_id', '?')}"
            start = _day_in_bounds(r, "event_start", rid, problems)
            end = _day_in_bounds(r, "event_end", rid, problems)
            s = day_number(start) or day_number(end)
            e = day_number(end, end=True) or day_number(start, end=True)
            if s is None and e is None:
                reported = _day_in_bounds(r, "reported", rid, problems)
                s = day_number(reported)
                e = day_number(reported, end=True)
            if s is not None and e is not None:
                intervals.append([min(s, e), max(s, e)])
            cred = r.get("credibility")
            rows.append(
                [
                    rs(r.get("report_id")),
                    rs(r.get("source_name")),
                    code_index(schema.SOURCE_TYPES, r.get("source_type"), "other"),
                    rs(r.get("url")),
                    rs(r.get("archive_url")),
                    rs(r.get("sha256")),
                    rs(r.get("accessed")),
                    rs(r.get("reported")),
                    rs(r.get("event_start")),
                    rs(r.get("event_end")),
                    rs(r.get("date_precision")),
                    rs(r.get("reliability")),
                    cred if isinstance(cred, int) and not isinstance(cred, bool) else None,
                    rs(r.get("verification")),
                    rs(r.get("notes")),
                ]
            )
        cols["iv"].append(intervals)
        cols["r"].append(rows)
    return cols
