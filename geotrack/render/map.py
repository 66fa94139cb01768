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
* :func:`map_payload` (:mod:`geotrack.render.payload`) turns crossings and
  reference layers into one plain, compact JSON document (columns plus a
  string table, :mod:`geotrack.render.crossings`, so 100,000 crossings stay
  well under 25 MB).  It does no I/O.
* :func:`render_html` (:mod:`geotrack.render.page`) puts that document into
  the page **once**, inside a
  ``<script type="application/json">`` element with ``<``, ``>``, ``&``,
  U+2028 and U+2029 escaped, inlines Leaflet, MarkerCluster and the Vega
  bundle from their PyPI packages (:mod:`geotrack.render.assets`), and drops
  folium's default CDN links.  geotrack's own script builds every piece of
  text with ``textContent``: no data ever reaches ``innerHTML``.
* :func:`workspace_map` does both for a :class:`geotrack.workspace.Workspace`,
  adding its claims as bands beside the river with their check results and
  relays, and its official crossings (:mod:`geotrack.render.claims`);
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

from collections.abc import Mapping, Sequence
from typing import Any

from geotrack.render.crossings import KIND_COLOURS, crossing_verification
from geotrack.render.page import json_for_script, render_html, write_html
from geotrack.render.payload import MapOptions, map_payload
from geotrack.render.raster import raster_overlay

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
    chart_spec, trade_sources, story = _chart_for(ws, crossings)
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
    payload["trade"] = story
    claims = ws.read_claims()
    if claims:
        from geotrack.claims.check import check_claims
        from geotrack.render.claims import claims_payload

        payload["claims"] = claims_payload(
            claims, check_claims(ws, max_offset_km=opts.max_offset_km), line_m=ws.stretch.line_m
        )
    if ws.official_crossings:
        from geotrack.render.claims import official_payload

        payload["official"] = official_payload(ws.official_crossings)
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


def _chart_for(
    ws: Any, crossings: Sequence[Mapping[str, Any]]
) -> tuple[dict | None, list[str], dict | None]:
    """The trade chart spec, one attribution line for its sources, and the story in words."""
    from geotrack import trade
    from geotrack.render.chart import trade_chart_spec
    from geotrack.render.trade_panel import trade_story

    rows = trade.load_trade(ws.path)
    if not rows:
        return None, [], None
    events = trade.load_events(ws.path)
    monthly = [r for r in rows if r.kind == "month"]
    spec = trade_chart_spec(monthly, crossings=crossings, events=events, width=292, height=170)
    sources = sorted({r.source.strip() for r in rows if r.source and r.source.strip()})
    line = (
        "Trade: China's customs (GACC) figures as cited by "
        + "; ".join(sources)
        + " (each month's source is in the chart's tooltip, the figures table and trade.csv)"
    )
    return spec, [line] if sources else [], trade_story(rows, events)
