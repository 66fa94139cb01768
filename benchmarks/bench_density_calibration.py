"""Calibration of the hotspot and clustering tests on uniform samples (the long version).

For n = 32 and 300 SYNTHETIC sites uniform on a 100 km window, ``--samples`` seeded samples
each get the hotspot test with the default bandwidth rule for these sizes (likelihood
cross-validation, chosen again on every simulation), the same test with the CV bandwidth
chosen once on the data and held fixed in the simulations (geotrack's behaviour before
issue 10, for comparison), and the clustering test (Ripley's L).  A test of level 0.05
should reject about 5% of uniform samples.  The short version runs in CI:
``tests/test_density_calibration.py``.

Run: ``.venv/bin/python benchmarks/bench_density_calibration.py [--samples 1000]
[--simulations 99] [--no-write]``.  Figures go to stdout and into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _results import write_section

from geotrack.density import clustering, cv_bandwidth, hotspots

ALPHA = 0.05


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--simulations", type=int, default=99)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    window = (0.0, 100.0)
    se = math.sqrt(ALPHA * (1 - ALPHA) / args.samples)
    rows = []
    t0 = time.perf_counter()
    for n in (32, 300):
        rng = np.random.default_rng(20251209 + n)
        rej = {"cv again": 0, "cv held": 0, "ripley": 0}
        small = 0
        for i in range(args.samples):
            c = rng.uniform(*window, n)
            sims = args.simulations
            hs = hotspots(c, window=window, bandwidth_rule="cv", simulations=sims, seed=i)
            h = cv_bandwidth(c, window=window).bandwidth_km
            held = hotspots(c, window=window, bandwidth_km=h, simulations=sims, seed=i)
            cl = clustering(c, window=window, simulations=sims, seed=i)
            rej["cv again"] += hs.p_value_max <= ALPHA
            rej["cv held"] += held.p_value_max <= ALPHA
            rej["ripley"] += cl.p_value <= ALPHA
            small += h < 5.0
        rate = {k: v / args.samples for k, v in rej.items()}
        rows.append(
            f"| {n} | {rate['cv again']:.3f} | {rate['cv held']:.3f} | {rate['ripley']:.3f} | "
            f"{small / args.samples:.2f} |"
        )
        print(rows[-1], flush=True)
    elapsed = time.perf_counter() - t0
    text = (
        "## Calibration of the hotspot and clustering tests\n\n"
        f"`benchmarks/bench_density_calibration.py` — {args.samples} seeded uniform samples "
        f"of n SYNTHETIC sites on a 100 km window per n, {args.simulations} simulations per "
        f"test, alpha {ALPHA}; a valid test rejects about {ALPHA} (standard error "
        f"{se:.4f}, so the bound alpha + 2 SE is {ALPHA + 2 * se:.3f}). {elapsed:.0f} s.\n\n"
        "| n | hotspots, CV chosen again in every simulation (now) | hotspots, CV held fixed "
        "(before) | clustering, Ripley's L | share of samples where CV chose under 5 km |\n"
        "| ---: | ---: | ---: | ---: | ---: |\n" + "\n".join(rows) + "\n\n"
    )
    print(text)
    if not args.no_write:
        write_section("density-calibration", text)


if __name__ == "__main__":
    main()
