"""The map page without a browser: payload, escaping, offline assets, atomic writes."""

from __future__ import annotations

import base64
import json
import re
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
from _mapdata import HOSTILE_NOTES, crossing, trade_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.errors import UsageError
from geotrack.render import assets
from geotrack.render.map import (
    MapOptions,
    crossing_verification,
    json_for_script,
    map_payload,
    raster_overlay,
    render_html,
    write_html,
)

DATA_RE = re.compile(r'<script type="application/json" id="geotrack-data">\n(.*?)\n</script>', re.S)


def _data(html: str) -> dict:
    blocks = DATA_RE.findall(html)
    assert len(blocks) == 1, "the data must be in the page exactly once"
    data = json.loads(blocks[0])
    # the reports ship compressed (geotrack.render.page.pack_reports)
    data["reports"] = json.loads(zlib.decompress(base64.b64decode(data.pop("rz"))))
    return data


@pytest.fixture
def page_inputs(ws):
    feats = [
        crossing(1, 20.0, ws.stretch, kind="ford", verification="verified"),
        crossing(2, 120.0, ws.stretch, offset_m=-150.0, kind="pontoon", status="destroyed"),
        crossing(3, 205.0, ws.stretch, notes=HOSTILE_NOTES[0], url="javascript:alert(1)"),
        crossing(4, 206.0, ws.stretch, notes=HOSTILE_NOTES[1]),
        crossing(5, 100.0, ws.stretch, offset_m=9000.0, event_start=None, event_end=None),
    ]
    return feats, {
        "stretch": ws.stretch,
        "window": ws.window("reported"),
        "border": ws.border_wgs84,
        "towns": list(ws.towns.values()),
        "county_segments": ws.county_segments,
        "attributions": ws.attribution(),
        "data_date": "2025-12-20",
    }


def test_payload_columns_and_chainage(page_inputs):
    feats, kw = page_inputs
    p = map_payload(feats, **kw)
    c, s = p["c"], p["s"]
    assert [s[i] for i in c["id"]] == ["YLU-0001", "YLU-0002", "YLU-0003", "YLU-0004", "YLU-0005"]
    assert c["km"][0] == pytest.approx(20.0, abs=0.05)
    assert c["km"][1] == pytest.approx(120.0, abs=0.05)
    # left of the upstream direction is the Chinese bank: positive offset
    assert c["off"][0] == pytest.approx(80.0, abs=2.0)
    assert c["off"][1] == pytest.approx(-150.0, abs=2.0)
    assert c["far"] == [0, 0, 0, 0, 1]  # 9 km off the line: beyond max_offset_km
    kinds = [k[0] for k in p["codes"]["kind"]]
    assert kinds[c["kind"][0]] == "ford" and kinds[c["kind"][1]] == "pontoon"
    vers = [v[0] for v in p["codes"]["ver"]]
    assert vers[c["ver"][0]] == "verified"
    # report event interval 2025-10 .. 2025-11 as days since 1970-01-01, end inclusive
    assert c["iv"][0] == [[20362, 20422]]
    assert c["iv"][4] == [[20438, 20438]]  # no event dates: the reported date
    assert p["window"]["length_km"] == pytest.approx(238.7)
    assert p["window"]["straight_km"] == pytest.approx(104.2, abs=0.1)
    assert p["window"]["reported_km"] == 98.0
    assert p["meta"]["synthetic"] is False
    assert [t["km"] for t in p["ticks"][:3]] == [0.0, 10.0, 20.0]
    assert {t["country"] for t in p["towns"]} == {"CN", "KP"}
    assert any("OpenStreetMap" in a for a in p["meta"]["attributions"])


def test_payload_stores_strings_once(page_inputs):
    feats, kw = page_inputs
    p = map_payload(feats * 1, **kw)
    assert len(p["s"]) == len(set(p["s"]))
    rs = p["reports"]["s"]
    assert len(rs) == len(set(rs)) and rs.count("Test source (made up for a unit test)") == 1
    assert len(p["reports"]["r"]) == len(feats)


def test_synthetic_flag_reaches_the_banner(ws):
    feats = [crossing(1, 50.0, ws.stretch, synthetic=True), crossing(2, 60.0, ws.stretch)]
    p = map_payload(feats, stretch=ws.stretch, window=ws.window("reported"))
    assert p["meta"]["synthetic"] is True and p["meta"]["n_synthetic"] == 1
    html = render_html(p)
    assert "SYNTHETIC DEMO DATA" in assets.own_js()
    assert 'id="gt-banner"' in html


def test_crossing_verification_summary():
    assert crossing_verification([]) == "unverified"
    assert crossing_verification([{"verification": "false"}]) == "false"
    assert crossing_verification([{"verification": "false"}, {"verification": "verified"}]) == (
        "disputed"
    )
    assert crossing_verification(
        [{"verification": "in_review"}, {"verification": "unverified"}]
    ) == ("in_review")
    assert crossing_verification([{"verification": "<b>"}]) == "unverified"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_json_for_script_round_trips_and_cannot_close_the_element(text):
    out = json_for_script({"t": text, "l": [text]})
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        assert ch not in out
    assert json.loads(out) == {"t": text, "l": [text]}


def test_hostile_text_is_inert_in_the_html(page_inputs):
    feats, kw = page_inputs
    html = render_html(map_payload(feats, **kw))
    assert "<img src=x" not in html
    assert "onerror=alert" not in html.replace("\\u003cimg src=x onerror=alert(1)\\u003e", "")
    assert html.count("<script>alert(1)") == 0
    data = _data(html)
    reps = data["reports"]
    notes = {reps["s"][r[14]] for rows in reps["r"] for r in rows}
    assert HOSTILE_NOTES[0] in notes and HOSTILE_NOTES[1] in notes  # stored exactly


def test_page_is_self_contained_offline(page_inputs):
    feats, kw = page_inputs
    html = render_html(map_payload(feats, **kw))
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=", html, re.I)
    assert not re.search(r"<img[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"@import", html)
    for cdn in (
        "cdn.jsdelivr.net",
        "code.jquery.com",
        "cdnjs.cloudflare.com",
        "unpkg.com",
        "bootstrapcdn",
        "tile.openstreetmap.org",
        "arcgisonline",
    ):
        assert cdn not in html, cdn
    assert "sourceMappingURL" not in html
    assert "L.version" in html or '"1.9.3"' in html or "1.9.3" in html
    assert "markerClusterGroup" in html


def test_online_mode_links_cdn_and_offers_tiles(page_inputs):
    feats, kw = page_inputs
    html = render_html(map_payload(feats, **kw, options=MapOptions(online=True)))
    assert (
        '<script src="https://unpkg.com/leaflet@1.9.3/dist/leaflet.js" '
        'integrity="sha256-WBkoXOwTeyKclOHuWtc+i2uENFpDZ9YPdf5Hf+D7ewM=" crossorigin="anonymous"'
    ) in html  # Leaflet's published SRI for 1.9.3, from the same bytes the offline page inlines
    # every CDN asset carries integrity and crossorigin
    import re

    tags = re.findall(r"<(?:script|link)[^>]*https://unpkg\.com[^>]*>", html)
    assert len(tags) == 5
    assert all('integrity="sha256-' in t and 'crossorigin="anonymous"' in t for t in tags)
    assert (
        'href="https://unpkg.com/leaflet@1.9.3/dist/leaflet.css" integrity="sha256-kLaT2GOSpHechhsozzB+flnD+zUyjE2LlfWPgU04xyI="'
        in html
    )
    assert "tile.openstreetmap.org" in html
    assert "bootstrap" not in html.lower().replace("bootstrap-", "")


def test_chart_and_vega_are_inlined_once(page_inputs):
    from geotrack.render.chart import trade_chart_spec

    feats, kw = page_inputs
    spec = trade_chart_spec(trade_rows(), crossings=feats, width=290, height=170)
    html = render_html(map_payload(feats, **kw, chart_spec=spec))
    data = _data(html)
    totals = [
        d["value"]
        for d in data["chart"]["spec"]["data"]["values"]
        if d.get("kind") == "flow"
        and d.get("period") == "2025-11"
        and d.get("flow") == "total_trade"
    ]
    assert totals == [281]
    assert html.count("window.vegaEmbed=") == 1
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)


def test_density_segments_follow_the_river(ws):
    density = {
        "window": {"from_km": 0.0, "to_km": 10.0, "length_km": 10.0},
        "bins": [
            {"from_km": 0.0, "to_km": 5.0, "count": 2, "per_km": 0.4},
            {"from_km": 5.0, "to_km": 10.0, "count": 1, "per_km": 0.2},
        ],
        "kde": {
            "bandwidth_km": 2.0,
            "kernel": "gaussian",
            "step_km": 0.5,
            "values": [{"km": k / 2, "per_km": 0.3} for k in range(21)],
        },
    }
    p = map_payload([], stretch=ws.stretch, window=ws.window("0:10"), density=density)
    segs = p["density"]["bins"]["segments"]
    assert [(s["from_km"], s["to_km"], s["value"]) for s in segs] == [
        (0.0, 5.0, 0.4),
        (5.0, 10.0, 0.2),
    ]
    first = segs[0]["c"][0]
    assert first == pytest.approx(p["stretch"]["line"][0], abs=1e-4)
    assert p["density"]["kde"]["bandwidth_km"] == 2.0
    assert p["density"]["unit"] == "crossings per km of river"


def test_raster_overlay_is_a_png_in_web_mercator():
    values = np.zeros((40, 50), dtype=np.float32)
    values[20, 25] = 3.0
    grid = SimpleNamespace(
        values=values,
        transform=(100.0, 0.0, 400000.0, 0.0, -100.0, 4600000.0),
        cell_m=100.0,
        bandwidth_m=300.0,
        bounds=(400000.0, 4596000.0, 405000.0, 4600000.0),
        corridor_m=None,
        in_corridor=None,
        total=3.0,
    )
    r = raster_overlay(grid)
    assert r["corridor_km"] is None  # not clipped: no corridor to state
    assert r["png"].startswith("data:image/png;base64,iVBORw0KGgo")
    (s, w), (n, e) = r["bounds"]
    assert 41.4 < s < n < 41.6 and 127.7 < w < e < 127.9
    assert r["max"] > 0


def test_the_raster_legend_states_its_corridor_and_bandwidth(ws):
    from geotrack.density import clip_to_corridor, density_grid

    x, y = np.array([400000.0, 402000.0]), np.array([4598000.0, 4598000.0])
    grid = density_grid(
        x, y, bounds=(396000.0, 4594000.0, 406000.0, 4602000.0), cell_m=250.0, bandwidth_m=750.0
    )
    grid = clip_to_corridor(grid, [(396000.0, 4598000.0), (406000.0, 4598000.0)], 1500.0)
    r = raster_overlay(grid)
    assert r["corridor_km"] == 1.5 and r["bandwidth_m"] == 750.0
    assert 0 < r["in_corridor"] < r["total"]
    p = map_payload([], stretch=ws.stretch, window=ws.window("0:10"))
    p["density"] = {"raster": r}  # as workspace_payload adds it
    html = render_html(p)
    shown = _data(html)["density"]["raster"]
    assert (shown["corridor_km"], shown["bandwidth_m"]) == (1.5, 750.0)


def test_write_html_refuses_to_clobber_and_is_atomic(tmp_path):
    target = tmp_path / "out" / "m.html"
    write_html("<p>one</p>", target)
    with pytest.raises(UsageError, match="--overwrite"):
        write_html("<p>two</p>", target)
    assert target.read_text() == "<p>one</p>"
    write_html("<p>two</p>", target, overwrite=True)
    assert target.read_text() == "<p>two</p>"
    assert [p.name for p in target.parent.iterdir()] == ["m.html"]  # no temp file left


def test_assets_come_from_packages_and_are_script_safe():
    assert "1.9.3" in assets.leaflet_js()[:200]
    assert "images/" not in assets.leaflet_css()
    assert "</script" not in assets.vega_bundle().lower()
    assert assets.script_safe("a='</SCRIPT>'") == "a='<\\/SCRIPT>'"
    assert assets.style_safe("</style>") == "<\\/style>"
    js = assets.own_js()
    assert "innerHTML" not in js.replace("innerHTML is never", "")  # own code never uses it
