"""The map page itself: folium's Leaflet map, the side panel and the inlined scripts.

:func:`render_html` puts the payload into the page once, inside a
``<script type="application/json">`` element (the reports' text compressed, see
:func:`pack_reports`), and inlines every asset
(:mod:`geotrack.render.assets`); :func:`write_html` writes it atomically.
"""

from __future__ import annotations

__all__ = ["json_for_script", "pack_reports", "render_html", "write_html"]

import base64
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from geotrack.errors import StorageError, UsageError
from geotrack.render import assets
from geotrack.render.payload import MAP_ID
from geotrack.store import atomic_write

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


def pack_reports(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as the page ships it: the reports' text compressed, read by the popups.

    ``reports`` (their string table and rows, used only when a popup opens)
    becomes ``rz``: zlib-compressed JSON in base64, which the page decodes with
    the browser's ``DecompressionStream`` once the map is drawn.  Everything
    the first view needs stays plain JSON.

    Examples
    --------
    >>> packed = pack_reports({"c": {}, "reports": {"s": ["NK News"], "r": [[[0]]]}})
    >>> sorted(packed), orjson.loads(zlib.decompress(base64.b64decode(packed["rz"])))["s"]
    (['c', 'rz'], ['NK News'])
    """
    out = dict(payload)
    reports = out.pop("reports", None)
    if reports is not None:
        raw = orjson.dumps(reports, option=orjson.OPT_SERIALIZE_NUMPY)
        out["rz"] = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
    return out


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
    <ul id="gt-trade-story" aria-label="Trade figures in words"></ul>
    <label id="gt-chart-span-label" class="gt-small">Show
      <select id="gt-chart-span" aria-label="Months shown in the chart"></select></label>
    <div id="gt-chart-wrap"><div id="gt-chart"></div><div id="gt-chart-range"></div></div>
    <p id="gt-chart-note" class="gt-small"></p>
    <details id="gt-trade-table-box"><summary>Figures as a table</summary>
      <div id="gt-trade-table"></div></details>
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
    >>> from shapely.geometry import LineString
    >>> from geotrack.reference import Stretch, Window
    >>> from geotrack.render.payload import map_payload
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
    m._id = MAP_ID  # stable variable name (map_geotrack) and reproducible output
    # folium's defaults load jQuery, Bootstrap, Font Awesome and two files no package ships,
    # from CDNs: none of it is needed, so none of it is referenced.
    m.default_js = []
    m.default_css = []
    fig = m.get_root()
    fig.header.add_child(Element('<meta name="referrer" content="no-referrer">'), name="gt_ref")
    fig.header.add_child(Element(_inline("title", _html_text(meta["title"]))), name="gt_title")
    if online:

        def sri(name: str) -> str:
            return (
                f'integrity="{assets.cdn_integrity(name)}" crossorigin="anonymous" '
                'referrerpolicy="no-referrer"'
            )

        links = "\n".join(
            [
                *(
                    f'<link rel="stylesheet" href="{assets.CDN[n]}" {sri(n)}>'
                    for n in ("leaflet_css", "markercluster_css", "markercluster_default_css")
                ),
                *(
                    f'<script src="{assets.CDN[n]}" {sri(n)}></script>'
                    for n in ("leaflet_js", "markercluster_js")
                ),
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
            _inline(
                "script",
                json_for_script(pack_reports(payload)),
                type="application/json",
                id="geotrack-data",
            )
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
