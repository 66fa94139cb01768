"""CRS policy and the GCJ-02 / BD-09 datum shifts of Chinese web maps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotrack.crs import (
    MEASURE_CRS,
    WIRE_CRS,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_measure,
    to_wgs84,
    to_wire,
    wgs84_to_gcj02,
)
from geotrack.errors import DataError

# Published example values of the widely used `coordtransform` library
# (wandergis/coordtransform, test/app.js), all for the input (116.404, 39.915).
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)  # closed-form inverse


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (x0, x1), (y0, y1) = to_measure([a[0], b[0]], [a[1], b[1]])
    return math.hypot(x1 - x0, y1 - y0)


def test_wire_and_measure_crs():
    assert WIRE_CRS == "EPSG:4326" and MEASURE_CRS == "EPSG:32652"
    x, y = to_measure(127.0644402, 41.6567879)
    assert (round(x), round(y)) == (338839, 4613481)
    lon, lat = to_wire(x, y)
    assert lon == pytest.approx(127.0644402, abs=1e-9) and lat == pytest.approx(
        41.6567879, abs=1e-9
    )
    xs, ys = to_measure(np.array([127.0, 128.0]), np.array([41.0, 42.0]))
    assert xs.shape == (2,) and ys[1] > ys[0]


def test_gcj02_matches_published_values():
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        COORDTRANSFORM_WGS84_TO_GCJ02, abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(COORDTRANSFORM_GCJ02_TO_BD09, abs=1e-12)


def test_bd09_inverse_is_close_to_the_closed_form_and_exact_against_the_forward():
    gcj = bd09_to_gcj02(116.404, 39.915)
    # the closed-form inverse is off by up to ~20 cm; ours refines it
    assert metres_between(gcj, COORDTRANSFORM_BD09_TO_GCJ02) < 0.5
    assert metres_between(gcj02_to_bd09(*gcj), (116.404, 39.915)) < 1e-3


def test_offsets_on_the_yalu_are_hundreds_of_metres():
    """On the Yalu the GCJ-02 shift is ~540 m, enough to put a crossing on the wrong bank."""
    wgs = (128.1778, 41.4017)  # near Hyesan
    gcj = wgs84_to_gcj02(*wgs)
    bd = gcj02_to_bd09(*gcj)
    assert 300 < metres_between(wgs, gcj) < 800
    assert gcj[0] > wgs[0] and gcj[1] > wgs[1]  # pushed north-east here
    assert 1000 < metres_between(wgs, bd) < 2000


def test_outside_china_is_unchanged():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


def test_to_wgs84_dispatch_and_unknown_datum():
    assert to_wgs84(127.5, 41.5, "wgs84") == (127.5, 41.5)
    assert to_wgs84(*wgs84_to_gcj02(127.5, 41.5), "gcj02") == pytest.approx((127.5, 41.5), abs=1e-9)
    with pytest.raises(DataError, match="datum='nad27' is unknown: use wgs84, gcj02 or bd09"):
        to_wgs84(127.5, 41.5, "nad27")


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(min_value=121.0, max_value=131.5),
    lat=st.floats(min_value=38.0, max_value=44.0),
)
def test_round_trips_are_below_one_centimetre(lon, lat):
    gcj = wgs84_to_gcj02(lon, lat)
    assert metres_between(to_wgs84(*gcj, "gcj02"), (lon, lat)) < 0.01
    bd = gcj02_to_bd09(*gcj)
    assert metres_between(to_wgs84(*bd, "bd09"), (lon, lat)) < 0.01
