"""Gaussian kernel density along a window, corrected at both ends by reflection.

Linear binning onto a grid of stated step and FFT convolution; the
reflection is repeated, so that the density integrates to the number (or
total weight) of points in the window.
"""

from __future__ import annotations

__all__ = ["Kde", "kde"]

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geotrack._jit import njit, prange
from geotrack.density.spread import interval_linear_bin, sites
from geotrack.density.window import _TRUNCATE, KERNEL, Window, _length_arg, check_window
from geotrack.errors import Problem, ValidationError

#: Most grid nodes a 1-D density may have.
_MAX_NODES = 2_000_000


@dataclass(frozen=True)
class Kde:
    """A Gaussian kernel density along a window, in points per km of river.

    Attributes
    ----------
    km : ndarray
        Grid of chainages from the window's start to its end (step ``step_km``).
    per_km : ndarray
        Density at each node, points per km of river; integrates to ``total``.
    bandwidth_km : float
        Standard deviation of the Gaussian kernel, km.
    step_km : float
        Grid step actually used (the window divided into equal steps).
    total : float
        Number (or total weight) of points in the window.
    bandwidth_rule : str
        How the bandwidth was chosen (``"given"``, ``"silverman"``, ``"cv"``, ...).
    kernel, edge_correction, method : str
        Stated methods.
    """

    km: NDArray[np.float64]
    per_km: NDArray[np.float64]
    bandwidth_km: float
    step_km: float
    total: float
    bandwidth_rule: str = "given"
    kernel: str = KERNEL
    edge_correction: str = "reflection at both window ends"
    method: str = "linear binning + FFT convolution"

    @property
    def integral(self) -> float:
        """Trapezoid integral of the density over the window (equals ``total``)."""
        v = self.per_km
        if len(v) < 2:
            return 0.0
        return float(self.step_km * (v.sum() - 0.5 * (v[0] + v[-1])))

    def at(self, km: ArrayLike) -> NDArray[np.float64]:
        """Density at chainages, by linear interpolation between nodes.

        Examples
        --------
        >>> k = kde([5.0], window=(0, 10), bandwidth_km=1.0)
        >>> round(float(k.at([5.0])[0]), 3)
        0.399
        """
        return np.interp(np.asarray(km, dtype=np.float64), self.km, self.per_km)

    def as_dict(self, *, values: bool = True) -> dict[str, Any]:
        """JSON-ready dict; ``values`` is a list of ``{"km", "per_km"}`` pairs.

        Examples
        --------
        >>> d = kde([5.0], window=(0, 10), bandwidth_km=1.0).as_dict()
        >>> d["units"], d["integral"], d["values"][50]["km"]
        ('crossings per km of river', 1.0, 5.0)
        """
        out: dict[str, Any] = {
            "kernel": self.kernel,
            "bandwidth_km": self.bandwidth_km,
            "bandwidth_rule": self.bandwidth_rule,
            "step_km": self.step_km,
            "edge_correction": self.edge_correction,
            "method": self.method,
            "units": "crossings per km of river",
            "integral": round(self.integral, 9),
            "total": self.total,
        }
        if values:
            out["values"] = [
                {"km": round(float(k), 6), "per_km": float(v)}
                for k, v in zip(self.km, self.per_km, strict=True)
            ]
        return out


def _grid(window: Window, step_km: float) -> tuple[np.ndarray, float, int]:
    a, b = window
    m = max(1, math.ceil((b - a) / step_km - 1e-9))
    if m > _MAX_NODES:
        raise ValidationError(
            [
                Problem(
                    "step_km",
                    step_km,
                    f"gives {m} grid nodes over {b - a:g} km; use a step of at least "
                    f"{(b - a) / _MAX_NODES:.6g} km",
                )
            ]
        )
    step = (b - a) / m
    nodes = a + step * np.arange(m + 1, dtype=np.float64)
    nodes[-1] = b
    return nodes, step, m


@njit(parallel=True)
def _bin_rows(unit, w, scale, m, out):  # pragma: no cover - compiled
    # linear binning of each row of positions in [0, 1) (scaled to nodes 0..m)
    rows, n = unit.shape
    for r in prange(rows):
        for i in range(n):
            p = unit[r, i] * scale
            j = math.floor(p)
            if j < 0:
                j = 0
            elif j > m - 1:
                j = m - 1
            t = p - j
            if t < 0.0:
                t = 0.0
            elif t > 1.0:
                t = 1.0
            out[r, j] += w[i] * (1.0 - t)
            out[r, j + 1] += w[i] * t


def _linear_bin(c: np.ndarray, w: np.ndarray, a: float, step: float, m: int) -> np.ndarray:
    p = (c - a) / step
    j = np.clip(np.floor(p).astype(np.int64), 0, m - 1)
    t = np.clip(p - j, 0.0, 1.0)
    return np.bincount(j, weights=w * (1 - t), minlength=m + 1) + np.bincount(
        j + 1, weights=w * t, minlength=m + 1
    )


def _kernel(sigma_nodes: float) -> np.ndarray:
    half = max(1, math.ceil(_TRUNCATE * sigma_nodes))
    j = np.arange(-half, half + 1, dtype=np.float64)
    k = np.exp(-0.5 * (j / sigma_nodes) ** 2)
    return k / k.sum()


def _convolve_valid(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """'valid' convolution of each row of *x* with the symmetric kernel *k*, by real FFT."""
    n, m = x.shape[-1], len(k)
    size = 1 << (n + m - 2).bit_length()
    fk = np.fft.rfft(k, size)
    out = np.fft.irfft(np.fft.rfft(x, size, axis=-1) * fk, size, axis=-1)
    return out[..., m - 1 : n]


def _smooth(binned: np.ndarray, sigma_nodes: float, step: float) -> np.ndarray:
    """Reflect-corrected Gaussian smoothing of node weights (last axis); returns per-km density."""
    k = _kernel(sigma_nodes)
    half = (len(k) - 1) // 2
    b = np.array(binned, dtype=np.float64, copy=True)
    # A point at an end node coincides with its own mirror image: count it twice, so
    # that the trapezoid integral of the reflected estimate equals the total weight.
    b[..., 0] *= 2.0
    b[..., -1] *= 2.0
    if b.shape[-1] == 1:
        padded = np.repeat(b, 2 * half + 1, axis=-1)
    else:
        pad = [(0, 0)] * (b.ndim - 1) + [(half, half)]
        padded = np.pad(b, pad, mode="reflect")
    out = _convolve_valid(padded, k)
    out = np.maximum(out, 0.0)  # FFT round-off can leave -1e-17
    return out / step


def _check_step(step_km: float | None, window: Window, bandwidth_km: float) -> float:
    """One rule for the grid step, given or not: at most half the bandwidth, at most
    :data:`_MAX_NODES` nodes.  The default is ``min(0.1 km, bandwidth / 4, window / 10)``,
    coarsened (up to half the bandwidth) to stay within the node limit."""
    length = window[1] - window[0]
    if bandwidth_km / 2 < length / _MAX_NODES:
        raise ValidationError(
            [
                Problem(
                    "bandwidth_km",
                    bandwidth_km,
                    f"is too small for a {length:g} km window: the grid step must be at most half "
                    f"the bandwidth and the grid at most {_MAX_NODES:,} nodes; give a bandwidth "
                    f"of at least {2 * length / _MAX_NODES:.3g} km or a shorter window",
                )
            ]
        )
    if step_km is None:
        return max(min(0.1, bandwidth_km / 4.0, length / 10.0), length / _MAX_NODES)
    step = _length_arg("step_km", step_km, window)
    if step > bandwidth_km / 2:
        raise ValidationError(
            [
                Problem(
                    "step_km",
                    step_km,
                    f"must be at most half the bandwidth ({bandwidth_km / 2:g} km) so that the "
                    "kernel is sampled finely enough",
                )
            ]
        )
    return step


def _check_bandwidth(bandwidth_km: float, window: Window) -> float:
    return _length_arg("bandwidth_km", bandwidth_km, window)


def kde(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    bandwidth_km: float,
    step_km: float | None = None,
    weights: ArrayLike | None = None,
    bandwidth_rule: str = "given",
) -> Kde:
    """Gaussian kernel density of sites along a window, corrected at its ends.

    A spread site's contribution is its uniform distribution over its stretch
    convolved with the kernel; a site partly inside the window counts for
    the part inside.

    Parameters
    ----------
    chainage_km : array_like, shape (n,) or (n, 2)
        Chainages, km, or intervals ``[lo, hi]`` km (each site uniform over
        its stretch); sites outside the window are ignored.
    window : (float, float)
        ``(from_km, to_km)``.
    bandwidth_km : float
        Kernel standard deviation, km, in ``(0, window length]``.
    step_km : float, optional
        Grid step; default ``min(0.1 km, bandwidth / 4)``.  The window is cut
        into equal steps no longer than this.
    weights : array_like, optional
        One non-negative weight per point.
    bandwidth_rule : str
        Label stored in the result (how the bandwidth was chosen).

    Returns
    -------
    Kde
        Density in points per km of river; its integral over the window
        equals the number (or total weight) of points in it.

    Examples
    --------
    >>> k = kde([2.0, 3.0, 9.5], window=(0, 10), bandwidth_km=1.0)
    >>> round(k.integral, 6), k.step_km
    (3.0, 0.1)
    >>> float(kde([], window=(0, 10), bandwidth_km=1.0).per_km.max())
    0.0
    >>> round(kde([[8.0, 14.0]], window=(0, 10), bandwidth_km=1.0).integral, 6)
    0.333333
    """
    window = check_window(*window)
    h = _check_bandwidth(bandwidth_km, window)
    step_req = _check_step(step_km, window, h)
    s = sites(chainage_km, weights, window)
    nodes, step, m = _grid(window, step_req)
    c, w = s.points()
    binned = interval_linear_bin(*s.spread(), window[0], step, m)
    binned += _linear_bin(c, w, window[0], step, m)
    dens = _smooth(binned, h / step, step)
    return Kde(nodes, dens, h, step, float(s.w.sum()), bandwidth_rule=bandwidth_rule)
