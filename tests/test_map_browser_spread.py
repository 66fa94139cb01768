"""Spread sites on the map, in a real headless Chromium (network blocked).

The sites are the project's bundled public record (``geotrack init --public-record``:
S1 at its printed coordinate, S2–S8 placed from their words, most of them known only to
a stretch of river or a county).  A spread site must be drawn as its stretch of river,
not as a pin, and still be counted by the time filter and the legend.
"""

from __future__ import annotations

import pytest
from _browser import chromium_available, open_page

from geotrack.crs import to_wire
from geotrack.render.map import map_payload, render_html, write_html
from geotrack.workspace import init_workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright"),
]

SPREAD_PATHS = "document.querySelectorAll('path.gt-spread').length"
CIRCLES = "document.querySelectorAll('path.gt-spread-circle').length"
PINS = "document.querySelectorAll('.leaflet-marker-pane .gt-marker').length"
CLUSTERED = """() => {
  let n = 0;
  window.geotrack.clusters._featureGroup.eachLayer(l => {
    n += (l instanceof L.MarkerCluster) ? l.getChildCount() : 1;
  });
  return n;
}"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spread-map")
    ws = init_workspace(tmp / "ws", public_record=True)
    feats = ws.read_crossings()
    payload = map_payload(
        feats,
        stretch=ws.stretch,
        window=ws.window("all"),
        border=ws.border_wgs84,
        towns=list(ws.towns.values()),
        county_segments=ws.county_segments,
        attributions=ws.attribution(),
        data_date="2026-12-02",
    )
    path = write_html(render_html(payload), tmp / "map.html")
    with open_page(path) as run:
        run.wait_ready()
        yield run, ws, feats, tmp


def _spread(feats):
    return [f for f in feats if f["properties"].get("chainage_from_km") is not None]


def _near(feats):
    return [f for f in feats if f["properties"].get("placement") == "near_place"]


def test_spread_sites_are_stretches_of_river_not_pins(loaded):
    run, ws, feats, tmp = loaded
    spread = _spread(feats)
    near = _near(feats)
    assert len(spread) >= 5 and near  # the record is mostly words
    assert run.page_errors == [] and run.console_errors == [] and run.external_requests == []
    assert run.evaluate(SPREAD_PATHS) == len(spread) + len(near)
    assert run.evaluate(CIRCLES) == len(near)
    assert run.evaluate(CLUSTERED) == len(feats) - len(spread) - len(near)  # pins for the others
    assert run.evaluate("window.geotrack.shownCount") == len(feats)
    # each band runs along the river from the site's from-km to its to-km
    line = ws.stretch.line_m
    for f in spread:
        p = f["properties"]
        i = run.evaluate(f"window.geotrack.indexOf('{f['id']}')")
        ends = run.evaluate(
            f"(() => {{ const ll = window.geotrack.spreadLines[{i}].getLatLngs();"
            " return [[ll[0].lat, ll[0].lng], [ll[ll.length - 1].lat, ll[ll.length - 1].lng]]; })()"
        )
        for km, (lat, lon) in zip((p["chainage_from_km"], p["chainage_to_km"]), ends, strict=True):
            q = line.interpolate(km * 1000.0)
            want_lon, want_lat = to_wire(q.x, q.y)
            assert (lat, lon) == pytest.approx((want_lat, want_lon), abs=2e-4), (f["id"], km)
    run.page.screenshot(path=str(tmp / "spread.png"))


def test_the_popup_of_a_spread_site_says_where_it_may_be(loaded):
    run, _, feats, _ = loaded
    f = next(f for f in _spread(feats) if f["properties"]["placement"] == "km_from")
    run.evaluate(f"window.geotrack.openPopup(window.geotrack.indexOf('{f['id']}'))")
    text = run.evaluate("document.querySelector('.gt-pop').innerText")
    assert "somewhere on km 194.8–198.8" in text and "no point is known" in text
    assert f["properties"]["placement_basis"] in text
    run.evaluate("window.geotrack.map.closePopup()")


def test_time_filter_and_legend_count_spread_sites(loaded):
    run, _, feats, _ = loaded
    kinds = run.evaluate("window.geotrack.data.codes.kind.map(c => c[0])")
    counts = run.evaluate("window.geotrack.counts.kind")
    for k in {f["properties"]["kind"] for f in feats}:
        assert counts[kinds.index(k)] == sum(f["properties"]["kind"] == k for f in feats)
    # July 2022 only: S8 (the border areas of Samjiyon and Pochon) and the undated sites
    m = 2022 * 12 + 6
    run.evaluate(f"window.geotrack.setTimeRange({m}, {m})")
    run.page.wait_for_function("window.geotrack.ready === true")
    assert run.evaluate(SPREAD_PATHS) == run.evaluate("window.geotrack.spreadCount")
    shown = run.evaluate("window.geotrack.shownCount")
    assert shown == run.evaluate("window.geotrack.visibleIndices().length")
    ids = set(
        run.evaluate(
            "window.geotrack.visibleIndices().map(i => window.geotrack.data.s[window.geotrack.data.c.id[i]])"
        )
    )
    assert "YLU-0008" in ids and "YLU-0001" not in ids  # dated 2023: filtered out
    assert sum(run.evaluate("window.geotrack.counts.kind")) == shown
    lo, hi = run.evaluate("window.geotrack.data.meta.time_range")
    run.evaluate(
        "([a, b]) => window.geotrack.setTimeRange(window.geotrack.monthOfDay(a), window.geotrack.monthOfDay(b))",
        [lo, hi],
    )
    run.page.wait_for_function("window.geotrack.ready === true")
    assert run.evaluate("window.geotrack.shownCount") == len(feats)
    assert run.evaluate(SPREAD_PATHS) == len(_spread(feats)) + len(_near(feats))


STRIP_PIXEL = """([x, y]) => {
  const s = document.getElementById('gt-strip');
  const k = s.width / s.clientWidth;
  return Array.from(s.getContext('2d').getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data);
}"""


def test_the_strip_draws_a_spread_site_as_its_interval_and_says_so(loaded):
    # was: one tick, as if the site's chainage were known to the metre
    run, _, feats, _ = loaded
    spread = _spread(feats) + _near(feats)
    w = run.evaluate("document.getElementById('gt-strip').clientWidth")
    ticks = run.evaluate(
        "window.geotrack.visibleIndices().map(i => window.geotrack.stripX(window.geotrack.data.c.km[i]))"
    )
    box = run.page.locator("#gt-strip").bounding_box()
    checked = 0
    for f in spread:
        p = f["properties"]
        i = run.evaluate(f"window.geotrack.indexOf('{f['id']}')")
        km = run.evaluate(f"window.geotrack.data.c.km[{i}]")
        if p.get("chainage_from_km") is not None:
            want = [p["chainage_from_km"], p["chainage_to_km"]]
        else:
            r = p["uncertainty_m"] / 1000.0
            want = [max(0.0, km - r), km + r]
        got = run.evaluate(f"window.geotrack.stripSpread({i})")
        assert got == pytest.approx(want, abs=1e-3), f["id"]
        # a point of the bar more than 7 px from every tick (else the nearest tick is picked)
        a, b = (run.evaluate(f"window.geotrack.stripX({k})") for k in got)
        free = [x for x in range(int(a) + 1, int(b)) if min(abs(x - t) for t in ticks) > 7]
        if not free:
            continue
        x = free[len(free) // 2]
        up = run.evaluate(f"window.geotrack.data.c.off[{i}] > 0")
        h = run.evaluate("document.getElementById('gt-strip').clientHeight")
        y = round(h * 0.55) + (-9 if up else 9)
        assert run.evaluate(STRIP_PIXEL, [x, y])[:3] != [250, 250, 250]  # tinted, not background
        run.page.mouse.move(box["x"] + x, box["y"] + y)  # the strip's own mousemove handler runs
        title = run.evaluate("document.getElementById('gt-strip').title")
        assert run.evaluate("window.geotrack.stripHovered") == i, (f["id"], title)
        assert f["id"] in title and "(best estimate)" in title
        assert f"km {got[0]:.1f}–{got[1]:.1f}" in title
        assert f"({got[1] - got[0]:.1f} km of river)" in title
        checked += 1
    assert checked >= 2 and w > 0
