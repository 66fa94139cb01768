"""The trade panel at common widths, in real headless Chromium: it fits and tells the story."""

from __future__ import annotations

import pytest
from _browser import chromium_available, open_page

from geotrack.render.map import workspace_map, write_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright"),
]

SIZES = [(1024, 768), (1400, 900), (1920, 1080)]

GEOMETRY = """() => {
  const panel = document.getElementById('gt-panel');
  const emb = document.getElementById('gt-chart');
  const svg = emb.querySelector('svg');
  const p = panel.getBoundingClientRect(), e = emb.getBoundingClientRect();
  return {panel_client: panel.clientWidth, panel_scroll: panel.scrollWidth,
          embed_left: e.left, embed_right: e.right, panel_left: p.left, panel_right: p.right,
          svg_width: svg ? svg.getBoundingClientRect().width : 0};
}"""


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    from geotrack.workspace import init_workspace

    tmp = tmp_path_factory.mktemp("panel")
    ws = init_workspace(tmp / "ws", public_record=True)
    return write_html(workspace_map(ws), tmp / "map.html")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_trade_panel_fits_and_says_the_figures(page_path, width, height):
    with open_page(page_path, width=width, height=height) as run:
        run.wait_ready()
        g = run.evaluate(GEOMETRY)
        assert g["panel_scroll"] <= g["panel_client"]  # no horizontal scroll
        assert g["panel_left"] - 1 <= g["embed_left"] and g["embed_right"] <= g["panel_right"] + 1
        assert 200 < g["svg_width"] <= g["panel_client"]
        story = run.page.locator("#gt-trade-story").inner_text()
        assert "Dec 2025: total not reported" in story
        assert "Nov 2025: total $281M; China's exports to North Korea $244M; imports $37.1M" in (
            story
        )
        assert "Korea JoongAng Daily, 2025-12-19" in story
        assert "the highest since Oct 2019" in story and "23 months not held" in story
        assert "Kim–Xi summit" in story
        assert "2025 annual total: $2,735M" in story
        assert run.page.locator("#gt-trade-story").is_visible()
        # the chart shows the last 24 months by default; the control widens it
        shown = run.evaluate("window.geotrack.chartView.scale('x').domain()")
        # the months run to the latest crossing month (Feb 2026: the public record's report)
        assert (shown[0], shown[-1], len(shown)) == ("2024-03", "2026-02", 24)
        assert "2025-11" in shown
        first = run.evaluate("document.querySelector('#gt-chart-span option').value")
        run.evaluate(
            "(v) => window.geotrack.setChartSpan(v).then(() => true)",
            run.evaluate(
                "Array.from(document.querySelectorAll('#gt-chart-span option')).pop().value"
            ),
        )
        widened = run.evaluate("window.geotrack.chartView.scale('x').domain()")
        assert widened[0] <= "2017-01" and len(widened) > 100  # the whole series
        assert first == "2025-03"  # the last 12 months
        assert run.evaluate(GEOMETRY)["panel_scroll"] <= g["panel_client"]
        assert run.console_warnings == [] and run.console_errors == [] and run.page_errors == []


def test_the_figures_table_is_a_real_table(page_path):
    with open_page(page_path) as run:
        run.wait_ready()
        heads = run.evaluate(
            "Array.from(document.querySelectorAll('.gt-trade-table thead th')).map(t => t.textContent)"
        )
        assert heads[0] == "Month" and heads[-1] == "Source"
        first = run.evaluate(
            "Array.from(document.querySelectorAll('.gt-trade-table tbody tr')[1].children).map(c => c.textContent)"
        )
        assert first[:4] == ["2025-11", "281", "244 !", "37.1"]
        assert "Korea JoongAng Daily" in first[4]
        cap = run.evaluate("document.querySelector('.gt-trade-table caption').textContent")
        assert "million" in cap
