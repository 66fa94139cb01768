"""Hotspots: stretches denser than uniform placement, tested by Monte Carlo.

Stretches where the density exceeds the uniform rate ``n / L``; significance
from Monte Carlo simulations of the same number of points placed uniformly
in the window (complete spatial randomness), comparing each stretch's peak
with the simulated maxima of the density (a global envelope, so the test
holds over the whole window).
"""

from __future__ import annotations

__all__ = ["Hotspot", "Hotspots", "hotspots"]

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from geotrack._jit import announce_compile
from geotrack.density.kernel import Kde, _bin_rows, _smooth, kde
from geotrack.density.montecarlo import _batches, _check_sims, _rng
from geotrack.density.window import _TRUNCATE, Window, _in_window, _points, check_window
from geotrack.errors import Problem, ValidationError


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
        announce_compile("hotspot", _bin_rows)
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
