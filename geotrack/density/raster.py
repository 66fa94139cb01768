"""A 2-D Gaussian kernel density of points on a regular grid, in points per km²."""

from __future__ import annotations

__all__ = ["Grid", "density_grid"]

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geotrack.density.window import KERNEL, _points
from geotrack.errors import Problem, ValidationError

#: Most cells a 2-D grid may have.
_MAX_CELLS = 50_000_000


@dataclass(frozen=True)
class Grid:
    """A 2-D density grid in a metric CRS.

    Attributes
    ----------
    values : ndarray of float32, shape (rows, cols)
        Density in points per km², row 0 at the north edge.
    transform : tuple of 6 floats
        Affine ``(a, b, c, d, e, f)``: ``x = a*col + b*row + c``,
        ``y = d*col + e*row + f`` (rasterio/affine order).
    cell_m, bandwidth_m : float
        Cell size and Gaussian kernel standard deviation, metres.
    total : float
        Weight of the points that fell on the grid.
    """

    values: NDArray[np.float32]
    transform: tuple[float, float, float, float, float, float]
    cell_m: float
    bandwidth_m: float
    total: float
    units: str = "crossings per km²"
    kernel: str = KERNEL
    method: str = (
        "bilinear binning to cell centres (cloud in cell), smoothed by "
        "scipy.ndimage.gaussian_filter (truncated at 4 bandwidths)"
    )

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid, metres.

        Examples
        --------
        >>> density_grid([50.0], [50.0], bounds=(0, 0, 100, 100), cell_m=100, bandwidth_m=25).bounds
        (-100.0, -100.0, 200.0, 200.0)
        """
        rows, cols = self.values.shape
        a, _, c, _, e, f = self.transform
        return (c, f + e * rows, c + a * cols, f)


def density_grid(
    x_m: ArrayLike,
    y_m: ArrayLike,
    /,
    *,
    bounds: tuple[float, float, float, float],
    cell_m: float,
    bandwidth_m: float,
    weights: ArrayLike | None = None,
) -> Grid:
    """A 2-D Gaussian kernel density of points on a regular grid, in points per km².

    The grid covers *bounds* padded by four bandwidths (so that almost no
    mass leaves it), snapped outward to whole cells.  Each point is shared
    between the four nearest cell centres (bilinear binning) and the
    weights smoothed with a Gaussian of standard deviation ``bandwidth_m``
    (keep cells no larger than a quarter of it for an accurate peak); the sum of ``values * cell area in km²`` equals the
    number of points up to the kernel's truncation at 4 standard deviations.

    Parameters
    ----------
    x_m, y_m : array_like
        Point coordinates, metres (for geotrack EPSG:32652).
    bounds : (xmin, ymin, xmax, ymax)
        Area of interest, metres.
    cell_m : float
        Cell size, metres (> 0).
    bandwidth_m : float
        Kernel standard deviation, metres (> 0).
    weights : array_like, optional
        One non-negative weight per point.

    Returns
    -------
    Grid

    Examples
    --------
    >>> g = density_grid([500.0], [500.0], bounds=(0, 0, 1000, 1000), cell_m=100, bandwidth_m=200)
    >>> round(float(g.values.sum()) * 0.01, 3), g.values.shape
    (1.0, (26, 26))
    """
    problems = []
    for name, v in (("cell_m", cell_m), ("bandwidth_m", bandwidth_m)):
        if not (
            isinstance(v, int | float | np.floating | np.integer) and math.isfinite(v) and v > 0
        ):
            problems.append(Problem(name, v, "must be a positive number of metres"))
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmax < xmin or ymax < ymin:
        problems.append(Problem("bounds", bounds, "give finite (xmin, ymin, xmax, ymax)"))
    if problems:
        raise ValidationError(problems)
    x = np.asarray(x_m, dtype=np.float64).ravel()
    y = np.asarray(y_m, dtype=np.float64).ravel()
    if y.shape != x.shape:
        raise ValidationError([Problem("y_m", f"{y.size} values", f"give {x.size} values, as x_m")])
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(
            [
                Problem(
                    "x_m, y_m",
                    f"({x[i]}, {y[i]}) at point {i}",
                    f"{int(bad.sum())} point(s) not finite: every coordinate must be a finite "
                    "number of metres (nothing is dropped)",
                )
            ]
        )
    _, w = _points(x, weights)
    pad = 4.0 * bandwidth_m
    x0 = math.floor((xmin - pad) / cell_m) * cell_m
    x1 = math.ceil((xmax + pad) / cell_m) * cell_m
    y0 = math.floor((ymin - pad) / cell_m) * cell_m
    y1 = math.ceil((ymax + pad) / cell_m) * cell_m
    cols = max(1, round((x1 - x0) / cell_m))
    rows = max(1, round((y1 - y0) / cell_m))
    if rows * cols > _MAX_CELLS:
        raise ValidationError(
            [
                Problem(
                    "cell_m",
                    cell_m,
                    f"gives {rows} x {cols} cells (more than {_MAX_CELLS}); use larger cells",
                )
            ]
        )
    # bilinear binning (cloud in cell): each point shared by the four nearest cell centres
    fx = (x - x0) / cell_m - 0.5
    fy = (y1 - y) / cell_m - 0.5
    c0 = np.floor(fx).astype(np.int64)
    r0 = np.floor(fy).astype(np.int64)
    tx, ty = fx - c0, fy - r0
    counts = np.zeros(rows * cols)
    total = 0.0
    for dr, dc, share in (
        (0, 0, (1 - ty) * (1 - tx)),
        (0, 1, (1 - ty) * tx),
        (1, 0, ty * (1 - tx)),
        (1, 1, ty * tx),
    ):
        rr, cc = r0 + dr, c0 + dc
        inside = (cc >= 0) & (cc < cols) & (rr >= 0) & (rr < rows)
        sw = w[inside] * share[inside]
        counts += np.bincount(rr[inside] * cols + cc[inside], weights=sw, minlength=rows * cols)
        total += float(sw.sum())
    counts = counts.reshape(rows, cols)
    from scipy.ndimage import gaussian_filter

    sm = gaussian_filter(counts, sigma=bandwidth_m / cell_m, mode="constant", truncate=4.0)
    area_km2 = (cell_m / 1000.0) ** 2
    values = np.maximum(sm, 0.0) / area_km2
    transform = (float(cell_m), 0.0, float(x0), 0.0, -float(cell_m), float(y1))
    return Grid(
        values.astype(np.float32),
        transform,
        float(cell_m),
        float(bandwidth_m),
        total,
    )
