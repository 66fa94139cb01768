"""Bounded memory and output for any input within the size limit (issue 12), as real processes.

Each case runs ``python -m geotrack crossings import`` in a fresh process and reads
its peak resident memory (``VmHWM`` in /proc/self/status at exit: ``ru_maxrss``
would carry over the parent's across ``exec``).  Figures measured on the
development machine (Python 3.11, Linux x86-64).  Importing a one-row CSV peaks
at 182 MB once it is validated (validation measures chainages with numba, whose
compiler takes about 120 MB); a file refused before validation stays near 60 MB:

- one GeoJSON feature with 10^6 properties (18.8 MB): peak 280 MB, 6 lines
  (517 bytes) on stderr, refused with the fix (``--extra drop``); before this
  change: 725 MB and one message per property;
- an ACLED-shaped CSV of 10,000 rows x 31 columns with no crossing kind: peak
  221 MB, 12 lines (1.4 KB) on stderr, each problem once with a count; before:
  187,500 lines (16 MB); with ``--extra refuse``: 62 MB, 25 lines;
- a CSV of 200 rows x 5,004 columns: peak 70 MB, 11 lines on stderr (refused
  before validation); with ``--extra drop --dry-run``: 183 MB.

The limits asserted leave room for other machines; the output limits are exact
in kind (lines are capped, not proportional to the input).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from geotrack.workspace import init_workspace

pytestmark = pytest.mark.slow
_PROBE = (
    "import runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module('geotrack', run_name='__main__')\n"
    "finally:\n"
    "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    "    sys.stderr.write('PEAK_KB ' + peak.split()[1] + '\\n')\n"
)
ACLED = ["event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
         "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
         "inter2", "interaction", "civilian_targeting", "iso", "region", "country", "admin1",
         "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
         "source_scale", "notes", "fatalities", "tags", "timestamp"]  # fmt: skip


def _import(ws, path, *args) -> tuple[int, str, float]:
    """Exit status, stderr (without the probe's line) and peak memory in MB."""
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            "geotrack",
            "crossings",
            "import",
            "-w",
            str(ws.path),
            str(path),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = res.stderr.splitlines()
    peak = int(lines[-1].split()[1]) / 1024
    return res.returncode, "\n".join(lines[:-1]), peak


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return init_workspace(tmp_path_factory.mktemp("mem") / "ws", exist_ok=True)


def test_a_feature_with_a_million_properties(ws, tmp_path):
    props = {f"p{i}": i for i in range(1_000_000)}
    props.update(kind="ford", source_name="made up for a test")
    path = tmp_path / "wide.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [127.2696, 41.5195]},
            }
        )
    )
    code, err, peak = _import(ws, path)
    assert code == 1
    assert "1,000,000 columns" in err and "--extra drop" in err
    assert len(err.splitlines()) <= 10 and len(err) < 2000, err
    assert peak < 450, f"peak {peak:.0f} MB (measured 280 MB)"
    code, err, peak = _import(ws, path, "--extra", "refuse")
    assert code == 1 and len(err.splitlines()) <= 30 and len(err) < 8000, err
    assert "more column(s)" in err
    assert peak < 450, f"peak {peak:.0f} MB (measured 280 MB)"


def test_a_ten_thousand_row_acled_file_without_kinds(ws, tmp_path):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(ACLED)
    for i in range(10_000):
        w.writerow([f"PRK{i}", "2024-01-01", 2024, 1, "x", "y", "z", "a", "", 1, "", "", 0, 10,
                    "", 408, "East Asia", "North Korea", "Ryanggang", "Hyesan", "", "p",
                    41.5195, 127.2696, 1, "SYNTHETIC", "National", "n", 0, "", 1718000000])  # fmt: skip
    path = tmp_path / "acled.csv"
    path.write_text(buf.getvalue())
    code, err, peak = _import(ws, path, "--preset", "acled")
    assert code == 1
    assert "10000 problem(s); nothing was written:" in err
    assert "… and 9,995 more: kind: is required" in err
    assert len(err.splitlines()) <= 20 and len(err) < 4000, err
    assert peak < 350, f"peak {peak:.0f} MB (measured 221 MB)"
    code, err, peak = _import(ws, path, "--preset", "acled", "--set", "kind=ford", "--dry-run")
    assert code == 0 and "would import 10000 new crossing(s)" in err
    assert len(err.splitlines()) <= 10, err
    assert peak < 350, f"peak {peak:.0f} MB (measured 226 MB)"


def test_a_csv_with_five_thousand_columns(ws, tmp_path):
    n = 5000
    head = ["lon", "lat", "kind", "source"] + [f"c{i}" for i in range(n)]
    row = "127.2696,41.5195,ford,made up," + ",".join(["v"] * n)
    path = tmp_path / "wide.csv"
    path.write_text(",".join(head) + "\n" + (row + "\n") * 200)
    code, err, peak = _import(ws, path)
    assert code == 1 and "more than the 1,000 other columns a report keeps" in err
    assert len(err.splitlines()) <= 15 and len(err) < 4000, err
    assert peak < 150, f"peak {peak:.0f} MB (measured 70 MB)"
    code, err, peak = _import(ws, path, "--extra", "drop", "--dry-run")
    assert code == 0 and "would import 200 new crossing(s)" in err
    assert peak < 350, f"peak {peak:.0f} MB (measured 183 MB)"
