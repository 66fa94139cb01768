"""CRS policy and datum shifts.

geotrack keeps coordinates on the wire in EPSG:4326 (WGS 84 longitude,
latitude) and measures in EPSG:32652 (WGS 84 / UTM zone 52N, metres), which
covers the Yalu between Baishan and Ryanggang.  Coordinates copied from
Chinese web maps come in GCJ-02 (AMap/Gaode, Tencent) or BD-09 (Baidu), offset
from WGS 84 by hundreds of metres; :func:`to_wgs84` converts them.
"""

from __future__ import annotations

__all__ = [
    "MEASURE_CRS",
    "WIRE_CRS",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "to_measure",
    "to_wgs84",
    "to_wire",
    "wgs84_to_gcj02",
]

import math
from functools import cache
from typing import TYPE_CHECKING

from geotrack.errors import DataError

if TYPE_CHECKING:
    from pyproj import Transformer

WIRE_CRS = "EPSG:4326"
MEASURE_CRS = "EPSG:32652"

_A = 6378245.0
_EE = 0.00669342162296594323


@cache
def _transformer(src: str, dst: str) -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def to_measure(lon, lat):
    """Project WGS 84 lon/lat (scalars or arrays) to EPSG:32652 metres.

    Examples
    --------
    >>> x, y = to_measure(127.0644402, 41.6567879)
    >>> round(x), round(y)
    (338839, 4613481)
    """
    return _transformer(WIRE_CRS, MEASURE_CRS).transform(lon, lat)


def to_wire(x, y):
    """Unproject EPSG:32652 metres to WGS 84 lon/lat.

    Examples
    --------
    >>> lon, lat = to_wire(*to_measure(127.5, 41.5))
    >>> round(lon, 7), round(lat, 7)
    (127.5, 41.5)
    """
    return _transformer(MEASURE_CRS, WIRE_CRS).transform(x, y)


def _out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Apply the GCJ-02 obfuscation to a WGS 84 coordinate.

    Outside China the coordinate is returned unchanged, as the Chinese map
    providers do.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(127.5, 41.5)
    >>> round((lon - 127.5) * 1e4), round((lat - 41.5) * 1e4)
    (59, 23)
    """
    if _out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Invert GCJ-02 to WGS 84 by fixed-point iteration (error below 1 cm).

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(127.5, 41.5))
    >>> abs(lon - 127.5) < 1e-9 and abs(lat - 41.5) < 1e-9
    True
    """
    if _out_of_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        dx, dy = glon - lon, glat - lat
        wlon, wlat = wlon - dx, wlat - dy
        if abs(dx) < 1e-11 and abs(dy) < 1e-11:
            break
    return wlon, wlat


_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """Apply Baidu's BD-09 offset to a GCJ-02 coordinate (the definition of BD-09).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410369, 39.921337)
    """
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert Baidu's BD-09 to GCJ-02 (inverting :func:`gcj02_to_bd09` to below 1 cm).

    The usual closed-form inverse is off by up to about 20 cm; it is refined
    here by fixed-point iteration against the forward formula.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(127.5065, 41.5071)
    >>> round(lon, 3), round(lat, 3)
    (127.5, 41.501)
    """
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    glon, glat = z * math.cos(theta), z * math.sin(theta)
    for _ in range(30):
        blon, blat = gcj02_to_bd09(glon, glat)
        dx, dy = blon - lon, blat - lat
        glon, glat = glon - dx, glat - dy
        if abs(dx) < 1e-11 and abs(dy) < 1e-11:
            break
    return glon, glat


def to_wgs84(lon: float, lat: float, datum: str) -> tuple[float, float]:
    """Convert a coordinate reported in *datum* (``wgs84``, ``gcj02``, ``bd09``) to WGS 84.

    Examples
    --------
    >>> to_wgs84(127.5, 41.5, "wgs84")
    (127.5, 41.5)
    >>> to_wgs84(-180, -90, "bd09")
    Traceback (most recent call last):
    ...
    geotrack.errors.DataError: lon=-180, lat=-90 in bd09 converts to (-180.0067584, -90.0054960), outside [-180, 180] x [-90, 90]: check the coordinate and its datum
    """
    if datum == "wgs84":
        return lon, lat
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        out = gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
        if not (-180 <= out[0] <= 180 and -90 <= out[1] <= 90):
            # BD-09's offset moves a point at the edge of the valid range past it
            raise DataError(
                f"lon={lon!r}, lat={lat!r} in bd09 converts to ({out[0]:.7f}, {out[1]:.7f}), "
                "outside [-180, 180] x [-90, 90]: check the coordinate and its datum"
            )
        return out
    raise DataError(f"datum={datum!r} is unknown: use wgs84, gcj02 or bd09")
