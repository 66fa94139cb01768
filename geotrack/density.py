"""Statistics of points along one line: bins, kernel density, hotspots, clustering, gaps.

Every function here takes chainages in km along a line and a *window*
``(from_km, to_km)`` of that line, and returns a frozen dataclass with an
``as_dict()`` for JSON.  Densities are in "per km of river" (1-D) or "per km²"
(2-D grid).  No I/O, no printing; invalid arguments raise
:class:`~geotrack.errors.WindowError` or :class:`~geotrack.errors.ValidationError`
naming the valid range.

Methods, stated in each result:

* **bins**: fixed-length bins from the window's start; the last bin ends at
  the window's end and may be shorter; it is divided by its true length.
  Bins are half-open ``[from, to)``, the last one closed.
* **kernel density**: Gaussian kernel, bandwidth in km; linear binning onto
  a grid of stated step and FFT convolution; edge correction by reflection
  at both ends of the window (repeated, so that it integrates to the
  number, or total weight, of points in the window).
* **bandwidth rules**: Silverman's rule of thumb
  ``0.9 * min(sd, IQR / 1.34) * n ** (-1/5)``, or likelihood
  cross-validation (leave-one-out log-likelihood maximised over bandwidths).
* **hotspots**: stretches where the density exceeds the uniform rate
  ``n / L``; significance from Monte Carlo simulations of the same number
  of points placed uniformly in the window (complete spatial randomness),
  comparing each stretch's peak with the simulated maxima of the density
  (a global envelope, so the test holds over the whole window).
* **clustering**: mean nearest-neighbour distance and 1-D Ripley's L
  function, each against Monte Carlo simulations under complete spatial
  randomness (seeded, number stated), with a p-value.
* **gaps**: the longest stretches of the window with no point.
"""

from __future__ import annotations

__all__ = [
    "KERNEL",
    "BandwidthChoice",
    "Bins",
    "Clustering",
    "Gaps",
    "Grid",
    "Hotspot",
    "Hotspots",
    "Kde",
    "bin_counts",
    "bin_edges",
    "check_window",
    "clustering",
    "cv_bandwidth",
    "density_grid",
    "gaps",
    "hotspots",
    "kde",
    "silverman_bandwidth",
]

import math
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from geotrack.errors import Problem, ValidationError, WindowError

KERNEL = "gaussian"
#: The kernel is cut at this many bandwidths (the weight beyond is < 1e-14).
_TRUNCATE = 8.0
#: Most grid nodes a 1-D density may have.
_MAX_NODES = 2_000_000
#: Most cells a 2-D grid may have.
_MAX_CELLS = 50_000_000

Window = tuple[float, float]


# ----------------------------------------------------------------------------- validation


def check_window(from_km: float, to_km: float, *, line_km: float | None = None) -> Window:
    """Check a window of the line and return it as ``(from_km, to_km)`` floats.

    Parameters
    ----------
    from_km, to_km : float
        Chainages of the window's ends, km.
    line_km : float, optional
        Length of the line; when given, the window must lie on it.

    Returns
    -------
    tuple of float

    Raises
    ------
    WindowError
        The window is reversed, of zero length, not finite or off the line.
        The message names the valid range.

    Examples
    --------
    >>> check_window(0, 98.5, line_km=305.607)
    (0.0, 98.5)
    >>> check_window(50, 20, line_km=305.607)
    Traceback (most recent call last):
    ...
    geotrack.errors.WindowError: window 50.0:20.0 km is reversed: give the smaller chainage first...
    """
    try:
        a = float(from_km)
        b = float(to_km)
    except (TypeError, ValueError):
        raise WindowError(
            f"window {from_km!r}:{to_km!r} is not two numbers: give FROM_KM:TO_KM, e.g. 0:98.5"
        ) from None
    valid = f"[0, {line_km:g}] km" if line_km is not None else "the line"
    if not (math.isfinite(a) and math.isfinite(b)):
        raise WindowError(f"window {a}:{b} km is not finite: give two chainages within {valid}.")
    if b < a:
        raise WindowError(
            f"window {a}:{b} km is reversed: give the smaller chainage first ({b}:{a}), "
            f"within {valid}."
        )
    if b == a:
        raise WindowError(
            f"window {a}:{b} km has zero length: give two different chainages within {valid}."
        )
    if line_km is not None:
        tol = 1e-9 * max(1.0, line_km)
        if a < -tol or b > line_km + tol:
            raise WindowError(
                f"window {a}:{b} km is outside the line: the valid range is [0, {line_km:g}] km."
            )
        a = min(max(a, 0.0), line_km)
        b = min(max(b, 0.0), line_km)
    return a, b


def _length_arg(name: str, value: float, window: Window, *, unit: str = "km") -> float:
    length = window[1] - window[0]
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and 0 < v <= length):
        raise ValidationError(
            [
                Problem(
                    name,
                    value,
                    f"must be a length in (0, {length:g}] {unit} (greater than zero and no "
                    f"longer than the window {window[0]:g}–{window[1]:g} km)",
                )
            ]
        )
    return v


def _points(chainage_km: ArrayLike, weights: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(chainage_km, dtype=np.float64).ravel()
    if weights is None:
        w = np.ones_like(c)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != c.shape:
            raise ValidationError(
                [Problem("weights", f"{w.size} values", f"give one weight per point ({c.size})")]
            )
        if np.any(~np.isfinite(w) | (w < 0)):
            raise ValidationError(
                [Problem("weights", "negative or not finite", "weights must be finite and >= 0")]
            )
    if np.any(~np.isfinite(c)):
        raise ValidationError(
            [Problem("chainage_km", "NaN or infinite", "every chainage must be a finite number")]
        )
    return c, w


def _in_window(c: np.ndarray, window: Window) -> np.ndarray:
    return (c >= window[0]) & (c <= window[1])


# ----------------------------------------------------------------------------- bins


@dataclass(frozen=True)
class Bins:
    """Counts of points per fixed-length bin of a window.

    Attributes
    ----------
    edges_km : ndarray
        ``n_bins + 1`` edges from the window's start to its end.
    count : ndarray of int
        Points per bin (``[from, to)``, the last bin closed).
    weight : ndarray of float
        Sum of weights per bin (equal to ``count`` when unweighted).
    per_km : ndarray of float
        ``weight`` divided by each bin's true length, points per km of river.
    bin_km : float
        The bin length asked for; the last bin may be shorter.
    """

    edges_km: NDArray[np.float64]
    count: NDArray[np.int64]
    weight: NDArray[np.float64]
    per_km: NDArray[np.float64]
    bin_km: float

    @property
    def length_km(self) -> NDArray[np.float64]:
        """True length of each bin, km."""
        return np.diff(self.edges_km)

    def as_dict(self) -> list[dict[str, Any]]:
        """One dict per bin: ``from_km``, ``to_km``, ``length_km``, ``count``, ``weight``, ``per_km``.

        Examples
        --------
        >>> bin_counts([1.0], window=(0, 3), bin_km=2).as_dict()[1]["length_km"]
        1.0
        """
        return [
            {
                "from_km": float(a),
                "to_km": float(b),
                "length_km": float(b - a),
                "count": int(c),
                "weight": float(w),
                "per_km": float(p),
            }
            for a, b, c, w, p in zip(
                self.edges_km[:-1],
                self.edges_km[1:],
                self.count,
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
    """Count points per bin of a window (points outside the window are ignored).

    Parameters
    ----------
    chainage_km : array_like
        Chainages, km.
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
    """
    window = check_window(*window)
    edges = bin_edges(window, bin_km)
    c, w = _points(chainage_km, weights)
    keep = _in_window(c, window)
    c, w = c[keep], w[keep]
    nb = len(edges) - 1
    idx = np.clip(np.searchsorted(edges, c, side="right") - 1, 0, nb - 1)
    count = np.bincount(idx, minlength=nb).astype(np.int64)
    weight = np.bincount(idx, weights=w, minlength=nb).astype(np.float64)
    per_km = weight / np.diff(edges)
    return Bins(edges, count, weight, per_km, float(bin_km))


# ----------------------------------------------------------------------------- kernel density


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


@numba.njit(cache=True, parallel=True)
def _bin_rows(unit, w, scale, m, out):  # pragma: no cover - compiled
    # linear binning of each row of positions in [0, 1) (scaled to nodes 0..m)
    rows, n = unit.shape
    for r in numba.prange(rows):
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


def _default_step(window: Window, bandwidth_km: float) -> float:
    length = window[1] - window[0]
    return max(min(0.1, bandwidth_km / 4.0, length / 10.0), length / 200_000)


def _check_step(step_km: float | None, window: Window, bandwidth_km: float) -> float:
    if step_km is None:
        return _default_step(window, bandwidth_km)
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
    """Gaussian kernel density of points along a window, corrected at its ends.

    Parameters
    ----------
    chainage_km : array_like
        Chainages, km; points outside the window are ignored.
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
    """
    window = check_window(*window)
    h = _check_bandwidth(bandwidth_km, window)
    step_req = _check_step(step_km, window, h)
    c, w = _points(chainage_km, weights)
    keep = _in_window(c, window)
    c, w = c[keep], w[keep]
    nodes, step, m = _grid(window, step_req)
    binned = _linear_bin(c, w, window[0], step, m)
    dens = _smooth(binned, h / step, step)
    return Kde(nodes, dens, h, step, float(w.sum()), bandwidth_rule=bandwidth_rule)


# ----------------------------------------------------------------------------- bandwidth


def _weighted_quantile(c: np.ndarray, w: np.ndarray, q: list[float]) -> np.ndarray:
    order = np.argsort(c, kind="stable")
    cs, ws = c[order], w[order]
    cw = np.cumsum(ws) - 0.5 * ws
    return np.interp(np.asarray(q) * ws.sum(), cw, cs)


def silverman_bandwidth(chainage_km: ArrayLike, /, *, weights: ArrayLike | None = None) -> float:
    """Silverman's rule of thumb: ``0.9 * min(sd, IQR / 1.34) * n ** (-1/5)``, km.

    With weights, ``sd`` and ``IQR`` are weighted and ``n`` is Kish's effective
    sample size ``(sum w)^2 / sum w^2``.  When the IQR is zero the standard
    deviation alone is used.

    Raises
    ------
    ValidationError
        Fewer than two distinct chainages: no spread to measure.

    Examples
    --------
    >>> round(silverman_bandwidth([10.0, 20.0, 30.0, 40.0, 50.0]), 3)
    10.314
    """
    c, w = _points(chainage_km, weights)
    keep = w > 0
    c, w = c[keep], w[keep]
    if c.size < 2 or np.ptp(c) == 0:
        raise ValidationError(
            [
                Problem(
                    "bandwidth_rule",
                    "silverman",
                    f"needs at least 2 distinct chainages (got {np.unique(c).size}): "
                    "give a bandwidth in km instead",
                )
            ]
        )
    wsum = w.sum()
    mean = float((w * c).sum() / wsum)
    n_eff = wsum**2 / (w**2).sum()
    var = float((w * (c - mean) ** 2).sum() / wsum) * n_eff / max(n_eff - 1, 1e-12)
    sd = math.sqrt(var)
    q1, q3 = _weighted_quantile(c, w, [0.25, 0.75])
    iqr = float(q3 - q1)
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    return float(0.9 * spread * n_eff ** (-0.2))


def _loo_score(c: np.ndarray, w: np.ndarray, window: Window, h: float) -> float:
    """Weighted mean leave-one-out log density at the points (binned, reflected)."""
    a, b = window
    step = min(h / 8.0, (b - a) / 8.0)
    _, step, m = _grid(window, step)
    binned = _linear_bin(c, w, a, step, m)
    dens = _smooth(binned, h / step, step)
    k = _kernel(h / step)
    half = (len(k) - 1) // 2
    k0 = k[half] / step
    k1 = (k[half + 1] / step) if len(k) > 1 else 0.0
    p = (c - a) / step
    j = np.clip(np.floor(p).astype(np.int64), 0, m - 1)
    t = np.clip(p - j, 0.0, 1.0)
    f = dens[j] * (1 - t) + dens[j + 1] * t
    # the point's own contribution to the binned estimate at itself ...
    own = w * ((1 - t) ** 2 * k0 + 2 * t * (1 - t) * k1 + t**2 * k0)
    # ... and that of its mirror images at the window's ends
    norm = 1.0 / (h * math.sqrt(2 * math.pi))
    own += (
        w * norm * (np.exp(-0.5 * (2 * (c - a) / h) ** 2) + np.exp(-0.5 * (2 * (b - c) / h) ** 2))
    )
    total = w.sum()
    loo = (f - own) / np.maximum(total - w, 1e-300)
    floor = norm * math.exp(-0.5 * _TRUNCATE**2) / max(total, 1.0)
    loo = np.maximum(loo, floor)
    return float((w * np.log(loo)).sum() / total)


@dataclass(frozen=True)
class BandwidthChoice:
    """A bandwidth chosen by likelihood cross-validation.

    Attributes
    ----------
    bandwidth_km : float
        The bandwidth with the highest leave-one-out log-likelihood.
    searched_km : (float, float)
        Range of bandwidths searched.
    at_limit : bool
        The best bandwidth is at an end of the searched range (for example
        because of repeated identical chainages): treat it with caution.
    """

    bandwidth_km: float
    searched_km: tuple[float, float]
    at_limit: bool
    rule: str = "likelihood cross-validation (leave-one-out, Gaussian kernel, reflection)"


def cv_bandwidth(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    weights: ArrayLike | None = None,
    n_candidates: int = 40,
) -> BandwidthChoice:
    """Choose a bandwidth by likelihood cross-validation.

    Maximises the (weighted) mean leave-one-out log density of the points
    over ``n_candidates`` log-spaced bandwidths from window/2000 to window/2,
    then refines between the best candidate's neighbours.

    Raises
    ------
    ValidationError
        Fewer than two points in the window.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pts = np.concatenate([rng.normal(30, 2, 200), rng.normal(70, 2, 200)])
    >>> 0.5 < cv_bandwidth(pts, window=(0, 100)).bandwidth_km < 3
    True
    """
    window = check_window(*window)
    c, w = _points(chainage_km, weights)
    keep = _in_window(c, window) & (w > 0)
    c, w = c[keep], w[keep]
    if c.size < 2:
        raise ValidationError(
            [
                Problem(
                    "bandwidth_rule",
                    "cv",
                    f"needs at least 2 points in the window (got {c.size}): give a bandwidth in km",
                )
            ]
        )
    length = window[1] - window[0]
    lo, hi = length / 2000.0, length / 2.0
    grid = np.geomspace(lo, hi, n_candidates)
    scores = np.array([_loo_score(c, w, window, h) for h in grid])
    i = int(np.argmax(scores))
    best_h, best_s = grid[i], scores[i]
    if 0 < i < len(grid) - 1:
        # golden-section search on log h between the neighbours
        x0, x1 = math.log(grid[i - 1]), math.log(grid[i + 1])
        g = (math.sqrt(5) - 1) / 2
        ya, yb = x1 - g * (x1 - x0), x0 + g * (x1 - x0)
        fa = _loo_score(c, w, window, math.exp(ya))
        fb = _loo_score(c, w, window, math.exp(yb))
        for _ in range(20):
            if fa > fb:
                x1, yb, fb = yb, ya, fa
                ya = x1 - g * (x1 - x0)
                fa = _loo_score(c, w, window, math.exp(ya))
            else:
                x0, ya, fa = ya, yb, fb
                yb = x0 + g * (x1 - x0)
                fb = _loo_score(c, w, window, math.exp(yb))
        cand, cs = (math.exp(ya), fa) if fa > fb else (math.exp(yb), fb)
        if cs > best_s:
            best_h = cand
    return BandwidthChoice(float(best_h), (float(lo), float(hi)), i in (0, len(grid) - 1))


# ----------------------------------------------------------------------------- Monte Carlo


def _rng(seed: int | None) -> tuple[np.random.Generator, int]:
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError([Problem("seed", seed, "give a non-negative integer")])
    return np.random.default_rng(int(seed)), int(seed)


def _check_sims(simulations: int) -> int:
    if not isinstance(simulations, int | np.integer) or not 1 <= simulations <= 1_000_000:
        raise ValidationError(
            [Problem("simulations", simulations, "give an integer in [1, 1000000], e.g. 999")]
        )
    return int(simulations)


def _batches(n_points: int, simulations: int, budget: int = 4_000_000):
    size = max(1, budget // max(n_points, 1))
    done = 0
    while done < simulations:
        k = min(size, simulations - done)
        yield k
        done += k


@dataclass(frozen=True)
class Hotspot:
    """One stretch where the density exceeds the uniform rate."""

    from_km: float
    to_km: float
    peak_km: float
    peak_per_km: float
    n_points: int
    p_value: float
    significant: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Examples
        --------
        >>> Hotspot(40.0, 42.0, 41.0, 3.5, 12, 0.001, True).as_dict()["length_km"]
        2.0
        """
        return {
            "from_km": self.from_km,
            "to_km": self.to_km,
            "length_km": self.to_km - self.from_km,
            "peak_km": self.peak_km,
            "peak_per_km": self.peak_per_km,
            "n_crossings": self.n_points,
            "p_value": self.p_value,
            "significant": self.significant,
        }


@dataclass(frozen=True)
class Hotspots:
    """Stretches denser than uniform placement, tested by Monte Carlo.

    Attributes
    ----------
    uniform_per_km : float
        The rate uniform placement would give: total / window length.
    stretches : tuple of Hotspot
        Maximal stretches where the density exceeds ``uniform_per_km``, in
        order along the window, each with its peak and a p-value: the share
        of simulations whose *maximum* density is at least that peak.
    envelope_per_km : float
        The ``1 - alpha`` quantile of the simulated maxima: a stretch whose
        peak exceeds it is significant at level ``alpha`` over the whole window.
    simulations, seed, alpha : int, int, float
        The Monte Carlo set-up.
    """

    uniform_per_km: float
    stretches: tuple[Hotspot, ...]
    envelope_per_km: float
    simulations: int
    seed: int
    alpha: float
    bandwidth_km: float
    max_per_km: float
    p_value_max: float
    null_model: str = "complete spatial randomness: the same number of points uniform on the window"
    statistic: str = "maximum of the kernel density over the window (global envelope)"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Examples
        --------
        >>> hs = hotspots([1.0, 1.2, 8.0], window=(0, 10), bandwidth_km=1.0, simulations=9, seed=1)
        >>> sorted(hs.as_dict()["test"])[:3]
        ['alpha', 'envelope_per_km', 'null_model']
        """
        return {
            "rule": "stretches where the kernel density exceeds the uniform rate",
            "uniform_per_km": self.uniform_per_km,
            "bandwidth_km": self.bandwidth_km,
            "test": {
                "null_model": self.null_model,
                "statistic": self.statistic,
                "simulations": self.simulations,
                "seed": self.seed,
                "alpha": self.alpha,
                "envelope_per_km": self.envelope_per_km,
                "observed_max_per_km": self.max_per_km,
                "p_value": self.p_value_max,
            },
            "stretches": [h.as_dict() for h in self.stretches],
        }


def _runs_above(x: np.ndarray, f: np.ndarray, level: float) -> list[tuple[float, float, int, int]]:
    """Maximal runs where f > level, with crossing points interpolated between nodes."""
    above = f > level
    if not above.any():
        return []
    d = np.diff(above.astype(np.int8))
    starts = list(np.nonzero(d == 1)[0] + 1)
    ends = list(np.nonzero(d == -1)[0])
    if above[0]:
        starts.insert(0, 0)
    if above[-1]:
        ends.append(len(f) - 1)
    runs = []
    for s, e in zip(starts, ends, strict=True):
        if s > 0:
            f0, f1 = f[s - 1], f[s]
            x0 = x[s - 1] + (level - f0) / (f1 - f0) * (x[s] - x[s - 1])
        else:
            x0 = x[0]
        if e < len(f) - 1:
            f0, f1 = f[e], f[e + 1]
            x1 = x[e] + (f0 - level) / (f0 - f1) * (x[e + 1] - x[e])
        else:
            x1 = x[-1]
        runs.append((float(x0), float(x1), int(s), int(e)))
    return runs


def hotspots(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    bandwidth_km: float,
    step_km: float | None = None,
    weights: ArrayLike | None = None,
    simulations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
    density: Kde | None = None,
) -> Hotspots:
    """Stretches where the kernel density exceeds uniform placement, with a Monte Carlo test.

    Parameters
    ----------
    chainage_km : array_like
        Chainages, km (points outside the window are ignored).
    window, bandwidth_km, step_km, weights
        As for :func:`kde`.
    simulations : int
        Uniform simulations of the same number of points (and weights).
    seed : int, optional
        Seed of the random generator; drawn and reported when omitted.
    alpha : float
        Significance level of the global envelope.
    density : Kde, optional
        The observed density if already computed with the same arguments.

    Returns
    -------
    Hotspots

    Examples
    --------
    >>> pts = np.concatenate([np.linspace(40, 42, 30), np.linspace(0, 100, 10)])
    >>> hs = hotspots(pts, window=(0, 100), bandwidth_km=1.0, simulations=99, seed=1)
    >>> [(round(h.peak_km), h.significant) for h in hs.stretches if h.n_points > 5]
    [(41, True)]
    """
    window = check_window(*window)
    sims = _check_sims(simulations)
    if not 0 < alpha < 1:
        raise ValidationError([Problem("alpha", alpha, "give a level in (0, 1), e.g. 0.05")])
    c, w = _points(chainage_km, weights)
    keep = _in_window(c, window)
    c, w = c[keep], w[keep]
    obs = density or kde(c, window=window, bandwidth_km=bandwidth_km, step_km=step_km, weights=w)
    rng, seed_used = _rng(seed)
    a, b = window
    length = b - a
    total = float(w.sum())
    uniform = total / length
    m = len(obs.km) - 1
    maxima = np.zeros(sims)
    if c.size:
        done = 0
        half = math.ceil(_TRUNCATE * obs.bandwidth_km / obs.step_km)
        sizes = list(_batches(max(c.size, m + 1 + 2 * half), sims))
        pos_buf = np.empty((sizes[0], c.size), dtype=np.float32)
        bin_buf = np.empty((sizes[0], m + 1))
        for k in sizes:
            # float32 uniforms: a resolution of window / 2**24 (about 1 cm on 240 km)
            pos = rng.random((k, c.size), dtype=np.float32, out=pos_buf[:k])
            binned = bin_buf[:k]
            binned[:] = 0.0
            _bin_rows(pos, w, length / obs.step_km, m, binned)
            dens = _smooth(binned, obs.bandwidth_km / obs.step_km, obs.step_km)
            maxima[done : done + k] = dens.max(axis=1)
            done += k
    q = np.sort(maxima)
    k_env = min(sims - 1, math.ceil((sims + 1) * (1 - alpha)) - 1)
    envelope = float(q[max(k_env, 0)])
    obs_max = float(obs.per_km.max()) if len(obs.per_km) else 0.0

    def pval(peak: float) -> float:
        return float((1 + np.count_nonzero(maxima >= peak)) / (sims + 1))

    stretches = []
    if total > 0:
        for x0, x1, s, e in _runs_above(obs.km, obs.per_km, uniform):
            seg = obs.per_km[s : e + 1]
            j = int(np.argmax(seg)) + s
            peak = float(obs.per_km[j])
            n_in = int(np.count_nonzero((c >= x0) & (c <= x1)))
            p = pval(peak)
            stretches.append(Hotspot(x0, x1, float(obs.km[j]), peak, n_in, p, p <= alpha))
    return Hotspots(
        uniform_per_km=uniform,
        stretches=tuple(stretches),
        envelope_per_km=envelope,
        simulations=sims,
        seed=seed_used,
        alpha=float(alpha),
        bandwidth_km=obs.bandwidth_km,
        max_per_km=obs_max,
        p_value_max=pval(obs_max) if total > 0 else 1.0,
    )


@numba.njit(cache=True)
def _sorted_stats(x, radii, counts_out):  # pragma: no cover - compiled
    """Mean nearest-neighbour distance of sorted x; pair counts within each radius."""
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        best = np.inf
        if i > 0:
            best = x[i] - x[i - 1]
        if i < n - 1 and x[i + 1] - x[i] < best:
            best = x[i + 1] - x[i]
        s += best
    for r in range(radii.shape[0]):
        rad = radii[r]
        j = 0
        cnt = 0
        for i in range(n):
            if j < i + 1:
                j = i + 1
            while j < n and x[j] - x[i] <= rad:
                j += 1
            cnt += j - i - 1
        counts_out[r] = 2 * cnt  # ordered pairs
    return s / n


@numba.njit(cache=True, parallel=True)
def _sim_stats(spacings, a, length, radii, nn_out, counts_out):  # pragma: no cover - compiled
    rows, n1 = spacings.shape
    n = n1 - 1
    for r in numba.prange(rows):
        tot = 0.0
        for i in range(n1):
            tot += spacings[r, i]
        x = np.empty(n)
        acc = 0.0
        for i in range(n):
            acc += spacings[r, i]
            x[i] = a + length * acc / tot
        nn_out[r] = _sorted_stats(x, radii, counts_out[r])


@dataclass(frozen=True)
class Clustering:
    """Tests of clustering along the window against complete spatial randomness.

    The headline test uses 1-D Ripley's L function over several radii: its
    statistic is the largest studentised excess of the observed L over its
    simulated mean (one-sided, for clustering), so that the test holds over
    all radii at once.  The mean nearest-neighbour distance (Clark-Evans
    style) is reported beside it with its own Monte Carlo p-values.

    Attributes
    ----------
    n : int
        Points in the window.
    n_tested : int or None
        Points the tests used: all of them, or a random subsample when there are many.
    p_value : float or None
        Headline p-value (Ripley's L, clustered alternative): the share of
        simulations, counting the observation, whose statistic is at least
        the observed one.
    statistic : float or None
        Observed largest studentised excess of L over CSR.
    ripley : list of dict
        L at each radius with its simulated mean and pointwise envelope.
    mean_nn_km, expected_nn_km, ratio : float or None
        Observed and simulated mean nearest-neighbour distance, and their ratio.
    nn_p_value, nn_p_value_dispersed : float or None
        One-sided Monte Carlo p-values of the mean nearest-neighbour distance.
    reason : str or None
        Why no test was done (fewer than 2 points).
    """

    n: int
    simulations: int
    seed: int | None
    alpha: float = 0.05
    n_tested: int | None = None
    p_value: float | None = None
    statistic: float | None = None
    ripley: list[dict[str, float]] = field(default_factory=list)
    mean_nn_km: float | None = None
    expected_nn_km: float | None = None
    ratio: float | None = None
    nn_p_value: float | None = None
    nn_p_value_dispersed: float | None = None
    envelope_nn_km: tuple[float, float] | None = None
    reason: str | None = None

    @property
    def clustered(self) -> bool | None:
        """Whether the headline test rejects uniform placement at level ``alpha``."""
        return None if self.p_value is None else self.p_value <= self.alpha

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Examples
        --------
        >>> clustering([1.0, 2.0, 9.0], window=(0, 10), simulations=9, seed=1).as_dict()["simulations"]
        9
        """
        return {
            "null_model": "complete spatial randomness: the same number of points "
            "uniform on the window",
            "statistic": "Ripley's L along the river: largest studentised excess of L(r) over "
            "its simulated mean, across radii (global test)",
            "alternative": "clustered",
            "n": self.n,
            "n_tested": self.n_tested,
            "subsample": (
                f"a random subsample of {self.n_tested} of the {self.n} crossings (seeded); "
                "the simulations use the same number"
                if self.n_tested is not None and self.n_tested < self.n
                else None
            ),
            "simulations": self.simulations,
            "seed": self.seed,
            "alpha": self.alpha,
            "observed": self.statistic,
            "p_value": self.p_value,
            "clustered": self.clustered,
            "ripley_l": {
                "estimator": "1-D Ripley's K without edge correction, L(r) = K(r) / 2, km; "
                "the simulations use the same estimator, so the envelopes carry the edge effect",
                "envelope": f"pointwise {self.alpha / 2:g} and {1 - self.alpha / 2:g} quantiles",
                "values": self.ripley,
            },
            "nearest_neighbour": {
                "statistic": "mean nearest-neighbour distance along the river, km",
                "observed_km": self.mean_nn_km,
                "expected_km": self.expected_nn_km,
                "ratio": self.ratio,
                "envelope_km": list(self.envelope_nn_km) if self.envelope_nn_km else None,
                "p_value_clustered": self.nn_p_value,
                "p_value_dispersed": self.nn_p_value_dispersed,
            },
            "reason": self.reason,
        }


def _default_radii(length: float) -> np.ndarray:
    lo = max(length / 1000.0, 1e-6)
    return np.geomspace(lo, length / 4.0, 12)


def clustering(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    simulations: int = 999,
    seed: int | None = None,
    radii_km: ArrayLike | None = None,
    alpha: float = 0.05,
    max_points: int = 2000,
) -> Clustering:
    """Test whether points cluster along the window, by Monte Carlo against uniform placement.

    Weights are not used: the tests are about where points are.

    Parameters
    ----------
    chainage_km : array_like
        Chainages, km (points outside the window are ignored).
    window : (float, float)
        ``(from_km, to_km)``.
    simulations : int
        Number of uniform simulations of the same number of points.
    seed : int, optional
        Seed; drawn and reported when omitted.
    radii_km : array_like, optional
        Radii for Ripley's L; default 12 log-spaced from window/1000 to window/4.
    alpha : float
        Level of the test and of the pointwise envelopes (``alpha/2`` each side).
    max_points : int
        With more points than this in the window, the tests use a random
        subsample of this size (seeded) and simulate the same number: under
        uniform placement a random subsample is uniform too, so the test keeps
        its level, and its cost stays bounded.

    Returns
    -------
    Clustering

    Examples
    --------
    >>> pts = np.concatenate([20.0 + np.arange(10) * 0.05, [50.0, 80.0]])
    >>> res = clustering(pts, window=(0, 100), simulations=99, seed=3)
    >>> res.clustered
    True
    >>> clustering([5.0], window=(0, 10), simulations=9, seed=1).reason
    'fewer than 2 crossings in the window'
    """
    window = check_window(*window)
    sims = _check_sims(simulations)
    if not 0 < alpha < 1:
        raise ValidationError([Problem("alpha", alpha, "give a level in (0, 1), e.g. 0.05")])
    c, _ = _points(chainage_km, None)
    c = np.sort(c[_in_window(c, window)])
    n = c.size
    if n < 2:
        reason = "no crossings in the window" if n == 0 else "fewer than 2 crossings in the window"
        return Clustering(n=n, simulations=sims, seed=seed, alpha=float(alpha), reason=reason)
    a, b = window
    length = b - a
    radii = _default_radii(length) if radii_km is None else np.asarray(radii_km, dtype=np.float64)
    if radii.ndim != 1 or radii.size == 0 or np.any(~np.isfinite(radii) | (radii <= 0)):
        raise ValidationError([Problem("radii_km", radii_km, "give positive finite radii in km")])
    if not isinstance(max_points, int | np.integer) or max_points < 2:
        raise ValidationError([Problem("max_points", max_points, "give an integer >= 2")])
    rng, seed_used = _rng(seed)
    n_all = n
    if n > max_points:
        c = np.sort(rng.choice(c, size=int(max_points), replace=False))
        n = c.size
    obs_counts = np.zeros(radii.size, dtype=np.int64)
    obs_nn = _sorted_stats(c, radii, obs_counts)
    nn = np.empty(sims)
    counts = np.zeros((sims, radii.size), dtype=np.int64)
    done = 0
    for k in _batches(n + 1, sims):
        spac = rng.standard_exponential((k, n + 1))  # sorted uniforms from normalised spacings
        _sim_stats(spac, a, length, radii, nn[done : done + k], counts[done : done + k])
        done += k
    scale = length / (n * (n - 1)) / 2.0  # L(r) = K(r) / 2 in one dimension
    l_obs = obs_counts * scale
    l_sim = counts * scale
    l_mean = l_sim.mean(axis=0)
    l_sd = l_sim.std(axis=0)
    lo_q, hi_q = np.quantile(l_sim, [alpha / 2, 1 - alpha / 2], axis=0)
    ok = l_sd > 0
    if ok.any():
        t_obs = float(np.max((l_obs[ok] - l_mean[ok]) / l_sd[ok]))
        t_sim = np.max((l_sim[:, ok] - l_mean[ok]) / l_sd[ok], axis=1)
        p_value = float((1 + np.count_nonzero(t_sim >= t_obs)) / (sims + 1))
    else:  # no variation at any radius (e.g. 2 points, radii too small): no evidence
        t_obs, p_value = 0.0, 1.0
    ripley = [
        {
            "r_km": float(r),
            "l_km": float(lo),
            "expected_km": float(m),
            "envelope_low_km": float(el),
            "envelope_high_km": float(eh),
        }
        for r, lo, m, el, eh in zip(radii, l_obs, l_mean, lo_q, hi_q, strict=True)
    ]
    expected = float(nn.mean())
    env = (float(np.quantile(nn, alpha / 2)), float(np.quantile(nn, 1 - alpha / 2)))
    return Clustering(
        n=n_all,
        n_tested=n,
        simulations=sims,
        seed=seed_used,
        alpha=float(alpha),
        p_value=p_value,
        statistic=t_obs,
        ripley=ripley,
        mean_nn_km=float(obs_nn),
        expected_nn_km=expected,
        ratio=float(obs_nn / expected) if expected > 0 else None,
        nn_p_value=float((1 + np.count_nonzero(nn <= obs_nn)) / (sims + 1)),
        nn_p_value_dispersed=float((1 + np.count_nonzero(nn >= obs_nn)) / (sims + 1)),
        envelope_nn_km=env,
    )


# ----------------------------------------------------------------------------- gaps


@dataclass(frozen=True)
class Gaps:
    """The longest stretches of a window with no point, longest first."""

    stretches: tuple[tuple[float, float], ...]
    window: Window

    def as_dict(self) -> list[dict[str, Any]]:
        """One dict per gap: ``from_km``, ``to_km``, ``length_km``, ``at_window_end``.

        Examples
        --------
        >>> gaps([4.0], window=(0, 10), top=1).as_dict()
        [{'from_km': 4.0, 'to_km': 10.0, 'length_km': 6.0, 'at_window_end': True}]
        """
        a, b = self.window
        return [
            {
                "from_km": x0,
                "to_km": x1,
                "length_km": x1 - x0,
                "at_window_end": bool(x0 == a or x1 == b),
            }
            for x0, x1 in self.stretches
        ]


def gaps(chainage_km: ArrayLike, /, *, window: Window, top: int = 5) -> Gaps:
    """The ``top`` longest stretches of the window without a point.

    A gap runs between consecutive points, or between a window end and the
    nearest point (flagged ``at_window_end``).

    Examples
    --------
    >>> gaps([10.0, 12.0, 50.0], window=(0, 60), top=2).stretches
    ((12.0, 50.0), (0.0, 10.0))
    >>> gaps([], window=(0, 60)).stretches
    ((0.0, 60.0),)
    """
    window = check_window(*window)
    if not isinstance(top, int | np.integer) or top < 1:
        raise ValidationError([Problem("top", top, "give a positive integer")])
    c, _ = _points(chainage_km, None)
    c = np.unique(c[_in_window(c, window)])
    edges = np.concatenate([[window[0]], c, [window[1]]])
    lengths = np.diff(edges)
    order = np.argsort(-lengths, kind="stable")[:top]
    out = tuple((float(edges[i]), float(edges[i + 1])) for i in order if lengths[i] > 0)
    return Gaps(out, window)


# ----------------------------------------------------------------------------- 2-D grid


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
    method: str = "counts per cell (bincount) smoothed by scipy.ndimage.gaussian_filter"

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
    mass leaves it), snapped outward to whole cells.  Points are counted
    per cell and smoothed with a Gaussian of standard deviation
    ``bandwidth_m``; the sum of ``values * cell area in km²`` equals the
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
    x, w = _points(x_m, weights)
    y = np.asarray(y_m, dtype=np.float64).ravel()
    if y.shape != x.shape:
        raise ValidationError([Problem("y_m", f"{y.size} values", f"give {x.size} values, as x_m")])
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
    col = np.floor((x - x0) / cell_m).astype(np.int64)
    row = np.floor((y1 - y) / cell_m).astype(np.int64)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    counts = np.bincount(
        row[inside] * cols + col[inside], weights=w[inside], minlength=rows * cols
    ).reshape(rows, cols)
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
        float(w[inside].sum()),
    )
