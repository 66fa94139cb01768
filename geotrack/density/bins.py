"""Expected counts of sites per fixed-length bin of a window, in sites per km of river.

Bins are half-open ``[from, to)``, the last one closed; the last bin ends at
the window's end and may be shorter, and it is divided by its true length.
A point-located site counts 1 in its bin; a site spread uniformly over a
stretch counts, in each bin, the share of its stretch in that bin.
"""

from __future__ import annotations

__all__ = ["Bins", "bin_counts", "bin_edges"]

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geotrack.density.spread import interval_bin_mass, sites
from geotrack.density.window import Window, _length_arg, check_window


@dataclass(frozen=True)
class Bins:
    """Expected counts of sites per fixed-length bin of a window.

    Attributes
    ----------
    edges_km : ndarray
        ``n_bins + 1`` edges from the window's start to its end.
    count : ndarray of int
        Point-located sites per bin (``[from, to)``, the last bin closed).
    weight : ndarray of float
        Expected count per bin: the (weighted) point-located sites plus each
        spread site's share (equal to ``count`` with points only, unweighted).
    per_km : ndarray of float
        ``weight`` divided by each bin's true length, sites per km of river.
    bin_km : float
        The bin length asked for; the last bin may be shorter.
    spread : ndarray of float
        The part of ``weight`` from spread sites.
    """

    edges_km: NDArray[np.float64]
    count: NDArray[np.int64]
    weight: NDArray[np.float64]
    per_km: NDArray[np.float64]
    bin_km: float
    spread: NDArray[np.float64] | None = None

    @property
    def length_km(self) -> NDArray[np.float64]:
        """True length of each bin, km."""
        return np.diff(self.edges_km)

    def as_dict(self) -> list[dict[str, Any]]:
        """One dict per bin: ``from_km``, ``to_km``, ``length_km``, ``count``, ``spread``, ``expected``, ``per_km``.

        ``count`` is point-located sites, ``spread`` the expected number of
        spread sites, ``expected`` their (weighted) sum.

        Examples
        --------
        >>> bin_counts([1.0], window=(0, 3), bin_km=2).as_dict()[1]["length_km"]
        1.0
        """
        spread = self.spread if self.spread is not None else np.zeros(len(self.count))
        return [
            {
                "from_km": float(a),
                "to_km": float(b),
                "length_km": float(b - a),
                "count": int(c),
                "spread": float(sp),
                "expected": float(w),
                "per_km": float(p),
            }
            for a, b, c, sp, w, p in zip(
                self.edges_km[:-1],
                self.edges_km[1:],
                self.count,
                spread,
                self.weight,
                self.per_km,
                strict=True,
            )
        ]


def bin_edges(window: Window, bin_km: float) -> NDArray[np.float64]:
    """Edges of fixed-length bins tiling a window; the last bin may be shorter.

    A remainder shorter than a millionth of a bin is merged into the last
    bin rather than left as a sliver.

    Examples
    --------
    >>> bin_edges((0.0, 12.0), 5).tolist()
    [0.0, 5.0, 10.0, 12.0]
    """
    window = check_window(*window)
    bin_km = _length_arg("bin_km", bin_km, window)
    a, b = window
    n_full = math.floor((b - a) / bin_km * (1 + 1e-12))
    edges = a + bin_km * np.arange(n_full + 1, dtype=np.float64)
    if b - edges[-1] > 1e-6 * bin_km:
        edges = np.append(edges, b)
    else:
        edges[-1] = b
    return edges


def bin_counts(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    bin_km: float,
    weights: ArrayLike | None = None,
) -> Bins:
    """Expected count of sites per bin of a window (sites outside the window are ignored).

    Parameters
    ----------
    chainage_km : array_like, shape (n,) or (n, 2)
        Chainages, km, or intervals ``[lo, hi]`` km each uniform over its
        stretch (``lo == hi`` for a point).  A site partly inside the window
        counts for the part inside.
    window : (float, float)
        ``(from_km, to_km)``.
    bin_km : float
        Bin length, km, in ``(0, window length]``.
    weights : array_like, optional
        One non-negative weight per point.

    Returns
    -------
    Bins

    Examples
    --------
    >>> b = bin_counts([0.5, 4.9, 5.0, 11.9, 12.0], window=(0, 12), bin_km=5)
    >>> b.edges_km.tolist(), b.count.tolist(), b.per_km.tolist()
    ([0.0, 5.0, 10.0, 12.0], [2, 1, 2], [0.4, 0.2, 1.0])
    >>> bin_counts([], window=(0, 12), bin_km=5).count.tolist()
    [0, 0, 0]
    >>> bin_counts([[3.0, 7.0], [11.0, 11.0]], window=(0, 12), bin_km=5).weight.tolist()
    [0.5, 0.5, 1.0]
    """
    window = check_window(*window)
    edges = bin_edges(window, bin_km)
    s = sites(chainage_km, weights, window)
    c, w = s.points()
    nb = len(edges) - 1
    idx = np.clip(np.searchsorted(edges, c, side="right") - 1, 0, nb - 1)
    count = np.bincount(idx, minlength=nb).astype(np.int64)
    spread = interval_bin_mass(*s.spread(), edges)
    weight = np.bincount(idx, weights=w, minlength=nb).astype(np.float64) + spread
    per_km = weight / np.diff(edges)
    return Bins(edges, count, weight, per_km, float(bin_km), spread)
