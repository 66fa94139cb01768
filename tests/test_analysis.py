"""Tests of geotrack.analysis: from a workspace with crossings to the density result.

Crossings are synthetic: placed in code at chosen chainages and offsets on the bundled
stretch line, and flagged ``synthetic`` in the data itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from geotrack.analysis import DEFAULT_SEED, DensityOptions, analyse, density_report
from geotrack.crs import to_measure, to_wire
from geotrack.errors import ValidationError, WindowError
from geotrack.linear import LineIndex
from geotrack.records import import_crossings, retire_crossing


def place(ws, chainage_km, offset_m, *, check=True):
    """EPSG:4326 lon/lat of points at chainages (km) and signed offsets (m, + = left).

    With *check*, assert the premise that no other part of the meandering river is
    nearer to a point than the foot of its perpendicular.
    """
    idx = LineIndex(ws.stretch.line_m)
    d = np.asarray(chainage_km, float) * 1000
    x, y = idx.interpolate(d)
    xa, ya = idx.interpolate(np.clip(d - 1, 0, idx.length_m))
    xb, yb = idx.interpolate(np.clip(d + 1, 0, idx.length_m))
    tx, ty = xb - xa, yb - ya
    n = np.hypot(tx, ty)
    lx, ly = -ty / n, tx / n  # left normal
    off = np.asarray(offset_m, float)
    px, py = x + off * lx, y + off * ly
    if check:
        nearest = shapely.distance(ws.stretch.line_m, shapely.points(px, py))
        np.testing.assert_allclose(nearest, np.abs(off), atol=0.01, err_msg="bad test placement")
    return to_wire(px, py)


def add_synthetic(ws, chainage_km, offset_m=None, *, check=True, **fields):
    """Import synthetic crossings; returns their ids in input order."""
    chainage_km = list(chainage_km)
    if offset_m is None:
        offset_m = [150.0 * (1 if i % 2 else -1) for i in range(len(chainage_km))]
    lon, lat = place(ws, chainage_km, offset_m, check=check)
    recs = []
    for i, (a, b) in enumerate(zip(np.atleast_1d(lon), np.atleast_1d(lat), strict=True)):
        rec = {
            "lon": float(a),
            "lat": float(b),
            "kind": "ford",
            "location_precision": "exact",
            "synthetic": True,
            "source_name": "synthetic test data (made in code)",
        }
        for key, values in fields.items():
            rec[key] = values[i] if isinstance(values, list) else values
        recs.append(rec)
    return import_crossings(ws, recs, max_border_km=None)


def opts(**kw):
    kw.setdefault("simulations", 49)
    kw.setdefault("seed", 1)
    return DensityOptions(**kw)


def test_empty_layer_gives_a_clear_result(ws):
    r = density_report(ws, opts())
    s = r.summary
    assert s["message"] == "no crossings in the window"
    assert s["n_crossings"] == 0 and s["mean_per_km"] == 0 and s["mean_per_straight_km"] == 0
    assert s["points"] == [] and s["excluded"] == []
    assert all(b["count"] == 0 for b in s["bins"])
    assert s["kde"]["integral"] == 0 and "bin width" in s["kde"]["bandwidth_basis"]
    assert s["hotspots"]["tested"] is False and s["hotspots"]["reason"]
    assert s["hotspots"]["stretches"] == []
    assert s["clustering"]["p_value"] is None and s["clustering"]["reason"]
    assert s["gaps"] == [
        {"from_km": 0.0, "to_km": 238.7, "length_km": 238.7, "at_window_end": True}
    ]


def test_counts_chainages_banks_and_densities(ws):
    ids = add_synthetic(ws, [10.0, 14.0, 100.0, 200.0, 260.0], [300.0, -300.0, 50.0, -50.0, 10.0])
    s = density_report(ws, opts()).summary
    assert s["crs"] == "EPSG:32652"
    w = s["window"]
    assert (w["name"], w["from_km"], w["to_km"], w["length_km"]) == ("reported", 0.0, 238.7, 238.7)
    assert w["straight_km"] == pytest.approx(104.2, abs=0.1)
    assert w["max_extent_km"] >= w["straight_km"]
    assert s["n_crossings"] == 4 and s["n_outside_window"] == 1 and s["n_excluded"] == 0
    assert s["n_synthetic"] == 4
    assert s["mean_per_km"] == pytest.approx(4 / 238.7)
    assert s["mean_per_straight_km"] == pytest.approx(4 / w["straight_km"])
    pts = {p["id"]: p for p in s["points"]}
    assert [round(pts[i]["chainage_km"], 4) for i in ids] == [10.0, 14.0, 100.0, 200.0, 260.0]
    assert [round(pts[i]["offset_m"]) for i in ids] == [300, -300, 50, -50, 10]
    assert [pts[i]["bank"] for i in ids] == ["CN", "KP", "CN", "KP", "CN"]
    assert pts[ids[4]]["excluded"] and pts[ids[4]]["reason"] == "outside the window"
    assert not pts[ids[4]]["in_window"]
    assert s["banks"] == {"left": "CN", "right": "KP"}
    assert sum(b["count"] for b in s["bins"]) == 4
    assert s["bins"][2] == {
        "from_km": 10.0,
        "to_km": 15.0,
        "length_km": 5.0,
        "count": 2,
        "spread": 0.0,
        "expected": 2.0,
        "per_km": 0.4,
    }
    last = s["bins"][-1]
    assert (last["from_km"], last["to_km"]) == (235.0, 238.7)
    assert s["kde"]["integral"] == pytest.approx(4.0)


def test_chainage_within_a_few_centimetres_of_where_it_was_placed(ws):
    rng = np.random.default_rng(3)
    d = np.sort(rng.uniform(0.5, 300, 80))
    off = rng.uniform(-1500, 1500, 80)
    # keep the placements where no other part of the meandering river is nearer
    lon, lat = place(ws, d, off, check=False)
    x, y = to_measure(lon, lat)
    ok = np.isclose(
        shapely.distance(ws.stretch.line_m, shapely.points(x, y)), np.abs(off), atol=0.01
    )
    assert ok.sum() >= 30
    d, off = d[ok], off[ok]
    ids = add_synthetic(ws, d, off)
    s = density_report(ws, opts(window="all")).summary
    pts = {p["id"]: p for p in s["points"]}
    # coordinates are stored to 7 decimals of a degree (about 1 cm)
    np.testing.assert_allclose([pts[i]["chainage_km"] for i in ids], d, atol=5e-5)
    np.testing.assert_allclose([pts[i]["offset_m"] for i in ids], off, atol=0.05)


def test_far_crossings_are_excluded_and_listed(ws):
    near, far = add_synthetic(ws, [55.0, 70.0], [1500.0, -2500.0])
    s = density_report(ws, opts()).summary
    assert s["n_crossings"] == 1 and s["n_excluded"] == 1
    assert s["excluded"] == [
        {"id": far, "reason": "off the river: 2.500 km from the stretch line (max 2 km)"}
    ]
    s = density_report(ws, opts(max_offset_km=3)).summary
    assert s["n_crossings"] == 2 and s["n_excluded"] == 0
    s = density_report(ws, opts(max_offset_km=1)).summary
    assert s["n_crossings"] == 0 and {e["id"] for e in s["excluded"]} == {near, far}


def test_retired_crossings_are_never_counted(ws):
    a, b = add_synthetic(ws, [20.0, 30.0])
    retire_crossing(ws, b, reason="duplicate of another report (test)")
    s = density_report(ws, opts()).summary
    assert s["n_crossings"] == 1 and s["n_retired_ignored"] == 1
    assert [p["id"] for p in s["points"]] == [a]


def test_precision_filter_and_spread(ws):
    ids = add_synthetic(
        ws,
        [20.0, 40.0, 60.0, 80.0],
        location_precision=["exact", "near_place", "reach", "county"],
        uncertainty_m=[50.0, 1000.0, 5000.0, 20000.0],
    )
    s = density_report(ws, opts(min_precision="near_place")).summary
    assert s["n_crossings"] == 2 and s["n_excluded"] == 2
    reasons = {e["id"]: e["reason"] for e in s["excluded"]}
    assert reasons[ids[2]] == "location_precision=reach is coarser than --min-precision near_place"
    assert s["filters"]["min_precision"] == "near_place"
    s = density_report(ws, opts()).summary
    loc = s["location"]
    assert s["n_crossings"] == 4 and (loc["n_point"], loc["n_spread"]) == (1, 3)
    assert loc["spread_km_median"] == pytest.approx(10.0)
    assert loc["spread_km_max"] == pytest.approx(40.0)
    assert loc["spread_km_covered"] == pytest.approx(2 + (100 - 55))  # reach and county overlap
    # no mass is lost: the expected count, the bins and the density all hold 4 crossings
    assert s["expected_in_window"] == pytest.approx(4)
    assert sum(b["expected"] for b in s["bins"]) == pytest.approx(4)
    assert s["kde"]["integral"] == pytest.approx(4)
    pts = {p["id"]: p for p in s["points"]}
    assert pts[ids[0]]["located"] == "point"
    assert pts[ids[0]]["from_km"] == pts[ids[0]]["to_km"] == pytest.approx(20.0, abs=1e-4)
    assert pts[ids[3]]["located"] == "spread"
    assert (pts[ids[3]]["from_km"], pts[ids[3]]["to_km"]) == pytest.approx((60.0, 100.0), abs=1e-4)
    # the county-wide site: a quarter of it in each 10 km of its 40 km
    b = {(x["from_km"], x["to_km"]): x for x in density_report(ws, opts(bin_km=10)).summary["bins"]}
    assert b[(60.0, 70.0)]["spread"] == pytest.approx(0.25 + 0.5)  # and half the reach
    assert b[(90.0, 100.0)]["spread"] == pytest.approx(0.25)
    assert b[(20.0, 30.0)]["count"] == 1 and b[(20.0, 30.0)]["spread"] == 0
    # the tests use the point-located crossings only, and say so
    assert "the 1 point-located crossings only" in loc["tests"]
    assert s["hotspots"]["tested"] is False and s["clustering"]["p_value"] is None


def features_at(ws, chainage_km, **props):
    """Crossing features made in code (properties as ``place`` writes them), on the line."""
    lon, lat = place(ws, chainage_km, [100.0] * len(chainage_km))
    out = []
    for i, (a, b) in enumerate(zip(np.atleast_1d(lon), np.atleast_1d(lat), strict=True)):
        fid = f"YLU-{i + 1:04d}"
        pr = {"id": fid, "location_precision": "exact", "synthetic": True}
        pr.update({k: (v[i] if isinstance(v, list) else v) for k, v in props.items()})
        out.append(
            {
                "type": "Feature",
                "id": fid,
                "properties": pr,
                "geometry": {"type": "Point", "coordinates": [float(a), float(b)]},
            }
        )
    return out


def assert_corridor_mass(g, *, kept_at_least: float) -> None:
    """The kept cells hold ``in_corridor`` crossings, at most ``total`` and at least a share of it."""
    kept = float(np.nansum(g.values, dtype=np.float64)) * (g.cell_m / 1000) ** 2
    assert np.isnan(g.values).any() and np.isfinite(g.values).any()
    assert g.in_corridor == pytest.approx(kept, rel=1e-5)
    assert kept_at_least * g.total <= kept <= g.total * (1 + 1e-6)


def test_a_site_straddling_the_window_counts_for_its_part_inside(ws):
    from geotrack.reference import Window

    feats = features_at(
        ws,
        [60.0, 30.0],
        location_precision=["reach", "exact"],
        chainage_from_km=[40.0, None],
        chainage_to_km=[80.0, None],
    )
    r = analyse(feats, stretch=ws.stretch, window=Window("w", 0, 50), options=opts(bin_km=10))
    s = r.summary
    assert s["n_crossings"] == 2
    assert s["expected_in_window"] == pytest.approx(1 + 10 / 40)
    assert s["kde"]["integral"] == pytest.approx(1.25)
    assert s["bins"][-1]["spread"] == pytest.approx(0.25)
    assert s["bins"][-1]["expected"] == pytest.approx(0.25)
    # the raster holds the same mass: the spread part lies along the river line
    g = r.grid()
    assert g.total == pytest.approx(1.25, rel=2e-3)
    assert_corridor_mass(g, kept_at_least=0.9)
    # a reversed stretch is excluded, with the reason, not repaired
    bad = features_at(ws, [45.0], chainage_from_km=50.0, chainage_to_km=40.0)
    s = analyse(bad, stretch=ws.stretch, window=Window("w", 0, 50), options=opts()).summary
    assert s["n_crossings"] == 0
    assert "is after chainage_to_km=40" in s["excluded"][0]["reason"]


def test_verification_and_grade_filters(ws):
    ids = add_synthetic(
        ws,
        [20.0, 40.0, 60.0],
        verification=["verified", "unverified", "verified"],
        reliability=["B", "A", "E"],
        credibility=[2, 1, 5],
    )
    s = density_report(ws, opts(verification=("verified",))).summary
    assert s["n_crossings"] == 2
    assert s["excluded"] == [{"id": ids[1], "reason": "no report with verification in verified"}]
    s = density_report(ws, opts(verification=("verified",), min_reliability="C")).summary
    assert s["n_crossings"] == 1
    s = density_report(ws, opts(min_credibility=2)).summary
    assert s["n_crossings"] == 2
    assert s["filters"]["min_credibility"] == 2


@pytest.mark.parametrize(
    ("spec", "name", "lo", "hi"),
    [
        ("0:98.5", "0:98.5", 0.0, 98.5),
        ("all", "all", 0.0, 305.607),
        ("reported", "reported", 0.0, 238.7),
    ],
)
def test_window_specs(ws, spec, name, lo, hi):
    add_synthetic(ws, [50.0, 150.0, 250.0])
    s = density_report(ws, opts(window=spec)).summary
    assert (s["window"]["name"], s["window"]["from_km"], s["window"]["to_km"]) == (name, lo, hi)
    assert s["n_crossings"] == sum(lo <= c <= hi for c in (50.0, 150.0, 250.0))


def test_window_between_two_towns_and_two_points(ws):
    s = density_report(ws, opts(window="town:Kimjongsuk..Hyesan")).summary
    assert s["window"]["from_km"] == pytest.approx(125.74, abs=0.05)
    assert s["window"]["to_km"] == pytest.approx(206.82, abs=0.05)
    lon, lat = place(ws, [20.0, 70.0], [0.0, 0.0])
    spec = f"lonlat:{lon[1]:.6f},{lat[1]:.6f}..{lon[0]:.6f},{lat[0]:.6f}"
    s = density_report(ws, opts(window=spec)).summary
    assert (s["window"]["from_km"], s["window"]["to_km"]) == pytest.approx((20.0, 70.0), abs=0.01)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("50:20", "reversed"),
        ("20:20", "zero length"),
        ("0:400", "beyond the line: valid chainages are 0 to 305.607 km"),
        ("nowhere", "is not known"),
    ],
)
def test_bad_windows_are_rejected(ws, spec, message):
    with pytest.raises(WindowError, match=message):
        density_report(ws, opts(window=spec))


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"bin_km": 0}, "bin_km"),
        ({"bin_km": 500}, "bin_km"),
        ({"bandwidth_km": -1}, "bandwidth_km"),
        ({"bandwidth_km": 300}, "bandwidth_km"),
        ({"bandwidth_rule": "scott"}, "bandwidth_rule"),
        ({"max_offset_km": 0}, "max_offset_km"),
        ({"min_precision": "gps"}, "min_precision"),
        ({"verification": ("maybe",)}, "verification"),
        ({"simulations": 0}, "simulations"),
    ],
)
def test_bad_options_are_rejected_naming_the_field(ws, kw, field):
    add_synthetic(ws, [10.0, 20.0])
    with pytest.raises(ValidationError, match=field):
        density_report(ws, opts(**kw))


def test_statistics_on_a_clustered_synthetic_layer(ws):
    rng = np.random.default_rng(0)
    d = np.concatenate([rng.uniform(0, 238.7, 40), rng.normal(120, 1.0, 40)])
    add_synthetic(ws, np.clip(d, 0, 238.7), rng.uniform(-500, 500, 80), check=False)
    s = density_report(ws, opts(simulations=199)).summary
    assert s["n_crossings"] == 80
    assert s["kde"]["bandwidth_rule"] == "likelihood cross-validation"
    assert s["kde"]["bandwidth_basis"].startswith(
        "auto (likelihood cross-validation with 10 or more"
    )
    assert s["kde"]["integral"] == pytest.approx(80)
    sig = [h for h in s["hotspots"]["stretches"] if h["significant"]]
    assert any(h["from_km"] < 120 < h["to_km"] for h in sig)
    assert s["clustering"]["clustered"] is True
    assert s["gaps"][0]["length_km"] >= s["gaps"][-1]["length_km"]
    assert 0 < s["kde"]["bandwidth_km"] < 20
    assert s["tests_agree"] == {"agree": True, "note": None}
    sv = density_report(ws, opts(bandwidth_rule="silverman")).summary
    assert sv["kde"]["bandwidth_rule"] == "silverman" and sv["kde"]["bandwidth_km"] > 0


def test_seeded_results_repeat(ws):
    add_synthetic(ws, [10.0, 11.0, 12.0, 90.0, 200.0])
    a = density_report(ws, opts(seed=42)).summary
    b = density_report(ws, opts(seed=42)).summary
    assert a == b
    c = density_report(ws, DensityOptions(simulations=49)).summary
    assert c["seed"] == DEFAULT_SEED == c["hotspots"]["test"]["seed"] == c["clustering"]["seed"]


def test_grid_of_the_result(ws):
    add_synthetic(ws, [100.0, 101.0, 102.0])
    r = density_report(ws, opts(bandwidth_km=1.0, raster_cell_m=200))
    g = r.grid()
    assert g.cell_m == 200 and g.bandwidth_m == 1000
    assert g.total == pytest.approx(3, rel=1e-3)
    # a 3 km corridor is three bandwidths either side: it keeps nearly all the mass
    assert_corridor_mass(g, kept_at_least=0.99)
    # the raster's own bandwidth: half the 3 km corridor, never more than the 1-D one
    assert density_report(ws, opts(bandwidth_km=10.0)).grid().bandwidth_m == 1500
    assert density_report(ws, opts(bandwidth_km=1.0)).grid().bandwidth_m == 1000
    # default cell: 100 m unless the bandwidth spans more than 25 cells
    r = density_report(ws, opts(bandwidth_km=10.0, raster_bandwidth_m=10_000))
    assert r.grid().cell_m == 400


def test_analyse_without_a_workspace_and_a_reversed_line(ws):
    from shapely.geometry import LineString

    from geotrack.reference import Stretch, Window

    # A synthetic straight line drawn east to west: north is now on the right.
    s = Stretch.from_wgs84(LineString([(127.2, 41.5), (127.0, 41.5)]))
    north = {
        "type": "Feature",
        "id": "YLU-0001",
        "properties": {"id": "YLU-0001", "synthetic": True},
        "geometry": {"type": "Point", "coordinates": [127.15, 41.505]},
    }
    res = analyse([north], stretch=s, window=Window("w", 0, 16), towns=ws.towns, options=opts())
    p = res.summary["points"][0]
    assert p["offset_m"] < 0
    assert p["chainage_km"] == pytest.approx(0.05 * 16.7 / 0.2, abs=0.1)
    # no bundled town lies within 5 km of this made-up line: the default rule is stated
    assert "assumed" in res.summary["filters"]["banks"]
    assert math.isclose(res.summary["window"]["straight_km"], 16.0, abs_tol=1e-6)


def test_disagreeing_tests_are_said_to_disagree():
    from geotrack.analysis._report import _agreement
    from geotrack.density import Clustering, Hotspots

    def hs(p):
        return Hotspots(0.1, (), 0.2, 99, 1, 0.05, 3.0, 0.3, p)

    def cl(p):
        return Clustering(n=10, simulations=99, seed=1, p_value=p)

    assert _agreement(hs(0.5), cl(0.01))["agree"] is False
    assert "Ripley's L finds clustering but no stretch" in _agreement(hs(0.5), cl(0.01))["note"]
    assert "significant hotspot but Ripley's L does not" in _agreement(hs(0.01), cl(0.5))["note"]
    assert _agreement(hs(0.01), cl(0.01)) == {"agree": True, "note": None}
    assert _agreement(hs(None), cl(0.01))["agree"] is None


def test_exported_density_layers_carry_the_spread(ws):
    from geotrack.export.density_layers import density_layers
    from geotrack.reference import Window

    feats = features_at(
        ws,
        [20.0, 30.0],
        location_precision=["exact", "county"],
        chainage_from_km=[None, 20.0],
        chainage_to_km=[None, 40.0],
    )
    r = analyse(feats, stretch=ws.stretch, window=Window("w", 0, 50), options=opts(bin_km=10))
    bins, kde_layer = density_layers(r)
    props = [f.properties for f in bins.features]
    assert [p["count"] for p in props] == [0, 0, 1, 0, 0]
    assert [round(p["spread"], 6) for p in props] == [0, 0, 0.5, 0.5, 0]
    assert sum(p["expected"] for p in props) == pytest.approx(2.0)
    step = kde_layer.features[0].properties["step_km"]
    total = sum(f.properties["per_km"] for f in kde_layer.features) * step
    assert total == pytest.approx(2.0, rel=0.01)
