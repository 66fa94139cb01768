"""geotrack: record, measure and map reported crossings of a border river.

The library never prints and never imports click or folium; the ``geotrack``
command (:mod:`geotrack.cli`) and the map renderer (:mod:`geotrack.render`) do.

Examples
--------
>>> import geotrack
>>> geotrack.__version__
'0.1.0'
"""

from __future__ import annotations

import logging

__all__ = ["__version__", "show_versions"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def show_versions() -> dict[str, str]:
    """Versions of geotrack and the libraries whose versions matter in GIS bugs.

    Examples
    --------
    >>> sorted(show_versions())[:3]
    ['GDAL', 'GEOS', 'PROJ']
    """
    import fiona
    import pyproj
    import rasterio
    import shapely

    return {
        "geotrack": __version__,
        "GDAL": fiona.__gdal_version__,
        "GEOS": shapely.geos_version_string,
        "PROJ": pyproj.proj_version_str,
        "rasterio": rasterio.__version__,
        "shapely": shapely.__version__,
    }
