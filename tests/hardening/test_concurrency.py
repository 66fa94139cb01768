"""Many processes at once: writers queue, nothing is lost, readers never see half a file.

Over both stores (the workspace folder, and PostGIS through ``--store URL``: GEOTRACK_TEST_PG),
eight writer processes each run a fixed number of ``geotrack crossings`` operations (add,
edit, add-report, edit of a report, retire) through the CLI's own entry point, on ids they
read from the layer as it changes.  Meanwhile readers run ``crossings list --json``,
``density --json`` and ``map``, and read the layer and its history directly.  Then:

* every operation was either applied (exit 0, its token in exactly one history entry) or
  refused with a clear error (exit 1, e.g. editing a crossing another writer retired, or in
  PostGIS a crossing another writer changed since this one read it);
* history entries are numbered 1..N without gap, and for every crossing each entry's
  ``before`` is the previous entry's ``after`` (no write was based on a stale read: no lost
  update); the layer equals the replay of the history and ``validate`` finds no problem;
* every read parsed (the readers run against the folder store: they read its files too).

A lock held by a live process is waited for (or times out with a LockError), never broken;
one left by a killed process does not block.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from geotrack.errors import LockError
from geotrack.records import add_crossing, validate_workspace
from geotrack.store import LayerStore
from geotrack.workspace import Workspace, init_workspace
from hardening._run import FIGURES, env, geotrack, start

WRITERS = 8
OPS_PER_WRITER = 20
SEED_CROSSINGS = 4

_WORKER = textwrap.dedent(
    r"""
    import contextlib, io, json, os, random, sys, time
    from geotrack.cli.main import cli
    from geotrack.workspace import Workspace

    ws_path, worker, n_ops, journal = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    store = sys.argv[5] if len(sys.argv) > 5 else None  # a PostGIS store URL
    head = ["--store", store] if store else []
    rng = random.Random(1000 + worker)
    line = Workspace.open(ws_path).stretch.line_wgs84
    ops = ["add"] * 6 + ["edit"] * 5 + ["add-report"] * 4 + ["edit-report"] * 2 + ["retire"] * 3
    # a start line: every writer has imported geotrack before any writes
    open(journal + ".ready", "w").close()
    while not os.path.exists(os.path.join(os.path.dirname(journal), "go")):
        time.sleep(0.01)
    with open(journal, "w") as log:
        for k in range(n_ops):
            token = f"w{worker}-op{k}"
            ws = Workspace.open(ws_path, store=store)
            ids = [f["id"] for f in ws.read_crossings(include_retired=True)]
            ws.close()
            op = rng.choice(ops)
            fid = rng.choice(ids)
            w = ["-w", ws_path]
            if op == "add":
                p = line.interpolate(rng.uniform(0.01, 0.75), normalized=True)
                argv = ["crossings", "add", "--allow-near", *w, "--lon", f"{p.x:.6f}", "--lat", f"{p.y:.6f}",
                        "--kind", "ford", "--source", token, "--notes", token, "--synthetic",
                        "--reason", token]
            elif op == "edit":
                argv = ["crossings", "edit", *w, fid, "--name", token, "--reason", token]
            elif op == "add-report":
                argv = ["crossings", "add-report", *w, fid, "--source", token, "--reason", token]
            elif op == "edit-report":
                argv = ["crossings", "edit", *w, fid, "--report", "R1", "--notes", token,
                        "--reason", token]
            else:
                argv = ["crossings", "retire", *w, fid, "--reason", token]
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = cli.main(args=head + argv, prog_name="geotrack", standalone_mode=False)
            rec = {"token": token, "op": op, "id": None if op == "add" else fid,
                   "rc": rc or 0, "out": out.getvalue(), "err": err.getvalue()}
            log.write(json.dumps(rec) + "\n")
            log.flush()
    """
)


def _map_data(path: Path) -> dict:
    page = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="geotrack-data">(.*?)</script>', page, re.S)
    assert m, "the map page holds no data element"
    return json.loads(m.group(1))


class Readers:
    """Reader loops in threads (each starts processes), until stopped."""

    def __init__(self, ws: Path, tmp: Path) -> None:
        self.ws, self.tmp = ws, tmp
        self.stop = threading.Event()
        self.counts: dict[str, int] = defaultdict(int)
        self.failures: list[str] = []
        self.threads = [
            threading.Thread(target=self._loop, args=(name,), daemon=True)
            for name in ("raw", "list", "density", "map")
        ]

    def _once(self, name: str, i: int) -> None:
        w = ("-w", self.ws)
        if name == "raw":
            doc = orjson.loads((self.ws / "crossings.geojson").read_bytes())
            assert doc["type"] == "FeatureCollection" and isinstance(doc["features"], list)
            for line in (self.ws / "history.jsonl").read_bytes().splitlines(keepends=True):
                if line.endswith(b"\n"):  # a line being appended may be incomplete
                    orjson.loads(line)
            time.sleep(0.01)
        elif name == "list":
            res = geotrack("crossings", "list", *w, "--json")
            assert res.returncode == 0, res.stderr.decode()
            assert json.loads(res.stdout)["type"] == "FeatureCollection"
        elif name == "density":
            res = geotrack("density", *w, "--json", "--simulations", "19", "--seed", "1")
            assert res.returncode == 0, res.stderr.decode()
            assert json.loads(res.stdout)["n_crossings"] >= 0
        else:
            out = self.tmp / f"map{i}.html"
            res = geotrack("map", *w, "-o", out)
            assert res.returncode == 0, res.stderr.decode()
            assert len(_map_data(out)["c"]["id"]) >= 1
            out.unlink()

    def _loop(self, name: str) -> None:
        i = 0
        while not self.stop.is_set() and (name != "map" or i < 3):
            try:
                self._once(name, i)
                self.counts[name] += 1
            except Exception as exc:  # a half-written file: record it, the test fails
                self.failures.append(f"{name}: {type(exc).__name__}: {exc}"[:2000])
            i += 1

    def __enter__(self) -> Readers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=300)


@pytest.fixture(params=["folder", "postgis"])
def writers_store(request) -> str | None:
    """Where the writers write: None for the workspace folder, else a fresh PostGIS schema's URL.

    The PostGIS case needs GEOTRACK_TEST_PG (``pg_schema``; under CI=true its skip is an error).
    """
    return None if request.param == "folder" else request.getfixturevalue("pg_schema")


#: What a writer refused, for a reason another writer caused: a retired crossing, and in the
#: PostGIS store also a row another writer changed since this one read it (a row version).
_REFUSED = {
    "folder": r"is retired|already retired",
    "postgis": r"is retired|already retired|since you read it",
}


@pytest.mark.slow
def test_eight_writers_lose_nothing(tmp_path, writers_store):
    kind = "postgis" if writers_store else "folder"
    ws = init_workspace(tmp_path / "ws", store=writers_store)
    line = ws.stretch.line_wgs84
    for i in range(SEED_CROSSINGS):
        p = line.interpolate(0.1 + 0.15 * i, normalized=True)
        add_crossing(
            ws,
            {"lon": p.x, "lat": p.y, "kind": "ford", "source_name": f"seed {i}", "synthetic": True},
            reason=f"seed-{i}",
            max_border_km=None,
        )
    ws.close()
    journals = [tmp_path / f"journal-{w}.jsonl" for w in range(WRITERS)]
    head = [writers_store] if writers_store else []
    # the readers read the folder's files too, so they run against the folder store only
    readers = Readers(ws.path, tmp_path) if kind == "folder" else None
    with readers or contextlib.nullcontext():
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WORKER,
                    ws.path,
                    str(w),
                    str(OPS_PER_WRITER),
                    journals[w],
                    *head,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env(),
            )
            for w in range(WRITERS)
        ]
        deadline = time.monotonic() + 300
        while not all(Path(f"{j}.ready").exists() for j in journals):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
            time.sleep(0.05)
        (tmp_path / "go").touch()
        started = time.monotonic()
        outs = [p.communicate(timeout=600) for p in procs]
        elapsed = time.monotonic() - started
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-3000:]
    if readers is not None:
        assert readers.failures == []
        assert min(readers.counts[name] for name in ("raw", "list", "density", "map")) >= 1

    ops = [json.loads(line) for j in journals for line in j.read_text().splitlines()]
    assert len(ops) == WRITERS * OPS_PER_WRITER
    applied = {o["token"]: o for o in ops if o["rc"] == 0}
    refused = [o for o in ops if o["rc"] != 0]
    for o in refused:  # refused with a clear error, for a reason another writer caused
        assert o["rc"] == 1 and o["err"].startswith("Error: "), o
        assert re.search(_REFUSED[kind], o["err"]), o
        assert o["op"] != "add", o

    ws = Workspace.open(ws.path)
    store = ws.crossings
    history = list(store.history())
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    tokens = [e.reason for e in history if not (e.reason or "").startswith("seed-")]
    assert sorted(tokens) == sorted(applied), "an operation applied but not in the history"
    # no lost update: every change of a crossing starts from the state the previous one left
    last: dict[str, dict | None] = {}
    for e in history:
        for c in e.changes:
            assert last.get(c.id) == c.before, f"entry {e.seq} ({e.reason}) read a stale {c.id}"
            last[c.id] = c.after
    layer = {f["id"]: f for f in store.read()}
    assert last == layer == store.replay()
    reports = defaultdict(int)
    for o in applied.values():
        if o["op"] == "add-report":
            reports[o["id"]] += 1
        if o["op"] == "add":
            new_id = o["out"].strip()
            assert layer[new_id]["properties"]["reports"][0]["source_name"] == o["token"]
    for fid, feat in layer.items():
        assert len(feat["properties"]["reports"]) == 1 + reports[fid], fid
    assert validate_workspace(ws) == []
    ws.close()

    figure = "concurrency: " if kind == "folder" else "postgis concurrency: "
    FIGURES[figure + "writer processes"] = WRITERS
    FIGURES[figure + "operations run"] += len(ops)
    FIGURES[figure + "operations applied"] += len(applied)
    FIGURES[figure + "operations refused with a clear error"] += len(refused)
    FIGURES[figure + "seconds for all operations"] = round(elapsed, 1)
    FIGURES[figure + "updates lost"] += 0
    if readers is not None:
        FIGURES[figure + "reads while writing (all parsed)"] += sum(readers.counts.values())
    writers = [e.reason.split("-")[0] for e in history if e.reason and e.reason[0] == "w"]
    FIGURES[figure + "writer switches in the history"] += sum(
        a != b for a, b in itertools.pairwise(writers)
    )


# -- locks ---------------------------------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys, filelock
    lock = filelock.FileLock(sys.argv[1])
    lock.acquire()
    print("held", flush=True)
    sys.stdin.read()   # hold until the test closes stdin (or kills this process)
    lock.release()
    """
)


def _hold(lock_path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout.readline() == b"held\n"
    return proc


def _release(holder: subprocess.Popen) -> None:
    """Let the holder release the lock and exit (closing its stdin), and reap it."""
    holder.stdin.close()
    holder.wait(timeout=30)
    holder.stdout.close()


def _trade_csv(path: Path) -> Path:
    path.write_text(
        "period,total_trade,currency,unit,source\n2031-05,105,USD,million,Synthetic lock test\n"
    )
    return path


@pytest.mark.parametrize("layer", ["crossings", "trade"])
def test_a_live_lock_is_waited_for_never_broken(tmp_path, layer):
    ws = init_workspace(tmp_path / "ws")
    if layer == "crossings":
        lock = ws.crossings.lock_path
        args = ["crossings", "add", "--allow-near", "-w", ws.path, "--lon", "127.2696", "--lat", "41.5195",
                "--kind", "ford", "--source", "waited"]  # fmt: skip
        data = ws.crossings.path
    else:
        lock = ws.path / ".trade.lock"
        args = ["trade", "import", "-w", ws.path, _trade_csv(tmp_path / "t.csv")]
        data = ws.path / "trade.csv"
    before = data.read_bytes()
    holder = _hold(lock)
    try:
        writer = start(*args)
        time.sleep(3)  # long enough to have taken a free lock many times over
        assert writer.poll() is None, "the writer did not wait for the lock"
        assert data.read_bytes() == before
    finally:
        _release(holder)
    assert writer.wait(timeout=120) == 0
    assert data.read_bytes() != before
    FIGURES["locks: live locks held against a writer (never broken)"] += 1


def test_a_live_lock_times_out_with_a_lock_error(tmp_path, monkeypatch):
    import geotrack.trade as trade

    ws = init_workspace(tmp_path / "ws")
    for lock_path in (ws.crossings.lock_path, ws.path / ".trade.lock"):
        holder = _hold(lock_path)
        try:
            if lock_path.name == ".crossings.lock":
                store = LayerStore(ws.path, "crossings", lock_timeout=0.5)
                with pytest.raises(LockError, match="another geotrack process"), store.lock():
                    pass
            else:
                monkeypatch.setattr(trade.storage, "LOCK_TIMEOUT_S", 0.5)
                with pytest.raises(LockError, match="another geotrack process"):
                    trade.import_trade(ws.path, _trade_csv(tmp_path / "t.csv"))
        finally:
            _release(holder)
    assert validate_workspace(ws) == []


@pytest.mark.parametrize("layer", ["crossings", "trade"])
def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path, layer):
    ws = init_workspace(tmp_path / "ws")
    lock = ws.crossings.lock_path if layer == "crossings" else ws.path / ".trade.lock"
    holder = _hold(lock)
    os.kill(holder.pid, signal.SIGKILL)
    _release(holder)
    assert lock.exists()  # the file stays; the kernel dropped the lock with its holder
    if layer == "crossings":
        res = geotrack("crossings", "add", "--allow-near", "-w", ws.path, "--lon", "127.2696", "--lat",
                       "41.5195", "--kind", "ford", "--source", "after the kill")  # fmt: skip
    else:
        res = geotrack("trade", "import", "-w", ws.path, _trade_csv(tmp_path / "t.csv"))
    assert res.returncode == 0, res.stderr.decode()
    FIGURES["locks: stale locks of killed processes recovered"] += 1
