"""``geotrack map`` and ``geotrack demo`` from the command line."""

from __future__ import annotations

import base64
import json
import re
import zlib

import pytest
from _browser import chromium_available, open_page
from click.testing import CliRunner

from geotrack.cli.main import cli
from geotrack.demo import DEMO_SOURCE


def _data(html: str) -> dict:
    m = re.search(
        r'<script type="application/json" id="geotrack-data">\n(.*?)\n</script>', html, re.S
    )
    data = json.loads(m.group(1))
    data["reports"] = json.loads(zlib.decompress(base64.b64decode(data.pop("rz"))))
    return data


def test_map_writes_a_self_contained_page_and_refuses_to_clobber(ws, record, tmp_path):
    from geotrack.records import add_crossing

    add_crossing(ws, {**record, "notes": "</script><script>alert(1)</script>"})
    out = tmp_path / "maps" / "yalu.html"
    r = CliRunner().invoke(cli, ["map", "-w", str(ws.path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == str(out)
    html = out.read_text()
    assert "<script src=" not in html and "<script>alert(1)" not in html
    data = _data(html)
    assert data["meta"]["n"] == 1 and data["meta"]["synthetic"] is False
    assert data["window"]["name"] == "reported"
    assert data["density"]["bins"]["bin_km"] == 5.0
    r2 = CliRunner().invoke(cli, ["map", "-w", str(ws.path), "-o", str(out)])
    assert r2.exit_code == 2 and "--overwrite" in r2.stderr
    r3 = CliRunner().invoke(cli, ["map", "-w", str(ws.path), "-o", str(out), "--overwrite"])
    assert r3.exit_code == 0, r3.output


def test_map_rejects_a_bad_window(ws, tmp_path):
    r = CliRunner().invoke(
        cli, ["map", "-w", str(ws.path), "-o", str(tmp_path / "m.html"), "--window", "300:100"]
    )
    assert r.exit_code != 0
    assert not (tmp_path / "m.html").exists()


def test_demo_workspace_is_labelled_synthetic(tmp_path):
    r = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo"), "-n", "12", "--seed", "3"])
    assert r.exit_code == 0, r.output
    page = tmp_path / "demo" / "maps" / "demo.html"
    data = _data(page.read_text())
    assert data["meta"]["n"] == 12 and data["meta"]["n_synthetic"] == 12
    c, rs = data["c"], data["reports"]["s"]
    assert all(0 <= km <= 238.7 for km in c["km"])
    sources = {rs[rep[1]] for reps in data["reports"]["r"] for rep in reps}
    assert sources and all(x.startswith(DEMO_SOURCE) for x in sources)
    again = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo"), "-n", "12"])
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    over = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo"), "-n", "5", "--overwrite"])
    assert over.exit_code == 0, over.output
    assert _data(page.read_text())["meta"]["n"] == 5


def test_demo_never_overwrites_real_records(ws, record):
    from geotrack.demo import create_demo
    from geotrack.errors import StorageError
    from geotrack.records import add_crossing

    add_crossing(ws, record)
    with pytest.raises(StorageError, match="not synthetic"):
        create_demo(ws.path, overwrite=True)
    assert len(ws.read_crossings()) == 1


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright")
def test_demo_end_to_end_in_a_browser_with_png(tmp_path):
    png = tmp_path / "demo.png"
    r = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo"), "--png", str(png)])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open_page(tmp_path / "demo" / "maps" / "demo.html") as run:
        run.wait_ready()
        assert run.page_errors == [] and run.console_errors == [] and run.external_requests == []
        assert run.evaluate("window.geotrack.shownCount") == 32
        banner = run.evaluate("document.getElementById('gt-banner').textContent")
        assert banner.startswith("SYNTHETIC DEMO DATA")
        assert run.evaluate("document.getElementById('gt-banner').hidden") is False
        run.evaluate("window.geotrack.openPopup(0)")
        text = run.evaluate("document.querySelector('.leaflet-popup-content').textContent")
        assert "SYNTHETIC" in text and DEMO_SOURCE in text
