"""Benchmark: the folder store against the PostGIS store, side by side in one run.

For layers of 1,000 and 100,000 SYNTHETIC crossings (the records of
``benchmarks/bench_layer.py``: every one ``synthetic=true``, source "SYNTHETIC benchmark
data"), times a single ``add_crossing`` and a single ``edit_crossing`` on each store,
interleaved (folder, PostGIS, folder, ...), median of the repeats; then the throughput of
8 writer processes at once (each adding and editing its own crossings) on each store.

The PostGIS server is the one ``GEOTRACK_BENCH_PG`` names (a URL whose role may create
schemas), else a throwaway local one started with ``scripts/dev-postgis.sh``.  Run::

    .venv/bin/python benchmarks/bench_store.py            # 1,000 and 100,000 crossings
    .venv/bin/python benchmarks/bench_store.py --sizes 1000 --repeats 3

The figures are printed and written to the ``store`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import write_section  # noqa: E402
from bench_layer import synthetic_rows  # noqa: E402

from geotrack.records import add_crossing, edit_crossing, import_crossings  # noqa: E402
from geotrack.workspace import Workspace, init_workspace  # noqa: E402

RECORD = {
    "lon": 127.2696,
    "lat": 41.5195,
    "kind": "ford",
    "synthetic": True,
    "source_name": "SYNTHETIC benchmark data (not a real report)",
}
WRITERS = 8

_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from geotrack.records import add_crossing, edit_crossing
    from geotrack.workspace import Workspace
    ws_path, store, worker, n, go = sys.argv[1:6]
    ws = Workspace.open(ws_path, store=store)
    ids = [f"YLU-{i:04d}" for i in range(1 + int(worker), 1000, 8)]
    rec = {"lon": 127.2696, "lat": 41.5195, "kind": "ford", "synthetic": True,
           "source_name": "SYNTHETIC benchmark data (not a real report)"}
    ws.border_m  # loaded, and the store opened, before the start: as in a running command
    ws.crossings.is_empty()
    open(go + f".ready{worker}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    for k in range(int(n)):
        if k % 2:
            add_crossing(ws, rec, max_border_km=None)
        else:
            edit_crossing(ws, ids[k], {"name": f"w{worker}-{k}"}, max_border_km=None)
    ws.close()
    """
)


def pg_server(tmp: Path) -> tuple[str, Path | None]:
    url = os.environ.get("GEOTRACK_BENCH_PG")
    if url:
        return url, None
    folder = tmp / "pg"
    out = subprocess.run(
        ["bash", str(HERE.parent / "scripts" / "dev-postgis.sh"), "start", str(folder), "55439"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip(), folder


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def make_pair(tmp: Path, url: str, n: int) -> tuple[Workspace, Workspace, float, float]:
    """A folder workspace and a PostGIS one holding the same n synthetic crossings."""
    folder = init_workspace(tmp / f"folder-{n}")
    rows = synthetic_rows(folder, n)
    t = time.perf_counter()
    import_crossings(folder, rows, max_border_km=None, reason="benchmark import")
    t_folder = time.perf_counter() - t
    pg = init_workspace(tmp / f"pg-{n}", store=with_schema(url, f"bench_{uuid.uuid4().hex[:8]}"))
    t = time.perf_counter()
    source = folder.crossings
    pg.crossings.load(source.read(), list(source.history()))
    t_pg = time.perf_counter() - t
    return folder, pg, t_folder, t_pg


def single_ops(folder: Workspace, pg: Workspace, repeats: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, list[float]]] = {"add": {}, "edit": {}}
    for ws in (folder, pg):  # warm up: border line, connection, caches
        add_crossing(ws, RECORD, max_border_km=None)
    for k in range(repeats):
        for name, ws in (("folder", folder), ("postgis", pg)):
            t = time.perf_counter()
            add_crossing(ws, RECORD, max_border_km=None)
            out["add"].setdefault(name, []).append(time.perf_counter() - t)
            t = time.perf_counter()
            edit_crossing(ws, "YLU-0001", {"name": f"edit {k}"}, max_border_km=None)
            out["edit"].setdefault(name, []).append(time.perf_counter() - t)
    return {op: {s: statistics.median(v) for s, v in d.items()} for op, d in out.items()}


def writers(ws: Workspace, store: str, ops: int, tmp: Path) -> float:
    """Operations per second of 8 writer processes at once (half adds, half edits)."""
    go = tmp / f"go-{uuid.uuid4().hex[:6]}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(ws.path), store, str(w), str(ops), str(go)]
        )
        for w in range(WRITERS)
    ]
    while not all(Path(f"{go}.ready{w}").exists() for w in range(WRITERS)):
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a writer failed to start")
        time.sleep(0.01)
    t = time.perf_counter()
    go.touch()
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a writer failed")
    return WRITERS * ops / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,100000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--writer-ops", type=int, default=20, help="operations per writer")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="geotrack-bench-store-"))
    url, server = pg_server(tmp)
    rows = []
    try:
        pairs = {}
        for n in sizes:
            folder, pg, t_folder, t_pg = make_pair(tmp, url, n)
            pairs[n] = (folder, pg)
            ops = single_ops(folder, pg, args.repeats)
            rows.append((n, ops, t_folder, t_pg))
            print(f"{n} crossings: {ops}", flush=True)
        folder, pg = pairs[min(sizes)]
        thr = {
            "folder": writers(folder, "folder", args.writer_ops, tmp),
            "postgis": writers(pg, pg.store.url, args.writer_ops, tmp),
        }
        print(f"8 writers: {thr}", flush=True)
        for _, pg in pairs.values():
            pg.close()
    finally:
        if server is not None:
            subprocess.run(
                ["bash", str(HERE.parent / "scripts" / "dev-postgis.sh"), "stop", str(server)],
                check=False,
            )
    lines = [
        "## Folder store vs PostGIS store (`benchmarks/bench_store.py`)",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; PostgreSQL on the same machine (Unix socket, fsync off). "
        f"Library calls, median of {args.repeats} interleaved runs; SYNTHETIC crossings.",
        "",
        "| crossings in the layer | single add: folder | PostGIS | ratio | single edit: folder "
        "| PostGIS | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, ops, _, _ in rows:
        a, e = ops["add"], ops["edit"]
        lines.append(
            f"| {n:,} | {a['folder'] * 1000:.0f} ms | {a['postgis'] * 1000:.0f} ms | "
            f"{a['folder'] / a['postgis']:.1f}× | {e['folder'] * 1000:.0f} ms | "
            f"{e['postgis'] * 1000:.0f} ms | {e['folder'] / e['postgis']:.1f}× |"
        )
    if len(rows) > 1:
        (n0, o0, _, _), (n1, o1, _, _) = rows[0], rows[-1]
        lines += [
            "",
            f"Growth from {n0:,} to {n1:,} crossings (time at {n1:,} / time at {n0:,}): "
            f"add folder {o1['add']['folder'] / o0['add']['folder']:.1f}×, PostGIS "
            f"{o1['add']['postgis'] / o0['add']['postgis']:.2f}×; edit folder "
            f"{o1['edit']['folder'] / o0['edit']['folder']:.1f}×, PostGIS "
            f"{o1['edit']['postgis'] / o0['edit']['postgis']:.2f}×.",
        ]
    lines += [
        "",
        f"Filling the stores: {', '.join(f'{n:,}: folder import {tf:.1f} s, PostGIS copy {tp:.1f} s' for n, _, tf, tp in rows)}.",
        "",
        f"{WRITERS} writer processes at once on the {min(sizes):,}-crossing layer, "
        f"{args.writer_ops} operations each (half adds, half edits of their own crossings): "
        f"folder {thr['folder']:.1f} operations/s, PostGIS {thr['postgis']:.1f} operations/s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("store", text)


if __name__ == "__main__":
    main()
