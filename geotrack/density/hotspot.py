"""Hotspots: stretches denser than uniform placement, tested by Monte Carlo.

Stretches where the density exceeds the uniform rate ``n / L``; significance
from Monte Carlo simulations of the same number of points placed uniformly
in the window (complete spatial randomness), comparing each stretch's peak
with the simulated maxima of the density (a global envelope, so the test
holds over the whole window).  A bandwidth chosen from the data (``cv``,
``silverman``) is chosen again, the same way, on every simulation, so that
the test keeps its level.  Sites spread over a stretch keep their spread in
the simulations: each stretch is placed uniformly in the window.
"""

from __future__ import annotations

__all__ = ["Hotspot", "Hotspots", "hotspots"]

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from geotrack._jit import announce_compile
from geotrack.density.bandwidth import (
    CV_NODES,
    _mirror_fft,
    _silverman_rows,
    cv_candidates,
    cv_rows,
    smooth_mirrored,
)
from geotrack.density.kernel import Kde, _bin_rows, _linear_bin, _smooth, kde
from geotrack.density.montecarlo import _batches, _check_sims, _rng
from geotrack.density.spread import Sites, bin_interval_rows, interval_linear_bin, sites
from geotrack.density.window import _TRUNCATE, Window, check_window
from geotrack.errors import Problem, ValidationError

#: Bandwidth rules the test can repeat on every simulation.
RULES = ("given", "cv", "silverman")


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
    expected: float | None = None

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
            "expected_crossings": self.expected,
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
    envelope_per_km : float or None
        The ``1 - alpha`` quantile of the simulated maxima: a stretch whose
        peak exceeds it is significant at level ``alpha`` over the whole window.
    simulations, seed, alpha : int, int, float
        The Monte Carlo set-up.
    bandwidth_rule : str
        ``given`` (fixed), or the rule repeated on every simulation.
    reason : str or None
        Why no test was done (fewer than 2 sites).
    """

    uniform_per_km: float
    stretches: tuple[Hotspot, ...]
    envelope_per_km: float | None
    simulations: int
    seed: int
    alpha: float
    bandwidth_km: float | None
    max_per_km: float | None
    p_value_max: float | None
    bandwidth_rule: str = "given"
    n_spread: int = 0
    reason: str | None = None
    null_model: str = "complete spatial randomness: the same number of points uniform on the window"
    statistic: str = "maximum of the kernel density over the window (global envelope)"

    @property
    def significant(self) -> bool | None:
        """Whether some stretch is a significant hotspot (None when not tested)."""
        return None if self.p_value_max is None else self.p_value_max <= self.alpha

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Examples
        --------
        >>> hs = hotspots([1.0, 1.2, 8.0], window=(0, 10), bandwidth_km=1.0, simulations=9, seed=1)
        >>> sorted(hs.as_dict()["test"])[:3]
        ['alpha', 'bandwidth', 'envelope_per_km']
        """
        null = self.null_model
        if self.n_spread:
            null += (
                f"; the {self.n_spread} spread crossings keep their spread, each stretch "
                "placed uniformly in the window"
            )
        bandwidth = (
            "fixed (given, or chosen without looking at the sites)"
            if self.bandwidth_rule == "given"
            else f"chosen by {self.bandwidth_rule} on the data and again, the same way, "
            "on every simulation"
        )
        return {
            "rule": "stretches where the kernel density exceeds the uniform rate",
            "uniform_per_km": self.uniform_per_km,
            "bandwidth_km": self.bandwidth_km,
            "tested": self.reason is None,
            "reason": self.reason,
            "test": {
                "null_model": null,
                "statistic": self.statistic,
                "bandwidth": bandwidth,
                "simulations": self.simulations,
                "seed": self.seed,
                "alpha": self.alpha,
                "envelope_per_km": self.envelope_per_km,
                "observed_max_per_km": self.max_per_km,
                "p_value": self.p_value_max,
                "significant": self.significant,
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


def _rule_bandwidths(
    rule: str, pos_km: np.ndarray, binned: np.ndarray, window: Window, n_points: int
) -> np.ndarray:
    """The bandwidth *rule* gives on each row (positions, km, and their binning on the CV grid)."""
    if rule == "cv":
        best, _ = cv_rows(binned, window, n_points)
        return cv_candidates(window)[best]
    length = window[1] - window[0]
    return np.clip(
        _silverman_rows(pos_km), length * SILVERMAN_RANGE[0], length * SILVERMAN_RANGE[1]
    )


#: Silverman's rule is held within [window/2000, window] (stated where it applies).
SILVERMAN_RANGE = (1 / 2000, 1.0)


def _test_density(
    s: Sites, window: Window, rule: str, h: float | None
) -> tuple[float, np.ndarray, np.ndarray]:
    """Bandwidth and density (on the CV grid) of observed sites, chosen as in the simulations."""
    a, b = window
    length = b - a
    m = CV_NODES
    step = length / m
    c, w = s.points()
    pts = _linear_bin(c, w, a, step, m)[None, :]
    if rule != "given":
        h = float(_rule_bandwidths(rule, c[None, :], pts, window, c.size)[0])
    allb = pts + interval_linear_bin(*s.spread(), a, step, m)[None, :]
    dens = smooth_mirrored(_mirror_fft(allb), np.array([h / step]), step)[0]
    nodes = a + step * np.arange(m + 1)
    return float(h), nodes, dens


def hotspots(
    chainage_km: ArrayLike,
    /,
    *,
    window: Window,
    bandwidth_km: float | None = None,
    bandwidth_rule: str = "given",
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
    chainage_km : array_like, shape (n,) or (n, 2)
        Chainages, km, or intervals ``[lo, hi]`` (sites spread uniformly over
        a stretch); sites outside the window are ignored.
    window, step_km, weights
        As for :func:`~geotrack.density.kde`.
    bandwidth_km : float, optional
        Kernel bandwidth, km, with ``bandwidth_rule="given"``.
    bandwidth_rule : {"given", "cv", "silverman"}
        ``given``: *bandwidth_km*, held fixed.  ``cv`` or ``silverman``: the
        bandwidth is chosen by likelihood cross-validation or Silverman's
        rule on the point-located sites, and chosen again the same way on
        every simulation (so that the test keeps its level).
    simulations : int
        Uniform simulations of the same sites (and weights, and spreads).
    seed : int, optional
        Seed of the random generator; drawn and reported when omitted.
    alpha : float
        Significance level of the global envelope.
    density : Kde, optional
        The observed density if already computed with the same arguments.

    Returns
    -------
    Hotspots
        Not tested (``reason`` set, no stretches) below 2 sites in the window.

    Examples
    --------
    >>> pts = np.concatenate([np.linspace(40, 42, 30), np.linspace(0, 100, 10)])
    >>> hs = hotspots(pts, window=(0, 100), bandwidth_km=1.0, simulations=99, seed=1)
    >>> [(round(h.peak_km), h.significant) for h in hs.stretches if h.n_points > 5]
    [(41, True)]
    >>> hotspots([100.0], window=(0, 200), bandwidth_km=5.0, simulations=9, seed=1).reason
    'fewer than 2 crossings in the window'
    """
    window = check_window(*window)
    sims = _check_sims(simulations)
    if not 0 < alpha < 1:
        raise ValidationError([Problem("alpha", alpha, "give a level in (0, 1), e.g. 0.05")])
    if bandwidth_rule not in RULES:
        raise ValidationError(
            [Problem("bandwidth_rule", bandwidth_rule, f"use one of {', '.join(RULES)}")]
        )
    if bandwidth_rule == "given" and bandwidth_km is None:
        raise ValidationError(
            [Problem("bandwidth_km", None, "give a bandwidth in km with bandwidth_rule='given'")]
        )
    s = sites(chainage_km, weights, window)
    rng, seed_used = _rng(seed)
    a, b = window
    length = b - a
    total = float(s.w.sum())
    uniform = total / length
    n_sites = s.w.size
    if n_sites < 2 or (bandwidth_rule != "given" and s.n_point < 2):
        reason = (
            "no crossings in the window"
            if n_sites == 0
            else "fewer than 2 crossings in the window"
            if n_sites < 2
            else f"fewer than 2 point-located crossings for the {bandwidth_rule} bandwidth"
        )
        return Hotspots(
            uniform,
            (),
            None,
            sims,
            seed_used,
            float(alpha),
            bandwidth_km,
            None,
            None,
            bandwidth_rule,
            s.n_spread,
            reason,
        )
    c, w = s.points()
    slo, shi, sw = s.spread()
    maxima = np.zeros(sims)
    announce_compile("hotspot", _bin_rows)
    if bandwidth_rule == "given":
        obs = density or kde(
            chainage_km, window=window, bandwidth_km=bandwidth_km, step_km=step_km, weights=weights
        )
        t_nodes, t_dens = obs.km, obs.per_km
        m = len(obs.km) - 1
        step = obs.step_km
        half = math.ceil(_TRUNCATE * obs.bandwidth_km / step)
        sizes = list(_batches(max(n_sites, m + 1 + 2 * half), sims))
    else:
        h, t_nodes, t_dens = _test_density(s, window, bandwidth_rule, None)
        obs = density or kde(
            chainage_km,
            window=window,
            bandwidth_km=h,
            step_km=step_km,
            weights=weights,
            bandwidth_rule=bandwidth_rule,
        )
        m = CV_NODES
        step = length / m
        sizes = list(_batches(max(n_sites, 8 * m), sims))
    width = (shi - slo) / step
    done = 0
    for k in sizes:
        # float32 uniforms: a resolution of window / 2**24 (about 1 cm on 240 km)
        pos = rng.random((k, c.size), dtype=np.float32)
        binned = np.zeros((k, m + 1))
        _bin_rows(pos, w, length / step, m, binned)
        if bandwidth_rule == "given":
            sig = np.full(k, obs.bandwidth_km / step)
        else:
            sig = _rule_bandwidths(bandwidth_rule, a + length * pos, binned, window, c.size) / step
        if slo.size:
            start = rng.random((k, slo.size)) * (m - width)
            bin_interval_rows(start, width, sw, m, binned)
        if bandwidth_rule == "given":
            dens = _smooth(binned, sig[0], step)
        else:
            dens = smooth_mirrored(_mirror_fft(binned), sig, step)
        maxima[done : done + k] = dens.max(axis=1)
        done += k
    q = np.sort(maxima)
    k_env = min(sims - 1, math.ceil((sims + 1) * (1 - alpha)) - 1)
    envelope = float(q[max(k_env, 0)])
    obs_max = float(t_dens.max())

    def pval(peak: float) -> float:
        return float((1 + np.count_nonzero(maxima >= peak)) / (sims + 1))

    stretches = []
    for x0, x1, i0, i1 in _runs_above(obs.km, obs.per_km, uniform):
        seg = obs.per_km[i0 : i1 + 1]
        j = int(np.argmax(seg)) + i0
        inside = (t_nodes >= x0) & (t_nodes <= x1)
        peak = float(t_dens[inside].max()) if inside.any() else float(obs.per_km[j])
        n_in = int(np.count_nonzero((c >= x0) & (c <= x1)))
        expected = float(w[(c >= x0) & (c <= x1)].sum())
        if slo.size:
            expected += float(
                np.clip(np.minimum(shi, x1) - np.maximum(slo, x0), 0, None) @ (sw / (shi - slo))
            )
        p = pval(peak)
        stretches.append(
            Hotspot(x0, x1, float(obs.km[j]), float(obs.per_km[j]), n_in, p, p <= alpha, expected)
        )
    return Hotspots(
        uniform_per_km=uniform,
        stretches=tuple(stretches),
        envelope_per_km=envelope,
        simulations=sims,
        seed=seed_used,
        alpha=float(alpha),
        bandwidth_km=obs.bandwidth_km,
        max_per_km=obs_max,
        p_value_max=pval(obs_max),
        bandwidth_rule=bandwidth_rule,
        n_spread=s.n_spread,
    )
