"""Compact encodings shared by the map payload's builders.

A string table (every text stored once, referenced by index), days since 1970 for
ISO dates, code lists, and lines or points as rounded ``[lat, lon]`` lists.
"""

from __future__ import annotations

__all__ = [
    "EPOCH",
    "StringTable",
    "code_index",
    "code_list",
    "day_number",
    "finite",
    "geom_latlon",
    "latlon",
    "rounded",
]

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import shapely

from geotrack.crs import to_wire

#: Day 0 of the page's day numbers.
EPOCH = date(1970, 1, 1)


class StringTable:
    """A string table: every text value is stored once and referenced by index.

    Calling the table with a value gives its index (``-1`` for none or empty);
    :attr:`items` is the list the page reads.

    Examples
    --------
    >>> s = StringTable()
    >>> s("Hyesan"), s("Changbai"), s("Hyesan"), s(None), s.items
    (0, 1, 0, -1, ['Hyesan', 'Changbai'])
    """

    def __init__(self) -> None:
        self.items: list[str] = []
        self._ix: dict[str, int] = {}

    def __call__(self, value: object) -> int:
        if value is None or value == "":
            return -1
        s = value if isinstance(value, str) else str(value)
        i = self._ix.get(s)
        if i is None:
            i = self._ix[s] = len(self.items)
            self.items.append(s)
        return i


def day_number(value: object, *, end: bool = False) -> int | None:
    """Days since 1970-01-01 of an ISO date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``).

    A year or month is its first day, or with *end* its last; anything else is None.

    Examples
    --------
    >>> day_number("1970-01-02"), day_number("1970-01", end=True), day_number("soon")
    (1, 30, None)
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip()[:10]
    try:
        parts = [int(p) for p in text.split("-")]
    except ValueError:
        return None
    try:
        if len(parts) == 1:
            d = date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
        elif len(parts) == 2:
            if end:
                nxt = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
                d = date.fromordinal(nxt.toordinal() - 1)
            else:
                d = date(parts[0], parts[1], 1)
        else:
            d = date(parts[0], parts[1], parts[2])
    except ValueError:
        return None
    return (d - EPOCH).days


def code_list(codes: Mapping[Any, str], extra: Mapping[str, Any] | None = None) -> list[list]:
    """A vocabulary as ``[[code, label], ...]`` (plus ``extra[code]`` when given).

    Examples
    --------
    >>> code_list({"ford": "Ford"}, {"ford": "#009E73"})
    [['ford', 'Ford', '#009E73']]
    """
    out = []
    for code, label in codes.items():
        row: list[Any] = [code, label]
        if extra is not None:
            row.append(extra[code])
        out.append(row)
    return out


def code_index(codes: Mapping[Any, str], value: object, default: object) -> int:
    """The position of *value* among *codes*, or of *default* when it is not one.

    Examples
    --------
    >>> code_index({"a": "A", "b": "B"}, "b", "a"), code_index({"a": "A"}, "zz", "a")
    (1, 0)
    """
    keys = list(codes)
    try:
        return keys.index(value)
    except ValueError:
        return keys.index(default)


def latlon(x: np.ndarray, y: np.ndarray, nd: int = 5) -> list[list[float]]:
    """EPSG:32652 arrays to ``[[lat, lon], ...]`` rounded to *nd* decimals.

    Examples
    --------
    >>> latlon(np.array([500000.0]), np.array([4600000.0]), nd=2)
    [[41.55, 129.0]]
    """
    lon, lat = to_wire(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    lat = np.round(np.atleast_1d(lat), nd)
    lon = np.round(np.atleast_1d(lon), nd)
    return np.column_stack([lat, lon]).tolist()


def geom_latlon(geom: Any, nd: int = 5) -> list[list[list[float]]]:
    """Any (multi)line geometry in WGS 84 to a list of ``[[lat, lon], ...]`` parts.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> geom_latlon(LineString([(127.0, 41.5), (127.2, 41.6)]))
    [[[41.5, 127.0], [41.6, 127.2]]]
    """
    if geom is None:
        return []
    if isinstance(geom, Mapping):
        geom = shapely.geometry.shape(geom)
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        c = shapely.get_coordinates(g)
        if len(c):
            parts.append(np.round(c[:, ::-1], nd).tolist())
    return parts


def finite(v: object) -> float | None:
    """*v* as a finite float, or None (not a number, NaN, infinite).

    Examples
    --------
    >>> finite("2.5"), finite(float("nan")), finite(None)
    (2.5, None, None)
    """
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def rounded(v: float | None, nd: int) -> float | None:
    """*v* rounded to *nd* decimals; None stays None, NaN becomes None.

    Examples
    --------
    >>> rounded(127.1234567, 3), rounded(None, 3)
    (127.123, None)
    """
    return None if v is None or not math.isfinite(v) else round(float(v), nd)
