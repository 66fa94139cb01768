"""QGIS styles (QML) for the exported layers, built with :mod:`xml.etree.ElementTree`.

One style per layer kind, written the way QGIS 3.22 writes them:

- ``crossings``: categorised by ``kind`` (one colour per kind, colour-blind safe),
  with the temporal settings (start ``first_seen``, end ``last_seen``, end
  included) so that QGIS' Temporal Controller filters sites by their reports;
- ``density_bins`` / ``density_kde``: graduated colours on the density per km of river,
  drawn as two bands either side of the river line so that the river shows between them;
- ``stretch``, ``border``: simple lines; ``county_segments``: a line per county;
- ``towns``: point symbols by country, labelled with the town's name;
- every coded field (kind, status, verification, Admiralty grades, ...) as a
  Value Map widget showing the labels, every field with a readable alias;
- the density raster: a single-band pseudocolour ramp from transparent at 0.

The same elements go into the QGIS project (:mod:`geotrack.export.qgis_project`).
"""

from __future__ import annotations

__all__ = [
    "KIND_COLORS",
    "QGIS_VERSION",
    "layer_qml",
    "raster_qml",
    "raster_style_elements",
    "readable_area_unit",
    "to_qml",
    "vector_style_elements",
]

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from geotrack.export._model import DOMAINS, Layer

#: The QGIS version the styles are written for (and checked against).
QGIS_VERSION = "3.22.0-Białowieża"
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
#: Colour per crossing kind (Okabe-Ito palette: distinguishable with colour-blindness).
KIND_COLORS: dict[str, str] = {
    "temporary_bridge": "213,94,0",
    "pontoon": "0,114,178",
    "ford": "0,158,115",
    "ferry_boat": "204,121,167",
    "ice_road": "86,180,233",
    "cable": "230,159,0",
    "earth_causeway": "166,118,29",
    "raft": "240,228,66",
    "wading": "51,34,136",
    "other": "120,120,120",
}
_COUNTRY_COLORS = {"CN": "200,30,30", "KP": "30,80,170"}
#: Claim bands (ColorBrewer Dark2: distinct from the kinds and the river).
_CLAIM_COLORS = ["217,95,2", "117,112,179", "231,41,138", "102,166,30", "230,171,2"]
_COUNTY_COLORS = [
    "166,206,227",
    "178,223,138",
    "251,154,153",
    "253,191,111",
    "202,178,214",
    "255,255,153",
    "177,89,40",
    "31,120,180",
]
# YlOrRd, five classes (ColorBrewer), low to high.
_RAMP = ["255,255,178", "254,204,92", "253,141,60", "240,59,32", "189,0,38"]
#: Density along the river drawn as two bands flanking the river line (0.9 mm wide, drawn
#: below them): 1.0 mm wide, centred 1.1 mm either side, so the river shows between them.
_DENSITY_WIDTH = 1.0
_DENSITY_OFFSETS = (-1.1, 1.1)
_GEOM_CODE = {"Point": 0, "LineString": 1, "MultiLineString": 1, None: 4}


def _sub(parent: ET.Element, tag: str, attrib: dict[str, Any] | None = None, text=None):
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in (attrib or {}).items()})
    if text is not None:
        el.text = str(text)
    return el


def _option_map(parent: ET.Element, values: dict[str, Any], name: str | None = None) -> ET.Element:
    attrib = {"type": "Map"}
    if name is not None:
        attrib = {"name": name, "type": "Map"}
    opt = _sub(parent, "Option", attrib)
    for key, value in values.items():
        _sub(opt, "Option", {"name": key, "type": "QString", "value": value})
    return opt


def _ddp(parent: ET.Element) -> None:
    el = _sub(parent, "data_defined_properties")
    opt = _sub(el, "Option", {"type": "Map"})
    _sub(opt, "Option", {"name": "name", "type": "QString", "value": ""})
    _sub(opt, "Option", {"name": "properties"})
    _sub(opt, "Option", {"name": "type", "type": "QString", "value": "collection"})


def _marker(
    parent: ET.Element, name: str, color: str, *, size: float = 3.0, shape: str = "circle"
) -> ET.Element:
    sym = _sub(
        parent,
        "symbol",
        {"type": "marker", "name": name, "alpha": 1, "clip_to_extent": 1, "force_rhr": 0},
    )
    _ddp(sym)
    lyr = _sub(sym, "layer", {"class": "SimpleMarker", "enabled": 1, "locked": 0, "pass": 0})
    _option_map(
        lyr,
        {
            "angle": "0",
            "color": color + ",255",
            "joinstyle": "bevel",
            "name": shape,
            "offset": "0,0",
            "offset_unit": "MM",
            "outline_color": "35,35,35,255",
            "outline_style": "solid",
            "outline_width": "0.3",
            "outline_width_unit": "MM",
            "scale_method": "diameter",
            "size": f"{size:g}",
            "size_unit": "MM",
        },
    )
    _ddp(lyr)
    return sym


def _line(
    parent: ET.Element,
    name: str,
    color: str,
    *,
    width: float = 0.6,
    style: str = "solid",
    alpha: float = 1.0,
    offsets: Sequence[float] = (0.0,),
) -> ET.Element:
    """A line symbol: one SimpleLine per offset (mm, left of the line's direction positive)."""
    sym = _sub(
        parent,
        "symbol",
        {"type": "line", "name": name, "alpha": f"{alpha:g}", "clip_to_extent": 1, "force_rhr": 0},
    )
    _ddp(sym)
    for offset in offsets:
        lyr = _sub(sym, "layer", {"class": "SimpleLine", "enabled": 1, "locked": 0, "pass": 0})
        _option_map(
            lyr,
            {
                "capstyle": "round",
                "joinstyle": "round",
                "line_color": color + ",255",
                "line_style": style,
                "line_width": f"{width:g}",
                "line_width_unit": "MM",
                "offset": f"{offset:g}",
                "offset_unit": "MM",
            },
        )
        _ddp(lyr)
    return sym


def _symbol(parent: ET.Element, geometry: str | None, name: str, color: str, **kw) -> ET.Element:
    if geometry == "Point":
        return _marker(parent, name, color, **kw)
    return _line(parent, name, color, **kw)


def _renderer(parent: ET.Element, rtype: str, **attrib: Any) -> ET.Element:
    return _sub(
        parent,
        "renderer-v2",
        {
            "type": rtype,
            "symbollevels": 0,
            "enableorderby": 0,
            "forceraster": 0,
            "referencescale": -1,
            **attrib,
        },
    )


def _categorized(
    parent: ET.Element,
    geometry: str | None,
    attr: str,
    categories: Sequence[tuple[Any, str, str]],
    **symbol_kw: Any,
) -> None:
    r = _renderer(parent, "categorizedSymbol", attr=attr)
    cats = _sub(r, "categories")
    syms = _sub(r, "symbols")
    for i, (value, label, color) in enumerate(categories):
        _sub(cats, "category", {"value": value, "label": label, "symbol": i, "render": "true"})
        _symbol(syms, geometry, str(i), color, **symbol_kw)
    _sub(r, "rotation")
    _sub(r, "sizescale")


def _single(parent: ET.Element, geometry: str | None, color: str, **symbol_kw: Any) -> None:
    r = _renderer(parent, "singleSymbol")
    syms = _sub(r, "symbols")
    _symbol(syms, geometry, "0", color, **symbol_kw)
    _sub(r, "rotation")
    _sub(r, "sizescale")


def class_breaks(values: Sequence[float], n: int = 5) -> list[float]:
    """Upper bounds of *n* equal-interval classes from 0 to the largest value.

    Examples
    --------
    >>> class_breaks([0.0, 0.5, 1.0], 4)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> class_breaks([])
    [0.0, 1.0]
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    top = max(finite, default=0.0)
    if top <= 0:
        return [0.0, 1.0]
    return [round(top * i / n, 6) for i in range(n + 1)]


def _graduated(
    parent: ET.Element, geometry: str | None, attr: str, values: Sequence[float], unit: str
) -> None:
    breaks = class_breaks(values, len(_RAMP))
    r = _renderer(parent, "graduatedSymbol", attr=attr, graduatedMethod="GraduatedColor")
    ranges = _sub(r, "ranges")
    syms = _sub(r, "symbols")
    n = len(breaks) - 1
    for i in range(n):
        lo, hi = breaks[i], breaks[i + 1]
        color = _RAMP[round(i * (len(_RAMP) - 1) / max(n - 1, 1))]
        _sub(
            ranges,
            "range",
            {
                "lower": f"{lo:.6f}",
                "upper": f"{hi:.6f}",
                "label": f"{lo:g} - {hi:g} {unit}",
                "symbol": i,
                "render": "true",
            },
        )
        _symbol(syms, geometry, str(i), color, width=_DENSITY_WIDTH, offsets=_DENSITY_OFFSETS)
    method = _sub(r, "classificationMethod", {"id": "EqualInterval"})
    _sub(method, "symmetricMode", {"enabled": 0, "astride": 0, "symmetrypoint": 0})
    _sub(
        method,
        "labelFormat",
        {"format": "%1 - %2 " + unit, "trimtrailingzeroes": 1, "labelprecision": 3},
    )
    _sub(method, "parameters").append(ET.Element("Option"))
    _sub(method, "extraInformation")
    _sub(r, "rotation")
    _sub(r, "sizescale")


def _labeling(parent: ET.Element, expression: str) -> None:
    lab = _sub(parent, "labeling", {"type": "simple"})
    settings = _sub(lab, "settings", {"calloutType": "simple"})
    _sub(
        settings,
        "text-style",
        {
            "fieldName": expression,
            "isExpression": 1,
            "fontSize": 8,
            "fontSizeUnit": "Point",
            "textColor": "40,40,40,255",
            "textOpacity": 1,
            "fontWeight": 50,
            "fontItalic": 0,
            "namedStyle": "Regular",
            "multilineHeight": 1,
            "allowHtml": 0,
        },
    )
    _sub(
        settings,
        "text-buffer",
        {
            "bufferDraw": 1,
            "bufferSize": 0.8,
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": 1,
            "bufferNoFill": 1,
            "bufferJoinStyle": 128,
        },
    )
    _sub(
        settings,
        "placement",
        {"placement": 0, "dist": 1.2, "distUnits": "MM", "offsetType": 0, "priority": 5},
    )
    _sub(
        settings,
        "rendering",
        {
            "obstacle": 1,
            "scaleVisibility": 0,
            "fontLimitPixelSize": 0,
            "drawLabels": 1,
            "upsidedownLabels": 0,
            "displayAll": 0,
        },
    )


def _temporal(parent: ET.Element, *, start: str | None = None, end: str | None = None) -> None:
    enabled = start is not None
    el = _sub(
        parent,
        "temporal",
        {
            "enabled": int(enabled),
            # 2 = ModeFeatureDateTimeStartAndEndFromFields
            "mode": 2 if enabled else 0,
            "startField": start or "",
            "endField": end or "",
            # 1 = IncludeBeginIncludeEnd: a site last seen on a day is shown on that day
            "limitMode": 1 if enabled else 0,
            "accumulate": 0,
            "durationUnit": "d",
            "durationField": "",
            "fixedDuration": 0,
            "startExpression": "",
            "endExpression": "",
        },
    )
    rng = _sub(el, "fixedRange")
    _sub(rng, "start", text="")
    _sub(rng, "end", text="")


def _fields(parent: ET.Element, layer: Layer) -> None:
    conf = _sub(parent, "fieldConfiguration")
    for f in layer.fields:
        fe = _sub(conf, "field", {"name": f.name, "configurationFlags": "None"})
        if f.domain:
            widget = _sub(fe, "editWidget", {"type": "ValueMap"})
            config = _sub(widget, "config")
            outer = _sub(config, "Option", {"type": "Map"})
            lst = _sub(outer, "Option", {"name": "map", "type": "List"})
            for code, label in DOMAINS[f.domain].codes.items():
                item = _sub(lst, "Option", {"type": "Map"})
                _sub(item, "Option", {"name": label, "type": "QString", "value": code})
        else:
            widget = _sub(fe, "editWidget", {"type": "TextEdit" if f.type == "str" else ""})
            config = _sub(widget, "config")
            if f.type == "str":
                _option_map(config, {"IsMultiline": "0", "UseHtml": "0"})
            else:
                _sub(config, "Option")
    aliases = _sub(parent, "aliases")
    for i, f in enumerate(layer.fields, start=1):
        _sub(aliases, "alias", {"field": f.name, "index": i, "name": f.alias})


def vector_style_elements(layer: Layer) -> tuple[dict[str, str], list[ET.Element]]:
    """The style of a vector layer: root attributes and child elements of ``<qgis>``.

    Examples
    --------
    >>> from geotrack.export._model import Field, Layer
    >>> lyr = Layer("stretch", "Stretch", "", "LineString", (Field("name", "str", "Name"),),
    ...             [], style="stretch")
    >>> attrs, elements = vector_style_elements(lyr)
    >>> [e.tag for e in elements][:3]
    ['flags', 'temporal', 'renderer-v2']
    """
    root = ET.Element("qgis")
    flags = _sub(root, "flags")
    for tag, value in (("Identifiable", 1), ("Removable", 1), ("Searchable", 1), ("Private", 0)):
        _sub(flags, tag, text=value)
    geom = layer.geometry_type
    style = layer.style
    if style == "crossings":
        _temporal(root, start="first_seen", end="last_seen")
    else:
        _temporal(root)
    labels = False
    if style == "crossings":
        present = {f.properties.get("kind") for f in layer.features}
        cats = [(k, v, KIND_COLORS.get(k, "120,120,120")) for k, v in DOMAINS["kind"].codes.items()]
        cats += [
            (k, str(k), "120,120,120")
            for k in sorted(present - set(DOMAINS["kind"].codes), key=str)
            if k is not None
        ]
        _categorized(root, geom, "kind", cats, size=3.4)
    elif style == "towns":
        countries = sorted(
            {str(f.properties.get("country") or "") for f in layer.features} | set(_COUNTRY_COLORS)
        )
        names = {"CN": "China (CN)", "KP": "North Korea (KP)"}
        cats = [(c, names.get(c, c), _COUNTRY_COLORS.get(c, "90,90,90")) for c in countries if c]
        _categorized(root, geom, "country", cats, size=2.4, shape="square")
        _labeling(root, r"""regexp_replace("name", '\\s*\\(.*\\)\\s*$', '')""")
        labels = True
    elif style == "county_segments":
        counties = [str(f.properties.get("county")) for f in layer.features]
        cats = [(c, c, _COUNTY_COLORS[i % len(_COUNTY_COLORS)]) for i, c in enumerate(counties)]
        _categorized(root, geom, "county", cats, width=3.0, alpha=0.8)
    elif style == "stretch":
        _single(root, geom, "31,120,180", width=0.9)
    elif style == "claims":
        # a wide translucent band under the river line, one colour per claim, labelled
        keys = [f.key for f in layer.features]
        cats = [(k, k, _CLAIM_COLORS[i % len(_CLAIM_COLORS)]) for i, k in enumerate(keys)]
        _categorized(root, geom, "id", cats, width=4.0, alpha=0.45)
        _labeling(root, '"label"')
        labels = True
    elif style == "official_crossings":
        _single(root, geom, "0,0,0", size=4.2, shape="square")
    elif style == "border":
        _single(root, geom, "106,61,154", width=0.5, style="dash")
    elif style.startswith("density"):
        attr = layer.extra.get("graduated_attr", "per_km")
        values = [f.properties.get(attr) for f in layer.features]
        _graduated(root, geom, attr, values, layer.extra.get("unit", "per km"))
    elif geom is not None:
        _single(root, geom, "90,90,90")
    _sub(root, "customproperties").append(ET.Element("Option"))
    _sub(root, "blendMode", text=0)
    _sub(root, "featureBlendMode", text=0)
    _sub(root, "layerOpacity", text=1)
    _fields(root, layer)
    _sub(root, "previewExpression", text='"id"' if "id" in layer.field_names else "")
    _sub(root, "layerGeometryType", text=_GEOM_CODE.get(geom, 4))
    attrs = {
        "version": QGIS_VERSION,
        "styleCategories": "AllStyleCategories",
        "labelsEnabled": str(int(labels)),
        "hasScaleBasedVisibilityFlag": "0",
        "minScale": "100000000",
        "maxScale": "0",
        "readOnly": "0",
    }
    return attrs, list(root)


def readable_area_unit(top: float, label: str) -> tuple[float, str]:
    """The factor and unit that show a density "per km²" with a top of at least 1 for the legend.

    Tries per km², per 100 km² and per 10,000 km² (100 km × 100 km); a label not
    "per km²" is kept as it is (factor 1).

    Examples
    --------
    >>> readable_area_unit(0.000676, "crossings per km²")
    (10000.0, 'crossings per 10,000 km²')
    >>> readable_area_unit(0.0123, "crossings per km²")
    (100.0, 'crossings per 100 km²')
    >>> readable_area_unit(2.0, "crossings per km²")
    (1.0, 'crossings per km²')
    >>> readable_area_unit(0.001, "per m")
    (1.0, 'per m')
    """
    if not label.endswith("per km²"):
        return 1.0, label
    stem = label[: -len("km²")]
    for factor, unit in ((1.0, "km²"), (100.0, "100 km²")):
        if top * factor >= 1.0:
            return factor, stem + unit
    return 10000.0, stem + "10,000 km²"


def raster_style_elements(
    *, vmax: float, label: str = "crossings per km²", band: int = 1
) -> tuple[dict[str, str], list[ET.Element]]:
    """The style of the density raster: a pseudocolour ramp from 0 (transparent) to *vmax*.

    Examples
    --------
    >>> attrs, els = raster_style_elements(vmax=2.0)
    >>> els[-2].find("rasterrenderer").get("type")
    'singlebandpseudocolor'
    """
    top = float(vmax) if vmax and math.isfinite(vmax) and vmax > 0 else 1.0
    root = ET.Element("qgis")
    flags = _sub(root, "flags")
    for tag, value in (("Identifiable", 1), ("Removable", 1), ("Searchable", 1), ("Private", 0)):
        _sub(flags, tag, text=value)
    _sub(root, "customproperties").append(ET.Element("Option"))
    pipe = _sub(root, "pipe")
    rr = _sub(
        pipe,
        "rasterrenderer",
        {
            "type": "singlebandpseudocolor",
            "band": band,
            "opacity": 0.6,
            "alphaBand": -1,
            "nodataColor": "",
            "classificationMin": 0,
            "classificationMax": f"{top:.6g}",
        },
    )
    mmo = _sub(rr, "minMaxOrigin")
    for tag, text in (
        ("limits", "None"),
        ("extent", "WholeRaster"),
        ("statAccuracy", "Estimated"),
        ("cumulativeCutLower", 0.02),
        ("cumulativeCutUpper", 0.98),
        ("stdDevFactor", 2),
    ):
        _sub(mmo, tag, text=text)
    shader = _sub(rr, "rastershader")
    crs = _sub(
        shader,
        "colorrampshader",
        {
            "colorRampType": "INTERPOLATED",
            "classificationMode": 1,
            "clip": 0,
            "minimumValue": 0,
            "maximumValue": f"{top:.6g}",
            "labelPrecision": 4,
        },
    )
    stops = [(0.0, "255,255,255", 0)] + [
        ((i + 1) / len(_RAMP), c, 255) for i, c in enumerate(_RAMP)
    ]
    factor, shown = readable_area_unit(top, label)
    for frac, color, alpha in stops:
        r, g, b = (int(v) for v in color.split(","))
        value = top * frac
        _sub(
            crs,
            "item",
            {
                "value": f"{value:.6g}",
                "color": f"#{r:02x}{g:02x}{b:02x}",
                "alpha": alpha,
                "label": f"{value * factor:.3g} {shown}",
            },
        )
    _sub(pipe, "brightnesscontrast", {"brightness": 0, "contrast": 0, "gamma": 1})
    _sub(
        pipe,
        "huesaturation",
        {
            "saturation": 0,
            "grayscaleMode": 0,
            "colorizeOn": 0,
            "colorizeRed": 255,
            "colorizeGreen": 128,
            "colorizeBlue": 128,
            "colorizeStrength": 100,
            "invertColors": 0,
        },
    )
    _sub(pipe, "rasterresampler", {"maxOversampling": 2})
    _sub(root, "blendMode", text=0)
    attrs = {
        "version": QGIS_VERSION,
        "styleCategories": "AllStyleCategories",
        "hasScaleBasedVisibilityFlag": "0",
        "minScale": "1e+08",
        "maxScale": "0",
    }
    return attrs, list(root)


def to_qml(attrs: dict[str, str], elements: Sequence[ET.Element]) -> str:
    """A QML document from root attributes and child elements.

    Examples
    --------
    >>> to_qml({"version": "3.22.0"}, []).splitlines()[1]
    '<qgis version="3.22.0" />'
    """
    root = ET.Element("qgis", attrs)
    root.extend(elements)
    ET.indent(root)
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def layer_qml(layer: Layer) -> str:
    """The QML style document of a vector layer.

    Examples
    --------
    >>> from geotrack.export._model import Field, Layer
    >>> lyr = Layer("crossings", "Crossings", "", "Point",
    ...             (Field("kind", "str", "Kind", "kind"),), [], style="crossings")
    >>> 'type="categorizedSymbol"' in layer_qml(lyr)
    True
    """
    return to_qml(*vector_style_elements(layer))


def raster_qml(*, vmax: float, label: str = "crossings per km²", band: int = 1) -> str:
    """The QML style document of the density raster (see :func:`raster_style_elements`).

    Examples
    --------
    >>> "colorrampshader" in raster_qml(vmax=1.5)
    True
    """
    return to_qml(*raster_style_elements(vmax=vmax, label=label, band=band))
