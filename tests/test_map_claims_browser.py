"""Claims on the map in a real headless Chromium: bands, labels, panel, relays, hostile text inert."""

from __future__ import annotations

import pytest
from _browser import chromium_available, open_page
from _exportdata import HOSTILE, claims

from geotrack.claims.records import add_relay, import_claims
from geotrack.render.map import workspace_map, write_html
from geotrack.workspace import init_workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright"),
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("claims-map")
    ws = init_workspace(tmp / "ws")
    import_claims(ws, claims())
    add_relay(
        ws, "C2", {"publisher": HOSTILE[1], "url": "javascript:alert(1)", "quote": HOSTILE[0]}
    )
    path = write_html(workspace_map(ws), tmp / "map.html")
    with open_page(path) as run:
        run.wait_ready()
        yield run


def test_page_loads_with_claims_and_no_error(loaded):
    run = loaded
    assert run.page_errors == [] and run.console_errors == [] and run.dialogs == []
    assert run.external_requests == []
    assert run.evaluate("window.geotrack.claims.count") == 2
    assert run.evaluate("window.geotrack.claims.official") == 1
    assert run.evaluate("document.querySelectorAll('#gt-claims details.gt-claim').length") == 2
    assert run.evaluate("document.querySelectorAll('.gt-official').length") == 1


def test_bands_are_drawn_and_toggled_from_the_legend(loaded):
    run = loaded
    n = run.evaluate(
        "(() => { let n = 0; window.geotrack.claims.layers.C1.eachLayer(l => {"
        " if (l instanceof L.Polyline) n++; }); return n; })()"
    )
    assert n >= 1
    assert run.evaluate("window.geotrack.map.hasLayer(window.geotrack.claims.layers.C1)")
    run.page.click("#gt-claims input[data-claim='C1']")
    assert run.evaluate("!window.geotrack.map.hasLayer(window.geotrack.claims.layers.C1)")
    run.page.click("#gt-claims input[data-claim='C1']")
    assert run.evaluate("window.geotrack.map.hasLayer(window.geotrack.claims.layers.C1)")
    labels = run.evaluate(
        "Array.from(document.querySelectorAll('.gt-claim-label')).map(e => e.textContent)"
    )
    assert ">24 · Analyst (made up for a test)" in labels


def test_hostile_text_in_every_claim_and_relay_field_is_inert_text(loaded):
    run = loaded
    text = run.evaluate("document.getElementById('gt-claims').textContent")
    for t in HOSTILE[:3] + HOSTILE[-3:-1]:
        assert t.replace("\x00", "") in text.replace("\x00", "") or t in text, t[:30]
    # nothing from the data became markup: no element the payloads would create
    assert (
        run.evaluate("document.querySelectorAll('#gt-claims img, #gt-claims script').length") == 0
    )
    assert run.evaluate("document.querySelectorAll('[onerror], [onload]').length") == 0
    # the page's own <b> hold publishers as plain text, with no element inside
    assert run.evaluate("document.querySelectorAll('#gt-claims b *').length") == 0
    assert run.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    hrefs = run.evaluate("Array.from(document.querySelectorAll('#gt-claims a')).map(a => a.href)")
    assert hrefs and all(h.startswith(("https:", "http:")) for h in hrefs)
    assert "javascript:alert(1)" in text  # shown as text, not linked
    assert run.dialogs == [] and run.page_errors == []
