"""Bandwidth rules for the kernel density: Silverman's rule of thumb and likelihood cross-validation.

* Silverman: ``0.9 * min(sd, IQR / 1.34) * n ** (-1/5)``;
* likelihood cross-validation: the leave-one-out log-likelihood maximised
  over bandwidths.
"""

from __future__ import annotations

__all__ = ["BandwidthChoice", "cv_bandwidth", "silverman_bandwidth"]

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from geotrack.density.kernel import _linear_bin
from geotrack.density.window import _TRUNCATE, Window, _in_window, _points, check_window
from geotrack.errors import Problem, ValidationError


def _weighted_quantile(c: np.ndarray, w: np.ndarray, q: list[float]) -> np.ndarray:
    order = np.argsort(c, kind="stable")
    cs, ws = c[order], w[order]
    cw = np.cumsum(ws) - 0.5 * ws
    return np.interp(np.asarray(q) * ws.sum(), cw, cs)


def silverman_bandwidth(chainage_km: ArrayLike, /, *, weights: ArrayLike | None = None) -> float:
    """Silverman's rule of thumb: ``0.9 * min(sd, IQR / 1.34) * n ** (-1/5)``, km.

    The quartiles are the standard ones (linear interpolation between order
    statistics, R's type 7, as numpy, scipy, statsmodels and R's ``bw.nrd0``
    use).  With weights, ``sd`` and ``IQR`` are weighted (the quartiles then
    interpolate between the mid-points of the cumulative weights) and ``n``
    is Kish's effective sample size ``(sum w)^2 / sum w^2``.  When the IQR is
    zero the standard deviation alone is used.

    Raises
    ------
    ValidationError
        Fewer than two distinct chainages: no spread to measure.

    Examples
    --------
    >>> round(silverman_bandwidth([10.0, 20.0, 30.0, 40.0, 50.0]), 3)
    9.736
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
    if weights is None or np.all(w == w[0]):
        n_eff = float(c.size)
        sd = float(np.std(c, ddof=1))
        q1, q3 = np.quantile(c, [0.25, 0.75])
    else:
        wsum = w.sum()
        mean = float((w * c).sum() / wsum)
        n_eff = wsum**2 / (w**2).sum()
        var = float((w * (c - mean) ** 2).sum() / wsum) * n_eff / max(n_eff - 1, 1e-12)
        sd = math.sqrt(var)
        q1, q3 = _weighted_quantile(c, w, [0.25, 0.75])
    iqr = float(q3 - q1)
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    return float(0.9 * spread * n_eff ** (-0.2))


def _silverman_rows(x: np.ndarray) -> np.ndarray:
    """Silverman's rule (standard quartiles) for each row of unweighted chainages."""
    n = x.shape[1]
    sd = np.std(x, axis=1, ddof=1)
    q1, q3 = np.quantile(x, [0.25, 0.75], axis=1)
    iqr = q3 - q1
    spread = np.where(iqr > 0, np.minimum(sd, iqr / 1.34), sd)
    return 0.9 * spread * n ** (-0.2)


#: Nodes of the grid likelihood cross-validation works on (the window in equal steps).
CV_NODES = 4096
#: Bandwidths cross-validation chooses among: log-spaced, window/1000 to window/2.
CV_CANDIDATES = 32
CV_RANGE = (1 / 1000, 1 / 2)


def cv_candidates(window: Window) -> np.ndarray:
    """The bandwidths, km, likelihood cross-validation chooses among on a window.

    Examples
    --------
    >>> c = cv_candidates((0.0, 100.0))
    >>> len(c), float(c[0]), float(c[-1])
    (32, 0.1, 50.0)
    """
    length = window[1] - window[0]
    return np.geomspace(length * CV_RANGE[0], length * CV_RANGE[1], CV_CANDIDATES)


def _transfer(sigma_nodes: np.ndarray, m: int) -> np.ndarray:
    """Fourier transfer of the Gaussian on the period-``2m`` mirrored grid, one row per sigma."""
    sig = np.asarray(sigma_nodes, dtype=np.float64)
    f = np.arange(m + 1) / (2.0 * m)
    if sig.ndim and np.all(sig == sig.flat[0]):
        sig = sig.flat[0]  # one transfer for every row
    return np.exp(-2.0 * (math.pi * np.asarray(sig)[..., None] * f) ** 2)


def _mirror_fft(binned: np.ndarray) -> np.ndarray:
    """FFT of the node weights mirrored at both ends (so convolution is reflection)."""
    b = np.array(binned, dtype=np.float64, copy=True)
    b[..., 0] *= 2.0
    b[..., -1] *= 2.0
    mirrored = np.concatenate([b, b[..., -2:0:-1]], axis=-1)
    return np.fft.rfft(mirrored, axis=-1)


def smooth_mirrored(spectrum: np.ndarray, sigma_nodes: np.ndarray, step: float) -> np.ndarray:
    """Reflected Gaussian density (per km) at the nodes, from :func:`_mirror_fft` of node weights.

    The reflection is exact (every image, by periodicity); *sigma_nodes* has
    one value per row.
    """
    m = spectrum.shape[-1] - 1
    out = np.fft.irfft(spectrum * _transfer(sigma_nodes, m), 2 * m, axis=-1)[..., : m + 1]
    return np.maximum(out, 0.0) / step


@functools.lru_cache(maxsize=4 * CV_CANDIDATES)
def _self_kernel(sigma_nodes: float, m: int) -> np.ndarray:
    """Kernel weight (per node) a unit weight at each node gives that node, with its mirror images."""
    p = np.arange(m + 1, dtype=np.float64)
    out = np.zeros(m + 1)
    for k in range(-3, 4):  # images at 2mk (itself) and 2mk - 2p (its mirrors)
        out += np.exp(-0.5 * (2 * m * k / sigma_nodes) ** 2)
        out += np.exp(-0.5 * ((2 * m * k - 2 * p) / sigma_nodes) ** 2)
    out /= sigma_nodes * math.sqrt(2 * math.pi)
    out.flags.writeable = False
    return out


#: Cross-validation scores every :data:`CV_COARSE`-th candidate, then the candidates
#: around the best of those (the same procedure on the data and on every simulation).
CV_COARSE = 4


def cv_rows(
    binned: np.ndarray, window: Window, n_points: int, *, every: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Likelihood cross-validation for each row of node weights on the CV grid.

    Returns the index of the chosen candidate per row and the scores (rows x
    candidates; NaN where not evaluated).  The score is the weighted mean
    leave-one-out log density at the binned weights: at each node, one
    point's own contribution (the mean weight of the *n_points*) with its
    mirror images removed.  Every :data:`CV_COARSE`-th candidate (and the
    last) is scored, then those within :data:`CV_COARSE` of the best; with
    *every*, all of them.
    """
    m = binned.shape[-1] - 1
    step = (window[1] - window[0]) / m
    cand = cv_candidates(window)
    sig = cand / step
    spec = _mirror_fft(binned)
    total = binned.sum(axis=-1)
    rows = binned.shape[0]
    r, col = np.nonzero(binned > 0)
    b_nz = binned[r, col]
    mean_w = total / max(n_points, 1)
    denom = np.maximum(total - mean_w, 1e-300)
    own = np.stack([_self_kernel(round(float(x), 9), m) for x in sig]) / step
    scores = np.full((rows, cand.size), np.nan)
    floor_base = math.exp(-0.5 * _TRUNCATE**2) / math.sqrt(2 * math.pi)
    rows_all = np.arange(rows)

    dense = r.size > binned.size // 4  # many occupied nodes: whole rows are cheaper

    def score(idx: np.ndarray) -> None:
        dens = smooth_mirrored(spec, sig[idx], step)
        floor = floor_base / cand[idx] / np.maximum(total, 1.0)
        if dense:
            loo = (dens - mean_w[:, None] * own[idx]) / denom[:, None]
            np.maximum(loo, floor[:, None], out=loo)
            np.log(loo, out=loo)
            s_ = np.einsum("ij,ij->i", binned, loo)
        else:
            loo = (dens[r, col] - mean_w[r] * own[idx[r], col]) / denom[r]
            loo = np.maximum(loo, floor[r])
            s_ = np.bincount(r, weights=b_nz * np.log(loo), minlength=rows)
        scores[rows_all, idx] = s_ / np.maximum(total, 1e-300)

    if every:
        for i in range(cand.size):
            score(np.full(rows, i))
    else:
        coarse = sorted({*range(0, cand.size, CV_COARSE), cand.size - 1})
        for i in coarse:
            score(np.full(rows, i))
        best = np.nanargmax(scores, axis=1)
        for off in range(-CV_COARSE + 1, CV_COARSE):
            idx = np.clip(best + off, 0, cand.size - 1)
            todo = np.isnan(scores[rows_all, idx])
            if todo.any():
                score(idx)
    return np.nanargmax(scores, axis=1), scores


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
    rule: str = (
        "likelihood cross-validation (leave-one-out, Gaussian kernel, reflection): "
        f"the best of {CV_CANDIDATES} log-spaced bandwidths from window/1000 to window/2"
    )


def cv_bandwidth(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    weights: ArrayLike | None = None,
) -> BandwidthChoice:
    """Choose a bandwidth by likelihood cross-validation.

    Maximises the (weighted) mean leave-one-out log density of the points
    over :data:`CV_CANDIDATES` log-spaced bandwidths from window/1000 to
    window/2 (:func:`cv_candidates`).  The points are linearly binned on
    :data:`CV_NODES` equal steps of the window and the reflected Gaussian
    density computed exactly (every mirror image, by FFT on the mirrored
    grid); each unit of weight's own contribution, with its mirror images,
    is removed.  Being a fixed procedure on a fixed grid, the Monte Carlo
    tests can repeat it on every simulation.

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
    step = (window[1] - window[0]) / CV_NODES
    binned = _linear_bin(c, w, window[0], step, CV_NODES)[None, :]
    best, _ = cv_rows(binned, window, c.size)
    cand = cv_candidates(window)
    i = int(best[0])
    return BandwidthChoice(
        float(cand[i]), (float(cand[0]), float(cand[-1])), i in (0, cand.size - 1)
    )
