"""Benchmark: chainage and density statistics for 10^3 ... 10^6 synthetic points.

Lines: the real stretch line shipped with geotrack (about 1,400 vertices, EPSG:32652)
and a 100,000-vertex line made from it (SYNTHETIC: resampled at 100,000 points with
2 m of random wiggle, standing in for a high-resolution line of the whole border).
Points: SYNTHETIC, uniform in chainage along the line with 500 m of normal scatter.

Methods, measured side by side (interleaved) in this one run:

* geotrack.linear.LineIndex (numba bounding-volume hierarchy, all threads);
* shapely.line_locate_point + shapely.distance, vectorised;
* a per-point Python loop (``line.project(Point(x, y))``).

The two shapely baselines are O(points x vertices), so they are measured on fewer
points and extrapolated linearly in N; extrapolated figures are marked ``*``.

Run: ``.venv/bin/python benchmarks/bench_chainage.py [--quick] [--no-write]``
(about 1-2 minutes; ``--quick`` stops at 10^5 points).  Figures go to stdout and into
``benchmarks/RESULTS.md`` (section between markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import shapely
from _results import RESULTS, write_section
from shapely.geometry import LineString, Point

from geotrack import density as dens
from geotrack.linear import LineIndex
from geotrack.workspace import init_workspace

WINDOW = (0.0, 238.7)  # the reported five-county window, km


def timed(fn, reps: int) -> float:
    """Median wall time of *reps* calls, seconds."""
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def fmt_s(v: float, extrapolated: bool = False) -> str:
    mark = "*" if extrapolated else ""
    if v < 1e-3:
        return f"{v * 1e6:.0f} µs{mark}"
    if v < 1:
        return f"{v * 1e3:.1f} ms{mark}"
    return f"{v:,.2f} s{mark}"


def synthetic_points(idx: LineIndex, n: int, rng: np.random.Generator):
    """SYNTHETIC points: uniform chainage, 500 m normal scatter around the line."""
    d = rng.uniform(0, idx.length_m, n)
    x, y = idx.interpolate(d)
    return x + rng.normal(0, 500, n), y + rng.normal(0, 500, n)


def dense_line(real: LineString, n_vertices: int, rng: np.random.Generator) -> LineString:
    """SYNTHETIC: the real line resampled at *n_vertices* points, with 2 m random wiggle."""
    idx = LineIndex(real)
    x, y = idx.interpolate(np.linspace(0, idx.length_m, n_vertices))
    x[1:-1] += rng.normal(0, 2, n_vertices - 2)
    y[1:-1] += rng.normal(0, 2, n_vertices - 2)
    return LineString(np.column_stack([x, y]))


def bench_line(name: str, line: LineString, sizes, n_vec: int, n_loop: int, rng) -> list[dict]:
    idx = LineIndex(line)
    rows = []
    px, py = synthetic_points(idx, max(sizes), rng)
    t = time.perf_counter()
    idx.locate(px[:10], py[:10])
    first = time.perf_counter() - t
    print(
        f"\n{name}: {idx.n_vertices:,} vertices, {idx.length_m / 1000:.3f} km; "
        f"first call (compile or load from cache) {fmt_s(first)}",
        file=sys.stderr,
    )
    # accuracy against shapely on the baseline subset
    sub = shapely.points(px[:n_vec], py[:n_vec])
    ref = shapely.line_locate_point(line, sub)
    ours = idx.locate(px[:n_vec], py[:n_vec])
    max_diff = float(np.max(np.abs(ref - ours.chainage_m)))
    max_ddiff = float(np.max(np.abs(shapely.distance(line, sub) - ours.distance_m)))
    # baselines, interleaved with geotrack on the same points
    t_vec, t_loop, t_ours_small = [], [], []
    for _ in range(3):
        t = time.perf_counter()
        shapely.line_locate_point(line, sub)
        shapely.distance(line, sub)
        t_vec.append(time.perf_counter() - t)
        t = time.perf_counter()
        for x, y in zip(px[:n_loop], py[:n_loop], strict=True):
            p = Point(x, y)
            line.project(p)
            line.distance(p)
        t_loop.append(time.perf_counter() - t)
        t = time.perf_counter()
        idx.locate(px[:n_vec], py[:n_vec])
        t_ours_small.append(time.perf_counter() - t)
    per_vec = statistics.median(t_vec) / n_vec
    per_loop = statistics.median(t_loop) / n_loop
    for n in sizes:
        x, y = px[:n], py[:n]
        reps = 3 if n <= 100_000 else 5
        ours = timed(lambda x=x, y=y: idx.locate(x, y), reps)
        vec = per_vec * n
        loop = per_loop * n
        rows.append(
            {
                "line": name,
                "vertices": idx.n_vertices,
                "n": n,
                "ours": ours,
                "vec": vec,
                "vec_extrapolated": n != n_vec,
                "loop": loop,
                "loop_extrapolated": n != n_loop,
                "max_diff_m": max_diff,
                "max_ddiff_m": max_ddiff,
            }
        )
        print(
            f"  N={n:>9,}  geotrack {fmt_s(ours):>10}  shapely vectorised "
            f"{fmt_s(vec, n != n_vec):>11} ({vec / ours:,.0f}x)  loop "
            f"{fmt_s(loop, n != n_loop):>11} ({loop / ours:,.0f}x)",
            file=sys.stderr,
        )
    one = None
    if max(sizes) >= 1_000_000:
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        one = timed(lambda: idx.locate(px[:1_000_000], py[:1_000_000]), 3)
        numba.set_num_threads(threads)
        print(f"  N=1,000,000 on 1 thread: {fmt_s(one)}", file=sys.stderr)
    print(
        f"  vectorised baseline measured on {n_vec:,} points, loop on {n_loop:,}; "
        f"max |chainage - shapely| {max_diff * 1000:.3g} mm, max |distance - shapely| "
        f"{max_ddiff * 1000:.3g} mm",
        file=sys.stderr,
    )
    for r in rows:
        r["one_thread_1e6"] = one
        r["n_vec"], r["n_loop"] = n_vec, n_loop
    return rows


def bench_stats(sizes, rng) -> list[dict]:
    from scipy.stats import gaussian_kde

    rows = []
    a, b = WINDOW
    for n in sizes:
        # SYNTHETIC chainages: half uniform, half in a cluster at 120 km
        c = np.concatenate([rng.uniform(a, b, n - n // 2), rng.normal(120, 2, n // 2)])
        c = np.clip(c, a, b)
        h = dens.silverman_bandwidth(c)
        t_bins = timed(lambda c=c: dens.bin_counts(c, window=WINDOW, bin_km=5), 3)
        t_kde = timed(lambda c=c, h=h: dens.kde(c, window=WINDOW, bandwidth_km=h), 3)
        k = dens.kde(c, window=WINDOW, bandwidth_km=h)
        t_hot = timed(
            lambda c=c, h=h, k=k: dens.hotspots(
                c, window=WINDOW, bandwidth_km=h, simulations=999, seed=1, density=k
            ),
            1,
        )
        t_clu = timed(lambda c=c: dens.clustering(c, window=WINDOW, simulations=999, seed=1), 1)
        # scipy's exact KDE on the same grid, on at most 10^4 points, extrapolated in N
        n_sp = min(n, 10_000)
        kd = gaussian_kde(c[:n_sp], bw_method=h / c[:n_sp].std(ddof=1))
        t_sp = timed(lambda kd=kd, k=k: kd(k.km), 1) * n / n_sp
        rows.append(
            {
                "n": n,
                "bins": t_bins,
                "kde": t_kde,
                "grid_nodes": len(k.km),
                "step_km": k.step_km,
                "scipy_kde": t_sp,
                "scipy_extrapolated": n != n_sp,
                "hotspots": t_hot,
                "clustering": t_clu,
            }
        )
        print(
            f"  stats N={n:>9,}: bins {fmt_s(t_bins)}, kde {fmt_s(t_kde)} ({len(k.km)} nodes; "
            f"scipy gaussian_kde {fmt_s(t_sp, n != n_sp)}), hotspots 999 sims {fmt_s(t_hot)}, "
            f"clustering 999 sims {fmt_s(t_clu)}",
            file=sys.stderr,
        )
    return rows


def markdown(line_rows, stat_rows, env: str) -> str:
    out = [
        "## Chainage and statistics (`benchmarks/bench_chainage.py`)",
        "",
        env,
        "",
        "Synthetic points (uniform chainage, 500 m scatter) on the real stretch line and on a "
        "synthetic 100,000-vertex line. Medians; geotrack and the baselines measured side by "
        "side in one run. `*` = measured on fewer points (stated) and extrapolated linearly in N.",
        "",
        "| line | vertices | points | geotrack (numba BVH) | shapely vectorised | ratio | "
        "Python loop | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in line_rows:
        out.append(
            f"| {r['line']} | {r['vertices']:,} | {r['n']:,} | {fmt_s(r['ours'])} | "
            f"{fmt_s(r['vec'], r['vec_extrapolated'])} | {r['vec'] / r['ours']:,.0f}× | "
            f"{fmt_s(r['loop'], r['loop_extrapolated'])} | {r['loop'] / r['ours']:,.0f}× |"
        )
    out.append("")
    seen = set()
    for r in line_rows:
        if r["line"] in seen:
            continue
        seen.add(r["line"])
        extra = (
            f"; 10^6 points on one thread {fmt_s(r['one_thread_1e6'])}"
            if r["one_thread_1e6"]
            else ""
        )
        out.append(
            f"- {r['line']}: shapely vectorised measured on {r['n_vec']:,} points, the loop on "
            f"{r['n_loop']:,}; largest difference from shapely: chainage "
            f"{r['max_diff_m'] * 1000:.3g} mm, distance {r['max_ddiff_m'] * 1000:.3g} mm{extra}."
        )
    out += [
        "",
        "Statistics over chainages in the 0–238.7 km window (synthetic: half uniform, half "
        "clustered); kernel density by linear binning + FFT with reflection, Silverman bandwidth, "
        "grid step min(0.1 km, bandwidth/4); hotspots and clustering with 999 Monte Carlo "
        "simulations (clustering on a random subsample of at most 2,000 points).",
        "",
        "| points | bins | kernel density | scipy gaussian_kde, same grid | hotspots (999 sims) | "
        "clustering (999 sims) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in stat_rows:
        out.append(
            f"| {r['n']:,} | {fmt_s(r['bins'])} | {fmt_s(r['kde'])} | "
            f"{fmt_s(r['scipy_kde'], r['scipy_extrapolated'])} | {fmt_s(r['hotspots'])} | "
            f"{fmt_s(r['clustering'])} |"
        )
    return "\n".join(out) + "\n"


def environment() -> str:
    return (
        f"Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"numba threads {numba.get_num_threads()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"numba {numba.__version__}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load average {os.getloadavg()[0]:.1f} at the end (other work shares this machine: "
        "ratios are the meaningful figures)."
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="stop at 10^5 points")
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    rng = np.random.default_rng(2024)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        real = ws.stretch.line_m
    dense = dense_line(real, 100_000, rng)
    rows = bench_line("real stretch", real, sizes, n_vec=5_000, n_loop=2_000, rng=rng)
    rows += bench_line("densified (synthetic)", dense, sizes, n_vec=200, n_loop=100, rng=rng)
    print("\nstatistics:", file=sys.stderr)
    stats = bench_stats(sizes, rng)
    text = markdown(rows, stats, environment())
    print(text)
    if not args.no_write:
        write_section("bench_chainage", text)
        print(f"updated {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
