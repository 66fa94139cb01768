"""Clustering along the river and the gaps between points.

* **clustering**: mean nearest-neighbour distance and 1-D Ripley's L
  function, each against Monte Carlo simulations under complete spatial
  randomness (seeded, number stated), with a p-value;
* **gaps**: the longest stretches of the window with no point.
"""

from __future__ import annotations

__all__ = ["Clustering", "Gaps", "clustering", "gaps"]

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from geotrack._jit import announce_compile, njit, prange
from geotrack.density.montecarlo import _batches, _check_sims, _rng
from geotrack.density.spread import sites
from geotrack.density.window import Window, check_window
from geotrack.errors import Problem, ValidationError


@njit()
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


@njit(parallel=True)
def _sim_stats(spacings, a, length, radii, nn_out, counts_out):  # pragma: no cover - compiled
    rows, n1 = spacings.shape
    n = n1 - 1
    for r in prange(rows):
        tot = 0.0
        for i in range(n1):
            tot += spacings[r, i]
        x = np.empty(n)
        acc = 0.0
        for i in range(n):
            acc += spacings[r, i]
            x[i] = a + length * acc / tot
        nn_out[r] = _sorted_stats(x, radii, counts_out[r])


@njit(parallel=True)
def _rows_stats(x, radii, nn_out, counts_out):  # pragma: no cover - compiled
    # x: rows of sorted positions
    for r in prange(x.shape[0]):
        nn_out[r] = _sorted_stats(x[r], radii, counts_out[r])


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
    n_spread: int = 0

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
        null = "complete spatial randomness: the same number of points uniform on the window"
        if self.n_spread:
            null += (
                f"; the {self.n_spread} spread crossings keep their spread (each stretch, as "
                "clipped to the window, placed uniformly in it) and are tested at one position "
                "drawn uniformly within their stretch (seeded), as in every simulation"
            )
        return {
            "null_model": null,
            "n_spread": self.n_spread,
            "statistic": "Ripley's L along the river: largest studentised excess of L(r) over "
            "its mean, across radii (global test; mean and sd of the observation and the "
            "simulations together, so that the test holds its level)",
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
    st = sites(chainage_km, None, window)
    order = np.argsort(st.lo, kind="stable")
    c, width = st.lo[order], (st.hi - st.lo)[order]
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
        pick = np.sort(rng.choice(n, size=int(max_points), replace=False))
        c, width = c[pick], width[pick]
        n = c.size
    spread = bool(np.any(width > 0))
    if spread:  # each spread site at one position drawn uniformly within its stretch
        c = np.sort(c + rng.random(n) * width)
    obs_counts = np.zeros(radii.size, dtype=np.int64)
    announce_compile("clustering", _sorted_stats, _sim_stats)
    obs_nn = _sorted_stats(c, radii, obs_counts)
    nn = np.empty(sims)
    counts = np.zeros((sims, radii.size), dtype=np.int64)
    done = 0
    for k in _batches(n + 1, sims):
        if spread:
            x = a + rng.random((k, n)) * (length - width) + rng.random((k, n)) * width
            x.sort(axis=1)
            _rows_stats(x, radii, nn[done : done + k], counts[done : done + k])
        else:
            spac = rng.standard_exponential((k, n + 1))  # sorted uniforms from spacings
            _sim_stats(spac, a, length, radii, nn[done : done + k], counts[done : done + k])
        done += k
    scale = length / (n * (n - 1)) / 2.0  # L(r) = K(r) / 2 in one dimension
    l_obs = obs_counts * scale
    l_sim = counts * scale
    l_mean = l_sim.mean(axis=0)
    lo_q, hi_q = np.quantile(l_sim, [alpha / 2, 1 - alpha / 2], axis=0)
    # studentised with the mean and sd of the observation and the simulations together, so
    # that all are treated alike (exchangeable) and the test holds its level however few
    # the simulations
    pooled = np.vstack([l_obs[None, :], l_sim])
    p_mean, p_sd = pooled.mean(axis=0), pooled.std(axis=0)
    ok = p_sd > 0
    if ok.any():
        t_obs = float(np.max((l_obs[ok] - p_mean[ok]) / p_sd[ok]))
        t_sim = np.max((l_sim[:, ok] - p_mean[ok]) / p_sd[ok], axis=1)
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
        n_spread=st.n_spread,
    )


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
    """The ``top`` longest stretches of the window where no site is, or may be.

    A gap runs between consecutive sites, or between a window end and the
    nearest site (flagged ``at_window_end``); a site spread over a stretch
    covers its whole stretch (chainage_km of shape ``(n, 2)``).

    Examples
    --------
    >>> gaps([10.0, 12.0, 50.0], window=(0, 60), top=2).stretches
    ((12.0, 50.0), (0.0, 10.0))
    >>> gaps([], window=(0, 60)).stretches
    ((0.0, 60.0),)
    >>> gaps([[10.0, 20.0], [12.0, 14.0], [50.0, 50.0]], window=(0, 60), top=2).stretches
    ((20.0, 50.0), (0.0, 10.0))
    """
    window = check_window(*window)
    if not isinstance(top, int | np.integer) or top < 1:
        raise ValidationError([Problem("top", top, "give a positive integer")])
    st = sites(chainage_km, None, window)
    order = np.argsort(st.lo, kind="stable")
    lo, hi = st.lo[order], st.hi[order]
    covered_to = np.maximum.accumulate(hi) if hi.size else hi
    starts = np.concatenate([[window[0]], covered_to])  # a gap may start where cover ends
    ends = np.concatenate([lo, [window[1]]])
    lengths = ends - starts
    order = np.argsort(-lengths, kind="stable")[:top]
    out = tuple((float(starts[i]), float(ends[i])) for i in order if lengths[i] > 0)
    return Gaps(out, window)
