"""Sites as distributions along the river: a point, or uniform over a stretch ``[lo, hi]`` km.

A site located as a point has ``lo == hi``; a site whose location is known
only to a stretch (a reach, a county's riverfront, a radius around a place)
is uniform over ``[lo, hi]``.  Statistics take either an array of chainages
(points) or an ``(n, 2)`` array of intervals.  A site partly inside a window
counts for the part inside: it is clipped to the window and its weight
multiplied by the fraction of its stretch inside.

The binning here is exact for the uniform distribution: the expected share
of each site per bin, and the expected linear-binning weights (the hat
function of each grid node integrated over the site's stretch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from geotrack._jit import announce_compile, njit, prange
from geotrack.density.window import Window
from geotrack.errors import Problem, ValidationError


@dataclass(frozen=True)
class Sites:
    """Sites clipped to a window: ``lo``, ``hi`` (km), weight ``w`` (times the fraction inside).

    ``point`` marks sites located as points (``lo == hi`` before clipping).
    """

    lo: np.ndarray
    hi: np.ndarray
    w: np.ndarray
    point: np.ndarray

    @property
    def n_point(self) -> int:
        """Sites located as points."""
        return int(np.count_nonzero(self.point))

    @property
    def n_spread(self) -> int:
        """Sites spread over a stretch (at least partly inside the window)."""
        return int(self.point.size - self.n_point)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Chainages and weights of the point-located sites."""
        return self.lo[self.point], self.w[self.point]

    def spread(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``lo``, ``hi`` and weights of the spread sites."""
        s = ~self.point
        return self.lo[s], self.hi[s], self.w[s]


def sites(chainage_km: ArrayLike, weights: ArrayLike | None, window: Window) -> Sites:
    """Parse chainages (shape ``(n,)``) or intervals (shape ``(n, 2)``) and clip them to a window.

    Examples
    --------
    >>> s = sites([[0.0, 4.0], [6.0, 6.0], [20.0, 30.0]], None, (2.0, 10.0))
    >>> s.lo.tolist(), s.hi.tolist(), s.w.tolist(), s.n_point
    ([2.0, 6.0], [4.0, 6.0], [0.5, 1.0], 1)
    """
    arr = np.asarray(chainage_km, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 2:
        lo, hi = arr[:, 0].copy(), arr[:, 1].copy()
    elif arr.ndim <= 1:
        lo = arr.ravel()
        hi = lo.copy()
    else:
        raise ValidationError(
            [
                Problem(
                    "chainage_km",
                    f"shape {arr.shape}",
                    "give chainages (n,) or intervals [lo, hi] (n, 2)",
                )
            ]
        )
    if np.any(~np.isfinite(lo) | ~np.isfinite(hi)):
        raise ValidationError(
            [Problem("chainage_km", "NaN or infinite", "every chainage must be a finite number")]
        )
    if np.any(hi < lo):
        i = int(np.argmax(hi < lo))
        raise ValidationError(
            [
                Problem(
                    "chainage_km",
                    f"[{lo[i]:g}, {hi[i]:g}]",
                    "an interval's end must not be before its start: give [lo, hi] with lo <= hi",
                )
            ]
        )
    if weights is None:
        w = np.ones_like(lo)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != lo.shape:
            raise ValidationError(
                [Problem("weights", f"{w.size} values", f"give one weight per point ({lo.size})")]
            )
        if np.any(~np.isfinite(w) | (w < 0)):
            raise ValidationError(
                [Problem("weights", "negative or not finite", "weights must be finite and >= 0")]
            )
    a, b = window
    # a stretch narrower than a micrometre is a point at its middle (no 1/width overflow)
    tiny = (hi - lo) < 1e-9
    lo = np.where(tiny, 0.5 * (lo + hi), lo)
    hi = np.where(tiny, lo, hi)
    point = hi == lo
    clo, chi = np.maximum(lo, a), np.minimum(hi, b)
    overlap = chi - clo
    keep = np.where(point, (lo >= a) & (lo <= b), overlap > 0)
    frac = np.ones_like(lo)
    sp = keep & ~point
    frac[sp] = overlap[sp] / (hi[sp] - lo[sp])
    return Sites(clo[keep], chi[keep], (w * frac)[keep], point[keep])


def interval_bin_mass(
    lo: np.ndarray, hi: np.ndarray, w: np.ndarray, edges: np.ndarray
) -> np.ndarray:
    """Expected weight of uniform intervals ``[lo, hi]`` (``hi > lo``) in each bin of *edges*.

    Examples
    --------
    >>> interval_bin_mass(np.array([1.0]), np.array([6.0]), np.array([1.0]),
    ...                   np.array([0.0, 5.0, 10.0])).tolist()
    [0.8, 0.2]
    """
    nb = len(edges) - 1
    out = np.zeros(nb)
    if lo.size == 0:
        return out
    dens = w / (hi - lo)
    i0 = np.clip(np.searchsorted(edges, lo, side="right") - 1, 0, nb - 1)
    i1 = np.clip(np.searchsorted(edges, hi, side="left") - 1, 0, nb - 1)
    same = i0 == i1
    out += np.bincount(i0[same], weights=w[same], minlength=nb)
    d = ~same
    i0, i1, dn, lo_d, hi_d = i0[d], i1[d], dens[d], lo[d], hi[d]
    out += np.bincount(i0, weights=(edges[i0 + 1] - lo_d) * dn, minlength=nb)
    out += np.bincount(i1, weights=(hi_d - edges[i1]) * dn, minlength=nb)
    diff = np.bincount(i0 + 1, weights=dn, minlength=nb + 1) - np.bincount(
        i1, weights=dn, minlength=nb + 1
    )
    full = np.cumsum(diff)[:nb]
    full[np.abs(full) < 1e-12 * max(1.0, float(np.abs(dn).max(initial=0.0)))] = 0.0
    out += full * np.diff(edges)
    return out


@njit()
def _bin_intervals(p, q, w, m, out, cells):  # pragma: no cover - compiled
    # expected linear-binning weights on nodes 0..m of uniforms on [p, q] (node units)
    for c in range(m + 1):
        cells[c] = 0.0
    for i in range(p.shape[0]):
        a = p[i]
        b = q[i]
        if a < 0.0:
            a = 0.0
        if b > m:
            b = float(m)
        g = w[i] / (q[i] - p[i])
        j0 = math.floor(a)
        if j0 > m - 1:
            j0 = m - 1
        j1 = math.ceil(b) - 1
        if j1 < 0:
            j1 = 0
        if j1 > m - 1:
            j1 = m - 1
        if j1 <= j0:
            u = a - j0
            v = b - j0
            s2 = 0.5 * (v * v - u * u)
            out[j0] += g * ((v - u) - s2)
            out[j0 + 1] += g * s2
        else:
            u = a - j0
            s2 = 0.5 * (1.0 - u * u)
            out[j0] += g * ((1.0 - u) - s2)
            out[j0 + 1] += g * s2
            v = b - j1
            s2 = 0.5 * v * v
            out[j1] += g * (v - s2)
            out[j1 + 1] += g * s2
            cells[j0 + 1] += g
            cells[j1] -= g
    acc = 0.0
    for c in range(m):
        acc += cells[c]
        if acc != 0.0:
            out[c] += 0.5 * acc
            out[c + 1] += 0.5 * acc


@njit(parallel=True)
def _bin_interval_rows(p, width, w, m, out):  # pragma: no cover - compiled
    rows = p.shape[0]
    for r in prange(rows):
        cells = np.empty(m + 1)
        _bin_intervals(p[r], p[r] + width, w, m, out[r], cells)


def interval_linear_bin(
    lo: np.ndarray, hi: np.ndarray, w: np.ndarray, a: float, step: float, m: int
) -> np.ndarray:
    """Expected linear-binning weights on nodes ``a + step * (0..m)`` of uniforms on ``[lo, hi]``.

    Examples
    --------
    >>> interval_linear_bin(np.array([0.0]), np.array([2.0]), np.array([1.0]), 0.0, 1.0, 2).tolist()
    [0.25, 0.5, 0.25]
    """
    out = np.zeros(m + 1)
    if lo.size:
        announce_compile("spread", _bin_intervals)
        _bin_intervals(
            (lo - a) / step, (hi - a) / step, np.ascontiguousarray(w), m, out, np.empty(m + 1)
        )
    return out


def bin_interval_rows(
    unit: np.ndarray, width_nodes: np.ndarray, w: np.ndarray, m: int, out: np.ndarray
) -> None:
    """Add the linear-binning weights of rows of intervals starting at *unit* (node units) to *out*."""
    announce_compile("spread simulation", _bin_interval_rows)
    _bin_interval_rows(unit, width_nodes, w, m, out)
