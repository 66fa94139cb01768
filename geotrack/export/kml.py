"""KML and KMZ for Google Earth, built with :mod:`xml.etree.ElementTree`.

- crossings as placemarks styled by kind (one colour per kind, as in QGIS),
  with a ``TimeSpan`` from their reports (``begin`` = first seen, ``end`` = last
  seen) so that Google Earth's time slider filters them, their attributes in
  ``ExtendedData`` and a balloon listing every report;
- the stretch, the border, the county segments and the towns, and the density
  bins if computed, in their own folders.

All text goes through the XML library, so ``<``, ``&`` and quotes are escaped;
balloon text is HTML, so every value in it is HTML-escaped first (Google Earth
shows it as text, never as markup or script), links are made only of
``http(s)`` URLs, and the balloon template shows only that escaped description
(which starts with the escaped name: Google Earth would put ``$[name]`` into the
balloon unescaped).
Characters XML 1.0 cannot carry (NUL and other control characters except tab,
line feed and carriage return) become U+FFFD; carriage returns are written as
``&#13;`` so that they survive parsing.  KML has no types: values are text.
"""

from __future__ import annotations

__all__ = ["kml_bytes", "write_kml", "write_kmz", "xml_text"]

import html
import os
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from geotrack.export._model import DOMAINS, Layer, iso
from geotrack.export.qml import KIND_COLORS

_KML_NS = "http://www.opengis.net/kml/2.2"
_ICON = "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_RAMP = ["b2ffff", "5cccfe", "3c8dfd", "203bf0", "2600bd"]  # YlOrRd as KML bbggrr
#: Balloon template: Google Earth puts entities such as $[name] into the balloon's HTML as they
#: are, unescaped; only $[description] is used, and it starts with the escaped name.
_BALLOON = "$[description]"


def xml_text(value: str) -> str:
    """Replace the characters XML 1.0 cannot hold by U+FFFD.

    Examples
    --------
    >>> xml_text("a\\x00b\\x1b[31mc")
    'a\\ufffdb\\ufffd[31mc'
    """
    return _BAD_XML.sub("\ufffd", value)


def _kml_color(rgb: str, alpha: int = 255) -> str:
    r, g, b = (int(v) for v in rgb.split(","))
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


class _Builder:
    def __init__(self) -> None:
        self.cr_token = "GTCR" + uuid.uuid4().hex

    def text(self, value: Any) -> str:
        value = iso(value)
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = xml_text("" if value is None else str(value))
        return text.replace("\r", self.cr_token)

    def sub(self, parent: ET.Element, tag: str, text: Any = None, **attrib: str) -> ET.Element:
        el = ET.SubElement(parent, tag, attrib)
        if text is not None:
            el.text = self.text(text)
        return el


def _num(x: float, nd: int) -> str:
    text = f"{float(x):.{nd}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _coords(coords: Sequence[Sequence[float]], nd: int) -> str:
    return " ".join(f"{_num(c[0], nd)},{_num(c[1], nd)}" for c in coords)


def _geometry(b: _Builder, parent: ET.Element, geom: Mapping[str, Any] | None, nd: int) -> None:
    if not geom:
        return
    kind = geom["type"]
    if kind == "Point":
        pt = b.sub(parent, "Point")
        b.sub(pt, "coordinates", _coords([geom["coordinates"]], nd))
    elif kind == "LineString":
        ls = b.sub(parent, "LineString")
        b.sub(ls, "tessellate", "1")
        b.sub(ls, "coordinates", _coords(geom["coordinates"], nd))
    elif kind == "MultiLineString":
        multi = b.sub(parent, "MultiGeometry")
        for part in geom["coordinates"]:
            ls = b.sub(multi, "LineString")
            b.sub(ls, "tessellate", "1")
            b.sub(ls, "coordinates", _coords(part, nd))


def _label(layer: Layer, name: str, value: Any) -> str:
    fld = layer.field(name)
    if fld.domain and value is not None:
        return DOMAINS[fld.domain].codes.get(value, str(value))
    value = iso(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _link(url: Any) -> str:
    text = html.escape(str(url), quote=True)
    if isinstance(url, str) and re.match(r"^https?://", url, re.IGNORECASE):
        return f'<a href="{text}">{text}</a>'
    return text


def _description(site: Any, sites: Layer, reports: Sequence[Any], report_layer: Layer) -> str:
    esc = html.escape
    rows = []
    for name in sites.field_names:
        value = site.properties.get(name)
        if value is None or name == "id":
            continue
        rows.append(
            f"<tr><th align='left'>{esc(sites.field(name).alias)}</th>"
            f"<td>{esc(_label(sites, name, value))}</td></tr>"
        )
    parts = [f"<table>{''.join(rows)}</table>"]
    for rep in reports:
        p = rep.properties
        items = []
        for name in report_layer.field_names:
            value = p.get(name)
            if value is None or name == "site_id":
                continue
            shown = (
                _link(value)
                if name in ("url", "archive_url")
                else esc(_label(report_layer, name, value))
            )
            items.append(f"<li><b>{esc(report_layer.field(name).alias)}</b>: {shown}</li>")
        parts.append(
            f"<h4>Report {esc(str(p.get('report_id') or ''))}</h4><ul>{''.join(items)}</ul>"
        )
    return "".join(parts)


def _styles(b: _Builder, doc: ET.Element) -> None:
    for kind, label in DOMAINS["kind"].codes.items():
        st = b.sub(doc, "Style", id=f"kind-{kind}")
        icon = b.sub(st, "IconStyle")
        b.sub(icon, "color", _kml_color(KIND_COLORS.get(kind, "120,120,120")))
        b.sub(icon, "scale", "1.1")
        b.sub(b.sub(icon, "Icon"), "href", _ICON)
        b.sub(b.sub(st, "LabelStyle"), "scale", "0.8")
        b.sub(b.sub(st, "BalloonStyle"), "text", _BALLOON)
        del label
    for sid, color, width in (
        ("stretch", "31,120,180", "4"),
        ("border", "106,61,154", "2"),
        ("county", "120,120,120", "7"),
    ):
        st = b.sub(doc, "Style", id=sid)
        ls = b.sub(st, "LineStyle")
        b.sub(ls, "color", _kml_color(color, 200 if sid == "county" else 255))
        b.sub(ls, "width", width)
        b.sub(b.sub(st, "BalloonStyle"), "text", _BALLOON)
    for country, color in (("CN", "200,30,30"), ("KP", "30,80,170")):
        st = b.sub(doc, "Style", id=f"town-{country}")
        icon = b.sub(st, "IconStyle")
        b.sub(icon, "color", _kml_color(color))
        b.sub(icon, "scale", "0.7")
        b.sub(b.sub(icon, "Icon"), "href", _ICON)
        b.sub(b.sub(st, "BalloonStyle"), "text", _BALLOON)


def _extended(b: _Builder, parent: ET.Element, layer: Layer, props: Mapping[str, Any]) -> None:
    ext = b.sub(parent, "ExtendedData")
    for f in layer.fields:
        data = b.sub(ext, "Data", name=f.name)
        b.sub(data, "displayName", f.alias)
        b.sub(data, "value", props.get(f.name))


def _simple_description(layer: Layer, props: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th align='left'>{html.escape(f.alias)}</th>"
        f"<td>{html.escape(_label(layer, f.name, props.get(f.name)))}</td></tr>"
        for f in layer.fields
        if props.get(f.name) is not None
    )
    return f"<table>{rows}</table>"


def kml_bytes(
    layers: Mapping[str, Layer],
    *,
    title: str = "geotrack: reported crossings of the Yalu (Amnok)",
    description: str = "",
    decimals: int = 7,
) -> bytes:
    """The KML document (UTF-8 bytes) for the exported layers.

    Parameters
    ----------
    layers : mapping of str to Layer
        ``crossings`` and ``reports`` (required); ``stretch``, ``border``,
        ``county_segments``, ``towns``, ``density_bins`` if present.
    title, description : str
        The document's name and description (plain text).
    decimals : int
        Decimals of a degree in coordinates.

    Examples
    --------
    >>> from geotrack.export._model import crossing_layers
    >>> f = {"type": "Feature", "id": "YLU-0001", "geometry": {"type": "Point",
    ...      "coordinates": [128.1, 41.4]}, "properties": {"kind": "ford",
    ...      "first_seen": "2025-10-01", "last_seen": "2025-11-02",
    ...      "reports": [{"report_id": "R1", "source_name": "<b>x</b>"}]}}
    >>> sites, reports = crossing_layers([f], precision=7)
    >>> text = kml_bytes({"crossings": sites, "reports": reports}).decode()
    >>> "<begin>2025-10-01</begin>" in text, "<b>x" in text
    (True, False)
    """
    b = _Builder()
    root = ET.Element("kml", {"xmlns": _KML_NS})
    doc = b.sub(root, "Document")
    b.sub(doc, "name", title)
    b.sub(doc, "open", "1")
    b.sub(doc, "description", html.escape(description).replace("\n", "<br/>"))
    _styles(b, doc)

    sites, reports = layers["crossings"], layers["reports"]
    by_site: dict[str, list[Any]] = {}
    for rep in sorted(reports.features, key=lambda f: f.fid):
        by_site.setdefault(rep.properties.get("site_id"), []).append(rep)
    folder = b.sub(doc, "Folder")
    b.sub(folder, "name", sites.title)
    b.sub(folder, "open", "1")
    for site in sorted(sites.features, key=lambda f: f.fid):
        p = site.properties
        attrib = {"id": site.key} if _NCNAME.match(site.key) else {}
        pm = b.sub(folder, "Placemark", **attrib)
        name = site.key + (f" {p['name']}" if p.get("name") else "")
        b.sub(pm, "name", name)
        b.sub(
            pm,
            "description",
            f"<h3>{html.escape(name)}</h3>"
            + _description(site, sites, by_site.get(site.key, []), reports),
        )
        if p.get("first_seen") or p.get("last_seen"):
            span = b.sub(pm, "TimeSpan")
            if p.get("first_seen"):
                b.sub(span, "begin", p["first_seen"])
            if p.get("last_seen"):
                b.sub(span, "end", p["last_seen"])
        b.sub(pm, "styleUrl", f"#kind-{p.get('kind') if p.get('kind') in KIND_COLORS else 'other'}")
        _extended(b, pm, sites, p)
        _geometry(b, pm, site.geometry, decimals)

    for lname in ("towns", "stretch", "county_segments", "border"):
        if lname not in layers:
            continue
        layer = layers[lname]
        folder = b.sub(doc, "Folder")
        b.sub(folder, "name", layer.title)
        for feat in sorted(layer.features, key=lambda f: f.fid):
            pm = b.sub(folder, "Placemark")
            label = feat.properties.get("name") or feat.properties.get("county") or feat.key
            b.sub(pm, "name", label)
            b.sub(
                pm,
                "description",
                f"<h3>{html.escape(str(label))}</h3>" + _simple_description(layer, feat.properties),
            )
            if lname == "towns":
                country = feat.properties.get("country")
                style = f"#town-{country}" if country in ("CN", "KP") else "#town-CN"
            else:
                style = {"stretch": "#stretch", "border": "#border"}.get(lname, "#county")
            b.sub(pm, "styleUrl", style)
            _extended(b, pm, layer, feat.properties)
            _geometry(b, pm, feat.geometry, decimals)

    dens = [layers[n] for n in layers if n.startswith("density") and layers[n].geometry_type]
    for layer in dens[:1]:
        attr = layer.extra.get("graduated_attr", "per_km")
        values = [v for f in layer.features if (v := f.properties.get(attr)) is not None]
        top = max(values, default=0.0) or 1.0
        folder = b.sub(doc, "Folder")
        b.sub(folder, "name", layer.title)
        b.sub(folder, "description", layer.description)
        for feat in sorted(layer.features, key=lambda f: f.fid):
            value = feat.properties.get(attr) or 0.0
            cls = min(int(value / top * len(_RAMP)), len(_RAMP) - 1)
            pm = b.sub(folder, "Placemark")
            b.sub(pm, "name", f"{value:.3g} {layer.extra.get('unit', 'per km')}")
            b.sub(pm, "description", _simple_description(layer, feat.properties))
            st = b.sub(pm, "Style")
            ls = b.sub(st, "LineStyle")
            b.sub(ls, "color", "ff" + _RAMP[cls])
            b.sub(ls, "width", "6")
            _extended(b, pm, layer, feat.properties)
            _geometry(b, pm, feat.geometry, decimals)

    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    body = body.replace(b.cr_token, "&#13;")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def write_kml(path: str | os.PathLike[str], layers: Mapping[str, Layer], **kw: Any) -> Path:
    """Write the KML document (see :func:`kml_bytes`) to *path*.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.export._model import crossing_layers
    >>> s, r = crossing_layers([], precision=7)
    >>> write_kml(pathlib.Path(tempfile.mkdtemp()) / "a.kml", {"crossings": s, "reports": r}).name
    'a.kml'
    """
    path = Path(path)
    path.write_bytes(kml_bytes(layers, **kw))
    return path


def write_kmz(path: str | os.PathLike[str], layers: Mapping[str, Layer], **kw: Any) -> Path:
    """Write a KMZ: a zip archive holding the KML document as ``doc.kml``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.export._model import crossing_layers
    >>> s, r = crossing_layers([], precision=7)
    >>> p = write_kmz(pathlib.Path(tempfile.mkdtemp()) / "a.kmz", {"crossings": s, "reports": r})
    >>> zipfile.ZipFile(p).namelist()
    ['doc.kml']
    """
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml_bytes(layers, **kw))
    return path
