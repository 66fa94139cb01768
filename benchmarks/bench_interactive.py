"""Benchmark: geotrack's commands against the tools they replace, at 10^3 and 10^5 crossings.

Every figure is a fresh process (start-up included), the compared commands run
interleaved in the same run, and the ratio geotrack / baseline is what counts (the
machine is shared).  Crossings are SYNTHETIC (``synthetic=true``, source "SYNTHETIC
benchmark data", made by ``bench_layer.synthetic_rows`` along the real stretch line)
and enter the workspace through ``geotrack crossings import``, which is measured too.

* help: ``geotrack --help`` vs ``rio --help`` (rasterio's CLI);
* density: ``geotrack density --json`` vs a naive geopandas + shapely script
  (``bench_density_cli.PLAIN_SCRIPT``: read, project, ``line_locate_point``, bins);
* map: ``geotrack map`` vs a folium script reading the same layer and writing a
  MarkerCluster map (a Marker with a popup per crossing) or a FastMarkerCluster map
  (``[lat, lon]`` rows): build time and file size;
* add: one ``geotrack crossings add`` vs appending one feature to a GeoPackage of the
  same crossings with fiona (``mode="a"``);
* memory: peak resident memory (``ru_maxrss``) of ``crossings import``, ``export
  --format all`` and ``map``, per crossing.

Run (the 10^5 case takes several minutes; use it once)::

    .venv/bin/python benchmarks/bench_interactive.py --sizes 1000 --reps 3
    .venv/bin/python benchmarks/bench_interactive.py --sizes 1000 100000

Figures go to stdout and to the ``bench_interactive`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import RESULTS, write_section
from bench_density_cli import PLAIN_SCRIPT
from bench_layer import synthetic_rows, write_csv

from geotrack import __version__
from geotrack.workspace import init_workspace

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
GEOTRACK = [sys.executable, "-m", "geotrack"]

FOLIUM_SCRIPT = '''\
"""folium from the same layer: MarkerCluster (a Marker + popup each) or FastMarkerCluster."""
import json
import sys

import folium
from folium.plugins import FastMarkerCluster, MarkerCluster

layer, out, how = sys.argv[1:4]
with open(layer, encoding="utf-8") as fh:
    feats = json.load(fh)["features"]
m = folium.Map(location=[41.55, 127.7], zoom_start=9)
if how == "fast":
    FastMarkerCluster(
        [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]] for f in feats]
    ).add_to(m)
else:
    mc = MarkerCluster().add_to(m)
    for f in feats:
        lon, lat = f["geometry"]["coordinates"][:2]
        p = f["properties"]
        folium.Marker([lat, lon], popup=f"{f['id']} {p['kind']}").add_to(mc)
m.save(out)
'''

FIONA_APPEND = '''\
"""Append one feature to a GeoPackage layer with fiona."""
import sys

import fiona
from fiona.model import Feature, Geometry, Properties

with fiona.open(sys.argv[1], "a", layer="crossings") as sink:
    props = {k: None for k in sink.schema["properties"]}
    props.update(id="YLU-999999", kind="ford", source_name="SYNTHETIC single add")
    sink.write(Feature(geometry=Geometry(type="Point", coordinates=(127.2696, 41.5195)),
                       properties=Properties(**props)))
'''

ADD = ["--lon", "127.2696", "--lat", "41.5195", "--kind", "ford"]
ADD += ["--source", "SYNTHETIC single add", "--synthetic", "--allow-near"]


def measured(cmd: list[str], **kw) -> tuple[float, float]:
    """Wall seconds and peak resident MB (``ru_maxrss``) of one process; stdout to *out*."""
    env = {**os.environ, "GEOTRACK_USER": "benchmark"}
    sink = kw["out"].open("wb") if kw.get("out") else subprocess.DEVNULL
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE, env=env)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if kw.get("out"):
        sink.close()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def interleaved(cases: dict[str, list[str]], reps: int, outs: dict[str, Path] | None = None):
    """Median wall time of each case over *reps* rounds, cases run in turn each round."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    peaks: dict[str, float] = {}
    for _ in range(reps):
        for name, cmd in cases.items():
            wall, peak = measured(cmd, out=(outs or {}).get(name))
            times[name].append(wall)
            peaks[name] = max(peaks.get(name, 0.0), peak)
    return {k: statistics.median(v) for k, v in times.items()}, peaks


def make_gpkg(ws: Path, out: Path) -> None:
    import pyogrio

    df = pyogrio.read_dataframe(ws / "crossings.geojson", columns=["id", "kind", "status"])
    df["source_name"] = "SYNTHETIC benchmark data"
    pyogrio.write_dataframe(df, out, layer="crossings", driver="GPKG")


def bench_size(n: int, reps: int, tmp: Path) -> list[dict]:
    rows_csv = tmp / f"rows-{n}.csv"
    ws_dir = tmp / f"ws-{n}"
    init_workspace(ws_dir, exist_ok=False)
    ws_rows = synthetic_rows(init_workspace(tmp / f"gen-{n}"), n)
    write_csv(ws_rows, rows_csv)
    del ws_rows
    w = ["-w", str(ws_dir)]
    res: list[dict] = []

    t_imp, m_imp = measured([*GEOTRACK, *w, "crossings", "import", str(rows_csv)])
    res.append({"what": "import", "n": n, "time": t_imp, "peak_mb": m_imp})
    print(f"[{n}] import {t_imp:.1f} s, {m_imp:.0f} MB", file=sys.stderr)

    # warm: compiled kernels and the Vega bundle are cached by the first run of each
    measured([*GEOTRACK, *w, "density", "--json"], out=tmp / "warm.json")
    measured([*GEOTRACK, *w, "map", "-o", str(tmp / "warm.html"), "--overwrite"])

    r = max(1, reps)
    med, _ = interleaved(
        {"geotrack": [*GEOTRACK, "--help"], "rio": [str(BIN / "rio"), "--help"]}, max(3, r)
    )
    res.append({"what": "help", "n": n, **med})

    plain = tmp / "plain.py"
    plain.write_text(PLAIN_SCRIPT, encoding="utf-8")
    med, _ = interleaved(
        {
            "geotrack": [*GEOTRACK, *w, "density", "--json"],
            "naive": [sys.executable, str(plain), str(ws_dir), "distance"],
        },
        r,
        outs={"geotrack": tmp / "d.json", "naive": tmp / "p.json"},
    )
    res.append({"what": "density", "n": n, **med})
    print(f"[{n}] density {med}", file=sys.stderr)

    folium_py = tmp / "folium_map.py"
    folium_py.write_text(FOLIUM_SCRIPT, encoding="utf-8")
    layer = str(ws_dir / "crossings.geojson")
    html = {k: tmp / f"{k}-{n}.html" for k in ("geotrack", "marker", "fast")}
    cases = {
        "geotrack": [*GEOTRACK, *w, "map", "-o", str(html["geotrack"]), "--overwrite"],
        "fast": [sys.executable, str(folium_py), layer, str(html["fast"]), "fast"],
        "marker": [sys.executable, str(folium_py), layer, str(html["marker"]), "marker"],
    }
    if n > 20_000:  # a Marker per crossing takes minutes at 10^5: once
        med, peaks = interleaved({k: v for k, v in cases.items() if k != "marker"}, r)
        t_marker, _ = measured(cases["marker"])
        med["marker"] = t_marker
    else:
        med, peaks = interleaved(cases, r)
    sizes = {k: p.stat().st_size / 1e6 for k, p in html.items()}
    res.append({"what": "map", "n": n, **med, "sizes": sizes, "peak_mb": peaks["geotrack"]})
    print(f"[{n}] map {med} {sizes}", file=sys.stderr)

    gpkg = tmp / f"append-{n}.gpkg"
    make_gpkg(ws_dir, gpkg)
    append_py = tmp / "append.py"
    append_py.write_text(FIONA_APPEND, encoding="utf-8")
    med, _ = interleaved(
        {
            "geotrack": [*GEOTRACK, *w, "crossings", "add", *ADD],
            "fiona": [sys.executable, str(append_py), str(gpkg)],
        },
        max(3, r),
    )
    res.append({"what": "add", "n": n, **med})

    t_exp, m_exp = measured(
        [*GEOTRACK, *w, "export", "-o", str(tmp / f"out-{n}"), "--format", "all"]
    )
    res.append({"what": "export", "n": n, "time": t_exp, "peak_mb": m_exp})
    print(f"[{n}] export {t_exp:.1f} s, {m_exp:.0f} MB", file=sys.stderr)
    return res


def _s(v: float) -> str:
    return f"{v:.2f} s" if v < 100 else f"{v:.0f} s"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def markdown(results: list[dict], env: str) -> str:
    by = {(r["what"], r["n"]): r for r in results}
    sizes = sorted({r["n"] for r in results})
    lines = [
        "## Interactive speed and memory (`benchmarks/bench_interactive.py`)",
        "",
        env,
        "",
        "Fresh processes, start-up included; medians of interleaved runs; SYNTHETIC crossings.",
        "Ratio = geotrack / baseline (below 1: geotrack is faster or smaller).",
        "",
        "| what | crossings | geotrack | baseline | ratio | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for n in sizes:
        if ("help", n) in by:
            h = by[("help", n)]
            ratio = h["geotrack"] / h["rio"]
            lines.append(
                f"| `geotrack --help` vs `rio --help` | – | {_s(h['geotrack'])} | {_s(h['rio'])} "
                f"| {ratio:.2f} | ≤ 1.2: {_verdict(ratio <= 1.2)} |"
            )
            break
    for n in sizes:
        d = by.get(("density", n))
        if d:
            ratio = d["geotrack"] / d["naive"]
            goal = 1.0 if n <= 10_000 else 0.25
            lines.append(
                f"| `density --json` vs naive geopandas + shapely | {n:,} | {_s(d['geotrack'])} "
                f"| {_s(d['naive'])} | {ratio:.2f} | ≤ {goal:g}: {_verdict(ratio <= goal)} |"
            )
    for n in sizes:
        m = by.get(("map", n))
        if not m:
            continue
        sz = m["sizes"]
        for base, label in (("marker", "MarkerCluster"), ("fast", "FastMarkerCluster")):
            ratio = m["geotrack"] / m[base]
            target = ""
            if base == "marker" and n <= 10_000:
                target = f"≤ 1.0: {_verdict(ratio <= 1.0)}"
            if base == "fast" and n > 10_000:
                target = f"≤ 1.5: {_verdict(ratio <= 1.5)}"
            lines.append(
                f"| `map` time vs folium {label} | {n:,} | {_s(m['geotrack'])} "
                f"| {_s(m[base])} | {ratio:.2f} | {target} |"
            )
            ratio = sz["geotrack"] / sz[base]
            target = (
                f"≤ 10 MB: {_verdict(sz['geotrack'] <= 10)}"
                if n > 10_000 and base == "fast"
                else ""
            )
            lines.append(
                f"| `map` file vs folium {label} | {n:,} | {sz['geotrack']:.2f} MB "
                f"| {sz[base]:.2f} MB | {ratio:.2f} | {target} |"
            )
    for n in sizes:
        a = by.get(("add", n))
        if a:
            lines.append(
                f"| one `crossings add` vs fiona GeoPackage append | {n:,} | {_s(a['geotrack'])} "
                f"| {_s(a['fiona'])} | {a['geotrack'] / a['fiona']:.2f} | |"
            )
    lines += [
        "",
        "| command | crossings | time | peak memory | per crossing | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for n in sizes:
        for what in ("import", "map", "export"):
            r = by.get((what, n))
            if not r:
                continue
            t = r.get("time", r.get("geotrack"))
            kb = r["peak_mb"] * 1024 / n
            target = ""
            if n >= 100_000 and what == "import":
                target = f"≤ 300 MB: {_verdict(r['peak_mb'] <= 300)}"
            if n >= 100_000 and what == "export":
                target = f"≤ 30 s, ≤ 1 GB: {_verdict(t <= 30 and r['peak_mb'] <= 1024)}"
            label = {"export": "export --format all", "import": "crossings import"}.get(what, what)
            lines.append(
                f"| `{label}` | {n:,} | {_s(t)} | {r['peak_mb']:.0f} MB | {kb:.1f} KB | {target} |"
            )
    return "\n".join(lines) + "\n"


def environment() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"Machine: {os.cpu_count()} CPUs ({platform.machine()}); Python "
        f"{platform.python_version()}, geotrack {__version__}; run "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load:.1f} at the "
        "end (other work shares this machine: ratios are the meaningful figures)."
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    ap.add_argument("--reps", type=int, default=3, help="interleaved rounds at 10^3 (3)")
    ap.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    args = ap.parse_args(argv)
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="geotrack-bench-") as tmp:
        for n in args.sizes:
            reps = args.reps if n <= 10_000 else 1
            results += bench_size(n, reps, Path(tmp))
    text = markdown(results, environment())
    print(text)
    if not args.no_write:
        write_section("bench_interactive", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
