"""Map page size and render time: geotrack's page vs a default folium MarkerCluster map.

Both maps get the same synthetic points (placed along the real stretch line, marked
synthetic).  For each N the two are measured side by side in the same run:

* build: Python time to make the HTML and write it;
* size: the HTML file in MB;
* render: headless Chromium (Debian's /usr/bin/chromium) from navigation until the
  markers are on the map (geotrack: ``window.geotrack.ready``; folium: the first
  cluster icon in the DOM).  Every request is answered locally: geotrack's page makes
  none; folium's CDN requests for Leaflet, MarkerCluster and jQuery are served from the
  xstatic packages (``xstatic-jquery`` must be installed for folium's page to run) and the other CDN files (jQuery, Bootstrap, Font Awesome,
  awesome-markers) are aborted, as an offline machine would.

    .venv/bin/python benchmarks/bench_map.py            # 10^3, 10^4, 10^5
    .venv/bin/python benchmarks/bench_map.py --sizes 1000 10000 --out /tmp/r.md
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _browser import CHROMIUM, CHROMIUM_ARGS

from geotrack.crs import to_wire
from geotrack.render.map import map_payload, render_html, write_html
from geotrack.workspace import init_workspace

KINDS = ["ford", "pontoon", "temporary_bridge", "ferry_boat", "ice_road"]


def make_features(ws, n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    line = ws.stretch.line_m
    kms = np.array([rng.uniform(0.5, 238.0) for _ in range(n)])
    offs = np.array([rng.uniform(-300, 300) for _ in range(n)])
    pts = [line.interpolate(k * 1000.0) for k in kms]
    x = np.array([p.x for p in pts])
    y = np.array([p.y for p in pts]) + offs
    lon, lat = to_wire(x, y)
    feats = []
    for i in range(n):
        fid = f"YLU-{i + 1:06d}"
        feats.append(
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                "properties": {
                    "id": fid,
                    "name": None,
                    "kind": rng.choice(KINDS),
                    "status": "active",
                    "location_precision": "near_place",
                    "uncertainty_m": 500.0,
                    "datum": "wgs84",
                    "synthetic": True,
                    "retired": False,
                    "reports": [
                        {
                            "report_id": "R1",
                            "source_name": "SYNTHETIC benchmark source",
                            "source_type": "media",
                            "url": "https://example.invalid/bench",
                            "reported": "2025-12-16",
                            "event_start": "2025-10",
                            "event_end": "2025-11",
                            "date_precision": "month",
                            "reliability": "C",
                            "credibility": 3,
                            "verification": "unverified",
                            "notes": f"SYNTHETIC note {i % 97}",
                        }
                    ],
                },
            }
        )
    return feats


def build_geotrack(ws, feats, path: Path) -> float:
    t0 = time.perf_counter()
    html = render_html(map_payload(feats, stretch=ws.stretch, window=ws.window("reported")))
    write_html(html, path, overwrite=True)
    return time.perf_counter() - t0


def build_folium(feats, path: Path) -> float:
    import folium
    from folium.plugins import MarkerCluster

    t0 = time.perf_counter()
    m = folium.Map(location=[41.55, 127.7], zoom_start=9)
    mc = MarkerCluster().add_to(m)
    for f in feats:
        lon, lat = f["geometry"]["coordinates"]
        p = f["properties"]
        folium.Marker([lat, lon], popup=f"{p['id']} {p['kind']}").add_to(mc)
    m.save(str(path))
    return time.perf_counter() - t0


def render_times(paths: dict[str, Path], timeout_s: float = 240) -> dict[str, float | None]:
    from urllib.parse import urlsplit

    import xstatic.pkg.leaflet as xl
    import xstatic.pkg.leaflet_markercluster as xm
    from playwright.sync_api import sync_playwright

    try:  # folium's page needs jQuery to run at all (pip install xstatic-jquery)
        import xstatic.pkg.jquery as xj

        jquery = {"jquery-3.7.1.min.js": Path(xj.BASE_DIR) / "jquery.min.js"}
    except ImportError:
        jquery = {}
    local = {
        **jquery,
        "leaflet.js": Path(xl.BASE_DIR) / "leaflet.js",
        "leaflet.css": Path(xl.BASE_DIR) / "leaflet.css",
        "leaflet.markercluster.js": Path(xm.BASE_DIR) / "leaflet.markercluster.js",
        "MarkerCluster.css": Path(xm.BASE_DIR) / "MarkerCluster.css",
        "MarkerCluster.Default.css": Path(xm.BASE_DIR) / "MarkerCluster.Default.css",
    }
    ready = {
        "geotrack": "() => window.geotrack && window.geotrack.ready === true",
        "folium": "() => document.querySelectorAll('.marker-cluster, .leaflet-marker-icon').length > 0",
    }
    out: dict[str, float | None] = {}
    import os

    private = tempfile.mkdtemp(prefix="bench-chromium-")
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "HOME"):
        env[var] = os.path.join(private, var.lower())
        os.makedirs(env[var], exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env
        )
        for name, path in paths.items():
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def route(r):
                u = urlsplit(r.request.url)
                if u.scheme in ("file", "data", "about", "blob"):
                    return r.continue_()
                f = local.get(u.path.rsplit("/", 1)[-1])
                if f is not None:
                    return r.fulfill(path=str(f))
                return r.abort("blockedbyclient")

            page.route("**/*", route)
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            print(f"  rendering {name} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                page.goto(path.resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
                page.wait_for_function(ready[name], timeout=timeout_s * 1000, polling=50)
                out[name] = time.perf_counter() - t0
            except Exception as exc:
                print(
                    f"  {name}: render failed: {str(exc).splitlines()[0]}; page errors: "
                    f"{errors[:3]}",
                    file=sys.stderr,
                )
                out[name] = None
            page.close()
        browser.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS_map.md"))
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-map-"))
    ws = init_workspace(tmp / "ws")
    rows = []
    header = (
        "| N | geotrack build s | geotrack MB | geotrack render s | folium MarkerCluster build s "
        "| folium MB | folium render s | size ratio | render ratio |"
    )
    print(header)
    print("|" + "---|" * 9)
    for n in args.sizes:
        feats = make_features(ws, n)
        gp, fp = tmp / f"geotrack_{n}.html", tmp / f"folium_{n}.html"
        gb = build_geotrack(ws, feats, gp)
        fb = build_folium(feats, fp)
        rt = render_times({"geotrack": gp, "folium": fp})
        gs, fs = gp.stat().st_size / 1e6, fp.stat().st_size / 1e6
        gr, fr = rt.get("geotrack"), rt.get("folium")

        def f(v, nd=2):
            return "failed" if v is None else f"{v:.{nd}f}"

        ratio_r = f(fr / gr, 1) + "×" if (gr and fr) else "–"
        row = (
            f"| {n:,} | {gb:.2f} | {gs:.2f} | {f(gr)} | {fb:.2f} | {fs:.2f} | {f(fr)} "
            f"| {fs / gs:.1f}× | {ratio_r} |"
        )
        print(row, flush=True)
        rows.append(row)
    text = "\n".join(
        [
            "# Map benchmark: geotrack's page vs a default folium MarkerCluster map",
            "",
            f"Run: `python benchmarks/bench_map.py --sizes {' '.join(map(str, args.sizes))}` on "
            f"{platform.machine()}, {platform.python_version()}, 2 cores (this project's machine kind). "
            "Same synthetic points for both, measured side by side in one run. Render = headless "
            "Chromium from navigation until markers are on the map; folium's Leaflet, "
            "MarkerCluster and jQuery CDN files served locally from the xstatic packages (other CDN files "
            "aborted, as offline). Ratios are folium / geotrack.",
            "",
            header,
            "|" + "---|" * 9,
            *rows,
            "",
        ]
    )
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
