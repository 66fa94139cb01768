"""Tests for geotrack.render.chart: the Vega-Lite spec and its offline SVG/PNG rendering."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from geotrack.errors import StorageError, UsageError
from geotrack.render.chart import chart_svg, save_chart, trade_chart_spec
from geotrack.trade import Event, FxRate, TradeRow, load_events, read_trade_csv

ROOT = Path(__file__).resolve().parents[1]
D = Decimal


@pytest.fixture(scope="module")
def shipped() -> list[TradeRow]:
    return read_trade_csv(ROOT / "layers" / "trade.csv")


@pytest.fixture(scope="module")
def spec(shipped) -> dict:
    crossings = [
        {"type": "Feature", "id": f"YLU-{i:04d}", "geometry": None,
         "properties": {"first_reported": f"2025-{10 + i % 3:02d}-16", "reports": []}}
        for i in range(1, 8)
    ]  # fmt: skip
    return trade_chart_spec(shipped, crossings=crossings, events=load_events(ROOT / "layers"))


def _records(spec, kind):
    return [d for d in spec["data"]["values"] if d["kind"] == kind]


def _keys(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _keys(v)


def test_spec_holds_nov_2025_figures(spec):
    flows = {(d["period"], d["flow"]): d for d in _records(spec, "flow")}
    nov = flows[("2025-11", "total_trade")]
    assert (nov["value"], nov["source"], nov["currency"]) == (281, "Korea JoongAng Daily", "USD")
    assert flows[("2025-11", "cn_exports_to_kp")]["value"] == 244
    assert flows[("2025-11", "cn_imports_from_kp")]["value"] == 37.1
    # Sep 2025: the chosen figure is marked as contested.
    assert flows[("2025-09", "cn_imports_from_kp")]["conflict"] is True


def test_spec_is_self_contained_json(spec):
    assert "url" not in set(_keys(spec))
    text = json.dumps(spec)  # plain JSON types only
    assert json.loads(text) == spec
    assert spec["$schema"].endswith("vega-lite/v6.json")


def test_gaps_stay_gaps(spec):
    flows = {(d["period"], d["flow"]): d for d in _records(spec, "flow")}
    months = spec["layer"][0]["layer"][0]  # bars layer exists
    assert months["mark"]["type"] == "bar"
    assert flows[("2025-07", "total_trade")]["value"] is None  # no figure held: not interpolated
    assert flows[("2017-03", "total_trade")]["value"] is None  # held only in CNY
    # Every month has its slot on the x axis, gaps included.
    domain = spec["encoding"]["x"]["scale"]["domain"]
    assert domain[0] == "2017-01" and "2025-07" in domain and domain[-1] == "2025-12"
    assert len(domain) == len(set(domain)) == 108
    # The total line is drawn per run of consecutive months, so no segment bridges a gap.
    runs = [(d["period"], d["run"]) for d in _records(spec, "flow") if d["flow"] == "total_trade"]
    assert dict(runs)["2025-07"] is None
    assert dict(runs)["2025-05"] != dict(runs)["2025-09"]


def test_title_units_source_events_and_crossings(spec):
    assert "USD million" in spec["title"]["text"]
    sub = " ".join(spec["title"]["subtitle"])
    assert "GACC" in sub and "CNY" in sub and "interpolated" in sub
    assert "Figure chosen" in spec["description"]
    events = _records(spec, "event")
    assert [(e["period"], e["label"]) for e in events] == [("2025-09", "Kim–Xi summit (Beijing)")]
    crossings = {d["period"]: d["crossings_first_reported"] for d in _records(spec, "crossings")}
    assert (crossings["2025-10"], crossings["2025-11"], crossings["2025-12"]) == (2, 3, 2)
    axis = spec["layer"][1]["encoding"]["y"]["axis"]
    assert axis["orient"] == "right"
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert spec["usermeta"]["geotrack"]["currency"] == "USD"


def test_svg_renders_offline_with_the_data(spec, tmp_path):
    out = save_chart(spec, tmp_path / "trade.svg")
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert "China–North Korea trade by month (USD million)" in svg
    assert "Kim–Xi summit (Beijing)" in svg
    # The marks carry their data in accessible labels: the Nov 2025 total is drawn.
    assert re.search(r'aria-label="[^"]*2025-11; USD million: 281; series: Total trade', svg)
    with pytest.raises(StorageError, match="--overwrite"):
        save_chart(spec, out)
    save_chart(spec, out, overwrite=True)


def test_png_renders(spec, tmp_path):
    out = save_chart(spec, tmp_path / "trade.png", scale=1)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_suffix():
    with pytest.raises(UsageError, match=r"\.svg or \.png"):
        save_chart({}, "chart.pdf")


def test_hostile_text_is_escaped_in_svg(tmp_path):
    rows = [TradeRow("2025-11", D("281"), source="</svg><script>alert(1)</script>", row_id="T0001")]
    ev = [Event("E1", "2025-11", "month", '<b onload="x">&amp;</b>', "P")]
    svg = chart_svg(trade_chart_spec(rows, events=ev))
    assert "<script>" not in svg and "<b " not in svg
    assert "&lt;b onload=" in svg


def test_derived_and_converted_are_declared():
    rows = [
        TradeRow("2025-01", None, D("200"), D("30"), source="A", row_id="T0001"),
        TradeRow("2025-02", D("1000"), currency="CNY", source="B", row_id="T0002"),
    ]
    plain = trade_chart_spec(rows)
    assert any("CNY" in s for s in plain["title"]["subtitle"])
    rate = FxRate("CNY", D("0.14"), "test rate, made up for a unit test")
    spec = trade_chart_spec(rows, derive_totals=True, fx={"CNY": rate})
    flows = {(d["period"], d["flow"]): d for d in _records(spec, "flow")}
    assert flows[("2025-01", "total_trade")]["derived"] is True
    assert flows[("2025-02", "total_trade")]["converted"] is True
    assert flows[("2025-02", "total_trade")]["value"] == 140
    sub = " ".join(spec["title"]["subtitle"])
    assert "derived" in sub and "1 CNY = 0.14 USD (test rate" in sub
