"""Benchmark: a crossings layer of 100,000 SYNTHETIC crossings.

Imports N synthetic crossings (every record has ``synthetic=true`` and a source
named "SYNTHETIC benchmark data") into a temporary workspace, then times what
an investigator does on a layer that size: import, list, show, a single add,
and validate.  Each step is timed twice: as a library call, and as the
``geotrack`` command a user runs (a fresh process, so start-up is included).

Run::

    .venv/bin/python benchmarks/bench_layer.py            # 100,000 crossings
    .venv/bin/python benchmarks/bench_layer.py -n 20000 --profile

and the figures are printed and written to ``benchmarks/RESULTS_layer.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from geotrack import __version__
from geotrack.records import add_crossing, import_crossings, validate_workspace
from geotrack.workspace import init_workspace

HERE = Path(__file__).resolve().parent
SOURCE = "SYNTHETIC benchmark data (not a real report)"


def synthetic_rows(ws, n: int, seed: int = 20251216) -> list[dict[str, str]]:
    """N synthetic crossings on the stretch line, each a CSV row with one report."""
    rng = np.random.default_rng(seed)
    pts = shapely.line_interpolate_point(ws.stretch.line_wgs84, rng.random(n), normalized=True)
    xy = shapely.get_coordinates(pts) + rng.normal(0, 0.001, (n, 2))  # ~100 m scatter
    kinds = np.array(["temporary_bridge", "pontoon", "ford", "ferry_boat", "ice_road", "cable"])
    rel = np.array(list("ABCDEF"))
    rows = []
    for i in range(n):
        month = 1 + i % 12
        rows.append(
            {
                "lon": f"{xy[i, 0]:.7f}",
                "lat": f"{xy[i, 1]:.7f}",
                "kind": str(kinds[i % len(kinds)]),
                "status": "active",
                "synthetic": "true",
                "source_name": SOURCE,
                "source_type": "other",
                "url": f"https://example.org/synthetic/{i}",
                "reported": f"2025-{month:02d}-15",
                "event_start": f"2025-{month:02d}",
                "reliability": str(rel[i % 6]),
                "credibility": str(1 + i % 6),
                "notes": f"synthetic record {i} for benchmarks/bench_layer.py",
            }
        )
    return rows


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def cli(*args: str, stdin: bytes | None = None) -> float:
    """Wall time of ``geotrack ARGS`` as a fresh process (stdout discarded)."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "geotrack", *args],
        input=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=True,
        env={**os.environ, "GEOTRACK_USER": "benchmark"},
    )
    return time.perf_counter() - t0


ONE = {
    "lon": 127.2696,
    "lat": 41.5195,
    "kind": "ford",
    "synthetic": True,
    "source_name": SOURCE,
    "notes": "synthetic single add",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="number of synthetic crossings")
    ap.add_argument("--profile", action="store_true", help="profile one single add")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS_layer.md")
    args = ap.parse_args(argv)
    n = args.n
    results: list[tuple[str, float, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = init_workspace(tmp / "lib")
        t, rows = timed(synthetic_rows, ws, n)
        print(f"made {n:,} synthetic rows in {t:.2f} s", file=sys.stderr)
        csv_path = tmp / "synthetic.csv"
        write_csv(rows, csv_path)

        # -- library ---------------------------------------------------------
        from geotrack.importers import read_candidates

        t_read, cands = timed(read_candidates, csv_path)
        t_imp, ids = timed(import_crossings, ws, cands.records, rows=cands.rows, reason="bench")
        results.append(("library: read the CSV", t_read, f"{csv_path.stat().st_size / 1e6:.1f} MB"))
        results.append(("library: import (validate, 1 history entry, 1 write)", t_imp, ""))
        t_list, _ = timed(ws.read_crossings)
        results.append(("library: read_crossings (all features)", t_list, ""))
        mid = ids[len(ids) // 2]
        t_show, _ = timed(lambda: next(f for f in ws.read_crossings() if f["id"] == mid))
        results.append(("library: show one (read + find)", t_show, ""))
        adds = [timed(add_crossing, ws, ONE)[0] for _ in range(3)]
        results.append(("library: single add (median of 3)", float(np.median(adds)), ""))
        t_val, probs = timed(validate_workspace, ws)
        results.append(("library: validate_workspace", t_val, f"{len(probs)} problems"))
        layer_mb = ws.crossings.path.stat().st_size / 1e6
        hist_mb = ws.crossings.history_path.stat().st_size / 1e6

        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            add_crossing(ws, ONE)
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
            print(buf.getvalue(), file=sys.stderr)

        # -- the command, as a user runs it ------------------------------------
        w = ["-w", str(tmp / "cli")]
        cli("init", str(tmp / "cli"))
        results.append(("cli: geotrack --version (start-up)", cli("--version"), ""))
        results.append(
            ("cli: crossings import FILE", cli("crossings", "import", *w, str(csv_path)), "")
        )
        results.append(("cli: crossings list --json", cli("crossings", "list", *w, "--json"), ""))
        results.append(("cli: crossings list (table)", cli("crossings", "list", *w), ""))
        results.append(("cli: crossings show ID", cli("crossings", "show", *w, mid), ""))
        add = ["crossings", "add", *w, "--lon", "127.2696", "--lat", "41.5195", "--kind", "ford",
               "--source", SOURCE, "--synthetic"]  # fmt: skip
        cli_adds = [cli(*add) for _ in range(3)]
        results.append(("cli: crossings add (median of 3)", float(np.median(cli_adds)), ""))
        results.append(("cli: validate", cli("validate", *w), ""))

    lines = [
        f"# Layer benchmark: {n:,} SYNTHETIC crossings",
        "",
        "Produced by `benchmarks/bench_layer.py` (synthetic records only: every one has",
        '`synthetic=true` and the source "SYNTHETIC benchmark data").',
        f"geotrack {__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; layer {layer_mb:.0f} MB, history {hist_mb:.0f} MB after the run.",
        "",
        "| step | seconds | note |",
        "|---|---|---|",
        *[f"| {name} | {sec:.3f} | {note} |" for name, sec, note in results],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
