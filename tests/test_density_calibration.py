"""The hotspot and clustering tests hold their size: seeded runs on uniform samples.

Under uniform placement each test should reject at level alpha = 0.05 about 5% of the time.
With 19 simulations a test rejects only when the observation beats all of them, an exact
level of 1/20 when the test is valid; 200 uniform samples per case tell 0.05 from 0.08 (two
standard errors).  The hotspot test uses the default rule for these sizes, likelihood
cross-validation, chosen again on every simulation.  The long version, with figures, is
``benchmarks/bench_density_calibration.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geotrack.density import clustering, hotspots

ALPHA = 0.05
SAMPLES = 200
SIMULATIONS = 19
BOUND = ALPHA + 2 * math.sqrt(ALPHA * (1 - ALPHA) / SAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("n", [32, 300])
def test_false_positive_rate_on_uniform_samples_is_within_alpha(n):
    rng = np.random.default_rng(20251209 + n)
    window = (0.0, 100.0)
    hot = clu = 0
    for i in range(SAMPLES):
        c = rng.uniform(*window, n)
        hs = hotspots(c, window=window, bandwidth_rule="cv", simulations=SIMULATIONS, seed=i)
        cl = clustering(c, window=window, simulations=SIMULATIONS, seed=i)
        hot += hs.p_value_max <= ALPHA
        clu += cl.p_value <= ALPHA
    assert hot / SAMPLES <= BOUND, f"hotspot test rejects {hot / SAMPLES:.3f} of uniform samples"
    assert clu / SAMPLES <= BOUND, f"clustering test rejects {clu / SAMPLES:.3f} of uniform samples"
