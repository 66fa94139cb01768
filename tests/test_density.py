"""Tests of geotrack.density: bins, kernel density, bandwidths, hotspots, clustering, gaps, grid.

Every chainage here is synthetic, made in code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.density import (
    bin_counts,
    bin_edges,
    check_window,
    clustering,
    cv_bandwidth,
    density_grid,
    gaps,
    hotspots,
    kde,
    silverman_bandwidth,
)
from geotrack.errors import ValidationError, WindowError


def brute_kde(points, window, h, x, weights=None):
    """Reference: Gaussian kernel with reflection images at both ends, summed directly."""
    a, b = window
    length = b - a
    w = np.ones(len(points)) if weights is None else np.asarray(weights, float)
    out = np.zeros_like(x, dtype=float)
    for p, wi in zip(points, w, strict=True):
        for k in range(-4, 5):
            for img in (p + 2 * k * length, 2 * a - p + 2 * k * length):
                out += wi * np.exp(-0.5 * ((x - img) / h) ** 2) / (h * math.sqrt(2 * math.pi))
    return out


# ----------------------------------------------------------------------------- windows


def test_check_window_accepts_and_clamps_rounding():
    assert check_window(0, 238.7, line_km=305.607) == (0.0, 238.7)
    assert check_window(0, 305.607 + 1e-12, line_km=305.607) == (0.0, 305.607)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (50, 20, r"reversed.*\[0, 305.607\] km"),
        (20, 20, r"zero length.*\[0, 305.607\] km"),
        (-1, 20, r"outside the line: the valid range is \[0, 305.607\] km"),
        (0, 400, r"outside the line: the valid range is \[0, 305.607\] km"),
        (float("nan"), 20, r"not finite.*\[0, 305.607\] km"),
        ("x", 20, "not two numbers"),
    ],
)
def test_bad_windows_name_the_valid_range(a, b, message):
    with pytest.raises(WindowError, match=message):
        check_window(a, b, line_km=305.607)


# ----------------------------------------------------------------------------- bins


def test_bins_known_answer_and_short_last_bin():
    b = bin_counts([0.5, 4.9, 5.0, 11.9, 12.0, 13.0, -1.0], window=(0, 12), bin_km=5)
    assert b.edges_km.tolist() == [0.0, 5.0, 10.0, 12.0]
    assert b.count.tolist() == [2, 1, 2]  # 13 and -1 are outside; 12.0 falls in the closed last bin
    assert b.per_km.tolist() == [0.4, 0.2, 1.0]  # the last bin divided by its true 2 km
    d = b.as_dict()
    assert d[2] == {
        "from_km": 10.0,
        "to_km": 12.0,
        "length_km": 2.0,
        "count": 2,
        "spread": 0.0,
        "expected": 2.0,
        "per_km": 1.0,
    }


def test_bins_exact_multiple_has_no_sliver():
    assert bin_edges((0.0, 10.0), 2.5).tolist() == [0.0, 2.5, 5.0, 7.5, 10.0]
    assert bin_edges((0.0, 238.7), 238.7).tolist() == [0.0, 238.7]
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: still 3 bins, not 3 plus a sliver
    assert len(bin_edges((0.0, 0.3), 0.1)) == 4


def test_bins_weighted():
    b = bin_counts([1.0, 1.5, 6.0], window=(0, 10), bin_km=5, weights=[0.5, 0.25, 1.0])
    assert b.count.tolist() == [2, 1]
    assert b.weight.tolist() == [0.75, 1.0]
    assert b.per_km.tolist() == [0.15, 0.2]


@pytest.mark.parametrize("bin_km", [0, -1, 12.5, float("nan"), "five"])
def test_bad_bin_length_is_rejected_with_the_valid_range(bin_km):
    with pytest.raises(ValidationError, match=r"bin_km=.*\(0, 12\] km"):
        bin_counts([1.0], window=(0, 12), bin_km=bin_km)


windows = st.tuples(st.floats(0, 500), st.floats(0.01, 400)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=200, deadline=None)
@given(windows, st.floats(0.001, 1.0), st.lists(st.floats(-100, 1000), max_size=200))
def test_bins_tile_the_window_and_counts_sum_to_points_kept(window, frac, pts):
    bin_km = frac * (window[1] - window[0])
    b = bin_counts(pts, window=window, bin_km=bin_km)
    e = b.edges_km
    assert e[0] == window[0] and e[-1] == window[1]
    assert np.all(np.diff(e) > 0)
    tol = 1e-12 * max(1.0, window[1])  # float spacing of the edges
    np.testing.assert_allclose(np.diff(e)[:-1], bin_km, rtol=0, atol=tol)
    # a remainder under a millionth of a bin is merged into the last bin (documented)
    assert np.diff(e)[-1] <= bin_km * (1 + 1e-6) + tol
    kept = sum(window[0] <= p <= window[1] for p in pts)
    assert b.count.sum() == kept
    np.testing.assert_allclose(b.per_km * np.diff(e), b.count)
    # each point in the bin whose stated edges hold it
    for p in pts:
        if window[0] <= p <= window[1]:
            i = min(np.searchsorted(e, p, side="right") - 1, len(e) - 2)
            assert e[i] <= p <= e[i + 1]


# ----------------------------------------------------------------------------- kernel density


def test_kde_matches_direct_reflected_sum():
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.uniform(0, 100, 50), [0.0, 0.3, 99.9, 100.0]])
    k = kde(pts, window=(0, 100), bandwidth_km=2.0, step_km=0.05)
    ref = brute_kde(pts, (0, 100), 2.0, k.km)
    assert np.max(np.abs(k.per_km - ref)) < 2e-3 * ref.max()


def test_kde_single_point_known_values():
    peak = 1 / math.sqrt(2 * math.pi)
    k = kde([50.0], window=(0, 100), bandwidth_km=1.0)
    assert k.at([50.0])[0] == pytest.approx(peak, rel=2e-3)
    assert k.at([51.0])[0] == pytest.approx(peak * math.exp(-0.5), rel=2e-3)
    # at a window end the mirror image doubles the density
    k = kde([0.0], window=(0, 100), bandwidth_km=1.0)
    assert k.at([0.0])[0] == pytest.approx(2 * peak, rel=2e-3)
    assert k.integral == pytest.approx(1.0, abs=1e-9)


def test_kde_states_its_method():
    d = kde([1.0, 2.0], window=(0, 10), bandwidth_km=1.0).as_dict()
    assert d["kernel"] == "gaussian"
    assert d["units"] == "crossings per km of river"
    assert d["bandwidth_km"] == 1.0 and d["step_km"] == 0.1
    assert "reflection" in d["edge_correction"]
    assert d["values"][0] == {"km": 0.0, "per_km": d["values"][0]["per_km"]}
    assert len(d["values"]) == 101


def test_kde_weights_scale_the_density():
    one = kde([3.0, 7.0], window=(0, 10), bandwidth_km=1.0)
    two = kde([3.0, 7.0], window=(0, 10), bandwidth_km=1.0, weights=[2.0, 2.0])
    np.testing.assert_allclose(two.per_km, 2 * one.per_km)
    assert two.integral == pytest.approx(4.0)


def test_kde_of_no_points_is_zero_not_an_error():
    k = kde([], window=(0, 10), bandwidth_km=1.0)
    assert k.total == 0 and k.integral == 0 and np.all(k.per_km == 0)


@pytest.mark.parametrize("h", [0, -2, 10.5, float("inf")])
def test_bad_bandwidth_is_rejected_with_the_valid_range(h):
    with pytest.raises(ValidationError, match=r"bandwidth_km=.*\(0, 10\] km"):
        kde([1.0], window=(0, 10), bandwidth_km=h)


def test_step_longer_than_half_the_bandwidth_is_rejected():
    with pytest.raises(ValidationError, match=r"step_km=0\.8: must be at most half the bandwidth"):
        kde([1.0], window=(0, 10), bandwidth_km=1.0, step_km=0.8)


@settings(max_examples=150, deadline=None)
@given(
    windows,
    st.floats(0.005, 1.0),
    st.lists(st.floats(0, 1), min_size=1, max_size=100),
)
def test_kde_integrates_to_the_count_and_is_never_negative(window, hfrac, rel):
    length = window[1] - window[0]
    pts = [window[0] + r * length for r in rel]
    h = max(hfrac * length, length / 2000)
    k = kde(pts, window=window, bandwidth_km=h)
    assert np.all(k.per_km >= 0)
    assert k.integral == pytest.approx(len(pts), rel=0.01)
    # and the continuous integral (finer than the grid) agrees within 1 %
    xs = np.linspace(window[0], window[1], 20001)
    assert np.trapezoid(k.at(xs), xs) == pytest.approx(len(pts), rel=0.01)


# ----------------------------------------------------------------------------- bandwidths


def test_silverman_known_value():
    # sd = 15.81, IQR = 20 (standard, type-7 quartiles) -> 0.9 * 20 / 1.34 * 5 ** -0.2
    assert silverman_bandwidth([10.0, 20.0, 30.0, 40.0, 50.0]) == pytest.approx(
        0.9 * 20 / 1.34 * 5**-0.2
    )


def test_silverman_needs_two_distinct_points():
    with pytest.raises(ValidationError, match="bandwidth_rule='silverman': needs at least 2"):
        silverman_bandwidth([3.0, 3.0])


def test_cv_bandwidth_follows_the_scale_of_the_data():
    rng = np.random.default_rng(4)
    tight = np.concatenate([rng.normal(30, 0.5, 300), rng.normal(70, 0.5, 300)])
    wide = np.concatenate([rng.normal(30, 5, 300), rng.normal(70, 5, 300)])
    h_tight = cv_bandwidth(tight, window=(0, 100)).bandwidth_km
    h_wide = cv_bandwidth(wide, window=(0, 100)).bandwidth_km
    assert 0.05 < h_tight < 0.6
    assert 0.8 < h_wide < 5
    assert not cv_bandwidth(wide, window=(0, 100)).at_limit


def test_cv_flags_repeated_identical_chainages():
    pts = [10.0] * 20 + [60.0] * 20
    assert cv_bandwidth(pts, window=(0, 100)).at_limit


def test_cv_needs_two_points():
    with pytest.raises(ValidationError, match="needs at least 2 points"):
        cv_bandwidth([5.0], window=(0, 10))


# ----------------------------------------------------------------------------- hotspots


def test_hotspot_found_where_points_cluster():
    rng = np.random.default_rng(7)
    pts = np.concatenate([rng.uniform(0, 200, 40), rng.normal(120, 1.0, 30)])
    hs = hotspots(pts, window=(0, 200), bandwidth_km=2.0, simulations=199, seed=3)
    assert hs.uniform_per_km == pytest.approx(70 / 200)
    sig = [h for h in hs.stretches if h.significant]
    assert len(sig) == 1
    assert sig[0].from_km < 120 < sig[0].to_km
    assert abs(sig[0].peak_km - 120) < 2
    assert sig[0].p_value == pytest.approx(1 / 200)
    assert hs.envelope_per_km > hs.uniform_per_km
    d = hs.as_dict()
    assert d["test"]["simulations"] == 199 and d["test"]["seed"] == 3


def test_no_hotspot_for_evenly_spaced_points():
    pts = np.linspace(0.5, 199.5, 100)
    hs = hotspots(pts, window=(0, 200), bandwidth_km=2.0, simulations=199, seed=3)
    assert not any(h.significant for h in hs.stretches)
    assert hs.p_value_max > 0.5


def test_hotspots_are_reproducible_with_a_seed_and_report_a_drawn_one():
    pts = [10.0, 11.0, 12.0, 50.0]
    a = hotspots(pts, window=(0, 100), bandwidth_km=2.0, simulations=50, seed=9)
    b = hotspots(pts, window=(0, 100), bandwidth_km=2.0, simulations=50, seed=9)
    assert a == b
    c = hotspots(pts, window=(0, 100), bandwidth_km=2.0, simulations=5)
    assert isinstance(c.seed, int) and c.seed >= 0


def test_hotspots_of_no_points():
    hs = hotspots([], window=(0, 100), bandwidth_km=2.0, simulations=9, seed=1)
    assert hs.stretches == () and hs.uniform_per_km == 0 and hs.p_value_max is None
    assert hs.reason == "no crossings in the window"


@pytest.mark.parametrize("sims", [0, -5, 2.5])
def test_bad_simulation_count(sims):
    with pytest.raises(ValidationError, match="simulations"):
        hotspots([1.0], window=(0, 10), bandwidth_km=1.0, simulations=sims)


# ----------------------------------------------------------------------------- clustering


def test_clustered_points_are_detected():
    rng = np.random.default_rng(8)
    pts = np.concatenate(
        [rng.normal(40, 0.5, 20), rng.normal(150, 0.5, 20), rng.uniform(0, 200, 10)]
    )
    res = clustering(pts, window=(0, 200), simulations=199, seed=2)
    assert res.clustered and res.p_value == pytest.approx(1 / 200)
    assert res.nn_p_value < 0.05 and res.ratio < 1
    d = res.as_dict()
    assert d["simulations"] == 199 and d["seed"] == 2 and d["p_value"] == res.p_value
    assert len(d["ripley_l"]["values"]) == 12


def test_uniform_points_are_not_called_clustered_too_often():
    rng = np.random.default_rng(12)
    rejections = 0
    for _ in range(40):
        res = clustering(
            rng.uniform(0, 100, 30),
            window=(0, 100),
            simulations=99,
            seed=int(rng.integers(1 << 30)),
        )
        rejections += res.clustered
    assert rejections <= 6  # about 2 expected at alpha = 0.05


def test_regular_points_are_dispersed_not_clustered():
    res = clustering(np.linspace(1, 99, 50), window=(0, 100), simulations=199, seed=5)
    assert not res.clustered
    assert res.nn_p_value_dispersed == pytest.approx(1 / 200)
    assert res.ratio > 1


def test_many_points_are_tested_on_a_random_subsample():
    rng = np.random.default_rng(9)
    clustered = np.concatenate([rng.uniform(0, 200, 3000), rng.normal(80, 1.0, 3000)])
    res = clustering(clustered, window=(0, 200), simulations=99, seed=4, max_points=500)
    assert res.n == 6000 and res.n_tested == 500 and res.clustered
    assert "subsample of 500 of the 6000" in res.as_dict()["subsample"]
    # uniform placement is rejected at about the nominal 5 % rate, not more
    calls = [
        clustering(
            rng.uniform(0, 200, 6000), window=(0, 200), simulations=99, seed=s, max_points=500
        )
        for s in range(20)
    ]
    assert sum(c.clustered for c in calls) <= 4
    full = clustering(clustered[:400], window=(0, 200), simulations=9, seed=4, max_points=500)
    assert full.n_tested == 400 and full.as_dict()["subsample"] is None


def test_clustering_of_fewer_than_two_points_says_why():
    assert clustering([], window=(0, 10), simulations=9).reason == "no crossings in the window"
    r = clustering([3.0, 30.0], window=(0, 10), simulations=9, seed=1)
    assert r.reason == "fewer than 2 crossings in the window" and r.p_value is None


def test_ripley_l_under_uniform_is_near_r():
    rng = np.random.default_rng(3)
    res = clustering(rng.uniform(0, 1000, 2000), window=(0, 1000), simulations=19, seed=1)
    for row in res.ripley:
        if row["r_km"] < 50:
            assert row["expected_km"] == pytest.approx(row["r_km"], rel=0.06)
            assert row["envelope_low_km"] <= row["expected_km"] <= row["envelope_high_km"]


# ----------------------------------------------------------------------------- gaps


def test_gaps_known_answer():
    g = gaps([10.0, 12.0, 50.0, 55.0], window=(0, 60), top=3)
    assert g.stretches == ((12.0, 50.0), (0.0, 10.0), (50.0, 55.0))
    d = g.as_dict()
    assert d[0]["length_km"] == 38.0 and not d[0]["at_window_end"]
    assert d[1]["at_window_end"]


def test_gaps_with_no_points_is_the_whole_window():
    assert gaps([], window=(5, 60)).as_dict() == [
        {"from_km": 5.0, "to_km": 60.0, "length_km": 55.0, "at_window_end": True}
    ]


# ----------------------------------------------------------------------------- 2-D grid


def test_grid_conserves_mass_and_places_the_peak():
    rng = np.random.default_rng(0)
    x = rng.normal(400_000, 300, 500)
    y = rng.normal(4_600_000, 300, 500)
    g = density_grid(
        x, y, bounds=(398_000, 4_598_000, 402_000, 4_602_000), cell_m=100, bandwidth_m=400
    )
    assert g.values.dtype == np.float32
    assert float(g.values.sum()) * 0.01 == pytest.approx(500, rel=1e-3)
    a, b, c, d, e, f = g.transform
    assert (a, b, d, e) == (100.0, 0.0, 0.0, -100.0)
    assert c % 100 == 0 and f % 100 == 0
    r, col = np.unravel_index(np.argmax(g.values), g.values.shape)
    assert abs(c + (col + 0.5) * a - 400_000) < 150
    assert abs(f + (r + 0.5) * e - 4_600_000) < 150
    xmin, _ymin, xmax, _ymax = g.bounds
    assert xmin <= 398_000 - 1600 and xmax >= 402_000 + 1600


@pytest.mark.parametrize(("cell", "bw"), [(0, 100), (100, -1), (float("nan"), 100)])
def test_grid_rejects_bad_sizes(cell, bw):
    with pytest.raises(ValidationError, match="positive number of metres"):
        density_grid([0.0], [0.0], bounds=(0, 0, 10, 10), cell_m=cell, bandwidth_m=bw)


def test_grid_refuses_too_many_cells():
    with pytest.raises(ValidationError, match="use larger cells"):
        density_grid([0.0], [0.0], bounds=(0, 0, 1e7, 1e7), cell_m=1, bandwidth_m=1)
