"""A density grid as a PNG overlay for Leaflet (Web Mercator), with no imaging library."""

from __future__ import annotations

__all__ = ["raster_overlay"]

import math
import warnings
from typing import Any

import numpy as np


def raster_overlay(grid: Any, *, max_pixels: int = 1_500_000) -> dict[str, Any]:
    """A density grid (EPSG:32652) as a PNG overlay for Leaflet (Web Mercator).

    Parameters
    ----------
    grid : geotrack.density.Grid
        Values in crossings per km², row 0 at the north edge; NaN cells (beyond
        the corridor along the river) are transparent.
    max_pixels : int
        Coarsen the warped image to at most this many pixels.

    Returns
    -------
    dict
        ``png`` (a ``data:`` URI), ``bounds`` (``[[south, west], [north, east]]``),
        ``max`` (the largest value), ``unit_label``, ``cell_m``, ``bandwidth_m``, and the
        corridor along the river the grid keeps: ``corridor_km`` (None when not clipped),
        ``in_corridor`` (expected crossings in it) and ``total`` (in the whole kernel).

    Examples
    --------
    >>> import numpy as np
    >>> from geotrack.density import density_grid
    >>> x, y = np.array([330000.0, 331000.0]), np.array([4600000.0, 4601000.0])
    >>> grid = density_grid(x, y, bounds=(329000.0, 4599000.0, 332000.0, 4602000.0),
    ...                     cell_m=500.0, bandwidth_m=1000.0)
    >>> raster_overlay(grid)["png"][:22]
    'data:image/png;base64,'
    """
    import base64

    from rasterio.crs import CRS
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = np.asarray(grid.values, dtype=np.float32)
    rows, cols = src.shape
    src_t = Affine(*grid.transform)
    xmin, ymin, xmax, ymax = grid.bounds
    dst_crs = CRS.from_epsg(3857)
    src_crs = CRS.from_epsg(32652)
    with warnings.catch_warnings():  # rasterio multiplies Affine objects with '*' internally
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        dst_t, w, h = calculate_default_transform(
            src_crs, dst_crs, cols, rows, xmin, ymin, xmax, ymax
        )
    scale = max(1.0, math.sqrt((w * h) / max_pixels))
    if scale > 1.0:
        w, h = max(1, int(w / scale)), max(1, int(h / scale))
        dst_t = dst_t @ Affine.scale(scale, scale)
    dst = np.zeros((h, w), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        reproject(
            src,
            dst,
            src_transform=src_t,
            src_crs=src_crs,
            dst_transform=dst_t,
            dst_crs=dst_crs,
            resampling=Resampling.bilinear,
            src_nodata=np.nan,  # cells beyond the corridor along the river
            dst_nodata=0.0,
        )
    dst = np.nan_to_num(dst, nan=0.0)
    vmax = float(np.nanmax(dst)) if dst.size else 0.0
    png = _png_rgba(_colourise(dst, vmax))
    x0, y0 = dst_t @ (0, 0)
    x1, y1 = dst_t @ (w, h)
    lon, lat = _merc_to_ll(np.array([x0, x1]), np.array([y0, y1]))
    return {
        "png": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "bounds": [
            [round(float(min(lat)), 6), round(float(min(lon)), 6)],
            [round(float(max(lat)), 6), round(float(max(lon)), 6)],
        ],
        "max": vmax,
        "unit_label": "crossings per km²",
        "cell_m": float(grid.cell_m),
        "bandwidth_m": float(grid.bandwidth_m),
        "corridor_km": None if grid.corridor_m is None else float(grid.corridor_m) / 1000.0,
        "in_corridor": None if grid.in_corridor is None else float(grid.in_corridor),
        "total": float(grid.total),
    }


def _merc_to_ll(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = 6378137.0
    lon = np.degrees(x / r)
    lat = np.degrees(2 * np.arctan(np.exp(y / r)) - np.pi / 2)
    return lon, lat


_RAMP_RGB = np.array(
    [
        [255, 255, 204],
        [255, 237, 160],
        [254, 217, 118],
        [254, 178, 76],
        [253, 141, 60],
        [252, 78, 42],
        [227, 26, 28],
        [177, 0, 38],
    ],
    dtype=np.float32,
)


def _colourise(values: np.ndarray, vmax: float) -> np.ndarray:
    """Values to RGBA bytes: transparent below 2 % of the maximum, YlOrRd above."""
    h, w = values.shape
    out = np.zeros((h, w, 4), dtype=np.uint8)
    if vmax <= 0:
        return out
    f = np.clip(values / vmax, 0.0, 1.0)
    pos = f * (len(_RAMP_RGB) - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, len(_RAMP_RGB) - 1)
    t = (pos - i0)[..., None]
    rgb = _RAMP_RGB[i0] * (1 - t) + _RAMP_RGB[i1] * t
    out[..., :3] = np.round(rgb).astype(np.uint8)
    out[..., 3] = np.where(f > 0.02, np.round(90 + 150 * f), 0).astype(np.uint8)
    return out


def _png_rgba(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG (no imaging library needed)."""
    import struct
    import zlib

    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
