"""100,000 crossings: the page stays under 25 MB and opens in headless Chromium without errors.

Its own module, so that its browser does not overlap the module-scoped page of
``test_map_browser.py`` (Playwright allows one sync session per thread).
"""

from __future__ import annotations

import pytest
from _browser import chromium_available, open_page
from _mapdata import crossing

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
  return [n, 0];
}"""


@pytest.mark.slow
def test_100k_crossings_stay_small_and_open(tmp_path):
    from geotrack.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    import random

    rng = random.Random(7)
    feats = []
    for i in range(100_000):
        f = crossing(
            i + 1,
            rng.uniform(0.5, 238.0),
            ws.stretch,
            offset_m=rng.uniform(-300, 300),
            kind=rng.choice(["ford", "pontoon", "temporary_bridge", "ferry_boat"]),
            synthetic=True,
            notes=f"SYNTHETIC benchmark crossing {i % 97}",
        )
        feats.append(f)
    html = render_html(map_payload(feats, stretch=ws.stretch, window=ws.window("reported")))
    path = write_html(html, tmp_path / "big.html")
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 25, size_mb
    with open_page(path) as run:
        run.wait_ready(timeout_s=180)
        assert run.page_errors == [] and run.console_errors == []
        assert run.external_requests == []
        assert run.evaluate("window.geotrack.shownCount") == 100_000
        via_layers, _ = run.evaluate(COUNT_THROUGH_CLUSTERS)
        assert via_layers > 90_000  # all but those outside the initial view
        assert run.evaluate("document.getElementById('gt-banner').hidden") is False
