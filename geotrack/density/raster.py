"""A 2-D Gaussian kernel density of points on a regular grid, in points per km².

:func:`density_grid` computes the density; :func:`clip_to_corridor` keeps the
cells whose centres lie within a stated distance of a line (the river) and
sets the others to NaN (nodata in the GeoTIFF).
"""

from __future__ import annotations

__all__ = ["Grid", "clip_to_corridor", "corridor_distance_m", "density_grid"]

import math
from dataclasses import dataclass, replace

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
        Density in points per km², row 0 at the north edge; NaN beyond the
        corridor (see :func:`clip_to_corridor`).
    transform : tuple of 6 floats
        Affine ``(a, b, c, d, e, f)``: ``x = a*col + b*row + c``,
        ``y = d*col + e*row + f`` (rasterio/affine order).
    cell_m, bandwidth_m : float
        Cell size and Gaussian kernel standard deviation, metres.
    total : float
        Weight of the points that fell on the grid.
    corridor_m : float or None
        Cells whose centres lie farther than this from the line are NaN
        (None: every cell holds a value).
    in_corridor : float or None
        Expected number of points in the kept cells (sum of their values times
        the cell area): the part of ``total`` the corridor shows.
    """

    values: NDArray[np.float32]
    transform: tuple[float, float, float, float, float, float]
    cell_m: float
    bandwidth_m: float
    total: float
    units: str = "crossings per km²"
    corridor_m: float | None = None
    in_corridor: float | None = None
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


def corridor_distance_m(
    shape: tuple[int, int],
    transform: tuple[float, float, float, float, float, float],
    line_xy: ArrayLike,
    *,
    beyond_m: float = math.inf,
) -> NDArray[np.float64]:
    """Distance, metres, from every cell centre of a north-up grid to a line.

    Exact (the nearest point of the line's segments, by
    :class:`geotrack.linear.LineIndex`), except that cells outside the line's
    bounding box grown by *beyond_m* are not measured and get ``inf``: they
    are farther than *beyond_m* from it anyway.

    Parameters
    ----------
    shape : (rows, cols)
        Grid shape.
    transform : tuple of 6 floats
        Affine ``(a, 0, c, 0, e, f)`` of the grid (north-up, ``e < 0``).
    line_xy : array_like, shape (k, 2)
        The line's vertices in the grid's CRS, metres (k >= 2).
    beyond_m : float
        Cells surely farther than this need not be measured (``inf`` for them).

    Returns
    -------
    ndarray of float64, shape (rows, cols)

    Examples
    --------
    >>> d = corridor_distance_m((2, 3), (100.0, 0.0, 0.0, 0.0, -100.0, 200.0),
    ...                         [(0.0, 100.0), (300.0, 100.0)])
    >>> d.tolist()
    [[50.0, 50.0, 50.0], [50.0, 50.0, 50.0]]
    """
    from shapely import LineString

    from geotrack.linear import LineIndex

    rows, cols = shape
    a, _, c, _, e, f = (float(v) for v in transform)
    xy = np.asarray(line_xy, dtype=np.float64)
    xc = c + a * (np.arange(cols) + 0.5)
    yc = f + e * (np.arange(rows) + 0.5)
    out = np.full((rows, cols), np.inf)
    near_c = (xc >= xy[:, 0].min() - beyond_m) & (xc <= xy[:, 0].max() + beyond_m)
    near_r = (yc >= xy[:, 1].min() - beyond_m) & (yc <= xy[:, 1].max() + beyond_m)
    ci, ri = np.nonzero(near_c)[0], np.nonzero(near_r)[0]
    if ci.size and ri.size:
        gx, gy = np.meshgrid(xc[ci], yc[ri])
        dist = LineIndex(LineString(xy)).locate(gx.ravel(), gy.ravel()).distance_m
        out[np.ix_(ri, ci)] = dist.reshape(ri.size, ci.size)
    return out


def clip_to_corridor(grid: Grid, line_xy: ArrayLike, corridor_m: float) -> Grid:
    """The grid with cells whose centres lie farther than *corridor_m* from the line set to NaN.

    The density itself is not changed: the kernel's mass that falls beyond the
    corridor is not shown, and ``in_corridor`` says how much is (the expected
    number of points in the kept cells).

    Parameters
    ----------
    grid : Grid
        From :func:`density_grid`.
    line_xy : array_like, shape (k, 2)
        The line's vertices in the grid's CRS (for geotrack the river in EPSG:32652), metres.
    corridor_m : float
        Distance from the line, metres (> 0); a cell centre exactly at it is kept.

    Returns
    -------
    Grid

    Raises
    ------
    ValidationError
        *corridor_m* is not a positive number or the line has fewer than 2 vertices.

    Examples
    --------
    >>> g = density_grid([500.0], [500.0], bounds=(0, 0, 1000, 1000), cell_m=100, bandwidth_m=200)
    >>> c = clip_to_corridor(g, [(0.0, 500.0), (1000.0, 500.0)], 150.0)
    >>> int(np.isfinite(c.values).sum()), round(c.in_corridor, 2)
    (44, 0.67)
    """
    problems = []
    if not (
        isinstance(corridor_m, int | float | np.floating | np.integer)
        and math.isfinite(corridor_m)
        and corridor_m > 0
    ):
        problems.append(Problem("corridor_m", corridor_m, "must be a positive number of metres"))
    xy = np.asarray(line_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[0] < 2 or xy.shape[1] != 2 or not np.isfinite(xy).all():
        problems.append(
            Problem("line_xy", f"shape {xy.shape}", "give at least 2 finite (x, y) vertices")
        )
    if problems:
        raise ValidationError(problems)
    dist = corridor_distance_m(grid.values.shape, grid.transform, xy, beyond_m=float(corridor_m))
    keep = dist <= corridor_m
    values = np.where(keep, grid.values, np.float32(np.nan)).astype(np.float32)
    area_km2 = (grid.cell_m / 1000.0) ** 2
    kept = float(np.sum(grid.values[keep], dtype=np.float64)) * area_km2
    return replace(grid, values=values, corridor_m=float(corridor_m), in_corridor=kept)
