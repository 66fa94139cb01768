"""The reference geography as objects: the directed stretch line, windows, towns.

No file I/O here: :mod:`geotrack.workspace` reads the layers and builds these.
Chainage is measured in EPSG:32652 along the stretch line from its first
vertex (the west, downstream end) and is given in kilometres.
"""

from __future__ import annotations

__all__ = [
    "REPORTED_COUNT",
    "REPORTED_KM",
    "Stretch",
    "Town",
    "Window",
    "check_name",
    "check_window",
    "parse_window",
]

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from geotrack.crs import to_measure
from geotrack.errors import WindowError

if TYPE_CHECKING:
    from shapely.geometry import LineString

    from geotrack.linear import LineIndex

#: The report's figure: "a roughly 98-kilometer stretch" (Korea JoongAng Daily, 2025-12-19).
REPORTED_KM = 98.0
#: The report's count: "at least 32 temporary crossings" (same source).
REPORTED_COUNT = 32
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Town:
    """A town on either bank.

    Examples
    --------
    >>> Town("Hyesan", "혜산", "KP", 128.17778, 41.40167).country
    'KP'
    """

    name: str
    name_local: str | None
    country: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Window:
    """A window of the river between two chainages, in km.

    Examples
    --------
    >>> Window("reported", 0.0, 238.7).length_km
    238.7
    """

    name: str
    from_km: float
    to_km: float
    description: str = ""

    @property
    def length_km(self) -> float:
        """Length along the river, km."""
        return round(self.to_km - self.from_km, 6)

    def as_dict(self) -> dict[str, object]:
        """The window as plain data.

        Examples
        --------
        >>> Window("a", 1.0, 2.5).as_dict()["length_km"]
        1.5
        """
        return {
            "name": self.name,
            "from_km": self.from_km,
            "to_km": self.to_km,
            "length_km": self.length_km,
            "description": self.description,
        }


@dataclass(frozen=True)
class Stretch:
    """The directed stretch line, in WGS 84 and in EPSG:32652.

    Parameters
    ----------
    line_wgs84 : LineString
        Longitude/latitude, first vertex = chainage 0.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.1, 41.5)]))
    >>> round(s.length_km, 2)
    8.35
    """

    line_wgs84: LineString
    line_m: LineString = field(repr=False)

    @classmethod
    def from_wgs84(cls, line: LineString) -> Stretch:
        """Build from a WGS 84 LineString, projecting it to EPSG:32652."""
        import shapely
        from shapely.geometry import LineString

        if not isinstance(line, LineString) or line.is_empty:
            raise WindowError(
                f"stretch geometry={line.geom_type}: the stretch must be one LineString; "
                "merge a MultiLineString into one directed line first"
            )
        x, y = to_measure(*shapely.get_coordinates(line).T)
        return cls(line, LineString(list(zip(x, y, strict=True))))

    @functools.cached_property
    def index(self) -> LineIndex:
        """The line prepared for linear referencing (:class:`geotrack.linear.LineIndex`), built once.

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.1, 41.5)]))
        >>> s.index is s.index, round(s.index.length_m)
        (True, 8349)
        """
        from geotrack.linear import LineIndex

        return LineIndex(self.line_m, what="stretch line")

    @property
    def length_km(self) -> float:
        """Length along the line in EPSG:32652, km."""
        return self.line_m.length / 1000.0

    def point_at(self, km: float) -> tuple[float, float]:
        """The EPSG:32652 point at chainage *km*.

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.1, 41.5)]))
        >>> round(s.point_at(0)[0])
        333070
        """
        p = self.line_m.interpolate(km * 1000.0)
        return p.x, p.y

    def chainage_of(self, lon: float, lat: float) -> float:
        """Chainage in km of the point of the line nearest to *lon*, *lat*.

        For a handful of points (window ends); :mod:`geotrack.linear` does arrays.
        """
        import shapely

        x, y = to_measure(lon, lat)
        return shapely.line_locate_point(self.line_m, shapely.Point(x, y)) / 1000.0

    def straight_km(self, window: Window) -> float:
        """Straight-line distance between the window's two ends, km (EPSG:32652).

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.1, 41.5), (127.1, 41.6)]))
        >>> round(s.straight_km(Window("all", 0, s.length_km)), 1)
        13.9
        """
        x0, y0 = self.point_at(window.from_km)
        x1, y1 = self.point_at(window.to_km)
        return math.hypot(x1 - x0, y1 - y0) / 1000.0

    def max_extent_km(self, window: Window) -> float:
        """Largest distance between two points of the line within the window, km."""
        import shapely
        from shapely.ops import substring

        part = substring(self.line_m, window.from_km * 1000.0, window.to_km * 1000.0)
        hull = shapely.convex_hull(part)
        coords = shapely.get_coordinates(hull)
        if len(coords) < 2:
            return 0.0
        diff = coords[:, None, :] - coords[None, :, :]
        return float(((diff**2).sum(-1) ** 0.5).max() / 1000.0)

    def describe(self, window: Window) -> dict[str, object]:
        """The window as plain data with its measured lengths.

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.1, 41.5)]))
        >>> sorted(s.describe(Window("all", 0, 5))) # doctest: +NORMALIZE_WHITESPACE
        ['crs', 'description', 'from_km', 'length_km', 'max_extent_km', 'name', 'straight_km',
         'to_km']
        """
        return {
            **window.as_dict(),
            "straight_km": round(self.straight_km(window), 3),
            "max_extent_km": round(self.max_extent_km(window), 3),
            "crs": "EPSG:32652",
        }


def check_name(name: str, *, what: str = "name") -> str:
    """Check a user-given name (window, layer) that becomes part of a path or key.

    Examples
    --------
    >>> check_name("five-counties")
    'five-counties'
    """
    # fullmatch, not match: "$" also matches before a final newline
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise WindowError(
            f"{what}={name!r}: use 1-64 lower-case letters, digits, '-' or '_', starting with a "
            "letter or digit (no '/', '..' or spaces)"
        )
    return name


def parse_window(
    spec: str,
    stretch: Stretch,
    *,
    named: Mapping[str, Window],
    towns: Mapping[str, Town] | None = None,
) -> Window:
    """Turn a window spec into a :class:`Window` on *stretch*.

    Parameters
    ----------
    spec : str
        ``FROM_KM:TO_KM``; a named window; ``all`` (the whole line);
        ``town:NAME..NAME`` (chainages of the line points nearest two towns);
        ``lonlat:LON,LAT..LON,LAT``.
    stretch : Stretch
        The line the window lies on.
    named : mapping
        Named windows of the workspace.
    towns : mapping, optional
        Towns by name (case-insensitive match on the start of the name).

    Raises
    ------
    WindowError
        Unknown name; a window reversed, empty or outside ``0..length``.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.1, 41.5)]))
    >>> parse_window("1:2.5", s, named={}).length_km
    1.5
    >>> parse_window("5:1", s, named={})
    Traceback (most recent call last):
    ...
    geotrack.errors.WindowError: window='5:1' is reversed: ...
    """
    spec = spec.strip()
    length = stretch.length_km
    if spec in named:
        window = named[spec]
    elif spec == "all":
        window = Window("all", 0.0, round(length, 3), "the whole stretch line")
    elif spec.startswith("town:"):
        window = _between_towns(spec, stretch, towns or {})
    elif spec.startswith("lonlat:"):
        try:
            a, b = spec[len("lonlat:") :].split("..")
            (lon0, lat0), (lon1, lat1) = (tuple(map(float, p.split(","))) for p in (a, b))
        except ValueError:
            raise WindowError(
                f"window={spec!r}: write two points as lonlat:LON,LAT..LON,LAT"
            ) from None
        for lon, lat in ((lon0, lat0), (lon1, lat1)):
            if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
                raise WindowError(
                    f"window={spec!r}: ({lon:g}, {lat:g}) is not a point: give longitudes in "
                    "[-180, 180] and latitudes in [-90, 90], e.g. lonlat:128.1,41.4..128.3,41.5"
                )
        k = sorted(float(stretch.chainage_of(x, y)) for x, y in ((lon0, lat0), (lon1, lat1)))
        window = Window(spec, round(k[0], 3), round(k[1], 3), "between two points")
    elif ":" in spec:
        try:
            lo, hi = (float(v) for v in spec.split(":"))
        except ValueError:
            raise WindowError(
                f"window={spec!r}: write FROM_KM:TO_KM (e.g. 0:238.7), a named window "
                f"({', '.join(sorted(named)) or 'none saved'}), all, town:A..B or lonlat:..."
            ) from None
        window = Window(spec, lo, hi, "chainage range")
    else:
        raise WindowError(
            f"window={spec!r} is not known: use a named window "
            f"({', '.join(sorted(named)) or 'none saved'}), FROM_KM:TO_KM, all, town:A..B or lonlat:..."
        )
    return check_window(window, length_km=length, spec=spec)


def check_window(window: Window, *, length_km: float, spec: str | None = None) -> Window:
    """Reject a window that is reversed, empty, not finite or off the line.

    Examples
    --------
    >>> check_window(Window("w", 0, 400), length_km=305.6)
    Traceback (most recent call last):
    ...
    geotrack.errors.WindowError: window='w' ends at 400 km, beyond the line: ...
    """
    label = spec if spec is not None else window.name
    lo, hi = window.from_km, window.to_km
    valid = f"valid chainages are 0 to {length_km:.3f} km"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise WindowError(f"window={label!r} is not finite: {valid}")
    if hi < lo:
        raise WindowError(f"window={label!r} is reversed: write the lower chainage first ({valid})")
    if hi == lo:
        raise WindowError(f"window={label!r} has zero length: {valid}")
    if lo < 0:
        raise WindowError(f"window={label!r} starts at {lo:g} km, before the line: {valid}")
    if hi > length_km + 1e-3:
        raise WindowError(f"window={label!r} ends at {hi:g} km, beyond the line: {valid}")
    return window


def _between_towns(spec: str, stretch: Stretch, towns: Mapping[str, Town]) -> Window:
    try:
        a, b = spec[len("town:") :].split("..")
    except ValueError:
        raise WindowError(f"window={spec!r}: write town:NAME..NAME") from None
    found = []
    for wanted in (a, b):
        key = _town_key(wanted)
        hits = [t for n, t in towns.items() if key and _town_key(n).startswith(key)]
        if len(hits) != 1:
            raise WindowError(
                f"window={spec!r}: town {wanted!r} matches {len(hits)} towns; use one of "
                f"{', '.join(sorted(towns))}"
            )
        found.append(hits[0])
    k = sorted(float(stretch.chainage_of(t.lon, t.lat)) for t in found)
    return Window(
        spec, round(k[0], 3), round(k[1], 3), f"between {found[0].name} and {found[1].name}"
    )


def _town_key(name: str) -> str:
    """A town name as matched: case, apostrophes, hyphens and spaces ignored.

    Examples
    --------
    >>> _town_key("Poch'on-up") == _town_key("Pochon up") == "pochonup"
    True
    """
    return re.sub(r"[\s'’‘ʼ`\-_.]", "", name.casefold())
