"""Linear referencing on one directed line: chainage, signed offset, snap distance.

A :class:`LineIndex` is built once from a LineString in a metric CRS (for
geotrack, EPSG:32652 metres) and then locates any number of points on it:

* ``chainage_m``: distance along the line from its first vertex to the
  nearest point of the line (the exact nearest point on a segment, not the
  nearest vertex), the same value as :func:`shapely.line_locate_point`;
* ``distance_m``: the snap distance, from the point to that nearest point;
* ``offset_m``: the signed snap distance, positive on the left of the line's
  direction, negative on the right, 0 on the line; ``abs(offset_m) ==
  distance_m`` except for a point straight ahead of the line's end (or
  of the tip of a hairpin turn), which has no side (offset 0).  For geotrack's stretch, drawn from the west (downstream)
  end upstream, the left bank is the Chinese side.

Ties (a point equally near two parts of the line) resolve to the lowest
chainage, as GEOS does.  A point beyond an end of the line snaps to that end
(chainage 0 or the line's length) and its offset is the signed distance to
that end.

The search uses a bounding-volume hierarchy over blocks of consecutive
segments, compiled with numba (:mod:`geotrack._linear_kernels`, loaded on the first
:meth:`LineIndex.locate`, cached on disk, parallel over points), and
works in chunks so that memory stays bounded.  Its distance and
projection arithmetic is that of GEOS, so results agree with shapely to
rounding.  This module does no I/O.
"""

from __future__ import annotations

__all__ = [
    "LineIndex",
    "Located",
    "as_single_line",
    "bank",
]

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import LineString, MultiLineString

from geotrack.errors import DataError, Problem, ValidationError

#: Points handed to the compiled kernel at a time (bounds temporary memory).
DEFAULT_CHUNK = 1 << 20
#: From this many points in a chunk, points are visited in Z-order (faster: cache locality).
_SORT_MIN = 4096
#: From this many points in a chunk, the work is shared between threads.
_PARALLEL_MIN = 32768
_LEAF_SIZE = 8


@dataclass(frozen=True)
class Located:
    """Where points lie relative to a directed line.

    Attributes
    ----------
    chainage_m : ndarray of float64
        Distance along the line to the nearest point of the line, metres.
    offset_m : ndarray of float64
        Signed snap distance, metres: positive left of the line's direction,
        negative right, 0 on the line or straight ahead of its end.
    distance_m : ndarray of float64
        Snap distance, metres (``abs(offset_m)`` unless the point has no side).
    segment : ndarray of int64
        Index of the segment holding the nearest point (-1 for NaN input).

    Examples
    --------
    >>> idx = LineIndex(LineString([(0, 0), (10, 0)]))
    >>> loc = idx.locate([3.0], [2.0])
    >>> float(loc.chainage_m[0]), float(loc.offset_m[0])
    (3.0, 2.0)
    """

    chainage_m: NDArray[np.float64]
    offset_m: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    segment: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.chainage_m)


def as_single_line(geom: object, *, what: str = "line") -> LineString:
    """Return *geom* as one directed LineString, or raise :class:`DataError`.

    A LineString is returned as it is.  A MultiLineString whose parts join
    end to start, in order, into one line is merged (keeping its direction);
    one with gaps or branches is rejected, because chainage along it would be
    wrong (shapely#1126).

    Parameters
    ----------
    geom : shapely geometry
        The line, in a metric CRS.
    what : str
        Name used in messages (for example ``"stretch layer"``).

    Returns
    -------
    LineString

    Examples
    --------
    >>> m = MultiLineString([[(0, 0), (1, 0)], [(1, 0), (2, 1)]])
    >>> as_single_line(m).wkt
    'LINESTRING (0 0, 1 0, 2 1)'
    >>> as_single_line(MultiLineString([[(0, 0), (1, 0)], [(5, 0), (6, 0)]]))
    Traceback (most recent call last):
    ...
    geotrack.errors.DataError: line is a MultiLineString of 2 parts with gaps ...
    """
    if isinstance(geom, LineString):
        line = geom
    elif isinstance(geom, MultiLineString):
        parts = list(geom.geoms)
        merged = shapely.line_merge(geom, directed=True)
        if isinstance(merged, LineString) and len(parts) > 0:
            first = shapely.get_coordinates(parts[0])[0]
            if not np.array_equal(shapely.get_coordinates(merged)[0], first):
                raise DataError(
                    f"{what} is a MultiLineString whose parts are not in order: they join into "
                    "one line only in another order. Give it as one LineString drawn from the "
                    "chainage origin."
                )
            line = merged
        else:
            gaps = []
            for a, b in itertools.pairwise(parts):
                ea = shapely.get_coordinates(a)[-1]
                sb = shapely.get_coordinates(b)[0]
                gaps.append(float(np.hypot(*(sb - ea))))
            widest = max(gaps) if gaps else 0.0
            raise DataError(
                f"{what} is a MultiLineString of {len(parts)} parts with gaps or branches "
                f"(largest gap between consecutive parts {widest:.3f} units): chainage along it "
                "would be wrong. Join the parts into one LineString drawn from the chainage origin."
            )
    else:
        kind = getattr(geom, "geom_type", type(geom).__name__)
        raise DataError(f"{what} is a {kind}, not a LineString: give one LineString.")
    if line.is_empty or len(line.coords) < 2:
        raise DataError(f"{what} is empty or has fewer than 2 vertices: give a LineString.")
    if line.has_z:
        line = shapely.force_2d(line)
    coords = shapely.get_coordinates(line)
    if not np.all(np.isfinite(coords)):
        raise DataError(f"{what} has non-finite coordinates: fix its vertices.")
    if line.length <= 0:
        raise DataError(f"{what} has zero length: give a line with distinct vertices.")
    return line


def bank(
    offset_m: ArrayLike, *, left: str = "CN", right: str = "KP", on_line: str = "on_line"
) -> NDArray[np.str_]:
    """Name the bank each signed offset lies on.

    Parameters
    ----------
    offset_m : array_like
        Signed offsets from :meth:`LineIndex.locate` (positive = left).
    left, right, on_line : str
        Labels for positive, negative and zero offsets.  geotrack's stretch
        runs upstream from the west end, so its left bank is China (``CN``)
        and its right bank North Korea (``KP``).

    Returns
    -------
    ndarray of str

    Examples
    --------
    >>> bank([120.0, -5.0, 0.0]).tolist()
    ['CN', 'KP', 'on_line']
    """
    off = np.asarray(offset_m, dtype=np.float64)
    out = np.full(off.shape, on_line, dtype=object)
    out[off > 0] = left
    out[off < 0] = right
    return out.astype(str)


# ----------------------------------------------------------------------------- the index


def _build_tree(xs: np.ndarray, ys: np.ndarray, leaf_size: int):
    """Bounding boxes of blocks of consecutive segments, merged pairwise into a tree."""
    nseg = len(xs) - 1
    nblk = -(-nseg // leaf_size)
    starts = np.arange(nblk) * leaf_size
    # block boxes: min/max over vertices s0 .. s1 (inclusive of the last segment's end)
    ends = np.minimum(starts + leaf_size, nseg)
    bx0 = np.minimum.reduceat(xs[:-1], starts)
    by0 = np.minimum.reduceat(ys[:-1], starts)
    bx1 = np.maximum.reduceat(xs[:-1], starts)
    by1 = np.maximum.reduceat(ys[:-1], starts)
    bx0 = np.minimum(bx0, xs[ends])
    by0 = np.minimum(by0, ys[ends])
    bx1 = np.maximum(bx1, xs[ends])
    by1 = np.maximum(by1, ys[ends])
    # nodes in an array; recursive halving of the block sequence, built iteratively
    nmax = 2 * nblk
    nx0 = np.empty(nmax)
    ny0 = np.empty(nmax)
    nx1 = np.empty(nmax)
    ny1 = np.empty(nmax)
    left = np.full(nmax, -1, dtype=np.int64)
    right = np.full(nmax, -1, dtype=np.int64)
    count = 1
    todo = [(0, 0, nblk)]  # (node, first block, end block)
    order = []
    while todo:
        node, b0, b1 = todo.pop()
        order.append((node, b0, b1))
        if b1 - b0 == 1:
            left[node] = -1 - b0
            continue
        mid = (b0 + b1) // 2
        a, c = count, count + 1
        count += 2
        left[node] = a
        right[node] = c
        todo.append((a, b0, mid))
        todo.append((c, mid, b1))
    for node, b0, _b1 in reversed(order):  # children before parents
        if left[node] < 0:
            nx0[node], ny0[node], nx1[node], ny1[node] = bx0[b0], by0[b0], bx1[b0], by1[b0]
        else:
            a, c = left[node], right[node]
            nx0[node] = min(nx0[a], nx0[c])
            ny0[node] = min(ny0[a], ny0[c])
            nx1[node] = max(nx1[a], nx1[c])
            ny1[node] = max(ny1[a], ny1[c])
    return nx0[:count], ny0[:count], nx1[:count], ny1[:count], left[:count], right[:count]


class LineIndex:
    """A directed line prepared for fast, exact linear referencing.

    Parameters
    ----------
    line : LineString or MultiLineString
        The line in a metric CRS, drawn from the chainage origin.  A
        MultiLineString is accepted only if its parts join into one line
        (see :func:`as_single_line`).
    leaf_size : int
        Consecutive segments per leaf box of the hierarchy (tuning only).

    Examples
    --------
    >>> idx = LineIndex(LineString([(0, 0), (100, 0), (100, 50)]))
    >>> idx.length_m
    150.0
    >>> loc = idx.locate([50.0, 120.0], [10.0, 25.0])
    >>> loc.chainage_m.tolist(), loc.offset_m.tolist()
    ([50.0, 125.0], [10.0, -20.0])
    >>> [round(float(v), 3) for v in idx.interpolate([125.0])[0]]
    [100.0]
    """

    def __init__(self, line: object, *, leaf_size: int = _LEAF_SIZE, what: str = "line") -> None:
        if not isinstance(leaf_size, int | np.integer) or leaf_size < 1:
            raise ValueError(f"leaf_size={leaf_size!r}: give a positive integer, e.g. 8")
        self.line: LineString = as_single_line(line, what=what)
        coords = np.ascontiguousarray(shapely.get_coordinates(self.line), dtype=np.float64)
        self._xs = np.ascontiguousarray(coords[:, 0])
        self._ys = np.ascontiguousarray(coords[:, 1])
        dx = np.diff(self._xs)
        dy = np.diff(self._ys)
        self._seglen = np.sqrt(dx * dx + dy * dy)
        # sequential sum, as GEOS accumulates segment lengths
        self._cum = np.concatenate([[0.0], np.cumsum(self._seglen)])
        self._leaf = int(leaf_size)
        self._tree = _build_tree(self._xs, self._ys, self._leaf)

    @property
    def length_m(self) -> float:
        """Length of the line, in the line's units (metres)."""
        return float(self._cum[-1])

    @property
    def n_vertices(self) -> int:
        """Number of vertices of the line."""
        return len(self._xs)

    def reversed(self) -> LineIndex:
        """The same line drawn the other way (chainage ``d`` becomes ``length - d``).

        Examples
        --------
        >>> LineIndex(LineString([(0, 0), (4, 0)])).reversed().locate([1.0], [1.0]).chainage_m
        array([3.])
        """
        return LineIndex(self.line.reverse(), leaf_size=self._leaf)

    def locate(self, x: ArrayLike, y: ArrayLike, *, chunk_size: int = DEFAULT_CHUNK) -> Located:
        """Chainage, signed offset and snap distance of points.

        Parameters
        ----------
        x, y : array_like of float
            Point coordinates in the line's CRS (metres); NaN gives NaN.
        chunk_size : int
            Points converted and processed at a time.

        Returns
        -------
        Located

        Examples
        --------
        >>> idx = LineIndex(LineString([(0, 0), (10, 0)]))
        >>> idx.locate([-3.0, 12.0], [4.0, 0.0]).chainage_m.tolist()
        [0.0, 10.0]
        >>> idx.locate([], []).chainage_m.shape
        (0,)
        """
        xa = np.asarray(x, dtype=np.float64).ravel()
        ya = np.asarray(y, dtype=np.float64).ravel()
        if xa.shape != ya.shape:
            raise ValueError(f"x has {xa.size} values but y has {ya.size}: give equal lengths")
        if chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size!r}: give a positive integer")
        n = xa.size
        chain = np.empty(n)
        off = np.empty(n)
        dist = np.empty(n)
        segi = np.empty(n, dtype=np.int64)
        from geotrack import _linear_kernels as kern
        from geotrack._jit import announce_compile

        tree = (self._xs, self._ys, self._cum, self._seglen, *self._tree)
        x0, y0, x1, y1 = self.line.bounds
        scale = 256.0 / max(x1 - x0, y1 - y0, 1e-300)
        for lo in range(0, n, chunk_size):
            hi = min(n, lo + chunk_size)
            cx = np.ascontiguousarray(xa[lo:hi])
            cy = np.ascontiguousarray(ya[lo:hi])
            if hi - lo >= _SORT_MIN:
                key = np.empty(hi - lo, dtype=np.uint16)
                announce_compile("chainage", kern.morton16)
                kern.morton16(cx, cy, x0, y0, scale, key)
                perm = np.argsort(key, kind="stable")  # a radix sort for 16-bit keys
            else:
                perm = np.arange(hi - lo, dtype=np.int64)
            kernel = kern.locate_parallel if hi - lo >= _PARALLEL_MIN else kern.locate_serial
            announce_compile("chainage", kernel)
            out = (chain[lo:hi], off[lo:hi], dist[lo:hi], segi[lo:hi])
            kernel(tree, self._leaf, cx, cy, perm, out)
        return Located(chain, off, dist, segi)

    def _check_chainage(self, d: np.ndarray, field: str) -> None:
        tol = 1e-9 * max(1.0, self.length_m)
        bad = ~np.isfinite(d) | (d < -tol) | (d > self.length_m + tol)
        if np.any(bad):
            first = float(d[bad][0])
            raise ValidationError(
                [
                    Problem(
                        field,
                        first,
                        f"must be within [0, {self.length_m:.3f}] m along the line "
                        f"({int(bad.sum())} value(s) outside)",
                    )
                ]
            )

    def interpolate(self, chainage_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Coordinates of the points at the given chainages.

        Parameters
        ----------
        chainage_m : array_like of float
            Distances along the line, within ``[0, length_m]``.

        Returns
        -------
        x, y : ndarray of float64

        Raises
        ------
        ValidationError
            A chainage is outside the line.

        Examples
        --------
        >>> idx = LineIndex(LineString([(0, 0), (10, 0), (10, 10)]))
        >>> x, y = idx.interpolate([0.0, 15.0, 20.0])
        >>> x.tolist(), y.tolist()
        ([0.0, 10.0, 10.0], [0.0, 5.0, 10.0])
        """
        d = np.atleast_1d(np.asarray(chainage_m, dtype=np.float64)).ravel()
        self._check_chainage(d, "chainage_m")
        d = np.clip(d, 0.0, self.length_m)
        nseg = len(self._seglen)
        s = np.clip(np.searchsorted(self._cum, d, side="right") - 1, 0, nseg - 1)
        ln = self._seglen[s]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(ln > 0, (d - self._cum[s]) / np.where(ln > 0, ln, 1.0), 0.0)
        t = np.clip(t, 0.0, 1.0)
        x = self._xs[s] + t * (self._xs[s + 1] - self._xs[s])
        y = self._ys[s] + t * (self._ys[s + 1] - self._ys[s])
        return x, y

    def substring(self, from_m: float, to_m: float) -> NDArray[np.float64]:
        """Vertices of the part of the line between two chainages.

        Parameters
        ----------
        from_m, to_m : float
            Chainages with ``0 <= from_m < to_m <= length_m``.

        Returns
        -------
        ndarray, shape (k, 2)
            The start point, the line's vertices strictly between, the end point.

        Examples
        --------
        >>> idx = LineIndex(LineString([(0, 0), (10, 0), (10, 10)]))
        >>> idx.substring(5.0, 15.0).tolist()
        [[5.0, 0.0], [10.0, 0.0], [10.0, 5.0]]
        """
        a = float(from_m)
        b = float(to_m)
        self._check_chainage(np.array([a, b]), "chainage_m")
        if not a < b:
            raise ValidationError(
                [Problem("to_m", b, f"must be greater than from_m={a}: give from_m < to_m")]
            )
        (xa, xb), (ya, yb) = self.interpolate([a, b])
        inner = np.nonzero((self._cum > a) & (self._cum < b))[0]
        xs = np.concatenate([[xa], self._xs[inner], [xb]])
        ys = np.concatenate([[ya], self._ys[inner], [yb]])
        return np.column_stack([xs, ys])

    def __repr__(self) -> str:
        return f"LineIndex(n_vertices={self.n_vertices}, length_m={self.length_m:.3f})"
