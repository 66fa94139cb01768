"""The density raster's corridor along the river (geotrack.density.raster.clip_to_corridor)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.density import clip_to_corridor, corridor_distance_m, density_grid
from geotrack.errors import ValidationError


def _centres(grid):
    rows, cols = grid.values.shape
    a, _, c, _, e, f = grid.transform
    r, k = np.indices((rows, cols))
    return c + a * (k + 0.5), f + e * (r + 0.5)


coord = st.floats(-5000, 5000, allow_nan=False)
lines = st.lists(st.tuples(coord, coord), min_size=2, max_size=8, unique=True).filter(
    lambda v: shapely.LineString(v).length > 1.0
)


@settings(max_examples=60, deadline=None)
@given(
    line=lines,
    corridor_m=st.floats(50, 3000),
    px=st.lists(st.tuples(coord, coord), min_size=1, max_size=5),
    cell_m=st.sampled_from([100.0, 250.0]),
)
def test_kept_cells_within_the_corridor_nodata_beyond_as_shapely_measures(
    line, corridor_m, px, cell_m
):
    xs, ys = zip(*px, strict=True)
    grid = density_grid(
        xs, ys, bounds=(-5000, -5000, 5000, 5000), cell_m=cell_m, bandwidth_m=4 * cell_m
    )
    clipped = clip_to_corridor(grid, line, corridor_m)
    x, y = _centres(grid)
    d = shapely.distance(shapely.points(x.ravel(), y.ravel()), shapely.LineString(line))
    d = d.reshape(x.shape)
    kept = np.isfinite(clipped.values)
    clear = np.abs(d - corridor_m) > 1e-6  # a centre at the edge may round either way
    assert (d[kept & clear] <= corridor_m).all()
    assert (d[~kept & clear] > corridor_m).all()
    # the kept cells are the density unchanged; in_corridor is their mass
    assert np.array_equal(clipped.values[kept], grid.values[kept])
    area = (cell_m / 1000.0) ** 2
    assert clipped.in_corridor == pytest.approx(
        float(grid.values[kept].sum(dtype=np.float64)) * area, rel=1e-9, abs=1e-12
    )
    assert clipped.in_corridor <= grid.total * (1 + 1e-6) + 1e-9
    assert clipped.corridor_m == corridor_m


@settings(max_examples=40, deadline=None)
@given(line=lines, beyond=st.floats(10, 2000))
def test_distances_exact_near_the_line_and_inf_only_where_surely_beyond(line, beyond):
    transform = (200.0, 0.0, -6000.0, 0.0, -200.0, 6000.0)
    d = corridor_distance_m((60, 60), transform, line, beyond_m=beyond)
    a, _, c, _, e, f = transform
    r, k = np.indices((60, 60))
    ref = shapely.distance(
        shapely.points((c + a * (k + 0.5)).ravel(), (f + e * (r + 0.5)).ravel()),
        shapely.LineString(line),
    ).reshape(60, 60)
    finite = np.isfinite(d)
    assert np.allclose(d[finite], ref[finite], rtol=0, atol=1e-6)
    assert (ref[~finite] > beyond).all()
    assert finite[ref <= beyond].all()


def test_a_corridor_along_a_straight_line_keeps_a_band_of_rows():
    g = density_grid([500.0], [500.0], bounds=(0, 0, 1000, 1000), cell_m=100, bandwidth_m=200)
    c = clip_to_corridor(g, [(-2000.0, 500.0), (3000.0, 500.0)], 200.0)
    rows = np.nonzero(np.isfinite(c.values).any(axis=1))[0]
    _, y = _centres(g)
    assert sorted({float(v) for v in y[rows, 0]}) == [350.0, 450.0, 550.0, 650.0]
    # a Gaussian of 200 m: ±200 m (the kept rows' extent) holds erf(1/√2) of the mass (less
    # a little: bilinear binning on 100 m cells widens the kernel)
    assert c.in_corridor == pytest.approx(math.erf(1 / math.sqrt(2)), abs=0.02)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "3"])
def test_a_bad_corridor_is_refused(bad):
    g = density_grid([0.0], [0.0], bounds=(0, 0, 0, 0), cell_m=100, bandwidth_m=400)
    with pytest.raises(ValidationError, match="corridor_m"):
        clip_to_corridor(g, [(0.0, 0.0), (1.0, 0.0)], bad)


def test_a_line_of_one_vertex_is_refused():
    g = density_grid([0.0], [0.0], bounds=(0, 0, 0, 0), cell_m=100, bandwidth_m=400)
    with pytest.raises(ValidationError, match="line_xy"):
        clip_to_corridor(g, [(0.0, 0.0)], 100.0)
