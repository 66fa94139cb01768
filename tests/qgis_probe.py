#!/usr/bin/python3
"""Open geotrack's exports in real QGIS, headless, and report what QGIS sees as JSON.

Run with Debian's system Python (python3-qgis lives in /usr/lib/python3/dist-packages,
which the project's venv does not see), by ``tests/test_export_qgis.py``::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py OUT_DIR REPORT.json [PNG]

OUT_DIR holds the files of ``geotrack export --format all``.  The report lists, for
every layer of the GeoPackage, every GeoJSON file, the KML, the density raster
and the QGIS project: validity, feature count, CRS, field types, the editor
widget of each field before and after loading the default style (a coded GDAL
field domain shows up as a ValueMap widget before any style is applied), the
default style's source and renderer, temporal settings, GDAL's own view of
field domains, and for the raster CRS, nodata and band description.  With PNG,
the project is rendered to that file.  The pytest side makes the assertions.

Nothing is written to $HOME: QGIS' profile goes to a temporary folder.
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile


def _setup_env():
    base = tempfile.mkdtemp(prefix="geotrack-qgis-probe-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        path = os.path.join(base, var.lower())
        os.makedirs(path, mode=0o700)
        os.environ[var] = path
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["GDAL_PAM_ENABLED"] = "NO"  # no .aux.xml written beside the checked files
    os.environ["PROJ_NETWORK"] = "OFF"
    return base


def main(out_dir, report_path, png_path=None):
    base = _setup_env()
    from osgeo import gdal, ogr
    from qgis.core import (
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsProject,
        QgsProviderRegistry,
        QgsRasterLayer,
        QgsRectangle,
        QgsVectorLayer,
        QgsWkbTypes,
    )
    from qgis.PyQt.QtCore import QSize, QVariant
    from qgis.PyQt.QtGui import QColor

    gdal.UseExceptions()
    app = QgsApplication([], False, os.path.join(base, "profile"))
    app.initQgis()
    keep = []
    report = {
        "qgis_version": app.applicationVersion() if hasattr(app, "applicationVersion") else None,
        "gdal_version": gdal.__version__,
    }
    from qgis.core import Qgis

    report["qgis_version"] = Qgis.QGIS_VERSION

    def widgets(layer):
        return {f.name(): layer.editorWidgetSetup(i).type() for i, f in enumerate(layer.fields())}

    def value_maps(layer):
        out = {}
        for i, f in enumerate(layer.fields()):
            setup = layer.editorWidgetSetup(i)
            if setup.type() == "ValueMap":
                entries = setup.config().get("map") or []
                if isinstance(entries, dict):
                    entries = [{k: v} for k, v in entries.items()]
                out[f.name()] = {str(v): k for e in entries for k, v in e.items()}
        return out

    def renderer(layer):
        r = layer.renderer()
        if r is None:
            return None
        d = {"type": r.type()}
        if r.type() == "categorizedSymbol":
            d["attr"] = r.classAttribute()
            d["categories"] = [c.value() for c in r.categories()]
        elif r.type() == "graduatedSymbol":
            d["attr"] = r.classAttribute()
            d["ranges"] = len(r.ranges())
        elif r.type() == "singlebandpseudocolor":
            d["band"] = r.band()
        return d

    def temporal(layer):
        tp = layer.temporalProperties()
        d = {"active": tp.isActive()}
        if isinstance(layer, QgsVectorLayer):
            d.update(mode=int(tp.mode()), start=tp.startField(), end=tp.endField())
            with contextlib.suppress(AttributeError):
                d["limit_mode"] = int(tp.limitMode())
        return d

    def vector(uri, name):
        opts = QgsVectorLayer.LayerOptions()
        opts.loadDefaultStyle = False
        layer = QgsVectorLayer(uri, name, "ogr", opts)
        d = {"uri": uri, "name": name, "valid": layer.isValid()}
        if not layer.isValid():
            return d
        d["feature_count"] = layer.featureCount()
        d["features_read"] = sum(1 for _ in layer.getFeatures())
        d["crs"] = layer.crs().authid() if layer.crs().isValid() else None
        d["wkb_type"] = QgsWkbTypes.displayString(layer.wkbType())
        d["fields"] = {f.name(): QVariant.typeToName(f.type()) for f in layer.fields()}
        d["widgets_without_style"] = widgets(layer)
        d["value_maps_without_style"] = value_maps(layer)
        msg, ok = layer.loadDefaultStyle()
        d["style_loaded"] = bool(ok)
        d["style_message"] = msg
        try:
            n, _ids, names, _descs, _err = layer.listStylesInDatabase()
            d["db_styles"] = list(names[:n]) if n > 0 else []
        except Exception as exc:
            d["db_styles_error"] = str(exc)
        d["renderer"] = renderer(layer)
        d["widgets"] = widgets(layer)
        d["value_maps"] = value_maps(layer)
        d["aliases"] = {f.name(): f.alias() for f in layer.fields()}
        d["temporal"] = temporal(layer)
        keep.append(layer)
        return d

    def sublayers(path):
        return [(s.uri(), s.name()) for s in QgsProviderRegistry.instance().querySublayers(path)]

    def ogr_domains(path):
        ds = gdal.OpenEx(path, gdal.OF_VECTOR)
        out = {"domains": {}, "fields": {}, "layers": {}}
        for name in ds.GetFieldDomainNames() or []:
            dom = ds.GetFieldDomain(name)
            out["domains"][name] = {
                "type": dom.GetDomainType() == ogr.OFDT_CODED,
                "codes": dom.GetEnumeration() if dom.GetDomainType() == ogr.OFDT_CODED else None,
            }
        for i in range(ds.GetLayerCount()):
            lyr = ds.GetLayer(i)
            defn = lyr.GetLayerDefn()
            out["layers"][lyr.GetName()] = {
                "fid_column": lyr.GetFIDColumn(),
                "geometry_column": lyr.GetGeometryColumn(),
                "fids": sorted(f.GetFID() for f in lyr)[:50],
                "metadata": lyr.GetMetadata(),
            }
            out["fields"][lyr.GetName()] = {
                defn.GetFieldDefn(j).GetName(): defn.GetFieldDefn(j).GetDomainName()
                for j in range(defn.GetFieldCount())
                if defn.GetFieldDefn(j).GetDomainName()
            }
        out["version"] = ds.GetMetadataItem("VERSION") if hasattr(ds, "GetMetadataItem") else None
        ds = None
        return out

    def river_under_bins(project, ms, image):
        """Where the density bins are drawn, is the river line's own colour still seen?

        Every vertex of the bins' geometry (the river between the bin's edges) is
        mapped to a pixel; the vertex counts as showing the river when a pixel
        within 2 px has the stretch style's colour (within 12 per channel).
        """
        stretch = next(
            lyr for lyr in project.mapLayers().values() if lyr.name().startswith("Stretch")
        )
        bins = next(
            lyr for lyr in project.mapLayers().values() if lyr.name() == "Crossings per bin"
        )
        rgb = stretch.renderer().symbol().color()
        river = (rgb.red(), rgb.green(), rgb.blue())
        m2p = ms.mapToPixel()
        to_map = QgsCoordinateTransform(bins.crs(), ms.destinationCrs(), project)
        seen = total = 0
        for feat in bins.getFeatures():
            geom = feat.geometry()
            geom.transform(to_map)
            for v in geom.vertices():
                pt = m2p.transform(v.x(), v.y())
                px, py = round(pt.x()), round(pt.y())
                if not (2 <= px < image.width() - 2 and 2 <= py < image.height() - 2):
                    continue
                total += 1
                near = (
                    image.pixelColor(px + dx, py + dy) for dx in range(-2, 3) for dy in range(-2, 3)
                )
                seen += any(
                    max(
                        abs(c.red() - river[0]), abs(c.green() - river[1]), abs(c.blue() - river[2])
                    )
                    <= 12
                    for c in near
                )
        return {"colour": list(river), "vertices": total, "river_seen": seen}

    files = sorted(os.listdir(out_dir))
    report["files"] = files
    gpkg = next((f for f in files if f.endswith(".gpkg")), None)
    tif = next((f for f in files if f.endswith(".tif")), None)
    kml = next((f for f in files if f.endswith(".kml")), None)
    kmz = next((f for f in files if f.endswith(".kmz")), None)
    qgz = next((f for f in files if f.endswith((".qgz", ".qgs"))), None)
    gjdir = next((f for f in files if f.endswith("-geojson")), None)

    if gpkg:
        path = os.path.join(out_dir, gpkg)
        report["gpkg"] = {
            "layers": [vector(uri, name) for uri, name in sublayers(path)],
            "gdal": ogr_domains(path),
        }
    if gjdir:
        folder = os.path.join(out_dir, gjdir)
        report["geojson"] = [
            vector(os.path.join(folder, f), f[: -len(".geojson")])
            for f in sorted(os.listdir(folder))
            if f.endswith(".geojson")
        ]
    for key, name in (("kml", kml), ("kmz", kmz)):
        if name:
            path = os.path.join(out_dir, name)
            report[key] = [vector(uri, lname) for uri, lname in sublayers(path)]
    if tif:
        path = os.path.join(out_dir, tif)
        layer = QgsRasterLayer(path, "density", "gdal", QgsRasterLayer.LayerOptions(False))
        d = {"valid": layer.isValid()}
        if layer.isValid():
            dp = layer.dataProvider()
            d["crs"] = layer.crs().authid()
            d["band_count"] = layer.bandCount()
            d["has_nodata"] = dp.sourceHasNoDataValue(1)
            d["nodata"] = dp.sourceNoDataValue(1) if dp.sourceHasNoDataValue(1) else None
            d["band_name"] = layer.bandName(1)
            ds = gdal.Open(path)
            band = ds.GetRasterBand(1)
            d["band_description"] = band.GetDescription()
            d["band_unit"] = band.GetUnitType()
            d["overviews"] = band.GetOverviewCount()
            d["tags"] = ds.GetMetadata()
            d["block"] = band.GetBlockSize()
            d["compression"] = ds.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION")
            ds = None
            _msg, ok = layer.loadDefaultStyle()
            d["style_loaded"] = bool(ok)
            d["renderer"] = renderer(layer)
            keep.append(layer)
        report["raster"] = d
    if qgz:
        project = QgsProject.instance()
        ok = project.read(os.path.join(out_dir, qgz))
        d = {"read": bool(ok), "crs": project.crs().authid()}
        layers = project.mapLayers().values()
        d["layers"] = [
            {
                "name": lyr.name(),
                "valid": lyr.isValid(),
                "source": lyr.source(),
                "crs": lyr.crs().authid(),
                "renderer": renderer(lyr),
                "temporal": temporal(lyr),
                "feature_count": lyr.featureCount() if isinstance(lyr, QgsVectorLayer) else None,
                "abstract": lyr.metadata().abstract(),
                "value_maps": value_maps(lyr) if isinstance(lyr, QgsVectorLayer) else None,
            }
            for lyr in layers
        ]
        root = project.layerTreeRoot()
        d["legend_order"] = [n.name() for n in root.findLayers()]
        d["relations"] = [
            {
                "name": r.name(),
                "valid": r.isValid(),
                "referenced": r.referencedLayer().name() if r.referencedLayer() else None,
                "referencing": r.referencingLayer().name() if r.referencingLayer() else None,
            }
            for r in project.relationManager().relations().values()
        ]
        ext = project.viewSettings().defaultViewExtent()
        d["default_view_extent"] = [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()]
        d["default_view_crs"] = ext.crs().authid()
        rng = project.timeSettings().temporalRange()
        d["time_range"] = [rng.begin().toString("yyyy-MM-dd"), rng.end().toString("yyyy-MM-dd")]
        d["relative_paths"] = not project.readBoolEntry("Paths", "/Absolute", True)[0]
        if png_path:
            visible = [n.layer() for n in root.findLayers() if n.isVisible() and n.layer()]
            ms = QgsMapSettings()
            ms.setLayers(visible)
            ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:32652"))
            ms.setExtent(QgsRectangle(*d["default_view_extent"]))
            ms.setOutputSize(QSize(1200, 800))
            ms.setBackgroundColor(QColor(255, 255, 255))
            ms.setFlag(QgsMapSettings.Antialiasing, True)
            ms.setFlag(QgsMapSettings.DrawLabeling, True)
            job = QgsMapRendererParallelJob(ms)
            job.start()
            job.waitForFinished()
            d["render_errors"] = [e.message for e in job.errors()]
            image = job.renderedImage()
            d["png_saved"] = bool(image.save(png_path, "png"))
            colours = set()
            nonwhite = total = 0
            for y in range(0, image.height(), 5):
                for x in range(0, image.width(), 5):
                    rgb = image.pixel(x, y) & 0xFFFFFF
                    total += 1
                    nonwhite += rgb != 0xFFFFFF
                    colours.add(rgb)
            d["png_size"] = [image.width(), image.height()]
            d["visible_layers"] = [lyr.name() for lyr in visible]
            d["river_under_bins"] = river_under_bins(project, ms, image)
            d["png_nonwhite_fraction"] = nonwhite / max(total, 1)
            d["png_colours"] = len(colours)
        report["project"] = d

    with open(report_path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, default=str, ensure_ascii=False)
    # PyQGIS segfaults at exit if layers outlive exitQgis(): drop them first.
    QgsProject.instance().removeAllMapLayers()
    QgsProject.instance().clear()
    del keep[:]
    app.exitQgis()
    shutil.rmtree(base, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(*sys.argv[1:])
