"""The PostGIS store in real QGIS: its PostGIS provider opens the crossings styled and edits them.

tests/qgis_pg_probe.py runs under Debian's /usr/bin/python3 (python3-qgis); marked ``qgis``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from geotrack.cli.store import pg_styles
from geotrack.pgstore import open_store
from geotrack.records import import_crossings
from geotrack.workspace import init_workspace

pytestmark = pytest.mark.qgis
PROBE = Path(__file__).with_name("qgis_pg_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def _conninfo(url: str) -> str:
    parts = urlsplit(url)
    q = dict(parse_qsl(parts.query))
    return (
        f"dbname={parts.path.lstrip('/')} host={q['host']} port={q['port']} user={parts.username}"
    )


def test_qgis_opens_the_crossings_styled_and_its_edits_reach_the_history(
    tmp_path, pg_schema, record
):
    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip("Debian's python3-qgis is not installed")
    ws = init_workspace(tmp_path / "ws", store=pg_schema, styles=pg_styles())
    import_crossings(ws, [record, {**record, "kind": "ford", "lon": 127.30}], user="ana")
    ws.close()
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    schema = urlsplit(pg_schema).query.split("schema=")[1].split("&")[0]
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), _conninfo(pg_schema), schema, str(report)],
        capture_output=True,
        text=True,
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(report.read_text())
    assert seen["valid"], seen
    assert seen["crs"] == "EPSG:4326" and seen["count"] == 2
    assert {"id", "kind", "status", "props", "version"} <= set(seen["fields"])
    assert seen["renderer"] == "categorizedSymbol" and seen["category_field"] == "kind"
    assert "pontoon" in seen["categories"] and "ford" in seen["categories"]
    assert seen["valid_edit_committed"], seen["valid_edit_errors"]
    assert not seen["bad_edit_committed"]
    assert any("check" in e.lower() for e in seen["bad_edit_errors"]), seen["bad_edit_errors"]
    store = open_store(pg_schema)
    try:
        layer = store.layer("crossings")
        first = layer.read()[0]
        assert first["properties"]["status"] == "destroyed"
        last = list(layer.history())[-1]
        assert last.reason == "edited outside geotrack (QGIS or SQL)"
        assert last.changes[0].after["properties"]["status"] == "destroyed"
        assert layer.replay() == {f["id"]: f for f in layer.read()}
    finally:
        store.close()
