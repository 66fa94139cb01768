"""Start-up budget: which heavy libraries a command loads (``sys.modules`` after it, in a subprocess).

Printing help or a table of crossings must not pay for numba, GDAL bindings,
folium or Vega (see issue 16): those are imported inside the functions that
need them.  A new top-level import of one of them fails here, naming it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geotrack.records import add_crossing

#: Libraries costing tenths of a second or more to import (numpy is not counted: rio pays it too).
HEAVY = (
    "numba",
    "shapely",
    "geopandas",
    "pyproj",
    "folium",
    "vl_convert",
    "openpyxl",
    "rasterio",
    "fiona",
    "pyogrio",
    "scipy",
    "pandas",
)

_PROBE = """
import json, sys
from geotrack.cli.main import cli
try:
    cli.main(args=sys.argv[1:], prog_name="geotrack", standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code
heavy = {heavy!r}
sys.stdout.flush()
sys.stderr.write("\\nBUDGET " + json.dumps(
    {{"code": code, "loaded": sorted(m for m in heavy if m in sys.modules)}}) + "\\n")
"""


def loaded_by(*args: str) -> list[str]:
    """Heavy modules in ``sys.modules`` after ``geotrack ARGS`` ran in a fresh interpreter."""
    res = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        timeout=120,
    )
    line = res.stderr.decode().rsplit("BUDGET ", 1)[-1]
    out = json.loads(line)
    assert out["code"] in (0, None), res.stderr.decode()
    return out["loaded"]


@pytest.fixture
def w(ws, record) -> list[str]:
    add_crossing(ws, record, reason="a crossing for the budget test")
    return ["--workspace", str(ws.path)]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["crossings", "--help"]])
def test_help_and_version_import_nothing_heavy(args):
    assert loaded_by(*args) == []


def test_crossings_list_imports_nothing_heavy(w):
    assert loaded_by("crossings", "list", *w) == []
    assert loaded_by("crossings", "list", "--json", *w) == []


def test_validate_loads_only_geometry_and_projection(w):
    # validate checks that the stretch and border load and measure: shapely and pyproj, no more
    assert loaded_by("validate", *w) == ["pyproj", "shapely"]
