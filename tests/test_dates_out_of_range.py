"""Stored dates outside 1900..today never break a page, a join or a chart: named by id, skipped."""

from __future__ import annotations

import pytest
from _mapdata import crossing, trade_rows

from geotrack.render.chart import trade_chart_spec
from geotrack.render.map import map_payload
from geotrack.trade import crossing_counts, monthly_join
from geotrack.workspace import init_workspace


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("dates") / "ws")
    good = crossing(1, 20.0, ws.stretch)
    future = crossing(2, 40.0, ws.stretch)
    future["properties"]["first_reported"] = "2205-01-01"
    future["properties"]["reports"][0]["reported"] = "2205-01-01"
    ancient = crossing(3, 60.0, ws.stretch, event_start="0001-01-01", event_end=None)
    typo = crossing(4, 80.0, ws.stretch, event_start="0025-03-01", event_end="0025-03-02")
    return ws, [good, future, ancient, typo]


def test_the_join_names_each_bad_date_by_id_and_counts_the_rest(sites):
    _, feats = sites
    counts, undated = crossing_counts(feats)
    named = " ".join(undated)
    for rid in ("YLU-0002", "YLU-0003/R1", "YLU-0004/R1"):
        assert rid in named
    assert "outside 1900-01-01.." in named
    # the three reports dated in bounds (2025-12-16) are counted; the one of 2205 is not
    assert counts["2025-12"]["reports_received"] == 3
    assert all("0001" not in m and "2205" not in m for m in counts)
    join = monthly_join(trade_rows(), feats)
    assert join.months and any("YLU-0003" in u for u in join.undated)
    spec = trade_chart_spec(trade_rows(), crossings=feats)
    assert spec["data"]["values"]


def test_the_page_keeps_the_crossing_and_says_why_its_date_is_left_out(sites):
    ws, feats = sites
    p = map_payload(feats, stretch=ws.stretch, window=ws.window("reported"))
    problems = " ".join(p["meta"]["date_problems"])
    assert "YLU-0003/R1: event_start='0001-01-01'" in problems
    assert "YLU-0004/R1: event_start='0025-03-01'" in problems
    assert len(p["c"]["iv"]) == 4  # every crossing is on the page
    days = [d for iv in p["c"]["iv"] for pair in iv for d in pair]
    assert min(days) >= -25567  # nothing before 1900-01-01 reaches the time filter
