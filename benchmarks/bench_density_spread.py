"""Benchmark: the density of 100,000 sites, half spread over reaches of 1–100 km, vs the same as points.

Makes 100,000 SYNTHETIC crossing features in code (uniform along the bundled stretch plus a
cluster; flagged ``synthetic``).  In the *spread* case half of them carry
``chainage_from_km``/``chainage_to_km``: a reach of 1–100 km (log-uniform) around the
site, clipped to the line; in the *points* case the same sites are all ``exact``.  Both go
through :func:`geotrack.analysis.analyse` with the defaults of ``geotrack density``
(window ``reported``, 5 km bins, the ``auto`` bandwidth, 999 simulations for hotspots and
clustering), timed side by side in one process, interleaved, best of ``--reps``; and the
spread case once more with ``include_spread`` (the tests simulating the spreads too).
The features are made in code rather than read from a store: reading is the same for
both cases.  Target (issue 10): the spread case within 2x of the point case.

Run: ``.venv/bin/python benchmarks/bench_density_spread.py [--n 100000] [--reps 3] [--no-write]``
Figures go to stdout and into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time

import numpy as np
from _results import write_section

from geotrack.analysis import DensityOptions, analyse
from geotrack.crs import to_wire
from geotrack.linear import LineIndex
from geotrack.workspace import init_workspace


def make_features(stretch, n: int, *, spread: bool, seed: int = 20251209) -> list[dict]:
    """SYNTHETIC crossings on the stretch line; with *spread*, half known only to a reach."""
    rng = np.random.default_rng(seed)
    index = LineIndex(stretch.line_m)
    line_km = index.length_m / 1000.0
    km = np.concatenate([rng.uniform(0, 238.7, n - n // 10), rng.normal(120, 2.0, n // 10)])
    km = np.clip(km, 0, 238.7)
    x, y = index.interpolate(km * 1000.0)
    lon, lat = to_wire(x, y)
    width = np.exp(rng.uniform(np.log(1.0), np.log(100.0), n))
    lo = np.clip(km - width / 2, 0, line_km)
    hi = np.clip(km + width / 2, 0, line_km)
    feats = []
    for i in range(n):
        props = {"id": f"YLU-{i + 1:06d}", "synthetic": True, "location_precision": "exact"}
        if spread and i % 2:
            props.update(
                location_precision="reach",
                chainage_from_km=float(lo[i]),
                chainage_to_km=float(hi[i]),
            )
        feats.append(
            {
                "type": "Feature",
                "id": props["id"],
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
            }
        )
    return feats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    import tempfile

    ws = init_workspace(os.path.join(tempfile.mkdtemp(), "w"))
    window = ws.window("reported")
    info = ws.describe_window(window)
    cases = {
        "points": (make_features(ws.stretch, args.n, spread=False), DensityOptions()),
        "spread": (make_features(ws.stretch, args.n, spread=True), DensityOptions()),
        "spread, --include-spread": (
            make_features(ws.stretch, args.n, spread=True),
            DensityOptions(include_spread=True),
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    docs = {}
    run = lambda f, o: analyse(  # noqa: E731
        f, stretch=ws.stretch, window=window, window_info=info, towns=ws.towns, options=o
    )
    run(*cases["spread, --include-spread"])  # compile the kernels once, outside the timing
    for _ in range(args.reps):
        for name, (feats, opts) in cases.items():
            gc.collect()
            t = time.perf_counter()
            docs[name] = run(feats, opts).summary
            times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    rows = []
    for name in cases:
        s = docs[name]
        loc = s["location"]
        rows.append(
            f"| {name} | {loc['n_point']:,} | {loc['n_spread']:,} | "
            f"{s['kde']['bandwidth_km']:.3g} km ({s['kde']['bandwidth_rule']}) | "
            f"{best[name]:.2f} s | {best[name] / best['points']:.2f}x |"
        )
    for name, s in docs.items():
        assert abs(s["kde"]["integral"] - s["expected_in_window"]) < 1e-6 * args.n, name
    text = (
        f"## Density of {args.n:,} sites, half spread over reaches of 1–100 km, vs points\n\n"
        f"`benchmarks/bench_density_spread.py` — SYNTHETIC sites made in code, "
        f"`geotrack.analysis.analyse` with the defaults of `geotrack density` (window "
        f"reported, 5 km bins, auto bandwidth, 999 simulations); best of {args.reps}, "
        f"interleaved in one process; {platform.machine()}, {os.cpu_count()} cores shared.\n\n"
        "| case | point-located | spread | bandwidth | time | vs points |\n"
        "| --- | ---: | ---: | --- | ---: | ---: |\n" + "\n".join(rows) + "\n\n"
        "Target: the spread case within 2x of the point case. The hotspot and clustering tests "
        "use the point-located sites only unless `--include-spread`.\n\n"
    )
    print(text)
    if not args.no_write:
        write_section("density-spread", text)


if __name__ == "__main__":
    main()
