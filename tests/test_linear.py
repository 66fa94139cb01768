"""Tests of geotrack.linear: chainage, signed offset and snap distance on a directed line.

All lines and points here are synthetic, made in code; the real stretch line comes from the
workspace bundled with the package.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point

from geotrack.crs import to_measure
from geotrack.errors import DataError, ValidationError
from geotrack.linear import LineIndex, as_single_line, bank

# An L-shaped line: 100 m east, then 100 m north.
ELL = LineString([(0, 0), (100, 0), (100, 100)])
# A tight meander: east, a 10 m step north, back west.
U = LineString([(0, 0), (100, 0), (100, 10), (0, 10)])
BASE = np.array([350_000.0, 4_600_000.0])  # UTM-like magnitudes, to exercise precision


def loc1(line, x, y):
    r = LineIndex(line).locate([x], [y])
    return float(r.chainage_m[0]), float(r.offset_m[0]), float(r.distance_m[0])


# ----------------------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    ("x", "y", "chainage", "offset", "distance"),
    [
        (50, 10, 50, 10, 10),  # left of the first segment
        (50, -10, 50, -10, 10),  # right of it
        (100, 0, 100, 0, 0),  # on the vertex
        (90, 50, 150, 10, 10),  # left of the northward segment (west of it)
        (110, 50, 150, -10, 10),  # right of it
        (-3, 4, 0, 5, 5),  # beyond the start, north of it: left
        (-5, 0, 0, 0, 5),  # on the extension of the first segment: no side
        (100, 110, 200, 0, 10),  # on the extension of the last segment
        (103, 104, 200, -5, 5),  # beyond the end, east of it: right
        (101, -1, 100, -math.sqrt(2), math.sqrt(2)),  # outside the corner: right
        (101, 0, 100, -1, 1),  # outside the corner, level with the first segment
        (99, 1, 99, 1, 1),  # inside the corner: nearer the first segment (tie -> lower)
    ],
)
def test_known_answers_on_an_l_shaped_line(x, y, chainage, offset, distance):
    c, o, d = loc1(ELL, x, y)
    assert c == pytest.approx(chainage, abs=1e-9)
    assert o == pytest.approx(offset, abs=1e-9)
    assert d == pytest.approx(distance, abs=1e-9)


def test_nearest_point_not_nearest_vertex_in_a_meander():
    # Level with the bend: (50, 4) is 4 m from the first segment, 6 m from the last one.
    assert loc1(U, 50, 4)[0] == pytest.approx(50)
    assert loc1(U, 50, 6)[0] == pytest.approx(100 + 10 + 50)
    # A nearest-vertex method would say chainage 0 or 100 for (50, 4); the nearest vertex is 50 m away.
    assert loc1(U, 50, 4)[2] == pytest.approx(4)


def test_ties_resolve_to_the_lowest_chainage_as_geos_does():
    # (50, 5) is 5 m from both the first and the last segment of the meander.
    c, _o, d = loc1(U, 50, 5)
    assert d == pytest.approx(5)
    assert c == pytest.approx(50)
    assert c == pytest.approx(shapely.line_locate_point(U, Point(50, 5)))


def test_zero_length_segments_are_harmless():
    line = LineString([(0, 0), (50, 0), (50, 0), (100, 0), (100, 0), (100, 50)])
    idx = LineIndex(line)
    assert idx.length_m == pytest.approx(150)
    r = idx.locate([50, 50, 101, 60], [3, -3, 0, 0])
    np.testing.assert_allclose(r.chainage_m, [50, 50, 100, 60])
    np.testing.assert_allclose(r.offset_m, [3, -3, -1, 0])


def test_nan_points_give_nan_and_segment_minus_one():
    r = LineIndex(ELL).locate([np.nan, 10.0], [0.0, 1.0])
    assert np.isnan(r.chainage_m[0]) and np.isnan(r.offset_m[0]) and r.segment[0] == -1
    assert r.chainage_m[1] == pytest.approx(10)


def test_empty_input_and_mismatched_lengths():
    r = LineIndex(ELL).locate([], [])
    assert r.chainage_m.shape == (0,) and len(r) == 0
    with pytest.raises(ValueError, match="x has 2 values but y has 1"):
        LineIndex(ELL).locate([1.0, 2.0], [1.0])


def test_chunking_visiting_order_and_threads_give_the_same_answers():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-20, 120, 40_000), rng.uniform(-20, 120, 40_000)
    x[17] = np.nan  # NaN points are sorted like any other
    idx = LineIndex(ELL)
    a = idx.locate(x, y)  # one chunk: Z-order, shared between threads
    b = idx.locate(x, y, chunk_size=5000)  # Z-order, one thread
    c = idx.locate(x, y, chunk_size=7)  # input order, one thread
    assert np.isnan(a.chainage_m[17]) and a.segment[17] == -1
    for other in (b, c):
        np.testing.assert_array_equal(a.chainage_m, other.chainage_m)
        np.testing.assert_array_equal(a.offset_m, other.offset_m)
        np.testing.assert_array_equal(a.segment, other.segment)


def test_leaf_size_does_not_change_answers():
    rng = np.random.default_rng(6)
    t = np.linspace(0, 20 * np.pi, 3001)
    line = LineString(np.column_stack([t * 100, np.sin(t) * 300]))
    x, y = rng.uniform(-100, 6400, 3000), rng.uniform(-500, 500, 3000)
    ref = LineIndex(line, leaf_size=1).locate(x, y)
    for leaf in (2, 8, 64, 5000):
        r = LineIndex(line, leaf_size=leaf).locate(x, y)
        np.testing.assert_array_equal(r.chainage_m, ref.chainage_m)
    with pytest.raises(ValueError, match="leaf_size"):
        LineIndex(line, leaf_size=0)


def test_interpolate_and_substring():
    idx = LineIndex(ELL)
    x, y = idx.interpolate([0, 50, 100, 150, 200])
    np.testing.assert_allclose(x, [0, 50, 100, 100, 100])
    np.testing.assert_allclose(y, [0, 0, 0, 50, 100])
    np.testing.assert_allclose(idx.substring(50, 150), [[50, 0], [100, 0], [100, 50]])
    np.testing.assert_allclose(idx.substring(0, 200), [[0, 0], [100, 0], [100, 100]])
    np.testing.assert_allclose(idx.substring(10, 20), [[10, 0], [20, 0]])


@pytest.mark.parametrize(("a", "b"), [(-1, 50), (50, 201), (50, 50), (60, 50), (np.nan, 5)])
def test_substring_rejects_bad_ranges(a, b):
    with pytest.raises(ValidationError, match=r"must be"):
        LineIndex(ELL).substring(a, b)


def test_interpolate_rejects_chainage_off_the_line():
    with pytest.raises(ValidationError, match=r"within \[0, 200.000\] m"):
        LineIndex(ELL).interpolate([250.0])


# ----------------------------------------------------------------------------- line checks


def test_multilinestring_in_order_is_merged_keeping_direction():
    m = MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 100)]])
    assert list(as_single_line(m).coords) == list(ELL.coords)
    assert loc1(m, 100, 50)[0] == pytest.approx(150)


def test_multilinestring_with_a_gap_is_rejected():
    m = MultiLineString([[(0, 0), (100, 0)], [(110, 0), (200, 0)]])
    with pytest.raises(DataError, match=r"2 parts with gaps .*largest gap .* 10\.000"):
        LineIndex(m)


def test_multilinestring_with_parts_out_of_order_is_rejected():
    m = MultiLineString([[(100, 0), (100, 100)], [(0, 0), (100, 0)]])
    with pytest.raises(DataError, match="not in order"):
        as_single_line(m)


def test_branching_multilinestring_is_rejected():
    m = MultiLineString([[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(100, 0), (100, 50)]])
    with pytest.raises(DataError, match="gaps or branches"):
        as_single_line(m)


@pytest.mark.parametrize(
    "geom",
    [Point(0, 0), LineString(), LineString([(1, 1), (1, 1)]), LineString([(0, 0), (np.inf, 1)])],
)
def test_other_geometries_are_rejected(geom):
    with pytest.raises(DataError, match="line"):
        as_single_line(geom)


def test_bank_labels():
    assert bank([5.0, -5.0, 0.0]).tolist() == ["CN", "KP", "on_line"]
    assert bank([1.0], left="L", right="R").tolist() == ["L"]


# ----------------------------------------------------------------------------- properties

steps = st.lists(
    st.tuples(st.floats(1.0, 1000.0), st.floats(-math.pi, math.pi)), min_size=1, max_size=40
)


def polyline(step_list) -> LineString:
    pts = [BASE.copy()]
    heading = 0.0
    for length, turn in step_list:
        heading += turn
        pts.append(pts[-1] + length * np.array([math.cos(heading), math.sin(heading)]))
    return LineString(pts)


@settings(max_examples=150, deadline=None)
@given(
    steps, st.lists(st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)), min_size=1, max_size=50)
)
def test_equals_shapely_within_a_millimetre(step_list, rel_points):
    line = polyline(step_list)
    x0, y0, x1, y1 = line.bounds
    span = max(x1 - x0, y1 - y0, 1.0)
    pts = np.array(rel_points) * span * 1.5 + [(x0 + x1) / 2, (y0 + y1) / 2]
    r = LineIndex(line).locate(pts[:, 0], pts[:, 1])
    geoms = shapely.points(pts)
    ref_c = shapely.line_locate_point(line, geoms)
    ref_d = shapely.distance(line, geoms)
    np.testing.assert_allclose(r.distance_m, ref_d, atol=1e-3, rtol=0)
    np.testing.assert_allclose(r.chainage_m, ref_c, atol=1e-3, rtol=0)
    sided = r.offset_m != 0
    np.testing.assert_array_equal(np.abs(r.offset_m[sided]), r.distance_m[sided])
    # no side only on the line or straight ahead of a segment (beyond an end, a hairpin tip)
    c = np.asarray(line.coords)
    for i in np.nonzero(~sided)[0]:
        a, b = c[r.segment[i]], c[r.segment[i] + 1]
        u = (b - a) / max(np.hypot(*(b - a)), 1e-300)
        cross = u[0] * (pts[i, 1] - a[1]) - u[1] * (pts[i, 0] - a[0])
        assert abs(cross) <= 1e-6 * max(1.0, r.distance_m[i])


@st.composite
def placed(draw):
    """A line, a segment, a fraction along it and a perpendicular offset."""
    step_list = draw(steps)
    line = polyline(step_list)
    nseg = len(line.coords) - 1
    s = draw(st.integers(0, nseg - 1))
    t = draw(st.floats(0.01, 0.99))
    h = draw(st.floats(-2000.0, 2000.0))
    return line, s, t, h


def offset_point(line, s, t, h):
    c = np.asarray(line.coords)
    a, b = c[s], c[s + 1]
    u = (b - a) / np.hypot(*(b - a))
    left = np.array([-u[1], u[0]])
    seglens = np.hypot(*np.diff(c, axis=0).T)
    d = seglens[:s].sum() + t * seglens[s]
    return a + t * (b - a) + h * left, d


def clearance(line, s, p):
    """Distance from p to the line without segment s (inf when it is the only one)."""
    c = np.asarray(line.coords)
    others = [c[i : i + 2] for i in range(len(c) - 1) if i != s]
    if not others:
        return math.inf
    return shapely.distance(MultiLineString(others), Point(p))


@settings(max_examples=200, deadline=None)
@given(placed())
def test_point_placed_at_chainage_d_is_located_at_d(case):
    line, s, t, h = case
    p, d = offset_point(line, s, t, h)
    # premise: no other part of the line is as near as the foot of the perpendicular
    assume(clearance(line, s, p) > abs(h) + 1e-3)
    r = LineIndex(line).locate([p[0]], [p[1]])
    assert r.chainage_m[0] == pytest.approx(d, abs=1e-3)
    assert r.offset_m[0] == pytest.approx(h, abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(placed())
def test_reversing_the_line_maps_d_to_length_minus_d(case):
    line, s, t, h = case
    p, _d = offset_point(line, s, t, h)
    assume(clearance(line, s, p) > abs(h) + 1e-3)
    idx = LineIndex(line)
    fwd = idx.locate([p[0]], [p[1]])
    back = idx.reversed().locate([p[0]], [p[1]])
    assert back.chainage_m[0] == pytest.approx(idx.length_m - fwd.chainage_m[0], abs=1e-3)
    assert back.offset_m[0] == pytest.approx(-fwd.offset_m[0], abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(steps, st.floats(0.0, 1.0))
def test_interpolate_then_locate_round_trips(step_list, frac):
    line = polyline(step_list)
    idx = LineIndex(line)
    d = frac * idx.length_m
    x, y = idx.interpolate([d])
    # premise: the line passes through the point only once (a line may fold back on itself)
    assume(abs(shapely.line_locate_point(line, Point(x[0], y[0])) - d) < 1e-3)
    r = idx.locate(x, y)
    assert r.distance_m[0] == pytest.approx(0, abs=1e-6)
    assert r.chainage_m[0] == pytest.approx(d, abs=1e-3)
    assert shapely.line_interpolate_point(line, d).distance(Point(x[0], y[0])) < 1e-6


# ----------------------------------------------------------------------------- the real stretch


def test_real_stretch_matches_shapely_and_puts_china_on_the_left(ws):
    line = ws.stretch.line_m
    idx = LineIndex(line)
    assert idx.n_vertices > 1000
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = line.bounds
    x, y = rng.uniform(x0 - 3000, x1 + 3000, 6000), rng.uniform(y0 - 3000, y1 + 3000, 6000)
    r = idx.locate(x, y)
    geoms = shapely.points(x, y)
    np.testing.assert_allclose(r.chainage_m, shapely.line_locate_point(line, geoms), atol=1e-3)
    np.testing.assert_allclose(r.distance_m, shapely.distance(line, geoms), atol=1e-3)
    # Changbai (China) and Hyesan (North Korea) face each other across the river.
    for name, side in (("Changbai", 1), ("Hyesan", -1)):
        town = next(t for n, t in ws.towns.items() if n.startswith(name))
        tx, ty = to_measure(town.lon, town.lat)
        loc = idx.locate([tx], [ty])
        assert np.sign(loc.offset_m[0]) == side
        assert 200 < loc.chainage_m[0] / 1000 < 215
        assert loc.distance_m[0] < 2000
