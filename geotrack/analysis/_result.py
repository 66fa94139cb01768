"""The density result: the JSON summary and what the layers need, with the 2-D grid."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from geotrack import density as dens
from geotrack.analysis._options import (
    DEFAULT_CORRIDOR_KM,
)
from geotrack.density.spread import interval_linear_bin
from geotrack.density.spread import sites as clip_sites
from geotrack.linear import LineIndex

if TYPE_CHECKING:
    from geotrack.reference import Window


#: Most sigma, in cells, of the default 2-D raster (coarser cells above).
_MAX_SIGMA_CELLS = 25


@dataclass
class DensityResult:
    """Everything ``geotrack density`` reports, plus what its layers need.

    Attributes
    ----------
    summary : dict
        The JSON document (see :meth:`as_dict`).
    window : Window
        The window analysed.
    line : LineIndex
        The stretch line in EPSG:32652 (for layer geometry).
    bins : Bins
    kde : Kde
    x_m, y_m : ndarray
        EPSG:32652 coordinates of the point-located crossings counted.
    spread_km : ndarray, shape (n, 2)
        Stretches ``[lo, hi]`` km of the spread crossings counted.
    """

    summary: dict[str, Any]
    window: Window
    line: LineIndex
    bins: dens.Bins
    kde: dens.Kde
    x_m: np.ndarray
    y_m: np.ndarray
    spread_km: np.ndarray
    max_offset_km: float
    raster_cell_m: float | None = None
    raster_bandwidth_m: float | None = None
    raster_corridor_km: float = DEFAULT_CORRIDOR_KM
    _grid: dens.Grid | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready summary (a plain dict), as printed by ``geotrack density --json``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from geotrack.analysis import DensityOptions, density_report
        >>> from geotrack.workspace import init_workspace
        >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
        >>> doc = density_report(ws, DensityOptions(simulations=9, seed=1)).as_dict()
        >>> doc["crs"], doc["n_crossings"], doc["bin_km"]
        ('EPSG:32652', 0, 5.0)
        """
        return self.summary

    def grid(self) -> dens.Grid:
        """The 2-D density grid (EPSG:32652) over the window, computed once.

        Only a corridor along the river is shown: cells whose centres lie farther
        than ``raster_corridor_km`` from the window's part of the river line
        (EPSG:32652) are NaN (nodata in the GeoTIFF); ``Grid.in_corridor`` is the
        expected number of crossings the kept cells hold.

        Bandwidth: ``raster_bandwidth_m`` or half the corridor (never more than the
        1-D bandwidth).  Every crossing lies within ``max_offset_km`` of the line, so
        with the corridor's edge two bandwidths from the line a crossing on the
        line keeps about 95 % of its kernel inside the corridor across the river;
        the 1-D bandwidth (tens of km on a long window) would spread each crossing
        over a whole region and most of its mass beyond the corridor.  Cell:
        ``raster_cell_m`` or 100 m, coarser when the bandwidth spans more than 25
        cells, and never more than a quarter of the bandwidth.  Point-located
        crossings are at their coordinates; a spread crossing's mass lies along the
        river line over its stretch (placed at nodes no farther apart than half a cell).
        """
        if self._grid is None:
            corridor_m = self.raster_corridor_km * 1000.0
            bw = self.raster_bandwidth_m or min(corridor_m / 2.0, self.kde.bandwidth_km * 1000.0)
            cell = self.raster_cell_m
            if cell is None:
                cell = min(max(100.0, math.ceil(bw / _MAX_SIGMA_CELLS / 50.0) * 50.0), bw / 4.0)
            part = self.line.substring(self.window.from_km * 1000.0, self.window.to_km * 1000.0)
            pad = max(self.max_offset_km * 1000.0, corridor_m)
            bounds = (
                float(part[:, 0].min() - pad),
                float(part[:, 1].min() - pad),
                float(part[:, 0].max() + pad),
                float(part[:, 1].max() + pad),
            )
            x, y, w = self.x_m, self.y_m, np.ones(self.x_m.size)
            spread = clip_sites(self.spread_km, None, (self.window.from_km, self.window.to_km))
            if spread.w.size:
                a, b = self.window.from_km, self.window.to_km
                m = max(1, math.ceil((b - a) * 1000.0 / (cell / 2.0)))
                step = (b - a) / m
                mass = interval_linear_bin(spread.lo, spread.hi, spread.w, a, step, m)
                on = mass > 0
                sx, sy = self.line.interpolate((a + step * np.nonzero(on)[0]) * 1000.0)
                x, y, w = (
                    np.concatenate([x, sx]),
                    np.concatenate([y, sy]),
                    np.concatenate([w, mass[on]]),
                )
            grid = dens.density_grid(x, y, bounds=bounds, cell_m=cell, bandwidth_m=bw, weights=w)
            self._grid = dens.clip_to_corridor(grid, part, corridor_m)
        return self._grid
