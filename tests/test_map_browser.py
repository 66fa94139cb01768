"""The map page in a real headless Chromium, with every network request blocked."""

from __future__ import annotations

import math

import pytest
from _browser import chromium_available, open_page
from _mapdata import HOSTILE_NOTES, crossing, trade_rows

from geotrack.render.chart import trade_chart_spec
from geotrack.render.map import map_payload, render_html, write_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright"),
]

COUNT_THROUGH_CLUSTERS = """() => {
  let n = 0;
  window.geotrack.clusters._featureGroup.eachLayer(l => {
    n += (l instanceof L.MarkerCluster) ? l.getChildCount() : 1;
  });
  let dom = 0;
  document.querySelectorAll('.marker-cluster span').forEach(s => { dom += parseInt(s.textContent, 10); });
  dom += document.querySelectorAll('.leaflet-marker-pane .gt-marker').length;
  return [n, dom];
}"""


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    from geotrack.workspace import init_workspace

    tmp = tmp_path_factory.mktemp("browser")
    ws = init_workspace(tmp / "ws")
    kms = [5, 12, 20, 33, 47, 60, 75, 90, 110, 130, 150, 170, 190, 205, 215, 230]
    feats = [
        crossing(i + 1, km, ws.stretch, kind=("ford", "pontoon")[i % 2]) for i, km in enumerate(kms)
    ]
    for j, note in enumerate(HOSTILE_NOTES):
        feats.append(
            crossing(
                100 + j,
                100.0 + 12 * j,
                ws.stretch,
                notes=note,
                url="javascript:alert(1)" if j == 0 else "https://example.org/x",
            )
        )
    feats.append(crossing(200, 60.0, ws.stretch, event_start="2024-01", event_end="2024-02"))
    feats.append(crossing(201, 64.0, ws.stretch, url="http://0x7f.1/admin"))
    spec = trade_chart_spec(trade_rows(), crossings=feats, width=290, height=170)
    payload = map_payload(
        feats,
        stretch=ws.stretch,
        window=ws.window("reported"),
        border=ws.border_wgs84,
        towns=list(ws.towns.values()),
        county_segments=ws.county_segments,
        chart_spec=spec,
        attributions=ws.attribution(),
        data_date="2025-12-20",
    )
    path = write_html(render_html(payload), tmp / "map.html")
    return path, len(feats)


@pytest.fixture(scope="module")
def loaded(page_file):
    path, n = page_file
    with open_page(path) as run:
        run.wait_ready()
        yield run, n


def test_page_loads_offline_without_errors(loaded):
    run, n = loaded
    assert run.evaluate("L.version") == "1.9.3"
    assert run.evaluate("typeof L.markerClusterGroup") == "function"
    assert run.page_errors == []
    assert run.console_errors == []
    assert run.external_requests == []
    assert run.dialogs == []
    assert run.evaluate("window.geotrack.shownCount") == n
    assert run.page.title() == "Reported crossings of the Yalu (Amnok): Baishan–Ryanggang"


def test_every_crossing_is_counted_through_the_clusters(loaded):
    run, n = loaded
    via_layers, via_dom = run.evaluate(COUNT_THROUGH_CLUSTERS)
    assert via_layers == n
    assert via_dom == n


# Before the hostile popups open: count every dialog the page asks for and record every
# element that could run script (img, script, iframe, …, any on* attribute) ever added to
# the document, even if removed again.  With none added, no handler can run later.
WATCH = """() => {
  window.__gtDialogs = 0;
  for (const name of ['alert', 'confirm', 'prompt']) {
    const orig = window[name];
    window[name] = function () { window.__gtDialogs++; return orig.apply(window, arguments); };
  }
  window.__gtRisky = [];
  const RISKY = 'img,script,iframe,object,embed,svg,[onerror],[onload],[onclick]';
  const note = records => records.forEach(r => r.addedNodes.forEach(n => {
    if (n.nodeType !== 1) return;
    if (n.matches(RISKY)) window.__gtRisky.push(n.outerHTML);
    n.querySelectorAll(RISKY).forEach(x => window.__gtRisky.push(x.outerHTML));
  }));
  const obs = new MutationObserver(note);
  obs.observe(document, {childList: true, subtree: true});
  window.__gtWatchDone = () => { note(obs.takeRecords()); obs.disconnect(); return window.__gtRisky; };
}"""

# Open a crossing's popup and resolve on Leaflet's popupopen: its content is in the page.
# (The page has one popup: closed first, so that opening it again fires popupopen.)
OPEN_POPUP = """(id) => new Promise(done => {
  window.geotrack.map.closePopup();
  window.geotrack.map.once('popupopen', e => done(e.popup.getElement().querySelector('.gt-pop') !== null));
  window.geotrack.openPopup(window.geotrack.indexOf(id));
})"""


def test_popup_shows_the_report_and_hostile_text_literally(loaded):
    run, _ = loaded
    title = run.page.title()
    scripts = run.evaluate("document.scripts.length")
    run.evaluate(WATCH)
    for j, note in enumerate(HOSTILE_NOTES):
        assert run.evaluate(OPEN_POPUP, f"YLU-{100 + j:04d}") is True
        text = run.evaluate("document.querySelector('.leaflet-popup-content').textContent")
        assert f"YLU-{100 + j:04d}" in text
        assert "Test source (made up for a unit test)" in text
        assert "Admiralty grade: B3" in text
        shown = run.evaluate(
            "document.querySelector('.leaflet-popup-content .gt-note-text').textContent"
        )
        assert shown == note
    # the javascript: URL is shown as text, never as a link
    run.evaluate("window.geotrack.openPopup(window.geotrack.indexOf('YLU-0100'))")
    hrefs = run.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-popup-content a')).map(a => a.href)"
    )
    assert hrefs == []
    run.evaluate("window.geotrack.openPopup(window.geotrack.indexOf('YLU-0101'))")
    hrefs = run.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-popup-content a')).map(a => a.href)"
    )
    assert hrefs == ["https://example.org/x"]
    # the symbol in each popup's head is our own svg (no handler); nothing else was added
    risky = run.evaluate("window.__gtWatchDone()")
    assert [x for x in risky if not x.startswith('<svg width="22"')] == []
    assert run.evaluate("window.__gtDialogs") == 0
    assert run.dialogs == []
    assert run.page.title() == title
    assert run.evaluate("document.scripts.length") == scripts
    assert run.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert run.evaluate("typeof window.pwned") == "undefined"
    assert run.page_errors == []


def test_a_source_link_shows_where_it_really_goes(loaded):
    # was: the source's name as the only text of a link to http://0x7f.1/ (= 127.0.0.1)
    run, _ = loaded
    run.evaluate("window.geotrack.openPopup(window.geotrack.indexOf('YLU-0201'))")
    src = run.evaluate("document.querySelector('.leaflet-popup-content .gt-rep-src').textContent")
    assert "Test source (made up for a unit test)" in src and "→ 127.0.0.1" in src
    hrefs = run.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-popup-content a')).map(a => a.href)"
    )
    assert hrefs == ["http://127.0.0.1/admin"]


def test_popup_of_a_plain_crossing(loaded):
    run, _ = loaded
    run.evaluate("window.geotrack.openPopup(window.geotrack.indexOf('YLU-0002'))")
    text = run.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    for part in (
        "YLU-0002",
        "Test crossing 2",
        "Pontoon bridge",
        "Active",
        "km 12.00",
        "left bank, China side",
        "Near a named place",
        "± 500 m",
        "WGS 84",
        "Reports (1)",
        "2025-10 – 2025-11",
        "Reported: 2025-12-16",
    ):
        assert part in text, part


def test_trade_chart_holds_november_2025(loaded):
    run, _ = loaded
    values = run.evaluate(
        """() => {
      const v = window.geotrack.chartView;
      const out = [];
      for (const name of ['source_0', 'data_0']) {
        try { v.data(name).forEach(d => { if (d.period === '2025-11' && d.flow === 'total_trade') out.push(d.value); }); }
        catch (e) {}
      }
      return out;
    }"""
    )
    assert 281 in values
    svg_text = run.evaluate("document.querySelector('#gt-chart svg').outerHTML")
    assert "281" in svg_text or "2025-11" in svg_text


def test_time_filter_updates_markers_counts_and_chart(loaded):
    run, n = loaded
    # only 2024-01 .. 2024-02 (one crossing) and undated ones
    m0 = 2024 * 12 + 0
    run.evaluate(f"window.geotrack.setTimeRange({m0}, {m0 + 1})")
    run.page.wait_for_function("window.geotrack.ready === true")
    assert run.evaluate("window.geotrack.shownCount") == 1
    via_layers, _ = run.evaluate(COUNT_THROUGH_CLUSTERS)
    assert via_layers == 1
    assert run.evaluate("document.getElementById('gt-count').textContent") == "1"
    run.evaluate(f"window.geotrack.setTimeRange({2025 * 12 + 9}, {2025 * 12 + 10})")
    run.page.wait_for_function("window.geotrack.ready === true")
    assert run.evaluate("window.geotrack.shownCount") == n - 1
    assert run.evaluate("window.geotrack.chartRange") == ["2025-10", "2025-11"]
    assert run.evaluate("document.getElementById('gt-chart-range').hidden") is False
    lo = run.evaluate("window.geotrack.data.meta.time_range[0]")
    hi = run.evaluate("window.geotrack.data.meta.time_range[1]")
    run.evaluate(
        "([a, b]) => window.geotrack.setTimeRange(window.geotrack.monthOfDay(a), window.geotrack.monthOfDay(b))",
        [lo, hi],
    )
    run.page.wait_for_function("window.geotrack.ready === true")
    assert run.evaluate("window.geotrack.shownCount") == n


def test_legend_counts_follow_the_kind_filter(loaded):
    run, n = loaded
    counts = run.evaluate("window.geotrack.counts.kind")
    assert sum(counts) == n
    run.page.click("input[data-facet='kind'][data-code='ford']")
    run.page.wait_for_function("window.geotrack.ready === true")
    fords = counts[2]
    assert run.evaluate("window.geotrack.shownCount") == n - fords
    label = run.evaluate(
        "document.querySelector(\"input[data-code='ford']\").parentElement.querySelector('.gt-count').textContent"
    )
    assert label == str(fords)  # the count of a hidden category stays visible
    run.page.click("input[data-facet='kind'][data-code='ford']")
    run.page.wait_for_function("window.geotrack.ready === true")
    assert run.evaluate("window.geotrack.shownCount") == n


def test_clicking_a_strip_tick_centres_the_map(loaded):
    run, _ = loaded
    i = run.evaluate("window.geotrack.indexOf('YLU-0014')")  # km 205
    x = run.evaluate(f"window.geotrack.stripX(window.geotrack.data.c.km[{i}])")
    box = run.page.locator("#gt-strip").bounding_box()
    # wait for the map's own event, not for a time: the move ends when Leaflet says so
    run.evaluate(
        "window.__gtMoved = false;"
        " window.geotrack.map.once('moveend', () => { window.__gtMoved = true; })"
    )
    run.page.mouse.click(box["x"] + x, box["y"] + box["height"] / 2)
    run.page.wait_for_function("window.__gtMoved === true", timeout=60000)
    lat, lon = run.evaluate(
        "(() => { const c = window.geotrack.map.getCenter(); return [c.lat, c.lng]; })()"
    )
    clat = run.evaluate(f"window.geotrack.data.c.lat[{i}]")
    clon = run.evaluate(f"window.geotrack.data.c.lon[{i}]")
    assert math.hypot(lat - clat, (lon - clon) * math.cos(math.radians(clat))) < 0.02
    assert run.evaluate("window.geotrack.lastStripPick") == i
    assert run.evaluate("window.geotrack.map.getZoom()") >= 13


def test_the_map_reads_without_tiles(loaded):
    run, _ = loaded
    assert run.evaluate("document.querySelectorAll('img.leaflet-tile').length") == 0
    labels = run.evaluate(
        "Array.from(document.querySelectorAll('.gt-label span')).map(s => s.textContent)"
    )
    assert "0 km" in labels and "100 km" in labels
    assert any("Hyesan" in t and "혜산" in t for t in labels)
    assert any("Changbai" in t for t in labels)
    assert any("County" in t for t in labels)
    sources = run.evaluate("document.getElementById('gt-sources').textContent")
    assert "OpenStreetMap" in sources and "GeoNames" in sources
