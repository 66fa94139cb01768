"""Exports that open styled and typed in QGIS and Google Earth.

GeoPackage (styles in ``layer_styles``, coded domains), GeoJSON with ``.qml``
styles, KML/KMZ, CSV, the density GeoTIFF and a QGIS project: see
:func:`export_workspace`.  Formats are written by the modules ``gpkg``,
``geojson_out``, ``kml``, ``csv_out``, ``qgis_project`` (and ``density_layers``
for the density layers and raster); styles by ``qml``.
"""

from __future__ import annotations

__all__ = ["FORMATS", "ExportResult", "export_workspace"]

from geotrack.export.api import FORMATS, ExportResult, export_workspace
