"""The map page's data: one plain, compact JSON-ready document (no I/O).

:func:`map_payload` assembles the stretch, border, chainage ticks, towns, counties,
density segments, the trade chart and the crossings (:mod:`geotrack.render.crossings`)
with the page's metadata.  Builders of new parts of the page add one key here and
one section of the page script that reads it.
"""

from __future__ import annotations

__all__ = ["BASE_ATTRIBUTIONS", "MAP_ID", "REPORTED_SOURCE", "MapOptions", "map_payload"]

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString  # noqa: F401  (doctests)

from geotrack import schema
from geotrack.crs import to_measure, to_wire
from geotrack.linear import LineIndex
from geotrack.reference import REPORTED_COUNT, REPORTED_KM, Stretch, Window
from geotrack.render import assets
from geotrack.render.crossings import (
    KIND_COLOURS,
    STATUS_SHAPES,
    VERIFICATION_OUTLINES,
    crossing_columns,
)
from geotrack.render.encode import StringTable, code_list, finite, geom_latlon, latlon

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
#: The folium map's id: the page's map variable is ``map_geotrack``.
MAP_ID = "geotrack"


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
        a = latlon([x[i] + nx * half], [y[i] + ny * half])[0]
        b = latlon([x[i] - nx * half], [y[i] - ny * half])[0]
        lab = latlon([x[i] - nx * 1600.0], [y[i] - ny * 1600.0])[0]
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
            {
                "from_km": round(a, 3),
                "to_km": round(b, 3),
                "value": v,
                "c": latlon(c[:, 0], c[:, 1]),
            }
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
            "bandwidth_km": finite(kde.get("bandwidth_km")),
            "kernel": str(kde.get("kernel") or "gaussian"),
            "step_km": step,
            "segments": _segments_along(index, edges, vals),
            "max": float(ys.max()) if len(ys) else 0.0,
        }
    window = density.get("window") or {}
    out["window"] = {
        "from_km": finite(window.get("from_km")),
        "to_km": finite(window.get("to_km")),
        "length_km": finite(window.get("length_km")),
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
    index = stretch.index
    strings = StringTable()
    report_strings = StringTable()
    date_problems: list[str] = []
    cols = crossing_columns(
        list(crossings),
        index,
        strings,
        max_offset_m=opts.max_offset_km * 1000.0,
        report_strings=report_strings,
        problems=date_problems,
    )
    report_rows = cols.pop("r")
    length_km = index.length_m / 1000.0
    line_ll = geom_latlon(stretch.line_wgs84)[0]
    cum_km = np.concatenate(
        [[0.0], np.cumsum(np.hypot(*np.diff(shapely.get_coordinates(stretch.line_m), axis=0).T))]
    )
    town_rows = []
    for t in towns:
        if isinstance(t, Mapping):
            props = t.get("properties") or {}
            c = (t.get("geometry") or {}).get("coordinates") or [None, None]
            name, local, country = props.get("name"), props.get("name_local"), props.get("country")
            tlon, tlat = finite(c[0]), finite(c[1])
        else:
            name, local, country = t.name, t.name_local, t.country
            tlon, tlat = finite(t.lon), finite(t.lat)
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
        a, b = finite(props.get("chainage_start_km")), finite(props.get("chainage_end_km"))
        if a is None or b is None:
            continue
        mx, my = index.interpolate([min(length_km, (a + b) / 2.0) * 1000.0])
        counties.append(
            {
                "name": props.get("county"),
                "province": props.get("province"),
                "from_km": a,
                "to_km": b,
                "mid": latlon(mx, my)[0],
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
            "map_var": f"map_{MAP_ID}",
            "attributions": attributions_all,
            "tiles": list(_TILES) if opts.online else [],
            "assets": versions,
            "bounds": [
                [round(float(np.min(blat)), 4), round(float(np.min(blon)), 4)],
                [round(float(np.max(blat)), 4), round(float(np.max(blon)), 4)],
            ],
            "time_range": [min(days), max(days)] if days else None,
            "max_offset_km": opts.max_offset_km,
            "date_problems": date_problems,
        },
        "codes": {
            "kind": code_list(schema.KINDS, KIND_COLOURS),
            "status": code_list(schema.STATUSES, STATUS_SHAPES),
            "ver": code_list(schema.VERIFICATIONS, VERIFICATION_OUTLINES),
            "prec": code_list(schema.PRECISIONS),
            "datum": code_list(schema.DATUMS),
            "source_type": code_list(schema.SOURCE_TYPES),
            "reliability": code_list(schema.RELIABILITY),
            "credibility": code_list({str(k): v for k, v in schema.CREDIBILITY.items()}),
            "date_precision": code_list(schema.DATE_PRECISIONS),
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
        "border": geom_latlon(border),
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
        # the reports' text: shipped compressed by the page, read by the popups
        "reports": {"s": report_strings.items, "r": report_rows},
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
