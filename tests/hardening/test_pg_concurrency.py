"""Eight writer processes on one PostGIS store at once: nothing lost, every change once.

The same workers as the folder store's test (tests/hardening/test_concurrency.py), through the
CLI with ``--store URL``.  Each operation is applied (exit 0, its token in exactly one history
entry) or refused with a clear error (exit 1): editing a crossing another writer retired, or a
crossing another writer changed since this one read it.  History entries are numbered without
gap, each entry's ``before`` is the previous entry's ``after`` (no lost update), the table
equals the replay of its history and ``validate`` finds nothing.  Runs against the server
scripts/test.sh starts (GEOTRACK_TEST_PG).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from geotrack.records import add_crossing, validate_workspace
from geotrack.workspace import Workspace, init_workspace
from hardening._run import FIGURES, env
from hardening.test_concurrency import _WORKER, OPS_PER_WRITER, SEED_CROSSINGS, WRITERS


@pytest.mark.slow
def test_eight_writers_on_postgis_lose_nothing(tmp_path, pg_schema):
    ws = init_workspace(tmp_path / "ws", store=pg_schema)
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
                pg_schema,
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

    ops = [json.loads(line) for j in journals for line in j.read_text().splitlines()]
    assert len(ops) == WRITERS * OPS_PER_WRITER
    applied = {o["token"]: o for o in ops if o["rc"] == 0}
    refused = [o for o in ops if o["rc"] != 0]
    for o in refused:  # refused with a clear error, for a reason another writer caused
        assert o["rc"] == 1 and o["err"].startswith("Error: "), o
        assert re.search(r"is retired|already retired|since you read it", o["err"]), o
        assert o["op"] != "add", o

    ws = Workspace.open(ws.path)
    store = ws.crossings
    history = list(store.history())
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    tokens = [e.reason for e in history if not (e.reason or "").startswith("seed-")]
    assert sorted(tokens) == sorted(applied), "an operation applied but not in the history"
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
    for fid, feat in layer.items():
        assert len(feat["properties"]["reports"]) == 1 + reports[fid], fid
    assert validate_workspace(ws) == []
    ws.close()

    FIGURES["postgis concurrency: writer processes"] = WRITERS
    FIGURES["postgis concurrency: operations run"] += len(ops)
    FIGURES["postgis concurrency: operations applied"] += len(applied)
    FIGURES["postgis concurrency: refused with a clear error"] += len(refused)
    FIGURES["postgis concurrency: seconds for all operations"] = round(elapsed, 1)
