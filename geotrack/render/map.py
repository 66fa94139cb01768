"""The investigator's map: one self-contained Leaflet page built with folium.

The page shows the study stretch of the Yalu (Amnok) with the border, chainage
marks every 10 km, towns on both banks and county names drawn from the
workspace's layers (so it reads with no tiles at all), every crossing coloured
by kind with its status (symbol) and verification (outline), its location
uncertainty circle, clustering with real counts, the density along the river
as coloured river segments, and a side panel with headline figures, filters,
a legend with counts, the official trade chart and a chainage strip.

How it is built
---------------
* :func:`map_payload` turns crossings and reference layers into one plain,
  compact JSON document (columns plus a string table, so 100,000 crossings
  stay well under 25 MB).  It does no I/O.
* :func:`render_html` puts that document into the page **once**, inside a
  ``<script type="application/json">`` element with ``<``, ``>``, ``&``,
  U+2028 and U+2029 escaped, inlines Leaflet, MarkerCluster and the Vega
  bundle from their PyPI packages (:mod:`geotrack.render.assets`), and drops
  folium's default CDN links.  geotrack's own script builds every piece of
  text with ``textContent``: no data ever reaches ``innerHTML``.
* :func:`workspace_map` does both for a :class:`geotrack.workspace.Workspace`;
  :func:`write_html` writes the file atomically.
"""

from __future__ import annotations

__all__ = [
    "KIND_COLOURS",
    "MapOptions",
    "crossing_verification",
    "json_for_script",
    "map_payload",
    "raster_overlay",
    "render_html",
    "workspace_map",
    "workspace_payload",
    "write_html",
]

import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
import shapely.ops
from shapely.geometry import LineString  # noqa: F401  (doctests)

from geotrack import schema
from geotrack.crs import to_measure, to_wire
from geotrack.errors import DataError, StorageError, UsageError
from geotrack.linear import LineIndex
from geotrack.reference import REPORTED_COUNT, REPORTED_KM, Stretch, Window
from geotrack.render import assets
from geotrack.store import atomic_write

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
#: Attribution lines always shown (reference layers shipped with geotrack).
BASE_ATTRIBUTIONS: tuple[str, ...] = (
    "Border, river and county segments: © OpenStreetMap contributors, ODbL 1.0",
    "County names: Who's On First (CC BY 4.0 / CC0 per source)",
    "Towns: GeoNames, CC BY 4.0",
)
REPORTED_SOURCE = (
    "Korea JoongAng Daily (2025-12-19), citing NK News: at least 32 temporary crossings on "
    '"a roughly 98-kilometer stretch"'
)
_TILES = (
    {
        "name": "OpenStreetMap (online)",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© OpenStreetMap contributors",
        "max_zoom": 19,
    },
    {
        "name": "Satellite: Esri World Imagery (online)",
        "url": (
            "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/"
            "{z}/{y}/{x}"
        ),
        "attribution": "Tiles © Esri; Maxar, Earthstar Geographics and the GIS User Community",
        "max_zoom": 18,
    },
)
_EPOCH = date(1970, 1, 1)
_MAP_ID = "geotrack"
_VER_ORDER = ("verified", "in_review", "disputed", "unverified", "unverifiable", "false")


@dataclass(frozen=True)
class MapOptions:
    """What to show and how.

    Parameters
    ----------
    title : str
        Page title and heading.
    online : bool
        Use CDN links for Leaflet and MarkerCluster instead of inlining them,
        and offer OpenStreetMap and satellite tiles as base layers.  The
        default page makes no request to any other host.
    max_offset_km : float
        Crossings farther than this from the river line are drawn but left out
        of the counts in the window and marked in their popup.
    tick_km : float
        Spacing of the chainage marks on the river.
    generated_at : str or None
        ISO 8601 UTC time written on the page; now if None.

    Examples
    --------
    >>> MapOptions(title="Yalu").online
    False
    """

    title: str = "Reported crossings of the Yalu (Amnok): Baishan–Ryanggang"
    online: bool = False
    max_offset_km: float = 2.0
    tick_km: float = 10.0
    generated_at: str | None = None
    extra_attributions: tuple[str, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------- small helpers


class _Strings:
    """A string table: every text value is stored once and referenced by index."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._ix: dict[str, int] = {}

    def __call__(self, value: object) -> int:
        if value is None or value == "":
            return -1
        s = value if isinstance(value, str) else str(value)
        i = self._ix.get(s)
        if i is None:
            i = self._ix[s] = len(self.items)
            self.items.append(s)
        return i


def _day(value: object, *, end: bool = False) -> int | None:
    """Days since 1970-01-01 of an ISO date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()[:10]
    try:
        parts = [int(p) for p in text.split("-")]
    except ValueError:
        return None
    try:
        if len(parts) == 1:
            d = date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
        elif len(parts) == 2:
            if end:
                nxt = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
                d = date.fromordinal(nxt.toordinal() - 1)
            else:
                d = date(parts[0], parts[1], 1)
        else:
            d = date(parts[0], parts[1], parts[2])
    except ValueError:
        return None
    return (d - _EPOCH).days


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


def _code_list(codes: Mapping[Any, str], extra: Mapping[str, Any] | None = None) -> list[list]:
    out = []
    for code, label in codes.items():
        row: list[Any] = [code, label]
        if extra is not None:
            row.append(extra[code])
        out.append(row)
    return out


def _index(codes: Mapping[Any, str], value: object, default: object) -> int:
    keys = list(codes)
    try:
        return keys.index(value)
    except ValueError:
        return keys.index(default)


def _ll(x: np.ndarray, y: np.ndarray, nd: int = 5) -> list[list[float]]:
    """EPSG:32652 arrays to ``[[lat, lon], ...]`` rounded to *nd* decimals."""
    lon, lat = to_wire(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    lat = np.round(np.atleast_1d(lat), nd)
    lon = np.round(np.atleast_1d(lon), nd)
    return np.column_stack([lat, lon]).tolist()


def _geom_latlon(geom: Any, nd: int = 5) -> list[list[list[float]]]:
    """Any (multi)line geometry in WGS 84 to a list of ``[[lat, lon], ...]`` parts."""
    if geom is None:
        return []
    if isinstance(geom, Mapping):
        geom = shapely.geometry.shape(geom)
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        c = shapely.get_coordinates(g)
        if len(c):
            parts.append(np.round(c[:, ::-1], nd).tolist())
    return parts


def _finite(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _num(v: float | None, nd: int) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


# ----------------------------------------------------------------------------- payload


def _crossing_columns(
    crossings: Sequence[Mapping[str, Any]],
    index: LineIndex,
    strings: _Strings,
    *,
    max_offset_m: float,
) -> dict[str, list]:
    n = len(crossings)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for i, f in enumerate(crossings):
        geom = f.get("geometry") or {}
        c = geom.get("coordinates") if isinstance(geom, Mapping) else None
        if geom.get("type") == "Point" and isinstance(c, list | tuple) and len(c) >= 2:
            lon[i] = _finite(c[0]) if _finite(c[0]) is not None else np.nan
            lat[i] = _finite(c[1]) if _finite(c[1]) is not None else np.nan
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
        cols["kind"].append(_index(schema.KINDS, p.get("kind"), "other"))
        cols["status"].append(_index(schema.STATUSES, p.get("status"), "unknown"))
        cols["ver"].append(
            _index(schema.VERIFICATIONS, crossing_verification(reports), "unverified")
        )
        cols["prec"].append(_index(schema.PRECISIONS, p.get("location_precision"), "county"))
        cols["datum"].append(_index(schema.DATUMS, p.get("datum"), "wgs84"))
        unc = _finite(p.get("uncertainty_m"))
        cols["unc"].append(None if unc is None or unc < 0 else round(unc))
        ol, oa = _finite(p.get("original_lon")), _finite(p.get("original_lat"))
        cols["olon"].append(_num(ol, 6))
        cols["olat"].append(_num(oa, 6))
        cols["syn"].append(1 if p.get("synthetic") is True else 0)
        cols["km"].append(float(km[i]))
        cols["off"].append(float(off[i]))
        cols["far"].append(1 if abs(loc.offset_m[i]) > max_offset_m else 0)
        intervals = []
        rows = []
        for r in reports:
            s = _day(r.get("event_start")) or _day(r.get("event_end"))
            e = _day(r.get("event_end"), end=True) or _day(r.get("event_start"), end=True)
            if s is None and e is None:
                s = _day(r.get("reported"))
                e = _day(r.get("reported"), end=True)
            if s is not None and e is not None:
                intervals.append([min(s, e), max(s, e)])
            cred = r.get("credibility")
            rows.append(
                [
                    strings(r.get("report_id")),
                    strings(r.get("source_name")),
                    _index(schema.SOURCE_TYPES, r.get("source_type"), "other"),
                    strings(r.get("url")),
                    strings(r.get("archive_url")),
                    strings(r.get("sha256")),
                    strings(r.get("accessed")),
                    strings(r.get("reported")),
                    strings(r.get("event_start")),
                    strings(r.get("event_end")),
                    strings(r.get("date_precision")),
                    strings(r.get("reliability")),
                    cred if isinstance(cred, int) and not isinstance(cred, bool) else None,
                    strings(r.get("verification")),
                    strings(r.get("notes")),
                ]
            )
        cols["iv"].append(intervals)
        cols["r"].append(rows)
    return cols


def _ticks(index: LineIndex, step_km: float) -> list[dict[str, Any]]:
    length_km = index.length_m / 1000.0
    kms = np.arange(0.0, length_km + 1e-9, step_km)
    out = []
    d = kms * 1000.0
    x, y = index.interpolate(d)
    xa, ya = index.interpolate(np.clip(d - 50.0, 0, index.length_m))
    xb, yb = index.interpolate(np.clip(d + 50.0, 0, index.length_m))
    for i, k in enumerate(kms):
        tx, ty = xb[i] - xa[i], yb[i] - ya[i]
        norm = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / norm, tx / norm  # left normal (Chinese bank)
        half = 700.0
        a = _ll([x[i] + nx * half], [y[i] + ny * half])[0]
        b = _ll([x[i] - nx * half], [y[i] - ny * half])[0]
        lab = _ll([x[i] - nx * 1600.0], [y[i] - ny * 1600.0])[0]
        out.append(
            {"km": round(float(k), 3), "a": a, "b": b, "at": lab, "major": bool(k % 50 == 0)}
        )
    return out


def _segments_along(
    index: LineIndex, edges_km: Sequence[tuple[float, float]], values: Sequence[float]
) -> list[dict[str, Any]]:
    out = []
    line_km = index.length_m / 1000.0
    for (a, b), v in zip(edges_km, values, strict=True):
        a2, b2 = max(0.0, a), min(line_km, b)
        if b2 <= a2:
            continue
        c = index.substring(a2 * 1000.0, b2 * 1000.0)
        out.append(
            {"from_km": round(a, 3), "to_km": round(b, 3), "value": v, "c": _ll(c[:, 0], c[:, 1])}
        )
    return out


def _density_layers(density: Mapping[str, Any] | None, index: LineIndex) -> dict[str, Any]:
    """River segments coloured by density, from a ``geotrack density --json`` style document."""
    if not density:
        return {}
    out: dict[str, Any] = {}
    bins = density.get("bins") or []
    if bins:
        edges = [(float(b["from_km"]), float(b["to_km"])) for b in bins]
        vals = [float(b["per_km"]) for b in bins]
        widths = [round(b - a, 3) for a, b in edges]
        out["bins"] = {
            "bin_km": max(widths) if widths else None,
            "counts": [int(b.get("count", 0)) for b in bins],
            "segments": _segments_along(index, edges, vals),
            "max": max(vals) if vals else 0.0,
        }
    kde = density.get("kde") or {}
    values = kde.get("values") or []
    if values:
        pts = []
        for v in values:
            if isinstance(v, Mapping):
                pts.append((float(v["km"]), float(v["per_km"])))
            else:
                pts.append((float(v[0]), float(v[1])))
        pts.sort()
        kms = np.array([p[0] for p in pts])
        ys = np.array([p[1] for p in pts])
        # group grid samples into segments of ~0.5 km or the grid step, whichever is larger
        step = float(kde.get("step_km") or (np.median(np.diff(kms)) if len(kms) > 1 else 1.0))
        seg_km = max(step, 0.5)
        lo, hi = float(kms[0]), float(kms[-1])
        edges_a = np.arange(lo, hi, seg_km)
        edges = [(float(a), float(min(a + seg_km, hi))) for a in edges_a]
        vals = []
        for a, b in edges:
            m = (kms >= a) & (kms <= b)
            vals.append(round(float(ys[m].mean()) if m.any() else 0.0, 5))
        out["kde"] = {
            "bandwidth_km": _finite(kde.get("bandwidth_km")),
            "kernel": str(kde.get("kernel") or "gaussian"),
            "step_km": step,
            "segments": _segments_along(index, edges, vals),
            "max": float(ys.max()) if len(ys) else 0.0,
        }
    window = density.get("window") or {}
    out["window"] = {
        "from_km": _finite(window.get("from_km")),
        "to_km": _finite(window.get("to_km")),
        "length_km": _finite(window.get("length_km")),
    }
    out["n"] = density.get("n_crossings")
    out["unit"] = "crossings per km of river"
    return out


def map_payload(
    crossings: Sequence[Mapping[str, Any]],
    /,
    *,
    stretch: Stretch,
    window: Window,
    border: Any = None,
    towns: Iterable[Any] = (),
    county_segments: Iterable[Mapping[str, Any]] = (),
    density: Mapping[str, Any] | None = None,
    chart_spec: Mapping[str, Any] | None = None,
    attributions: Sequence[str] = (),
    data_date: str | None = None,
    options: MapOptions | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as one compact JSON-ready document.

    Parameters
    ----------
    crossings : sequence of GeoJSON Feature dicts
        Crossing sites (EPSG:4326 Points) with the properties of the data model.
    stretch : Stretch
        The directed river line (chainage 0 at its first vertex).
    window : Window
        The window whose figures the side panel gives (e.g. ``reported``).
    border : shapely geometry or GeoJSON geometry dict, optional
        The international border (WGS 84).
    towns : iterable
        :class:`geotrack.reference.Town` objects or GeoJSON Point features with
        ``name``, ``name_local`` and ``country``.
    county_segments : iterable of GeoJSON features
        LineStrings with ``county``, ``chainage_start_km``, ``chainage_end_km``.
    density : mapping, optional
        A density result shaped like ``geotrack density --json`` (``bins``,
        ``kde``, ``window``); drawn as coloured river segments.
    chart_spec : mapping, optional
        A Vega-Lite spec for the side panel's trade chart.
    attributions : sequence of str
        Source lines shown on the page besides the reference layers' own.
    data_date : str, optional
        Date of the data (the newest report, or the workspace's last change).
    options : MapOptions, optional

    Returns
    -------
    dict
        Plain JSON-ready data; crossings as columns (``c``) whose text values
        are indices into the string table ``s``.

    Examples
    --------
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.2, 41.5)]))
    >>> f = {"type": "Feature", "id": "YLU-0001",
    ...      "geometry": {"type": "Point", "coordinates": [127.1, 41.501]},
    ...      "properties": {"kind": "ford", "status": "active", "reports": []}}
    >>> p = map_payload([f], stretch=s, window=Window("all", 0, 16.7))
    >>> p["s"][p["c"]["id"][0]], p["c"]["km"][0] > 8
    ('YLU-0001', True)
    """
    opts = options or MapOptions()
    index = LineIndex(stretch.line_m, what="stretch line")
    strings = _Strings()
    cols = _crossing_columns(
        list(crossings), index, strings, max_offset_m=opts.max_offset_km * 1000.0
    )
    length_km = index.length_m / 1000.0
    line_ll = _geom_latlon(stretch.line_wgs84)[0]
    cum_km = np.concatenate(
        [[0.0], np.cumsum(np.hypot(*np.diff(shapely.get_coordinates(stretch.line_m), axis=0).T))]
    )
    town_rows = []
    for t in towns:
        if isinstance(t, Mapping):
            props = t.get("properties") or {}
            c = (t.get("geometry") or {}).get("coordinates") or [None, None]
            name, local, country = props.get("name"), props.get("name_local"), props.get("country")
            tlon, tlat = _finite(c[0]), _finite(c[1])
        else:
            name, local, country = t.name, t.name_local, t.country
            tlon, tlat = _finite(t.lon), _finite(t.lat)
        if tlon is None or tlat is None:
            continue
        tx, ty = to_measure(tlon, tlat)
        tl = index.locate([tx], [ty])
        town_rows.append(
            {
                "name": name,
                "local": local,
                "country": country,
                "lat": round(tlat, 5),
                "lon": round(tlon, 5),
                "km": round(float(tl.chainage_m[0]) / 1000.0, 1),
                "dist_km": round(float(tl.distance_m[0]) / 1000.0, 1),
            }
        )
    counties = []
    for f in county_segments:
        props = f.get("properties") or {}
        a, b = _finite(props.get("chainage_start_km")), _finite(props.get("chainage_end_km"))
        if a is None or b is None:
            continue
        mx, my = index.interpolate([min(length_km, (a + b) / 2.0) * 1000.0])
        counties.append(
            {
                "name": props.get("county"),
                "province": props.get("province"),
                "from_km": a,
                "to_km": b,
                "mid": _ll(mx, my)[0],
            }
        )
    straight_km = stretch.straight_km(window)
    n = len(cols["id"])
    n_syn = sum(cols["syn"])
    attributions_all = [str(a) for a in attributions if a] or list(BASE_ATTRIBUTIONS)
    attributions_all += list(opts.extra_attributions)
    generated = opts.generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    days = [d for iv in cols["iv"] for pair in iv for d in pair]
    bx, by = shapely.get_coordinates(
        shapely.ops.substring(stretch.line_m, window.from_km * 1000.0, window.to_km * 1000.0)
    ).T
    blon, blat = to_wire(bx, by)
    versions = assets.asset_versions()
    if chart_spec and _vl_version(chart_spec):
        versions["vega-lite"] = _vl_version(chart_spec)
    return {
        "v": 1,
        "meta": {
            "title": opts.title,
            "generated_at": generated,
            "data_date": data_date,
            "n": n,
            "n_synthetic": n_syn,
            "synthetic": n_syn > 0,
            "online": bool(opts.online),
            "map_var": f"map_{_MAP_ID}",
            "attributions": attributions_all,
            "tiles": list(_TILES) if opts.online else [],
            "assets": versions,
            "bounds": [
                [round(float(np.min(blat)), 4), round(float(np.min(blon)), 4)],
                [round(float(np.max(blat)), 4), round(float(np.max(blon)), 4)],
            ],
            "time_range": [min(days), max(days)] if days else None,
            "max_offset_km": opts.max_offset_km,
        },
        "codes": {
            "kind": _code_list(schema.KINDS, KIND_COLOURS),
            "status": _code_list(schema.STATUSES, STATUS_SHAPES),
            "ver": _code_list(schema.VERIFICATIONS, VERIFICATION_OUTLINES),
            "prec": _code_list(schema.PRECISIONS),
            "datum": _code_list(schema.DATUMS),
            "source_type": _code_list(schema.SOURCE_TYPES),
            "reliability": _code_list(schema.RELIABILITY),
            "credibility": _code_list({str(k): v for k, v in schema.CREDIBILITY.items()}),
            "date_precision": _code_list(schema.DATE_PRECISIONS),
        },
        "window": {
            "name": window.name,
            "from_km": window.from_km,
            "to_km": window.to_km,
            "length_km": round(window.length_km, 3),
            "straight_km": round(straight_km, 3),
            "reported_km": REPORTED_KM,
            "reported_count": REPORTED_COUNT,
            "reported_source": REPORTED_SOURCE,
        },
        "stretch": {
            "length_km": round(length_km, 3),
            "line": line_ll,
            "cum_km": np.round(cum_km / 1000.0, 3).tolist(),
        },
        "border": _geom_latlon(border),
        "ticks": _ticks(index, opts.tick_km),
        "counties": counties,
        "towns": town_rows,
        "density": _density_layers(density, index),
        "chart": {
            "spec": dict(chart_spec) if chart_spec else None,
            "vl_version": _vl_version(chart_spec),
        },
        "s": strings.items,
        "c": cols,
    }


def _vl_version(spec: Mapping[str, Any] | None) -> str | None:
    """The Vega-Lite version a spec asks for (from geotrack's chart module or its $schema)."""
    if not spec:
        return None
    try:
        from geotrack.render.chart import VEGALITE_VERSION

        return VEGALITE_VERSION
    except ImportError:  # pragma: no cover - chart module missing
        return None


# ----------------------------------------------------------------------------- page


def json_for_script(data: Any) -> str:
    """Serialise *data* for a ``<script type="application/json">`` element.

    ``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\u003c``-style escapes,
    so no value can close the element or start markup; ``JSON.parse`` of the
    element's text gives the data back unchanged.

    Examples
    --------
    >>> json_for_script({"n": "</script><b>&"})
    '{"n":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_PANEL_HTML = """
<div id="gt-banner" hidden></div>
<div id="gt-strip-wrap"><canvas id="gt-strip" aria-label="Chainage strip: the river straightened,
 km 0 (west, downstream) to the upstream end; click a tick to centre the map"></canvas></div>
<aside id="gt-panel" aria-label="Side panel">
  <header><h1 id="gt-title"></h1><p id="gt-dates" class="gt-small"></p></header>
  <section id="gt-headline" aria-label="Headline figures"></section>
  <section id="gt-filters" aria-label="Filters">
    <h2>Time (report event intervals)</h2>
    <div id="gt-time"></div>
    <h2>Crossings shown <span id="gt-shown"></span></h2>
    <div id="gt-legend"></div>
  </section>
  <section id="gt-density-legend" aria-label="Density legend"></section>
  <section id="gt-chart-box" aria-label="Official trade chart">
    <h2>Official China–DPRK trade, and crossings per month</h2>
    <div id="gt-chart-wrap"><div id="gt-chart"></div><div id="gt-chart-range"></div></div>
    <p id="gt-chart-note" class="gt-small"></p>
  </section>
  <section id="gt-sources" aria-label="Sources and attributions"></section>
</aside>
"""


def _inline(tag: str, body: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{extra}>\n{body}\n</{tag}>"


def render_html(payload: Mapping[str, Any], *, online: bool | None = None) -> str:
    """The complete HTML page for a :func:`map_payload` document.

    Parameters
    ----------
    payload : mapping
        From :func:`map_payload`.
    online : bool, optional
        Link Leaflet and MarkerCluster from a CDN instead of inlining them;
        defaults to ``payload["meta"]["online"]``.

    Returns
    -------
    str
        The page.  Offline (the default) it references no other host.

    Examples
    --------
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.2, 41.5)]))
    >>> html = render_html(map_payload([], stretch=s, window=Window("all", 0, 16.7)))
    >>> "<script src=" in html, 'type="application/json"' in html
    (False, True)
    """
    import folium
    from branca.element import Element as _Element

    class Element(_Element):
        """Markup put into the page as it is: never rendered as a Jinja2 template.

        ``branca.element.Element(text)`` compiles *text* as a template; the page data and
        the title hold report text, and ``{{ ... }}`` in a note would run there.
        """

        def __init__(self, markup: str) -> None:
            super().__init__()
            self._markup = markup

        def render(self, **kwargs: Any) -> str:
            return self._markup

    meta = payload["meta"]
    online = bool(meta.get("online")) if online is None else online
    (s, w), (nn, e) = meta["bounds"]
    m = folium.Map(
        location=[(s + nn) / 2, (w + e) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    m._id = _MAP_ID  # stable variable name (map_geotrack) and reproducible output
    # folium's defaults load jQuery, Bootstrap, Font Awesome and two files no package ships,
    # from CDNs: none of it is needed, so none of it is referenced.
    m.default_js = []
    m.default_css = []
    fig = m.get_root()
    fig.header.add_child(Element('<meta name="referrer" content="no-referrer">'), name="gt_ref")
    fig.header.add_child(Element(_inline("title", _html_text(meta["title"]))), name="gt_title")
    if online:
        links = "\n".join(
            [
                f'<link rel="stylesheet" href="{assets.CDN["leaflet_css"]}">',
                f'<link rel="stylesheet" href="{assets.CDN["markercluster_css"]}">',
                f'<link rel="stylesheet" href="{assets.CDN["markercluster_default_css"]}">',
                f'<script src="{assets.CDN["leaflet_js"]}"></script>',
                f'<script src="{assets.CDN["markercluster_js"]}"></script>',
            ]
        )
        fig.header.add_child(Element(links), name="gt_cdn")
    else:
        fig.header.add_child(
            Element(_inline("style", assets.leaflet_css() + "\n" + assets.markercluster_css())),
            name="gt_lib_css",
        )
        fig.header.add_child(Element(_inline("script", assets.leaflet_js())), name="gt_leaflet")
        fig.header.add_child(
            Element(_inline("script", assets.markercluster_js())), name="gt_markercluster"
        )
    fig.header.add_child(Element(_inline("style", assets.own_css())), name="gt_css")
    fig.html.add_child(Element(_PANEL_HTML), name="gt_panel")
    fig.html.add_child(
        Element(
            _inline("script", json_for_script(payload), type="application/json", id="geotrack-data")
        ),
        name="gt_data",
    )
    if payload.get("chart", {}).get("spec"):
        # Vega is only ever inlined (about 0.9 MB); it has no CDN mode here.
        vl_version = payload["chart"].get("vl_version")
        fig.html.add_child(
            Element(_inline("script", assets.vega_bundle(vl_version))), name="gt_vega"
        )
    fig.html.add_child(Element(_inline("script", assets.own_js())), name="gt_js")
    return fig.render()


def _html_text(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_html(html: str, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write *html* to *path* atomically (temporary file, fsync, rename).

    Parameters
    ----------
    html : str
    path : path-like
    overwrite : bool
        Replace an existing file; without it an existing file is an error.

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        *path* exists and *overwrite* is false.
    StorageError
        The file could not be written; nothing was left behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.html"
    >>> write_html("<html></html>", p).name
    'm.html'
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise UsageError(
            f"output={str(target)!r} exists: pass --overwrite to replace it, or choose another path"
        )
    if target.is_dir():
        raise UsageError(f"output={str(target)!r} is a folder: give a file path ending in .html")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"output={str(target)!r}: cannot create its folder ({exc.strerror})"
        ) from exc
    atomic_write(target, html.encode("utf-8"))
    return target


# ----------------------------------------------------------------------------- workspace glue


def workspace_map(
    ws: Any,
    *,
    window: str | None = None,
    options: MapOptions | None = None,
) -> str:
    """The map page for a workspace, as HTML text.

    Reads the crossings, reference layers and trade table of *ws*, runs the
    density along the river for *window* (default ``reported``) and renders
    the page.

    Parameters
    ----------
    ws : geotrack.workspace.Workspace
    window : str, optional
        A window spec as ``geotrack density`` takes it; ``reported`` by default.
    options : MapOptions, optional

    Returns
    -------
    str

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> workspace_map(ws)[:15]
    '<!DOCTYPE html>'
    """
    payload = workspace_payload(ws, window=window, options=options)
    return render_html(payload)


def workspace_payload(
    ws: Any, *, window: str | None = None, options: MapOptions | None = None
) -> dict[str, Any]:
    """:func:`map_payload` for a workspace (see :func:`workspace_map`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> sorted(workspace_payload(ws))[:3]
    ['border', 'c', 'chart']
    """
    opts = options or MapOptions()
    spec = window or "reported"
    win = ws.window(spec)
    crossings = ws.read_crossings()
    density, raster, banks = _density_for(ws, spec, opts)
    chart_spec, trade_sources = _chart_for(ws, crossings)
    dates = [
        str(f.get("properties", {}).get(k))
        for f in crossings
        for k in ("updated_at", "last_reported")
        if f.get("properties", {}).get(k)
    ]
    data_date = max(dates)[:10] if dates else None
    reported = [
        str(f["properties"]["last_reported"])
        for f in crossings
        if f.get("properties", {}).get("last_reported")
    ]
    payload = map_payload(
        crossings,
        stretch=ws.stretch,
        window=win,
        border=ws.border_wgs84,
        towns=_towns_of(ws),
        county_segments=ws.county_segments,
        density=density,
        chart_spec=chart_spec,
        attributions=[*ws.attribution(), *trade_sources],
        data_date=data_date,
        options=opts,
    )
    if raster is not None:
        payload["density"]["raster"] = raster
    if banks:
        payload["meta"]["banks"] = banks
    payload["meta"]["newest_report"] = max(reported) if reported else None
    return payload


def _towns_of(ws: Any) -> list[Any]:
    towns = getattr(ws, "towns", None) or []
    if isinstance(towns, Mapping):
        return list(towns.values())
    return list(towns)


def _density_for(
    ws: Any, spec: str, opts: MapOptions
) -> tuple[dict | None, dict | None, dict | None]:
    """The density result (bins, kernel), its raster as an overlay, and the bank labels."""
    from geotrack.analysis import DensityOptions, density_report

    result = density_report(
        ws,
        DensityOptions(window=spec, max_offset_km=opts.max_offset_km, simulations=99, seed=1),
    )
    summary = result.as_dict()
    raster = None
    if summary.get("n_crossings"):
        raster = raster_overlay(result.grid())
    return summary, raster, summary.get("banks")


def _chart_for(ws: Any, crossings: Sequence[Mapping[str, Any]]) -> tuple[dict | None, list[str]]:
    """The trade chart spec for the side panel, and one attribution line for its sources."""
    from geotrack import trade
    from geotrack.render.chart import trade_chart_spec

    rows = trade.load_trade(ws.path)
    if not rows:
        return None, []
    events = trade.load_events(ws.path)
    spec = trade_chart_spec(rows, crossings=crossings, events=events, width=292, height=170)
    sources = sorted({r.source.strip() for r in rows if r.source and r.source.strip()})
    line = (
        "Trade: China's customs (GACC) monthly figures as cited by "
        + "; ".join(sources)
        + " (each month's source is in the chart's tooltip and in trade.csv)"
    )
    return spec, [line] if sources else []


def raster_overlay(grid: Any, *, max_pixels: int = 1_500_000) -> dict[str, Any]:
    """A density grid (EPSG:32652) as a PNG overlay for Leaflet (Web Mercator).

    Parameters
    ----------
    grid : geotrack.density.Grid
        Values in crossings per km², row 0 at the north edge.
    max_pixels : int
        Coarsen the warped image to at most this many pixels.

    Returns
    -------
    dict
        ``png`` (a ``data:`` URI), ``bounds`` (``[[south, west], [north, east]]``),
        ``max`` (the largest value), ``unit_label``, ``cell_m``, ``bandwidth_m``.

    Examples
    --------
    >>> import numpy as np
    >>> from geotrack.density import density_grid
    >>> x, y = np.array([330000.0, 331000.0]), np.array([4600000.0, 4601000.0])
    >>> grid = density_grid(x, y, bounds=(329000.0, 4599000.0, 332000.0, 4602000.0),
    ...                     cell_m=500.0, bandwidth_m=1000.0)
    >>> raster_overlay(grid)["png"][:22]
    'data:image/png;base64,'
    """
    import base64

    from rasterio.crs import CRS
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = np.asarray(grid.values, dtype=np.float32)
    rows, cols = src.shape
    src_t = Affine(*grid.transform)
    xmin, ymin, xmax, ymax = grid.bounds
    dst_crs = CRS.from_epsg(3857)
    src_crs = CRS.from_epsg(32652)
    with warnings.catch_warnings():  # rasterio multiplies Affine objects with '*' internally
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        dst_t, w, h = calculate_default_transform(
            src_crs, dst_crs, cols, rows, xmin, ymin, xmax, ymax
        )
    scale = max(1.0, math.sqrt((w * h) / max_pixels))
    if scale > 1.0:
        w, h = max(1, int(w / scale)), max(1, int(h / scale))
        dst_t = dst_t @ Affine.scale(scale, scale)
    dst = np.zeros((h, w), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        reproject(
            src,
            dst,
            src_transform=src_t,
            src_crs=src_crs,
            dst_transform=dst_t,
            dst_crs=dst_crs,
            resampling=Resampling.bilinear,
            src_nodata=None,
            dst_nodata=0.0,
        )
    vmax = float(np.nanmax(dst)) if dst.size else 0.0
    png = _png_rgba(_colourise(dst, vmax))
    x0, y0 = dst_t @ (0, 0)
    x1, y1 = dst_t @ (w, h)
    lon, lat = _merc_to_ll(np.array([x0, x1]), np.array([y0, y1]))
    return {
        "png": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "bounds": [
            [round(float(min(lat)), 6), round(float(min(lon)), 6)],
            [round(float(max(lat)), 6), round(float(max(lon)), 6)],
        ],
        "max": vmax,
        "unit_label": "crossings per km²",
        "cell_m": float(grid.cell_m),
        "bandwidth_m": float(grid.bandwidth_m),
    }


def _merc_to_ll(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    lon = np.degrees(x / r)
    lat = np.degrees(2 * np.arctan(np.exp(y / r)) - np.pi / 2)
    return lon, lat


_RAMP_RGB = np.array(
    [
        [255, 255, 204],
        [255, 237, 160],
        [254, 217, 118],
        [254, 178, 76],
        [253, 141, 60],
        [252, 78, 42],
        [227, 26, 28],
        [177, 0, 38],
    ],
    dtype=np.float32,
)


def _colourise(values: np.ndarray, vmax: float) -> np.ndarray:
    """Values to RGBA bytes: transparent below 2 % of the maximum, YlOrRd above."""
    h, w = values.shape
    out = np.zeros((h, w, 4), dtype=np.uint8)
    if vmax <= 0:
        return out
    f = np.clip(values / vmax, 0.0, 1.0)
    pos = f * (len(_RAMP_RGB) - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, len(_RAMP_RGB) - 1)
    t = (pos - i0)[..., None]
    rgb = _RAMP_RGB[i0] * (1 - t) + _RAMP_RGB[i1] * t
    out[..., :3] = np.round(rgb).astype(np.uint8)
    out[..., 3] = np.where(f > 0.02, np.round(90 + 150 * f), 0).astype(np.uint8)
    return out


def _png_rgba(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG (no imaging library needed)."""
    import struct
    import zlib

    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
