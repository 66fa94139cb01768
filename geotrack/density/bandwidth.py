"""Bandwidth rules for the kernel density: Silverman's rule of thumb and likelihood cross-validation.

* Silverman: ``0.9 * min(sd, IQR / 1.34) * n ** (-1/5)``;
* likelihood cross-validation: the leave-one-out log-likelihood maximised
  over bandwidths.
"""

from __future__ import annotations

__all__ = ["BandwidthChoice", "cv_bandwidth", "silverman_bandwidth"]

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from geotrack.density.kernel import _grid, _kernel, _linear_bin, _smooth
from geotrack.density.window import _TRUNCATE, Window, _in_window, _points, check_window
from geotrack.errors import Problem, ValidationError


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
