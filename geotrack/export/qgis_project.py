"""A QGIS project (``.qgz``) that opens every exported layer, styled, in one click.

The project refers to the GeoPackage's layers and the density raster by paths
relative to itself (keep the files together and the folder can move), states
its CRS (EPSG:32652, UTM zone 52N, metres: distances measured in it are real),
opens on the extent of the stretch, draws the layers in a sensible order
(crossings and towns on top, the density bins above the stretch line they
divide, the claims, county segments, border and the raster below), relates each crossing to its reports (``reports.site_id`` =
``crossings.id``) and sets the Temporal Controller's range to the crossings'
dates.  The styles are the same as in the GeoPackage's ``layer_styles``.

Written with :mod:`xml.etree.ElementTree` in the form QGIS 3.22 reads.
"""

from __future__ import annotations

__all__ = ["LAYER_ORDER", "PROJECT_CRS", "project_xml", "write_qgis_project"]

import os
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pyproj import CRS

from geotrack.export._model import Layer, check_name
from geotrack.export.qml import QGIS_VERSION, raster_style_elements, vector_style_elements

#: The project's CRS: measuring happens in metres in UTM zone 52N.
PROJECT_CRS = "EPSG:32652"
#: Legend order, top to bottom (the top is drawn last, above the others).
LAYER_ORDER = (
    "crossings",
    "reports",
    "official_crossings",
    "towns",
    "density_bins",
    "density_kde",
    "stretch",
    "claims",
    "relays",
    "county_segments",
    "border",
)
_WKB = {"Point": "Point", "LineString": "LineString", "MultiLineString": "MultiLineString"}
_GEOM = {"Point": "Point", "LineString": "Line", "MultiLineString": "Line", None: "No geometry"}
#: Layers listed but not drawn when the project opens: the kernel density overlaps the bins.
_HIDDEN = {"density_kde_geotrack"}
_RASTER_ABSTRACT = (
    "Kernel density of the reported crossings, crossings per km² (the legend per 100 or "
    "10,000 km² where the values are small), shown only in a corridor along the river line "
    "(nodata beyond it), drawn below the river and the density bins."
)
_PROJ4 = {
    "EPSG:4326": "+proj=longlat +datum=WGS84 +no_defs",
    "EPSG:32652": "+proj=utm +zone=52 +datum=WGS84 +units=m +no_defs",
}
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrib: Any) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        el.text = str(text)
    return el


def _srs(parent: ET.Element, authid: str) -> ET.Element:
    crs = CRS.from_user_input(authid)
    srs = _sub(parent, "spatialrefsys")
    _sub(srs, "wkt", crs.to_wkt())
    _sub(srs, "proj4", _PROJ4[authid])
    _sub(srs, "srid", crs.to_epsg())
    _sub(srs, "authid", authid)
    _sub(srs, "description", crs.name)
    _sub(srs, "projectionacronym", "longlat" if crs.is_geographic else "utm")
    _sub(srs, "ellipsoidacronym", "EPSG:7030")
    _sub(srs, "geographicflag", "true" if crs.is_geographic else "false")
    return srs


def _layer_id(name: str) -> str:
    return f"{check_name(name, what='layer name')}_geotrack"


def _metadata(parent: ET.Element, title: str, abstract: str) -> None:
    meta = _sub(parent, "resourceMetadata")
    _sub(meta, "identifier", "")
    _sub(meta, "parentidentifier", "")
    _sub(meta, "language", "")
    _sub(meta, "type", "dataset")
    _sub(meta, "title", title)
    _sub(meta, "abstract", abstract)
    _sub(meta, "links")
    _sub(meta, "fees", "")
    _sub(meta, "encoding", "")
    _sub(meta, "extent")


def _vector_maplayer(parent: ET.Element, layer: Layer, source: str) -> ET.Element:
    attrs, elements = vector_style_elements(layer)
    attrs = {k: v for k, v in attrs.items() if k != "version"}
    ml = _sub(
        parent,
        "maplayer",
        type="vector",
        geometry=_GEOM[layer.geometry_type],
        wkbType=_WKB.get(layer.geometry_type or "", "NoGeometry"),
        autoRefreshEnabled=0,
        autoRefreshTime=0,
        refreshOnNotifyEnabled=0,
        refreshOnNotifyMessage="",
        legendPlaceholderImage="",
        **attrs,
    )
    _sub(ml, "id", _layer_id(layer.name))
    _sub(ml, "datasource", source)
    _sub(_sub(ml, "keywordList"), "value", "")
    _sub(ml, "layername", layer.title)
    _srs(_sub(ml, "srs"), "EPSG:4326")
    _metadata(ml, layer.title, layer.description)
    _sub(ml, "provider", "ogr", encoding="UTF-8")
    for tag in ("vectorjoins", "layerDependencies", "dataDependencies", "expressionfields"):
        _sub(ml, tag)
    mgr = _sub(ml, "map-layer-style-manager", current="default")
    _sub(mgr, "map-layer-style", name="default")
    _sub(ml, "auxiliaryLayer")
    _sub(ml, "metadataUrls")
    ml.extend(elements)
    return ml


def _raster_maplayer(
    parent: ET.Element, name: str, source: str, vmax: float | None, title: str, abstract: str
) -> ET.Element:
    attrs, elements = raster_style_elements(vmax=vmax or 1.0)
    attrs = {k: v for k, v in attrs.items() if k != "version"}
    ml = _sub(
        parent,
        "maplayer",
        type="raster",
        autoRefreshEnabled=0,
        autoRefreshTime=0,
        refreshOnNotifyEnabled=0,
        refreshOnNotifyMessage="",
        legendPlaceholderImage="",
        **attrs,
    )
    _sub(ml, "id", _layer_id(name))
    _sub(ml, "datasource", source)
    _sub(_sub(ml, "keywordList"), "value", "")
    _sub(ml, "layername", title)
    _srs(_sub(ml, "srs"), PROJECT_CRS)
    _metadata(ml, title, abstract)
    _sub(ml, "provider", "gdal")
    nodata = _sub(ml, "noData")
    _sub(nodata, "noDataList", useSrcNoData=1, bandNo=1)
    mgr = _sub(ml, "map-layer-style-manager", current="default")
    _sub(mgr, "map-layer-style", name="default")
    _sub(ml, "metadataUrls")
    ml.extend(elements)
    return ml


def _time_range(layers: Sequence[Layer]) -> tuple[date, date] | None:
    for layer in layers:
        if layer.name != "crossings":
            continue
        starts = [f.properties.get("first_seen") for f in layer.features]
        ends = [f.properties.get("last_seen") for f in layer.features]
        days = [d for d in starts + ends if isinstance(d, date)]
        if days:
            return min(days), max(days)
    return None


def project_xml(
    *,
    gpkg_name: str,
    layers: Sequence[Layer],
    raster_name: str | None = None,
    raster_vmax: float | None = None,
    raster_description: str = "",
    extent_m: tuple[float, float, float, float],
    title: str = "geotrack",
    abstract: str = "",
) -> str:
    """The project document (``.qgs`` XML text).

    Parameters
    ----------
    gpkg_name : str
        File name of the GeoPackage beside the project.
    layers : sequence of Layer
        The layers in the GeoPackage.
    raster_name : str, optional
        File name of the density GeoTIFF beside the project.
    raster_vmax : float, optional
        Top of the raster's colour ramp.
    raster_description : str
        The raster's kernel, bandwidth, cell, CRS and corridor, added to its abstract.
    extent_m : (xmin, ymin, xmax, ymax)
        The initial view, EPSG:32652 metres.
    title, abstract : str
        Project title and description.

    Examples
    --------
    >>> from geotrack.export._model import reference_layer
    >>> towns = reference_layer("towns", [], precision=5)
    >>> xml = project_xml(gpkg_name="g.gpkg", layers=[towns], extent_m=(0, 0, 1, 1))
    >>> "./g.gpkg|layername=towns" in xml, "<authid>EPSG:32652</authid>" in xml
    (True, True)
    """
    rank = {n: i for i, n in enumerate(LAYER_ORDER)}
    ordered = sorted(layers, key=lambda lyr: rank.get(lyr.name, len(rank)))
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    _sub(root, "homePath", path="")
    _sub(root, "title", title)
    _sub(root, "autotransaction", active=0)
    _sub(root, "evaluateDefaultValues", active=0)
    _sub(root, "trust", active=0)
    _srs(_sub(root, "projectCrs"), PROJECT_CRS)

    entries: list[tuple[str, str, str, str]] = []  # id, title, source, provider
    for layer in ordered:
        entries.append(
            (_layer_id(layer.name), layer.title, f"./{gpkg_name}|layername={layer.name}", "ogr")
        )
    raster_title = "Density of crossings (per km²)"
    if raster_name:
        entries.append(("density_raster_geotrack", raster_title, f"./{raster_name}", "gdal"))

    tree = _sub(root, "layer-tree-group")
    _sub(tree, "customproperties").append(ET.Element("Option"))
    for lid, ltitle, source, provider in entries:
        node = _sub(
            tree,
            "layer-tree-layer",
            id=lid,
            name=ltitle,
            source=source,
            providerKey=provider,
            checked="Qt::Unchecked" if lid in _HIDDEN else "Qt::Checked",
            expanded="0" if lid.startswith(("reports", "relays")) else "1",
            legend_exp="",
            patch_size="-1,-1",
            legend_split_behavior=0,
        )
        _sub(node, "customproperties").append(ET.Element("Option"))
    order = _sub(tree, "custom-order", enabled=0)
    for lid, *_ in entries:
        _sub(order, "item", lid)

    names = {lyr.name for lyr in layers}
    rels = _sub(root, "relations")
    if {"crossings", "reports"} <= names:
        rel = _sub(
            rels,
            "relation",
            id="crossings_reports",
            name="Reports on the crossing",
            referencedLayer=_layer_id("crossings"),
            referencingLayer=_layer_id("reports"),
            strength="Association",
        )
        _sub(rel, "fieldRef", referencedField="id", referencingField="site_id")
    if {"claims", "relays"} <= names:
        rel = _sub(
            rels,
            "relation",
            id="claims_relays",
            name="Relays of the claim",
            referencedLayer=_layer_id("claims"),
            referencingLayer=_layer_id("relays"),
            strength="Association",
        )
        _sub(rel, "fieldRef", referencedField="id", referencingField="claim_id")
    _sub(root, "polymorphicRelations")

    canvas = _sub(root, "mapcanvas", name="theMapCanvas", annotationsVisible=1)
    _sub(canvas, "units", "meters")
    ext = _sub(canvas, "extent")
    for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), extent_m, strict=True):
        _sub(ext, tag, f"{value:.3f}")
    _sub(canvas, "rotation", 0)
    _srs(_sub(canvas, "destinationsrs"), PROJECT_CRS)
    _sub(canvas, "rendermaptile", 0)
    _sub(canvas, "expressionContextScope")

    projectlayers = _sub(root, "projectlayers")
    for layer in ordered:
        _vector_maplayer(projectlayers, layer, f"./{gpkg_name}|layername={layer.name}")
    if raster_name:
        ml = _raster_maplayer(
            projectlayers,
            "density_raster",
            f"./{raster_name}",
            raster_vmax,
            raster_title,
            " ".join(t for t in (_RASTER_ABSTRACT, raster_description) if t),
        )
        ml.find("id").text = "density_raster_geotrack"  # type: ignore[union-attr]
    layerorder = _sub(root, "layerorder")
    for lid, *_ in entries:
        _sub(layerorder, "layer", id=lid)

    props = _sub(root, "properties")
    paths = _sub(props, "Paths")
    _sub(paths, "Absolute", "false", type="bool")
    srs = _sub(props, "SpatialRefSys")
    _sub(srs, "ProjectionsEnabled", 1, type="int")
    meas = _sub(props, "Measurement")
    _sub(meas, "DistanceUnits", "meters", type="QString")
    _sub(meas, "AreaUnits", "km2", type="QString")
    _sub(meas, "Ellipsoid", "EPSG:7030", type="QString")

    view = _sub(root, "ProjectViewSettings", UseProjectScales=0, rotation=0)
    dve = _sub(
        view,
        "DefaultViewExtent",
        xmin=f"{extent_m[0]:.3f}",
        ymin=f"{extent_m[1]:.3f}",
        xmax=f"{extent_m[2]:.3f}",
        ymax=f"{extent_m[3]:.3f}",
    )
    _srs(dve, PROJECT_CRS)
    time = _sub(
        root,
        "ProjectTimeSettings",
        timeStep=1,
        timeStepUnit="d",
        frameRate=1,
        cumulativeTemporalRange=0,
    )
    span = _time_range(layers)
    if span:
        rng = _sub(time, "TemporalRange")
        _sub(rng, "start", f"{span[0].isoformat()}T00:00:00.000Z")
        _sub(rng, "end", f"{span[1].isoformat()}T23:59:59.000Z")

    meta = _sub(root, "projectMetadata")
    for tag in ("identifier", "parentidentifier", "language"):
        _sub(meta, tag, "")
    _sub(meta, "type", "")
    _sub(meta, "title", title)
    _sub(meta, "abstract", abstract)
    _sub(meta, "links")
    _sub(meta, "author", "geotrack")
    ET.indent(root)
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def write_qgis_project(path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write the project as ``.qgz`` (a zip holding the ``.qgs``) or ``.qgs``, by suffix.

    Takes the keyword arguments of :func:`project_xml`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.export._model import reference_layer
    >>> towns = reference_layer("towns", [], precision=5)
    >>> p = write_qgis_project(pathlib.Path(tempfile.mkdtemp()) / "p.qgz", gpkg_name="g.gpkg",
    ...                        layers=[towns], extent_m=(0, 0, 1, 1))
    >>> zipfile.ZipFile(p).namelist()
    ['p.qgs']
    """
    path = Path(path)
    text = project_xml(**kwargs)
    if path.suffix == ".qgz":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.with_suffix(".qgs").name, text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8")
    return path
