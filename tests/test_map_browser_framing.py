"""The first view frames the stretch beside the side panel; labels never overlap (real Chromium)."""

from __future__ import annotations

import pytest
from _browser import chromium_available, open_page

from geotrack.render.map import workspace_map, write_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright"),
]

SIZES = [(1024, 768), (1400, 900), (1920, 1080)]

FRAME = """() => {
  const map = window.geotrack.map;
  const c = map.getContainer().getBoundingClientRect();
  const p = document.getElementById('gt-panel').getBoundingClientRect();
  const b = L.latLngBounds(window.geotrack.data.stretch.line);
  const nw = map.latLngToContainerPoint(b.getNorthWest());
  const se = map.latLngToContainerPoint(b.getSouthEast());
  return {left: c.left + nw.x, top: c.top + nw.y, right: c.left + se.x, bottom: c.top + se.y,
          c_left: c.left, c_top: c.top, c_right: c.right, c_bottom: c.bottom, panel_left: p.left};
}"""

SHOWN_LABELS = """() => {
  const c = window.geotrack.map.getContainer().getBoundingClientRect();
  const out = [];
  document.querySelectorAll('.gt-label span').forEach(s => {
    const st = getComputedStyle(s);
    const r = s.getBoundingClientRect();
    if (st.display === 'none' || st.visibility === 'hidden' || r.width === 0) return;
    if (r.right < c.left || r.left > c.right || r.bottom < c.top || r.top > c.bottom) return;
    out.push({text: s.textContent, cls: s.parentNode.className,
              l: r.left, t: r.top, r: r.right, b: r.bottom});
  });
  return out;
}"""

# The visible map, measured apart from the page's own code: the map's box within the
# window, left of the side panel.
VISIBLE = """() => {
  const c = window.geotrack.map.getContainer().getBoundingClientRect();
  const p = document.getElementById('gt-panel').getBoundingClientRect();
  return {l: Math.max(c.left, 0), t: Math.max(c.top, 0),
          r: Math.min(c.right, p.left, window.innerWidth), b: Math.min(c.bottom, window.innerHeight)};
}"""

# Every label the page shows, wherever it is (inside the map or cut at its edge).
ALL_SHOWN = SHOWN_LABELS.replace(
    "    if (r.right < c.left || r.left > c.right || r.bottom < c.top || r.top > c.bottom) return;\n",
    "",
)

# Zoom, then resolve on the page's own events: Leaflet's moveend, then the next label pass.
ZOOM = """(z) => new Promise(done => {
  const map = window.geotrack.map;
  map.once('moveend', () => map.once('gtlabels', () => done(map.getZoom())));
  map.setZoom(z);
})"""


def ready(run):
    run.wait_ready()
    run.page.wait_for_function("() => !window.geotrack.labelsPending", polling=50)


def overlapping(labels):
    pairs = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            if a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]:
                pairs.append((a["text"], b["text"]))
    return pairs


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    from geotrack.workspace import init_workspace

    tmp = tmp_path_factory.mktemp("framing")
    ws = init_workspace(tmp / "ws", public_record=True)
    return write_html(workspace_map(ws), tmp / "map.html")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_first_view_fits_the_stretch_beside_the_panel(page_path, width, height):
    with open_page(page_path, width=width, height=height) as run:
        ready(run)
        f = run.evaluate(FRAME)
        assert f["c_right"] <= f["panel_left"] + 1  # the map stops at the panel
        assert f["c_left"] <= f["left"] and f["right"] <= f["c_right"], f
        assert f["c_top"] <= f["top"] and f["bottom"] <= f["c_bottom"], f
        assert run.page_errors == [] and run.console_errors == []


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_two_shown_labels_overlap_at_any_zoom(page_path, width, height):
    with open_page(page_path, width=width, height=height) as run:
        ready(run)
        first = run.evaluate(SHOWN_LABELS)
        assert len(first) >= 5
        assert overlapping(first) == []
        z0 = run.evaluate("window.geotrack.map.getZoom()")
        for z in (z0 + 1, z0 + 2, z0 - 1):
            assert run.evaluate(ZOOM, z) == z  # the map has stopped, the labels are placed
            assert overlapping(run.evaluate(SHOWN_LABELS)) == []
        assert run.page_errors == [] and run.console_errors == []


def cut(labels, v):
    """The labels not wholly inside the visible map *v* (1 px for rounding)."""
    return [
        x["text"]
        for x in labels
        if x["l"] < v["l"] - 1 or x["r"] > v["r"] + 1 or x["t"] < v["t"] - 1 or x["b"] > v["b"] + 1
    ]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_shown_label_lies_inside_the_visible_map(page_path, width, height):
    # was: town names off the stretch cut at the map's edge and under the side panel
    with open_page(page_path, width=width, height=height) as run:
        ready(run)
        v = run.evaluate(VISIBLE)
        assert v["r"] <= run.evaluate(
            "document.getElementById('gt-panel').getBoundingClientRect().left"
        )
        first = run.evaluate(ALL_SHOWN)
        assert len(first) >= 5
        assert cut(first, v) == []
        z0 = run.evaluate("window.geotrack.map.getZoom()")
        for z in (z0 + 1, z0 + 2, z0 + 3, z0 - 1):
            assert run.evaluate(ZOOM, z) == z
            assert cut(run.evaluate(ALL_SHOWN), v) == [], z
        assert run.page_errors == [] and run.console_errors == []


def test_a_town_name_at_the_edge_moves_to_the_other_side_of_its_point(page_path):
    with open_page(page_path, width=1400, height=900) as run:
        ready(run)
        flipped = run.evaluate(
            """() => Array.from(document.querySelectorAll('.gt-town.gt-label-flip:not(.gt-label-hidden) span'))
                 .map(s => [s.getBoundingClientRect().right, s.parentNode.getBoundingClientRect().left])"""
        )
        assert flipped  # the public record's eastern towns sit near the panel at this size
        for right, point in flipped:
            assert right <= point  # the name ends left of its point


def test_a_lower_priority_label_gives_way(page_path):
    with open_page(page_path, width=1024, height=768) as run:
        ready(run)
        # where a town and a county name collide, the town name stays
        kept = run.evaluate(SHOWN_LABELS)
        towns = [x for x in kept if "gt-town" in x["cls"]]
        counties = [x for x in kept if "gt-county" in x["cls"]]
        assert towns and overlapping(towns + counties) == []
        hidden_towns = run.evaluate(
            "Array.from(document.querySelectorAll('.gt-label-hidden.gt-town'))"
            ".filter(n => n.closest('.leaflet-container')).length"
        )
        hidden_any = run.evaluate("document.querySelectorAll('.gt-label-hidden').length")
        assert hidden_any > 0  # the public record's labels do collide somewhere
        assert hidden_towns < hidden_any
        run.page.screenshot(path=str(page_path.parent / "framing.png"))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_strips_texts_never_overlap(page_path, width, height):
    # was: the "CN bank ▲" key drawn over the first county's name (Kimhyongjik) at top left
    with open_page(page_path, width=width, height=height) as run:
        ready(run)
        texts = run.evaluate("window.geotrack.stripTexts")
        names = [t["text"] for t in texts]
        counties = run.evaluate("window.geotrack.data.counties.map(c => c.name)")
        assert "CN bank ▲" in names and "0 km" in names
        assert len(set(names) & set(counties)) >= 3, names
        assert overlapping(texts) == []
        w = run.evaluate("document.getElementById('gt-strip').clientWidth")
        assert all(t["l"] >= 0 and t["r"] <= w for t in texts), texts
