"""KML and KMZ for Google Earth, streamed to the file as it is built.

- crossings as placemarks styled by kind (one colour per kind, as in QGIS),
  with a ``TimeSpan`` from their reports (``begin`` = first seen, ``end`` = last
  seen) so that Google Earth's time slider filters them, their attributes in
  ``ExtendedData`` and a balloon listing every report;
- claims as LineStrings along the stretch with a balloon listing every relay;
- the official crossings (square icons), the stretch, the border, the county
  segments and the towns, and the density bins if computed, in their own folders.

All text is escaped as :mod:`xml.etree.ElementTree` escapes it (``<``, ``&``, quotes);
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

import functools
import html
import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from geotrack.export._model import DOMAINS, Field, Layer, iso
from geotrack.export.qml import KIND_COLORS

_KML_NS = "http://www.opengis.net/kml/2.2"
_ICON = "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
#: Official crossings are drawn as a square, unlike the circles of reported ones.
_OFFICIAL_ICON = "https://maps.google.com/mapfiles/kml/shapes/placemark_square.png"
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


class _Writer:
    """Streams an XML document, one element per line indented by depth (as ``ET.indent``).

    Text and attribute values are escaped as :mod:`xml.etree.ElementTree`
    escapes them; a carriage return is written as ``&#13;`` so that it survives
    parsing.  Pieces are collected and written to *write* in large chunks.
    """

    def __init__(self, write: Callable[[str], Any]) -> None:
        self._write = write
        self._parts: list[str] = []
        self.depth = 0
        self._first = True

    def _line(self) -> str:
        if self._first:
            self._first = False
            return ""
        return "\n" + " " * self.depth

    def text(self, value: Any) -> str:
        if type(value) is not str:
            value = iso(value)
            if isinstance(value, bool):
                value = "true" if value else "false"
            value = "" if value is None else str(value)
        return _xml_escaped(value)

    def open(self, tag: str, **attrib: str) -> None:
        self._parts.append(f"{self._line()}<{tag}{_attrs(attrib) if attrib else ''}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self._parts.append(f"\n{' ' * self.depth}</{tag}>")
        if len(self._parts) > 8192:
            self.flush()

    def leaf(self, tag: str, text: Any = None, **attrib: str) -> None:
        body = "" if text is None else self.text(text)
        attrs = _attrs(attrib) if attrib else ""
        if body:
            self._parts.append(f"{self._line()}<{tag}{attrs}>{body}</{tag}>")
        else:
            self._parts.append(f"{self._line()}<{tag}{attrs} />")

    def raw(self, text: str) -> None:
        """Append text already laid out and escaped."""
        self._parts.append(text)

    def flush(self) -> None:
        self._write("".join(self._parts))
        self._parts.clear()


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


@functools.lru_cache(maxsize=4096)
def _xml_escaped(text: str) -> str:
    # values repeat a lot (kinds, dates, sources): cached
    return _escape(xml_text(text))


#: HTML escaping of balloon text, cached for the same reason.
_html = functools.lru_cache(maxsize=4096)(html.escape)


def _attrs(attrib: Mapping[str, str]) -> str:
    out = ""
    for k, v in attrib.items():
        v = _escape(xml_text(v)).replace('"', "&quot;").replace("\n", "&#10;")
        out += f' {k}="{v.replace(chr(9), "&#09;")}"'
    return out


def _num(x: float, nd: int) -> str:
    text = f"{float(x):.{nd}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _coords(coords: Sequence[Sequence[float]], nd: int) -> str:
    return " ".join(f"{_num(c[0], nd)},{_num(c[1], nd)}" for c in coords)


def _geometry(w: _Writer, geom: Mapping[str, Any] | None, nd: int) -> None:
    if not geom:
        return
    kind = geom["type"]
    if kind == "Point":
        w.open("Point")
        w.leaf("coordinates", _coords([geom["coordinates"]], nd))
        w.close("Point")
    elif kind == "LineString":
        _line_string(w, geom["coordinates"], nd)
    elif kind == "MultiLineString":
        w.open("MultiGeometry")
        for part in geom["coordinates"]:
            _line_string(w, part, nd)
        w.close("MultiGeometry")


def _line_string(w: _Writer, coords: Sequence[Sequence[float]], nd: int) -> None:
    w.open("LineString")
    w.leaf("tessellate", "1")
    w.leaf("coordinates", _coords(coords, nd))
    w.close("LineString")


def _label(fld: Field, value: Any) -> str:
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


def _description(
    site: Any,
    sites: Layer,
    reports: Sequence[Any],
    report_layer: Layer,
    *,
    link: str = "site_id",
    item: str = "Report",
    item_id: str = "report_id",
) -> str:
    esc = _html
    rows = []
    for fld in sites.fields:
        value = site.properties.get(fld.name)
        if value is None or fld.name == "id":
            continue
        rows.append(
            f"<tr><th align='left'>{esc(fld.alias)}</th><td>{esc(_label(fld, value))}</td></tr>"
        )
    parts = [f"<table>{''.join(rows)}</table>"]
    for rep in reports:
        p = rep.properties
        items = []
        for fld in report_layer.fields:
            value = p.get(fld.name)
            if value is None or fld.name == link:
                continue
            shown = _link(value) if fld.name in ("url", "archive_url") else esc(_label(fld, value))
            items.append(f"<li><b>{esc(fld.alias)}</b>: {shown}</li>")
        parts.append(f"<h4>{item} {esc(str(p.get(item_id) or ''))}</h4><ul>{''.join(items)}</ul>")
    return "".join(parts)


def _styles(w: _Writer) -> None:
    for kind in DOMAINS["kind"].codes:
        w.open("Style", id=f"kind-{kind}")
        _icon_style(w, _kml_color(KIND_COLORS.get(kind, "120,120,120")), "1.1")
        w.open("LabelStyle")
        w.leaf("scale", "0.8")
        w.close("LabelStyle")
        _balloon_style(w)
        w.close("Style")
    for sid, color, width in (
        ("claim", "230,97,1", "9"),
        ("stretch", "31,120,180", "4"),
        ("border", "106,61,154", "2"),
        ("county", "120,120,120", "7"),
    ):
        w.open("Style", id=sid)
        w.open("LineStyle")
        w.leaf("color", _kml_color(color, 200 if sid == "county" else 255))
        w.leaf("width", width)
        w.close("LineStyle")
        _balloon_style(w)
        w.close("Style")
    w.open("Style", id="official")
    _icon_style(w, _kml_color("0,0,0"), "1.4", href=_OFFICIAL_ICON)
    _balloon_style(w)
    w.close("Style")
    for country, color in (("CN", "200,30,30"), ("KP", "30,80,170")):
        w.open("Style", id=f"town-{country}")
        _icon_style(w, _kml_color(color), "0.7")
        _balloon_style(w)
        w.close("Style")


def _icon_style(w: _Writer, color: str, scale: str, *, href: str = _ICON) -> None:
    w.open("IconStyle")
    w.leaf("color", color)
    w.leaf("scale", scale)
    w.open("Icon")
    w.leaf("href", href)
    w.close("Icon")
    w.close("IconStyle")


def _balloon_style(w: _Writer) -> None:
    w.open("BalloonStyle")
    w.leaf("text", _BALLOON)
    w.close("BalloonStyle")


def _extended(
    w: _Writer, layer: Layer, props: Mapping[str, Any], reports: Sequence[Any] | None = None
) -> None:
    w.open("ExtendedData")
    for name, head, tail in _data_elements(layer.fields, w.depth):
        value = w.text(props.get(name))
        w.raw(f"{head}<value>{value}</value>{tail}" if value else f"{head}<value />{tail}")
    if reports is not None:
        _reports_data(w, reports)
    w.close("ExtendedData")


def _reports_data(w: _Writer, reports: Sequence[Any]) -> None:
    """A site's reports, every field, as JSON text in ``<Data name="reports">``.

    JSON escapes every control character, so the reports come back exactly when
    the KML is imported (a ``Data`` value cannot carry NUL or ESC).
    """
    rows = [{k: iso(v) for k, v in r.properties.items() if k != "site_id"} for r in reports]
    w.open("Data", name="reports")
    w.leaf("displayName", "Reports (JSON)")
    w.leaf("value", json.dumps(rows, ensure_ascii=True))
    w.close("Data")


@functools.cache
def _data_elements(fields: tuple[Field, ...], depth: int) -> list[tuple[str, str, str]]:
    """The fixed text before and after the ``<value>`` of each field's ``<Data>`` at *depth*."""
    outer, inner = "\n" + " " * depth, "\n" + " " * (depth + 1)
    out = []
    for f in fields:
        alias = _escape(xml_text(f.alias))
        label = f"<displayName>{alias}</displayName>" if alias else "<displayName />"
        head = f"{outer}<Data{_attrs({'name': f.name})}>{inner}{label}{inner}"
        out.append((f.name, head, f"{outer}</Data>"))
    return out


def _simple_description(layer: Layer, props: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th align='left'>{_html(f.alias)}</th>"
        f"<td>{_html(_label(f, props.get(f.name)))}</td></tr>"
        for f in layer.fields
        if props.get(f.name) is not None
    )
    return f"<table>{rows}</table>"


def _claims(w: _Writer, claims: Layer, relays: Layer, decimals: int) -> None:
    """The claims folder: a LineString per claim, its relays in the balloon."""
    by_claim: dict[str, list[Any]] = {}
    for rel in sorted(relays.features, key=lambda f: f.fid):
        by_claim.setdefault(rel.properties.get("claim_id"), []).append(rel)
    w.open("Folder")
    w.leaf("name", claims.title)
    w.leaf("description", claims.description)
    for claim in sorted(claims.features, key=lambda f: f.fid):
        name = f"{claim.key} {claim.properties.get('label') or ''}".strip()
        w.open("Placemark")
        w.leaf("name", name)
        body = _description(
            claim,
            claims,
            by_claim.get(claim.key, []),
            relays,
            link="claim_id",
            item="Relay",
            item_id="relay_id",
        )
        w.leaf("description", f"<h3>{html.escape(name)}</h3>" + body)
        w.leaf("styleUrl", "#claim")
        _extended(w, claims, claim.properties)
        _geometry(w, claim.geometry, decimals)
        w.close("Placemark")
    w.close("Folder")


def _document(
    w: _Writer,
    layers: Mapping[str, Layer],
    *,
    title: str = "geotrack: reported crossings of the Yalu (Amnok)",
    description: str = "",
    decimals: int = 7,
) -> None:
    w.open("kml", xmlns=_KML_NS)
    w.open("Document")
    w.leaf("name", title)
    w.leaf("open", "1")
    w.leaf("description", html.escape(description).replace("\n", "<br/>"))
    _styles(w)

    sites, reports = layers["crossings"], layers["reports"]
    by_site: dict[str, list[Any]] = {}
    for rep in sorted(reports.features, key=lambda f: f.fid):
        by_site.setdefault(rep.properties.get("site_id"), []).append(rep)
    w.open("Folder")
    w.leaf("name", sites.title)
    w.leaf("open", "1")
    for site in sorted(sites.features, key=lambda f: f.fid):
        p = site.properties
        attrib = {"id": site.key} if _NCNAME.match(site.key) else {}
        w.open("Placemark", **attrib)
        name = site.key + (f" {p['name']}" if p.get("name") else "")
        w.leaf("name", name)
        w.leaf(
            "description",
            f"<h3>{html.escape(name)}</h3>"
            + _description(site, sites, by_site.get(site.key, []), reports),
        )
        if p.get("first_seen") or p.get("last_seen"):
            w.open("TimeSpan")
            if p.get("first_seen"):
                w.leaf("begin", p["first_seen"])
            if p.get("last_seen"):
                w.leaf("end", p["last_seen"])
            w.close("TimeSpan")
        w.leaf("styleUrl", f"#kind-{p.get('kind') if p.get('kind') in KIND_COLORS else 'other'}")
        _extended(w, sites, p, by_site.get(site.key, []))
        _geometry(w, site.geometry, decimals)
        w.close("Placemark")
    w.close("Folder")

    if "claims" in layers and "relays" in layers:
        _claims(w, layers["claims"], layers["relays"], decimals)

    for lname in ("official_crossings", "towns", "stretch", "county_segments", "border"):
        if lname not in layers:
            continue
        layer = layers[lname]
        w.open("Folder")
        w.leaf("name", layer.title)
        for feat in sorted(layer.features, key=lambda f: f.fid):
            w.open("Placemark")
            label = feat.properties.get("name") or feat.properties.get("county") or feat.key
            w.leaf("name", label)
            w.leaf(
                "description",
                f"<h3>{html.escape(str(label))}</h3>" + _simple_description(layer, feat.properties),
            )
            if lname == "towns":
                country = feat.properties.get("country")
                style = f"#town-{country}" if country in ("CN", "KP") else "#town-CN"
            elif lname == "official_crossings":
                style = "#official"
            else:
                style = {"stretch": "#stretch", "border": "#border"}.get(lname, "#county")
            w.leaf("styleUrl", style)
            _extended(w, layer, feat.properties)
            _geometry(w, feat.geometry, decimals)
            w.close("Placemark")
        w.close("Folder")

    dens = [layers[n] for n in layers if n.startswith("density") and layers[n].geometry_type]
    for layer in dens[:1]:
        attr = layer.extra.get("graduated_attr", "per_km")
        values = [v for f in layer.features if (v := f.properties.get(attr)) is not None]
        top = max(values, default=0.0) or 1.0
        w.open("Folder")
        w.leaf("name", layer.title)
        w.leaf("description", layer.description)
        for feat in sorted(layer.features, key=lambda f: f.fid):
            value = feat.properties.get(attr) or 0.0
            cls = min(int(value / top * len(_RAMP)), len(_RAMP) - 1)
            w.open("Placemark")
            w.leaf("name", f"{value:.3g} {layer.extra.get('unit', 'per km')}")
            w.leaf("description", _simple_description(layer, feat.properties))
            w.open("Style")
            w.open("LineStyle")
            w.leaf("color", "ff" + _RAMP[cls])
            w.leaf("width", "6")
            w.close("LineStyle")
            w.close("Style")
            _extended(w, layer, feat.properties)
            _geometry(w, feat.geometry, decimals)
            w.close("Placemark")
        w.close("Folder")
    w.close("Document")
    w.close("kml")
    w.flush()


def _stream(out: IO[str], layers: Mapping[str, Layer], **kw: Any) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    _document(_Writer(out.write), layers, **kw)
    out.write("\n")


def kml_bytes(layers: Mapping[str, Layer], **kw: Any) -> bytes:
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
    out = io.StringIO()
    _stream(out, layers, **kw)
    return out.getvalue().encode("utf-8")


def write_kml(path: str | os.PathLike[str], layers: Mapping[str, Layer], **kw: Any) -> Path:
    """Write the KML document (see :func:`kml_bytes`) to *path*, streamed as it is built.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.export._model import crossing_layers
    >>> s, r = crossing_layers([], precision=7)
    >>> write_kml(pathlib.Path(tempfile.mkdtemp()) / "a.kml", {"crossings": s, "reports": r}).name
    'a.kml'
    """
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as out:
        _stream(out, layers, **kw)
    return path


def write_kmz(
    path: str | os.PathLike[str],
    layers: Mapping[str, Layer],
    *,
    kml_file: str | os.PathLike[str] | None = None,
    **kw: Any,
) -> Path:
    """Write a KMZ: a zip archive holding the KML document as ``doc.kml``.

    Parameters
    ----------
    path : path-like
        The KMZ to write.
    layers : mapping of str to Layer
        As for :func:`kml_bytes`.
    kml_file : path-like, optional
        The KML document :func:`write_kml` wrote from the same *layers* and
        options: it is compressed as it is instead of being built a second time.
    **kw
        As for :func:`kml_bytes`.

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
        if kml_file is not None:
            zf.write(kml_file, "doc.kml")
        else:
            with (
                zf.open("doc.kml", "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
            ):
                _stream(out, layers, **kw)
    return path
