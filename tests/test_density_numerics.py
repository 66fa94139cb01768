"""Numerics of geotrack.density against independent implementations.

Each statistic is set beside a direct computation written here from its definition: the exact
reflected kernel density of points and of uniform stretches (closed form with the normal
CDF), the leave-one-out likelihood summed over pairs, Silverman's rule in statsmodels,
Ripley's L by counting pairs, and a 2-D Gaussian kernel summed point by point.  Data are
synthetic, made in code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from geotrack.density import (
    bin_counts,
    clustering,
    cv_bandwidth,
    density_grid,
    gaps,
    hotspots,
    kde,
    silverman_bandwidth,
)
from geotrack.density.bandwidth import CV_NODES, cv_candidates, cv_rows
from geotrack.density.kernel import _linear_bin
from geotrack.errors import ValidationError

IMAGES = range(-4, 5)


def exact_spread_kde(lo, hi, window, h, x):
    """Reflected Gaussian density of uniforms on [lo, hi] (lo == hi: a point), summed directly."""
    a, b = window
    length = b - a
    out = np.zeros_like(x, dtype=float)
    for p, q in zip(lo, hi, strict=True):
        for k in IMAGES:
            shift = 2 * k * length
            for u, v in ((p + shift, q + shift), (2 * a - q + shift, 2 * a - p + shift)):
                if v > u:
                    out += (ndtr((x - u) / h) - ndtr((x - v) / h)) / (v - u)
                else:
                    out += np.exp(-0.5 * ((x - u) / h) ** 2) / (h * math.sqrt(2 * math.pi))
    return out


def exact_loo(c, window, h):
    """Mean leave-one-out log density with the reflected Gaussian kernel, over all pairs."""
    a, b = window
    length = b - a
    d = c[:, None] - c[None, :]
    s = c[:, None] + c[None, :] - 2 * a
    k = np.zeros_like(d)
    for j in IMAGES:
        k += np.exp(-0.5 * ((d + 2 * j * length) / h) ** 2)
        k += np.exp(-0.5 * ((s + 2 * j * length) / h) ** 2)
    k /= h * math.sqrt(2 * math.pi)
    f = (k.sum(axis=1) - np.diag(k)) / (c.size - 1)
    return float(np.mean(np.log(np.maximum(f, 1e-300))))


# ----------------------------------------------------------------------------- spread sites


def test_spread_kde_matches_the_exact_reflected_density():
    lo = np.array([2.0, 10.0, 30.0, 47.0, 0.0])
    hi = np.array([2.0, 25.0, 31.0, 50.0, 4.0])
    window, h = (0.0, 50.0), 1.5
    k = kde(np.column_stack([lo, hi]), window=window, bandwidth_km=h, step_km=0.05)
    want = exact_spread_kde(lo, hi, window, h, k.km)
    np.testing.assert_allclose(k.per_km, want, atol=2e-4 * want.max())
    assert k.integral == pytest.approx(5.0, rel=1e-9)


def test_a_site_straddling_the_window_counts_for_its_part_inside():
    iv = [[90.0, 110.0], [50.0, 50.0]]
    k = kde(iv, window=(0, 100), bandwidth_km=2.0)
    assert k.total == pytest.approx(1.5) and k.integral == pytest.approx(1.5)
    b = bin_counts(iv, window=(0, 100), bin_km=10)
    assert b.weight[-1] == pytest.approx(0.5) and b.weight.sum() == pytest.approx(1.5)
    assert b.count.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]


intervals = st.lists(
    st.tuples(st.floats(-20, 120), st.one_of(st.just(0.0), st.floats(1e-6, 60))).map(
        lambda t: (t[0], t[0] + t[1])
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(intervals, st.floats(0.05, 20), st.floats(0.5, 30))
def test_spreading_never_changes_the_total_mass(iv, h, bin_km):
    window = (0.0, 100.0)
    arr = np.array(iv, dtype=float).reshape(-1, 2)
    inside = np.clip(np.minimum(arr[:, 1], 100) - np.maximum(arr[:, 0], 0), 0, None)
    width = arr[:, 1] - arr[:, 0]
    point_in = (width == 0) & (arr[:, 0] >= 0) & (arr[:, 0] <= 100)
    share = np.where(width > 0, inside / np.where(width > 0, width, 1), point_in)
    want = float(share.sum())
    b = bin_counts(arr, window=window, bin_km=bin_km)
    assert b.weight.sum() == pytest.approx(want, abs=1e-9)
    assert np.all(b.weight >= -1e-12)
    k = kde(arr, window=window, bandwidth_km=h)
    assert k.integral == pytest.approx(want, abs=1e-8)
    assert np.all(k.per_km >= 0)


def test_gaps_leave_out_the_stretches_a_spread_site_may_be_on():
    g = gaps([[10.0, 30.0], [70.0, 70.0]], window=(0, 100), top=3)
    assert g.stretches == ((30.0, 70.0), (70.0, 100.0), (0.0, 10.0))


def test_hotspots_and_clustering_with_spread_sites_keep_their_spread_in_simulation():
    rng = np.random.default_rng(5)
    pts = rng.uniform(0, 180, 30)
    iv = np.column_stack([pts, pts])
    iv[:10, 1] += 20.0  # ten sites known only to 20 km
    hs = hotspots(iv, window=(0, 200), bandwidth_km=5.0, simulations=99, seed=2)
    d = hs.as_dict()
    assert hs.n_spread == 10 and "keep their spread" in d["test"]["null_model"]
    assert hs.uniform_per_km == pytest.approx(30 / 200)
    cl = clustering(iv, window=(0, 200), simulations=99, seed=2)
    assert (
        cl.n_spread == 10 and "drawn uniformly within their stretch" in cl.as_dict()["null_model"]
    )
    assert cl.p_value is not None


# ----------------------------------------------------------------------------- bandwidths


def test_cv_score_matches_the_direct_leave_one_out_likelihood():
    rng = np.random.default_rng(11)
    window = (0.0, 100.0)
    datasets = [
        rng.uniform(0, 100, 120),  # near uniform: the large bandwidths matter
        np.concatenate([rng.normal(30, 2, 60), rng.normal(75, 6, 60)]),
    ]
    cand = cv_candidates(window)
    step = 100.0 / CV_NODES  # 24 m
    for c in datasets:
        c = np.clip(c, 0.0, 100.0)
        binned = _linear_bin(c, np.ones(c.size), 0.0, step, CV_NODES)[None, :]
        _, ours = cv_rows(binned, window, c.size, every=True)
        exact = np.array([exact_loo(c, window, h) for h in cand])
        # from 1 km up (the small ones are floored where a point has no neighbour within 8 h)
        big = cand >= 1.0
        np.testing.assert_allclose(ours[0, big], exact[big], atol=2e-3)
        # no upward bias at large bandwidths: the same best candidate
        assert cand[int(np.argmax(ours[0]))] == pytest.approx(cand[int(np.argmax(exact))])


def test_cv_bandwidth_of_near_uniform_data_is_where_the_exact_likelihood_peaks():
    # for uniform data the exact optimum may itself be the largest bandwidth (the reflected
    # density tends to uniform): geotrack's choice must be the exact one, not pushed by a bias
    cand = cv_candidates((0, 100))
    for seed in range(4):
        c = np.random.default_rng(seed).uniform(0, 100, 200)
        exact = [exact_loo(c, (0, 100), h) for h in cand]
        best = cv_bandwidth(c, window=(0, 100)).bandwidth_km
        assert best == pytest.approx(cand[int(np.argmax(exact))])


@pytest.mark.parametrize("n", [5, 10, 32])
def test_silverman_agrees_with_statsmodels(n):
    bandwidths = pytest.importorskip("statsmodels.nonparametric.bandwidths")
    rng = np.random.default_rng(n)
    c = np.concatenate([rng.normal(20, 0.3, n // 2), rng.normal(80, 0.3, n - n // 2)])
    ours = silverman_bandwidth(c)
    theirs = float(bandwidths.bw_silverman(c))
    # statsmodels divides the IQR by 1.349, R's bw.nrd0 (and geotrack) by 1.34
    assert ours == pytest.approx(theirs, rel=0.0068)
    q1, q3 = np.percentile(c, [25, 75])
    r_nrd0 = 0.9 * min(np.std(c, ddof=1), (q3 - q1) / 1.34) * n**-0.2
    assert ours == pytest.approx(r_nrd0, rel=1e-12)


# ----------------------------------------------------------------------------- tests


def test_ripley_l_matches_direct_pair_counts():
    rng = np.random.default_rng(2)
    c = np.sort(np.concatenate([rng.uniform(0, 50, 40), rng.normal(20, 0.5, 20)]).clip(0, 50))
    res = clustering(c, window=(0, 50), simulations=19, seed=1)
    n = c.size
    d = np.abs(c[:, None] - c[None, :])
    for row in res.ripley:
        pairs = np.count_nonzero(d <= row["r_km"]) - n  # ordered pairs, self excluded
        assert row["l_km"] == pytest.approx(50.0 / (n * (n - 1)) / 2.0 * pairs, rel=1e-12)
    nn = np.sort(d + np.diag(np.full(n, np.inf)), axis=1)[:, 0]
    assert res.mean_nn_km == pytest.approx(nn.mean())


@pytest.mark.parametrize("km", [100.0, 100.05])
def test_a_single_crossing_is_not_tested_for_hotspots(km):
    hs = hotspots([km], window=(0, 200), bandwidth_km=5.0, simulations=99, seed=1)
    assert hs.reason == "fewer than 2 crossings in the window"
    assert hs.p_value_max is None and hs.stretches == () and hs.significant is None
    assert hs.as_dict()["tested"] is False


def test_data_chosen_bandwidth_is_chosen_again_on_every_simulation():
    rng = np.random.default_rng(4)
    c = np.concatenate([rng.uniform(0, 100, 30), rng.normal(50, 0.4, 15)])
    hs = hotspots(c, window=(0, 100), bandwidth_rule="cv", simulations=99, seed=1)
    assert hs.bandwidth_km == pytest.approx(cv_bandwidth(c, window=(0, 100)).bandwidth_km)
    assert "again, the same way, on every simulation" in hs.as_dict()["test"]["bandwidth"]
    assert any(h.significant and h.from_km < 50 < h.to_km for h in hs.stretches)
    few = hotspots([10.0, 20.0], window=(0, 100), bandwidth_rule="cv", simulations=9, seed=1)
    assert few.p_value_max is not None  # 2 point-located sites: tested


# ----------------------------------------------------------------------------- steps and grids


def test_one_rule_for_small_bandwidths_with_or_without_a_step():
    window = (0.0, 100.0)
    h = 1e-5  # 1 cm: half of it is under window / 2,000,000
    for step in (None, h / 2):
        with pytest.raises(ValidationError, match=r"bandwidth_km=1e-05: is too small for a 100 km"):
            kde([50.0], window=window, bandwidth_km=h, step_km=step)
    h = 2 * 100.0 / 2_000_000  # the smallest allowed: the step is half of it
    k = kde([50.0], window=window, bandwidth_km=h)
    assert k.step_km == pytest.approx(h / 2)
    x = np.linspace(50 - 3 * h, 50 + 3 * h, 13)
    np.testing.assert_allclose(k.at(x), exact_spread_kde([50.0], [50.0], window, h, x), rtol=0.1)
    assert k.integral == pytest.approx(1.0)


def test_density_grid_refuses_nan_and_infinite_coordinates():
    for y in ([50.0, math.nan], [50.0, math.inf]):
        with pytest.raises(
            ValidationError, match="not finite: every coordinate must be a finite number"
        ):
            density_grid([50.0, 60.0], y, bounds=(0, 0, 100, 100), cell_m=10, bandwidth_m=20)


def exact_grid(x, y, g):
    rows, cols = g.values.shape
    a, _, c, _, e, f = g.transform
    cx = c + a * (np.arange(cols) + 0.5)
    cy = f + e * (np.arange(rows) + 0.5)
    h = g.bandwidth_m
    out = np.zeros((rows, cols))
    for px, py in zip(x, y, strict=True):
        out += np.outer(np.exp(-0.5 * ((cy - py) / h) ** 2), np.exp(-0.5 * ((cx - px) / h) ** 2))
    return out / (2 * math.pi * h * h) * 1e6  # per km²


def test_grid_peak_matches_a_direct_kernel_sum_with_cells_a_quarter_of_the_bandwidth():
    rng = np.random.default_rng(9)
    x, y = rng.uniform(0, 1000, 30), rng.uniform(0, 1000, 30)
    g = density_grid(x, y, bounds=(0, 0, 1000, 1000), cell_m=30, bandwidth_m=120)
    want = exact_grid(x, y, g)
    assert float(g.values.max()) == pytest.approx(want.max(), rel=0.03)
    np.testing.assert_allclose(g.values, want, atol=0.03 * want.max())
    assert g.total == pytest.approx(30.0)


def test_default_raster_cells_are_at_most_a_quarter_of_the_bandwidth(ws):
    from geotrack.analysis import DensityOptions, density_report

    r = density_report(ws, DensityOptions(bandwidth_km=0.119, simulations=9))
    assert r.grid().cell_m <= 0.119 * 1000 / 4
