"""Placing a crossing site from what a report says.

A report rarely prints a coordinate.  It names a place ("near Hyesan"), a
distance along the river from one ("10 km downstream of Hyesan"), a stretch
between two places, or only a county.  :class:`Placer` turns each of these
into a :class:`Placement`: a Point on the river line (the middle of what is
known, on the stated bank if one is), the location precision, the
uncertainty radius, and the spread along the river as chainages.

Chainage is km along the stretch line from its first vertex, the west,
*downstream* end, increasing upstream: "downstream" means a lower chainage.
The stretch's left bank (positive offset) is China (``CN``), its right bank
North Korea (``KP``).  No I/O here.
"""

from __future__ import annotations

__all__ = [
    "BANK_OFFSET_M",
    "DEFAULT_KM_FRACTION",
    "DEFAULT_NEAR_KM",
    "MAX_PLACE_KM",
    "WORD_KEYS",
    "County",
    "Placement",
    "Placer",
    "near_pairs",
    "site_phrases",
]

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geotrack.crs import to_measure, to_wire
from geotrack.errors import NotFoundError, Problem, ValidationError
from geotrack.places import Gazetteer, Place, match_key
from geotrack.reference import Stretch
from geotrack.schema import BANKS, location_phrase

#: ``--near`` without ``--within-km``: within this many km of the place.
DEFAULT_NEAR_KM = 2.0
#: ``--km-from`` without ``--plus-minus-km``: ± this fraction of the distance.
DEFAULT_KM_FRACTION = 0.2
#: A place farther than this from the river line cannot anchor a position along it.
MAX_PLACE_KM = 20.0
#: A placed site on a stated bank is drawn this far off the line, on that side.
BANK_OFFSET_M = 50.0


@dataclass(frozen=True)
class County:
    """A county's riverfront: the part of the stretch between two chainages.

    Examples
    --------
    >>> County("Hyesan", 207.1, 221.9).length_km
    14.8
    """

    name: str
    from_km: float
    to_km: float

    @property
    def length_km(self) -> float:
        """Length of the riverfront, km."""
        return round(self.to_km - self.from_km, 6)


@dataclass(frozen=True)
class Placement:
    """Where a site is, and how well that is known.

    ``lon``/``lat`` is the site's Point (WGS 84); ``chainage_km`` its
    chainage.  A site spread along the river has ``chainage_from_km`` and
    ``chainage_to_km``; a point-located one has them None.
    """

    lon: float
    lat: float
    chainage_km: float
    location_precision: str
    uncertainty_m: float
    placement: str
    placement_basis: str
    inferred: bool
    bank: str | None = None
    chainage_from_km: float | None = None
    chainage_to_km: float | None = None

    def fields(self) -> dict[str, Any]:
        """The site properties this placement sets.

        Examples
        --------
        >>> p = Placement(128.0, 41.4, 200.0, "reach", 5000.0, "reach", "km 195–205", False,
        ...               None, 195.0, 205.0)
        >>> sorted(p.fields())  # doctest: +NORMALIZE_WHITESPACE
        ['bank', 'chainage_from_km', 'chainage_to_km', 'inferred', 'location_precision',
         'placement', 'placement_basis', 'uncertainty_m']
        """
        return {
            "location_precision": self.location_precision,
            "uncertainty_m": self.uncertainty_m,
            "placement": self.placement,
            "placement_basis": self.placement_basis,
            "inferred": self.inferred,
            "bank": self.bank,
            "chainage_from_km": self.chainage_from_km,
            "chainage_to_km": self.chainage_to_km,
        }


#: Record keys that place a site from words (each a CLI option and an import column).
WORD_KEYS = ("near", "within_km", "km_from", "km", "direction", "plus_minus_km", "reach", "county")


def _km(value: object) -> float | None:
    try:
        if isinstance(value, bool):
            return None
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return out if math.isfinite(out) else None


class Placer:
    """Places sites on one stretch from a gazetteer and the county riverfronts.

    Parameters
    ----------
    stretch : Stretch
        The directed line (chainage 0 at its west, downstream end).
    gazetteer : Gazetteer
        Named places.
    counties : sequence of County
        Riverfronts by county.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.5, 41.5)]))
    >>> g = Gazetteer([Place("town:A", "A-up", 127.1, 41.51, "가", "KP")])
    >>> placer = Placer(s, g, [County("East", 20.0, 41.7)])
    >>> p = placer.km_from("a", 5, "upstream")
    >>> round(p.chainage_km, 2), p.chainage_from_km, p.chainage_to_km, p.location_precision
    (13.35, 12.351, 14.351, 'reach')
    >>> placer.county(["east"]).placement_basis
    'East county: its riverfront, km 20.0–41.7 of the county segments layer'
    """

    def __init__(
        self, stretch: Stretch, gazetteer: Gazetteer, counties: Sequence[County] = ()
    ) -> None:

        self.stretch = stretch
        self.gazetteer = gazetteer
        self.counties = tuple(counties)
        self.length_km = stretch.line_m.length / 1000.0

    # -- where things are ------------------------------------------------
    @property
    def index(self):
        """The stretch's :class:`~geotrack.linear.LineIndex` (built on first use)."""
        return self.stretch.index

    def locate(self, lon: Iterable[float], lat: Iterable[float]) -> tuple[np.ndarray, ...]:
        """Chainage (km), signed offset (m, + = CN side) and bank of WGS 84 points.

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.5, 41.5)]))
        >>> km, off, banks = Placer(s, Gazetteer([])).locate([127.1], [41.49])
        >>> round(float(km[0]), 1), banks.tolist()
        (8.3, ['KP'])
        """
        from geotrack.linear import bank

        x, y = to_measure(np.asarray(list(lon), float), np.asarray(list(lat), float))
        x, y = np.atleast_1d(x), np.atleast_1d(y)
        if len(x) <= _FEW:
            chain_m, off = self._locate_few(x, y)
        else:  # the compiled index pays off (and is loaded) only for many points
            loc = self.index.locate(x, y)
            chain_m, off = loc.chainage_m, loc.offset_m
        return chain_m / 1000.0, off, bank(off, on_line="")

    def _locate_few(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chainage and signed offset (m) of a few points with GEOS (no compiled kernels)."""
        import shapely

        line = self.stretch.line_m
        pts = shapely.points(x, y)
        d = shapely.line_locate_point(line, pts)
        dist = shapely.distance(line, pts)
        a = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(d - 1.0, 0.0)))
        b = shapely.get_coordinates(
            shapely.line_interpolate_point(line, np.minimum(d + 1.0, line.length))
        )
        cross = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) - (b[:, 1] - a[:, 1]) * (x - a[:, 0])
        return d, np.sign(cross) * dist

    def place_chainage(self, place: Place, *, field_name: str) -> float:
        """Chainage (km) of the point of the line nearest *place*; refuse a place far from it."""
        km, off, _ = self.locate([place.lon], [place.lat])
        if abs(float(off[0])) > MAX_PLACE_KM * 1000.0:
            raise ValidationError(
                [
                    Problem(
                        field_name,
                        place.name,
                        f"is {abs(float(off[0])) / 1000:.1f} km from the river line (limit "
                        f"{MAX_PLACE_KM:g} km): it cannot anchor a position along the river; "
                        "name a place on the river",
                    )
                ]
            )
        return float(km[0])

    def _point(self, km: float, side: str | None) -> tuple[float, float]:
        d = min(max(km * 1000.0, 0.0), self.index.length_m)
        x, y = self.index.interpolate([d])
        x0, y0 = float(x[0]), float(y[0])
        if side:
            (xa, xb), (ya, yb) = self.index.interpolate(
                [max(d - 1.0, 0.0), min(d + 1.0, self.index.length_m)]
            )
            tx, ty = xb - xa, yb - ya
            norm = math.hypot(tx, ty) or 1.0
            sign = 1.0 if side == "CN" else -1.0  # left of the upstream direction is China
            x0 += sign * BANK_OFFSET_M * -ty / norm
            y0 += sign * BANK_OFFSET_M * tx / norm
        lon, lat = to_wire(x0, y0)
        return float(lon), float(lat)

    def _radius_m(self, lo_km: float, hi_km: float, lon: float, lat: float) -> float:
        """Largest straight-line distance from the site's point to its spread, m."""
        a, b = lo_km * 1000.0, hi_km * 1000.0
        part = np.column_stack(self.index.interpolate([a])) if not a < b else None
        if part is None:
            part = self.index.substring(a, b)
        x, y = to_measure(lon, lat)
        return float(math.ceil(np.hypot(part[:, 0] - x, part[:, 1] - y).max()))

    def _check_width(self, width_km: float, field_name: str, value: object) -> None:
        if width_km > self.length_km + 1e-9:
            raise ValidationError(
                [
                    Problem(
                        field_name,
                        value,
                        f"spreads over {width_km:.1f} km, more than the whole stretch "
                        f"({self.length_km:.1f} km): it says nothing about where the site is; "
                        "give a smaller uncertainty or record the report as a claim",
                    )
                ]
            )

    def _spread(
        self,
        lo: float,
        hi: float,
        *,
        precision: str,
        how: str,
        basis: str,
        inferred: bool,
        side: str | None,
        field_name: str,
        value: object,
    ) -> Placement:
        self._check_width(hi - lo, field_name, value)
        lo, hi = max(lo, 0.0), min(hi, self.length_km)
        mid = (lo + hi) / 2.0
        lon, lat = self._point(mid, side)
        return Placement(
            lon,
            lat,
            mid,
            precision,
            self._radius_m(lo, hi, lon, lat),
            how,
            basis,
            inferred,
            side,
            round(lo, 3),
            round(hi, 3),
        )

    # -- the forms -------------------------------------------------------
    def coordinate(
        self, lon: float, lat: float, *, side: str | None = None, precision: str = "exact"
    ) -> tuple[str | None, list[Problem]]:
        """The bank a coordinate lies on, and a problem if it contradicts *side*."""
        km, off, banks = self.locate([lon], [lat])
        found = str(banks[0]) or None
        if side and found and side != found:
            return found, [
                Problem(
                    "bank",
                    side,
                    f"contradicts the coordinate, which lies {abs(float(off[0])):.0f} m from the "
                    f"line on the {found} side (km {float(km[0]):.1f}): check the coordinate "
                    "and its datum, or drop --bank",
                )
            ]
        return found, []

    def near(
        self, name: str, *, within_km: float | None = None, side: str | None = None
    ) -> Placement:
        """A site within *within_km* of a named place (default :data:`DEFAULT_NEAR_KM`).

        Precision ``near_place``; the Point is the place's chainage on the river line.
        """
        place = self.gazetteer.find(name, field_name="near")
        r = DEFAULT_NEAR_KM if within_km is None else within_km
        if not (math.isfinite(r) and r > 0):
            raise ValidationError(
                [Problem("within_km", within_km, "must be a positive number of km, e.g. 2")]
            )
        km, off, _ = self.locate([place.lon], [place.lat])
        dist_km = abs(float(off[0])) / 1000.0
        if dist_km > r:
            raise ValidationError(
                [
                    Problem(
                        "within_km",
                        r,
                        f"{place.name} is {dist_km:.1f} km from the river line, farther than "
                        f"{r:g} km: no point of the river is that near it; give --within-km "
                        f"{math.ceil(dist_km * 10) / 10:g} or more, or name a place on the river",
                    )
                ]
            )
        c = float(km[0])
        self._check_width(2 * r, "within_km", r)
        lon, lat = self._point(c, side)
        assumed = ", radius assumed" if within_km is None else ""
        basis = (
            f"near {place.short_name} (km {c:.1f}): within {r:g} km of it{assumed}; "
            f"the point is its nearest point of the river"
        )
        return Placement(
            lon, lat, c, "near_place", r * 1000.0, "near_place", basis, within_km is None, side
        )

    def km_from(
        self,
        name: str,
        km: float,
        direction: str,
        *,
        plus_minus_km: float | None = None,
        side: str | None = None,
    ) -> Placement:
        """A site *km* along the river from a named place, down- or upstream.

        Precision ``reach``, spread uniformly over ±*plus_minus_km* (default
        ±20% of *km*) around that chainage, clipped to the stretch.
        """
        probs = []
        d = _km(km)
        if d is None or d <= 0:
            probs.append(Problem("km", km, "must be a positive distance in km, e.g. 10"))
        if direction not in ("downstream", "upstream"):
            probs.append(
                Problem("direction", direction, "must be downstream or upstream (say which way)")
            )
        u = None if plus_minus_km is None else _km(plus_minus_km)
        if plus_minus_km is not None and (u is None or u < 0):
            probs.append(
                Problem("plus_minus_km", plus_minus_km, "must be a distance in km (0 or more)")
            )
        if probs:
            raise ValidationError(probs)
        assert d is not None
        place = self.gazetteer.find(name, field_name="km_from")
        c0 = self.place_chainage(place, field_name="km_from")
        c = c0 - d if direction == "downstream" else c0 + d
        if not 0.0 <= c <= self.length_km:
            end = "downstream end (km 0)" if c < 0 else f"upstream end (km {self.length_km:.1f})"
            room = c0 if c < 0 else self.length_km - c0
            raise ValidationError(
                [
                    Problem(
                        "km",
                        km,
                        f"{d:g} km {direction} of {place.name} (km {c0:.1f}) runs off the "
                        f"stretch's {end}: at most {room:.1f} km {direction} of it is on the stretch",
                    )
                ]
            )
        if u is None:
            u = DEFAULT_KM_FRACTION * d
        shown = f"±{u:.1f} km" + (
            f" (±{DEFAULT_KM_FRACTION:.0%} of the distance, assumed)"
            if plus_minus_km is None
            else ""
        )
        basis = f"{d:g} km {direction} of {place.short_name} (km {c0:.1f}): km {c:.1f}, {shown}"
        if u == 0:
            lon, lat = self._point(c, side)
            return Placement(lon, lat, c, "reach", 0.0, "km_from", basis, False, side, c, c)
        return self._spread(
            c - u,
            c + u,
            precision="reach",
            how="km_from",
            basis=basis,
            inferred=plus_minus_km is None,
            side=side,
            field_name="plus_minus_km",
            value=u,
        )

    def _end(self, text: str, spec: str) -> tuple[float, str, bool]:
        """Chainage of one end of a reach (a km figure or a place), a label, is-a-number."""
        k = _km(text)
        if k is not None:
            if not 0.0 <= k <= self.length_km:
                raise ValidationError(
                    [
                        Problem(
                            "reach",
                            spec,
                            f"end {text.strip()!r} is outside the stretch: valid chainages are "
                            f"0 to {self.length_km:.1f} km",
                        )
                    ]
                )
            return k, f"km {k:g}", True
        place = self.gazetteer.find(text.strip(), field_name="reach")
        c = self.place_chainage(place, field_name="reach")
        return c, f"{place.short_name} (km {c:.1f})", False

    def reach(self, spec: str, *, side: str | None = None) -> Placement:
        """A site somewhere between two places or chainages, ``A..B``.

        Two km figures must be written low to high; two places may come in
        either order.  Precision ``reach``, spread uniformly between the ends.
        """
        parts = spec.split("..") if isinstance(spec, str) else []
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ValidationError(
                [
                    Problem(
                        "reach",
                        spec,
                        "write two ends as A..B: places or km, e.g. Hyesan..Changbai or 195..210",
                    )
                ]
            )
        (a, la, na), (b, lb, nb) = self._end(parts[0], spec), self._end(parts[1], spec)
        if na and nb and b < a:
            raise ValidationError(
                [
                    Problem(
                        "reach", spec, f"is reversed: write the lower chainage first ({b:g}..{a:g})"
                    )
                ]
            )
        if a == b:
            raise ValidationError(
                [
                    Problem(
                        "reach",
                        spec,
                        "has zero length: its two ends are the same point of the river",
                    )
                ]
            )
        if b < a:
            (a, la), (b, lb) = (b, lb), (a, la)
        basis = f"between {la} and {lb}: uniform over km {a:.1f}–{b:.1f}"
        return self._spread(
            a,
            b,
            precision="reach",
            how="reach",
            basis=basis,
            inferred=False,
            side=side,
            field_name="reach",
            value=spec,
        )

    def county(self, names: Sequence[str], *, side: str | None = None) -> Placement:
        """A site somewhere on the riverfront of one county (or of adjacent ones).

        Precision ``county``, spread uniformly over the riverfront.
        """
        found: list[County] = []
        for name in names:
            hits = [c for c in self.counties if match_key(c.name) == match_key(name)]
            if not hits:
                listed = ", ".join(c.name for c in self.counties) or "none"
                raise NotFoundError(
                    f"county={name!r} has no riverfront on the stretch: counties with a "
                    f"riverfront are {listed}"
                )
            found.extend(h for h in hits if h not in found)
        if not found:
            raise ValidationError([Problem("county", "", "give a county name, e.g. Hyesan")])
        found.sort(key=lambda c: c.from_km)
        for left, right in itertools.pairwise(found):
            if right.from_km > left.to_km + 1e-6:
                raise ValidationError(
                    [
                        Problem(
                            "county",
                            ";".join(names),
                            f"{left.name} and {right.name} are not adjacent along the river "
                            "(their riverfronts do not meet): record one site per county, or "
                            "give --reach",
                        )
                    ]
                )
        lo, hi = found[0].from_km, found[-1].to_km
        title = " and ".join(c.name for c in found)
        basis = (
            f"{title} count{'ies' if len(found) > 1 else 'y'}: "
            f"{'their' if len(found) > 1 else 'its'} riverfront, km {lo:.1f}–{hi:.1f} of the county segments layer"
        )
        return self._spread(
            lo,
            hi,
            precision="county",
            how="county",
            basis=basis,
            inferred=False,
            side=side,
            field_name="county",
            value=";".join(names),
        )

    def from_words(self, rec: Mapping[str, Any]) -> Placement | None:
        """Place from the word keys of a record (:data:`WORD_KEYS`), or None if it has none.

        Keys: ``near`` (+ ``within_km``); ``km_from`` + ``km`` + ``direction``
        (+ ``plus_minus_km``); ``reach``; ``county`` (several joined by ``;``);
        ``bank`` applies to each.

        Raises
        ------
        ValidationError, NotFoundError
            Several forms at once, a form missing a part, or a bad value.
        """
        given = {k: rec[k] for k in WORD_KEYS if rec.get(k) not in (None, "")}
        if not given:
            return None
        forms = [k for k in ("near", "km_from", "reach", "county") if k in given]
        side = _side(rec.get("bank"))
        if len(forms) != 1:
            raise ValidationError(
                [
                    Problem(
                        "/".join(forms) or ", ".join(given),
                        "; ".join(str(given[k]) for k in (forms or given)),
                        "place a site one way: --near, --km-from, --reach or --county"
                        + (" (one of them)" if forms else " (these options need one of them)"),
                    )
                ]
            )
        form = forms[0]
        extra = {
            "near": set(given) - {"near", "within_km"},
            "km_from": set(given) - {"km_from", "km", "direction", "plus_minus_km"},
            "reach": set(given) - {"reach"},
            "county": set(given) - {"county"},
        }[form]
        if extra:
            key = sorted(extra)[0]
            raise ValidationError([Problem(key, given[key], f"does not go with {form}: drop it")])
        if form == "near":
            r = given.get("within_km")
            r_km = None if r is None else _km(r)
            if r is not None and r_km is None:
                raise ValidationError([Problem("within_km", r, "must be a number of km, e.g. 2")])
            return self.near(str(given["near"]), within_km=r_km, side=side)
        if form == "km_from":
            missing = [k for k in ("km", "direction") if k not in given]
            if missing:
                fix = {"km": "give --km D", "direction": "give --downstream or --upstream"}
                raise ValidationError(
                    [Problem(k, None, f"is needed with km_from: {fix[k]}") for k in missing]
                )
            return self.km_from(
                str(given["km_from"]),
                given["km"],
                str(given["direction"]).strip().lower(),
                plus_minus_km=given.get("plus_minus_km"),
                side=side,
            )
        if form == "reach":
            return self.reach(str(given["reach"]), side=side)
        county = given["county"]
        names = county if isinstance(county, list | tuple) else str(county).split(";")
        return self.county([n.strip() for n in names if n.strip()], side=side)


def _side(value: object) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().upper() in BANKS:
        return value.strip().upper()
    raise ValidationError(
        [Problem("bank", value, "must be CN (Chinese bank) or KP (North Korean bank)")]
    )


#: Up to this many points, :meth:`Placer.locate` uses GEOS instead of the compiled index.
_FEW = 64
#: Up to this many new sites, near_pairs compares every pair directly (no spatial index).
_DIRECT_MAX = 16


def _spread_of(props: Mapping[str, Any]) -> tuple[float, float]:
    lo, hi = props.get("chainage_from_km"), props.get("chainage_to_km")
    if lo is None or hi is None:
        return math.nan, math.nan
    return float(lo), float(hi)


def near_pairs(
    new: Sequence[Mapping[str, Any]], old: Sequence[Mapping[str, Any]], placer: Placer
) -> list[tuple[int, int, float]]:
    """Pairs (new site, old site) where either lies within the other's uncertainty.

    A site's uncertainty is its spread along the river (``chainage_from_km``
    to ``chainage_to_km``) when it has one, else the disk of radius
    ``uncertainty_m`` around its point.  Site B lies within A's uncertainty
    when B's chainage is in A's spread, or B's point is in A's disk.

    Parameters
    ----------
    new, old : sequence of GeoJSON Point features
        Crossing features (their ``properties`` hold the uncertainty).
    placer : Placer
        For chainages.

    Returns
    -------
    list of (int, int, float)
        Index into *new*, index into *old*, straight-line distance between the points (m).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.5, 41.5)]))
    >>> pl = Placer(s, Gazetteer([]))
    >>> def site(lon, r, lo=None, hi=None):
    ...     return {"geometry": {"type": "Point", "coordinates": [lon, 41.5]},
    ...             "properties": {"uncertainty_m": r, "chainage_from_km": lo, "chainage_to_km": hi}}
    >>> [(i, j) for i, j, _ in near_pairs([site(127.1, 50), site(127.3, 50)],
    ...                                 [site(127.1005, 100), site(127.2, 50, 20.0, 30.0)], pl)]
    [(0, 0), (1, 1)]
    """
    if not new or not old:
        return []

    def arrays(feats):
        ll = np.array([f["geometry"]["coordinates"][:2] for f in feats], dtype=float)
        x, y = to_measure(ll[:, 0], ll[:, 1])
        r = np.array([float(f["properties"].get("uncertainty_m") or 0.0) for f in feats])
        spread = np.array([_spread_of(f["properties"]) for f in feats], dtype=float)
        km = np.array([f["properties"].get("chainage_km") for f in feats], dtype=float)
        if np.isnan(km).any():  # not stored (an older layer): measure
            km = placer.index.locate(np.asarray(x), np.asarray(y)).chainage_m / 1000.0
        return np.asarray(x), np.asarray(y), r, spread, km

    nx, ny, nr, ns, nk = arrays(new)
    ox, oy, orad, os_, ok = arrays(old)
    ndisk, odisk = np.isnan(ns[:, 0]), np.isnan(os_[:, 0])
    pairs: set[tuple[int, int]] = set()
    reach = max(nr[ndisk].max(initial=0.0), orad[odisk].max(initial=0.0))
    if len(nx) <= _DIRECT_MAX:  # a few new sites: every distance, vectorised
        i_new = np.repeat(np.arange(len(nx)), len(ox))
        j_old = np.tile(np.arange(len(ox)), len(nx))
    else:
        import shapely

        tree = shapely.STRtree(shapely.points(ox, oy))
        i_new, j_old = tree.query(shapely.points(nx, ny), predicate="dwithin", distance=reach)
    d = np.hypot(nx[i_new] - ox[j_old], ny[i_new] - oy[j_old])
    lim = np.maximum(
        np.where(ndisk[i_new], nr[i_new], 0.0), np.where(odisk[j_old], orad[j_old], 0.0)
    )
    pairs.update(zip(i_new[d <= lim].tolist(), j_old[d <= lim].tolist(), strict=True))
    spread_old = np.flatnonzero(~odisk)
    if len(nk) <= len(spread_old):  # one add against a large layer: loop over the new sites
        for i in range(len(nk)):
            inside = (os_[spread_old, 0] <= nk[i]) & (os_[spread_old, 1] >= nk[i])
            pairs.update((i, int(j)) for j in spread_old[inside])
    else:
        for j in spread_old:
            hit = np.flatnonzero((nk >= os_[j, 0]) & (nk <= os_[j, 1]))
            pairs.update((int(i), int(j)) for i in hit)
    for i in np.flatnonzero(~ndisk):
        hit = np.flatnonzero((ok >= ns[i, 0]) & (ok <= ns[i, 1]))
        pairs.update((int(i), int(j)) for j in hit)
    return [(i, j, float(math.hypot(nx[i] - ox[j], ny[i] - oy[j]))) for i, j in sorted(pairs)]


def site_phrases(
    features: Sequence[Mapping[str, Any]], placer: Callable[[], Placer] | Placer
) -> list[str]:
    """:func:`~geotrack.schema.location_phrase` of each crossing feature.

    Sites written by geotrack store their chainage and offset; for any that
    do not (a layer from an older version), they are measured on *placer*'s
    line (a :class:`Placer`, or a function returning one, called only then).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.5, 41.5)]))
    >>> site_phrases([{"geometry": {"type": "Point", "coordinates": [127.1, 41.499]},
    ...                "properties": {}}], Placer(s, Gazetteer([])))
    ['at km 8.3, KP bank, 130 m from the line']
    """
    props = [dict(f["properties"]) for f in features]
    todo = [i for i, p in enumerate(props) if p.get("chainage_km") is None]
    if todo:
        pl = placer if isinstance(placer, Placer) else placer()
        ll = np.array([features[i]["geometry"]["coordinates"][:2] for i in todo], dtype=float)
        km, off, banks = pl.locate(ll[:, 0], ll[:, 1])
        for i, k, o, b in zip(todo, km, off, banks, strict=True):
            props[i]["chainage_km"], props[i]["offset_m"] = float(k), float(o)
            if props[i].get("placement") in (None, "coordinate"):
                props[i]["bank"] = str(b) or None
    return [location_phrase(p) for p in props]
