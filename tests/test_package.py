"""The package itself: light imports, entry points, the shipped workspace."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import geotrack
from geotrack.workspace import RECORD_FILES, REFERENCE_FILES, init_workspace

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
PACKAGED = ROOT / "geotrack" / "data" / "workspace"

_PROBE = """
import json, sys
import geotrack, geotrack.errors, geotrack.schema, geotrack.geojson, geotrack.crs
import geotrack.store, geotrack.workspace, geotrack.records, geotrack.importers
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'folium'))))
"""


def test_import_geotrack_loads_neither_click_nor_folium():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, check=True, timeout=60
    ).stdout
    assert json.loads(out) == []


def test_version_matches_the_project():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert geotrack.__version__ == meta["project"]["version"]
    assert meta["project"]["scripts"]["geotrack"] == "geotrack.cli.main:cli"
    assert {"GDAL", "GEOS", "PROJ", "geotrack"} <= set(geotrack.show_versions())


def test_console_script_and_python_dash_m():
    script = Path(sys.executable).with_name("geotrack")
    assert script.exists(), "the console script: pip install -e . creates it"
    for cmd in ([str(script)], [sys.executable, "-m", "geotrack"]):
        res = subprocess.run([*cmd, "--version"], capture_output=True, timeout=60)
        assert res.returncode == 0 and res.stdout.decode().startswith("geotrack, version ")


def test_shipped_layers_equal_the_packaged_copies():
    assert PACKAGED.is_dir() and LAYERS.is_dir()
    packaged = sorted(p.name for p in PACKAGED.iterdir() if p.is_file())
    assert set(REFERENCE_FILES) <= set(packaged)
    for name in packaged:
        assert (LAYERS / name).read_bytes() == (PACKAGED / name).read_bytes(), name


def test_init_output_equals_the_shipped_layers(tmp_path):
    ws = init_workspace(tmp_path / "ws", public_record=True)
    made = sorted(p.name for p in ws.path.iterdir() if not p.name.startswith("."))
    assert {*REFERENCE_FILES, *RECORD_FILES, "official_crossings.geojson"} <= set(made)
    for name in made:
        assert (ws.path / name).read_bytes() == (LAYERS / name).read_bytes(), name


def test_init_empty_has_no_record(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    assert ws.read_crossings() == [] and ws.read_claims() == []
    assert not (ws.path / "claims.geojson").exists()


def test_the_build_script_rebuilds_the_shipped_record_exactly():
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_public_record.py"), "--check"],
        capture_output=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr.decode()


@pytest.mark.slow
def test_the_wheel_builds_without_a_warning_and_states_its_licences(tmp_path):
    # was: setuptools' "project.license as a TOML table is deprecated" (fails from 2027-02-18)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-v"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    flagged = [
        line
        for line in log.splitlines()
        if re.search(r"(?i)deprecat|warning", line) and "Location 'file:" not in line
    ]
    assert flagged == [], "\n".join(flagged)
    (wheel,) = tmp_path.glob("geotrack-*.whl")
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        names = z.namelist()
    assert "License-Expression: MIT" in meta
    assert any(n.endswith("licenses/LICENSE") for n in names)
    # the bundled data's own licences travel with the wheel
    assert any(n.endswith("licenses/layers/README.md") for n in names)
