"""Density of crossings along the river: from a workspace to one result.

:func:`density_report` reads the crossings of a :class:`~geotrack.workspace.Workspace`,
locates them on the stretch line (:mod:`geotrack.linear`), applies the
filters, and computes every statistic of :mod:`geotrack.density` over a
window of the river.  It returns a :class:`DensityResult` whose
:meth:`~DensityResult.as_dict` is the JSON document of ``geotrack density
--json``; the exporters in :mod:`geotrack.export.density_layers` write its
layers.  Nothing here prints.

Rules stated in every result:

* retired crossings are never counted;
* a crossing farther from the stretch line than ``max_offset_km`` is excluded
  from the statistics and listed with the reason, never dropped silently;
* filters on location precision, verification status and Admiralty grades
  are stated in ``filters``;
* each crossing is a distribution along the river (:func:`site_interval`):
  a point, or uniform over a stretch ``[lo, hi]`` km; bins hold expected
  counts and the kernel density is the sum of each site's spread convolved
  with the kernel; a site partly inside the window counts for the part
  inside.  The hotspot and clustering tests use the point-located crossings
  only unless ``include_spread``.
"""

from __future__ import annotations

__all__ = [
    "BANDWIDTH_RULES",
    "DEFAULT_SEED",
    "MAX_SIMULATIONS",
    "MIN_BIN_KM",
    "MIN_CV_SITES",
    "DensityOptions",
    "DensityResult",
    "analyse",
    "density_report",
    "site_interval",
]

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from geotrack import density as dens
from geotrack.crs import MEASURE_CRS, to_measure
from geotrack.density.hotspot import SILVERMAN_RANGE
from geotrack.density.kernel import _check_bandwidth
from geotrack.density.spread import interval_linear_bin
from geotrack.density.spread import sites as clip_sites
from geotrack.errors import Problem, ValidationError
from geotrack.linear import LineIndex, Located
from geotrack.schema import CREDIBILITY, PRECISIONS, RELIABILITY, VERIFICATIONS

if TYPE_CHECKING:
    from geotrack.reference import Stretch, Town, Window
    from geotrack.workspace import Workspace

log = logging.getLogger(__name__)

#: Bandwidth rules: ``auto`` is likelihood cross-validation from :data:`MIN_CV_SITES`
#: point-located crossings, Silverman's rule below, the bin width below 2.
BANDWIDTH_RULES = ("auto", "cv", "silverman")
#: Fewest point-located crossings for likelihood cross-validation under ``auto``.
MIN_CV_SITES = 10
#: Seed of the Monte Carlo tests unless another is given: the same data, the same p-values.
DEFAULT_SEED = 20251209
#: Shortest bin: at most about 30,000 bins over the whole 306 km line.
MIN_BIN_KM = 0.01
#: Most Monte Carlo simulations (99,999 take about a minute on the bundled stretch).
MAX_SIMULATIONS = 99_999
#: Default half-width of the density raster's corridor along the river, km: cells whose
#: centres lie farther from the river line are nodata (crossings are counted up to
#: ``max_offset_km``, 2 km by default, from the line: the corridor holds them all).
DEFAULT_CORRIDOR_KM = 3.0
#: Most a corridor may be, km (the stretch's valley is a few km wide; tens of km is a region).
MAX_CORRIDOR_KM = 50.0
#: Most sigma, in cells, of the default 2-D raster (coarser cells above).
_MAX_SIGMA_CELLS = 25


@dataclass(frozen=True)
class DensityOptions:
    """What ``geotrack density`` computes, with the CLI's defaults.

    Parameters
    ----------
    window : str
        Window spec: a named window, ``FROM_KM:TO_KM``, ``all``,
        ``town:NAME..NAME`` or ``lonlat:LON,LAT..LON,LAT``.
    bin_km : float
        Bin length, km.
    bandwidth_km : float, optional
        Kernel bandwidth (standard deviation), km; else chosen by ``bandwidth_rule``.
    bandwidth_rule : {"auto", "cv", "silverman"}
        ``auto``: likelihood cross-validation on the point-located crossings
        when there are at least :data:`MIN_CV_SITES`, else Silverman's rule
        (at least 2 distinct), else the bin width.  ``cv``, ``silverman``:
        that rule (falling back to the bin width below 2 point-located).
    step_km : float, optional
        Grid step of the kernel density, km (default ``min(0.1, bandwidth / 4)``).
    max_offset_km : float
        Crossings farther than this from the stretch line are excluded and listed.
    min_precision : str, optional
        Keep crossings located at least this precisely (``exact`` < ``near_place``
        < ``reach`` < ``county``).
    verification : tuple of str
        Keep crossings with at least one report whose verification status is one of these.
    min_reliability, min_credibility : str, int, optional
        Keep crossings with at least one report graded at least this well on
        the Admiralty scale (A best, 1 best); with ``verification``, one report
        must satisfy all report filters.
    include_spread : bool
        Let the hotspot and clustering tests use spread crossings too (by
        simulation with the same spreads); by default they use point-located
        crossings only.
    simulations : int
        Monte Carlo simulations for the hotspot and clustering tests.
    seed : int
        Random seed, :data:`DEFAULT_SEED` unless given.
    alpha : float
        Significance level.
    gaps_top : int
        How many of the longest gaps to list.
    raster_cell_m, raster_bandwidth_m : float, optional
        Cell size and kernel bandwidth of the 2-D density raster, metres
        (default bandwidth: half the corridor, see :meth:`DensityResult.grid`).
    raster_corridor_km : float
        Half-width of the raster's corridor along the river line, km: cells
        whose centres lie farther from the line are nodata.

    Examples
    --------
    >>> DensityOptions(window="0:98.5", bin_km=2).bin_km
    2
    """

    window: str = "reported"
    bin_km: float = 5.0
    bandwidth_km: float | None = None
    bandwidth_rule: str = "auto"
    step_km: float | None = None
    max_offset_km: float = 2.0
    min_precision: str | None = None
    verification: tuple[str, ...] = ()
    min_reliability: str | None = None
    min_credibility: int | None = None
    include_spread: bool = False
    simulations: int = 999
    seed: int = DEFAULT_SEED
    alpha: float = 0.05
    gaps_top: int = 5
    raster_cell_m: float | None = None
    raster_bandwidth_m: float | None = None
    raster_corridor_km: float = DEFAULT_CORRIDOR_KM

    def check(self) -> None:
        """Raise :class:`ValidationError` listing every invalid option.

        Examples
        --------
        >>> DensityOptions(bandwidth_rule="scott").check()
        Traceback (most recent call last):
        ...
        geotrack.errors.ValidationError: bandwidth_rule='scott': use one of auto, cv, silverman
        """
        p: list[Problem] = []
        if self.bandwidth_rule not in BANDWIDTH_RULES:
            p.append(
                Problem(
                    "bandwidth_rule",
                    self.bandwidth_rule,
                    f"use one of {', '.join(BANDWIDTH_RULES)}",
                )
            )
        if not _positive(self.bin_km) or self.bin_km < MIN_BIN_KM:
            p.append(
                Problem(
                    "bin_km",
                    self.bin_km,
                    f"give a bin length of at least {MIN_BIN_KM:g} km (10 m), e.g. 5",
                )
            )
        if not _positive(self.max_offset_km):
            p.append(Problem("max_offset_km", self.max_offset_km, "give a distance > 0 km, e.g. 2"))
        if self.min_precision is not None and self.min_precision not in PRECISIONS:
            p.append(
                Problem("min_precision", self.min_precision, f"use one of {', '.join(PRECISIONS)}")
            )
        for v in self.verification:
            if v not in VERIFICATIONS:
                p.append(Problem("verification", v, f"use one of {', '.join(VERIFICATIONS)}"))
        if self.min_reliability is not None and self.min_reliability not in RELIABILITY:
            p.append(
                Problem("min_reliability", self.min_reliability, "use a grade from A (best) to F")
            )
        if self.min_credibility is not None and self.min_credibility not in CREDIBILITY:
            p.append(
                Problem("min_credibility", self.min_credibility, "use a grade from 1 (best) to 6")
            )
        if not isinstance(self.simulations, int) or not 1 <= self.simulations <= MAX_SIMULATIONS:
            p.append(
                Problem(
                    "simulations", self.simulations, f"give an integer in [1, {MAX_SIMULATIONS}]"
                )
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            p.append(Problem("seed", self.seed, "give a non-negative integer"))
        if not (isinstance(self.alpha, int | float) and 0 < self.alpha < 1):
            p.append(Problem("alpha", self.alpha, "give a level in (0, 1), e.g. 0.05"))
        if not isinstance(self.gaps_top, int) or self.gaps_top < 1:
            p.append(Problem("gaps_top", self.gaps_top, "give a positive integer"))
        for name in ("raster_cell_m", "raster_bandwidth_m"):
            v = getattr(self, name)
            if v is not None and not _positive(v):
                p.append(Problem(name, v, "give a positive number of metres"))
        c = self.raster_corridor_km
        if not _positive(c) or c > MAX_CORRIDOR_KM:
            p.append(
                Problem(
                    "raster_corridor_km",
                    c,
                    f"give a distance from the river line in (0, {MAX_CORRIDOR_KM:g}] km "
                    f"(--raster-corridor-km), e.g. {DEFAULT_CORRIDOR_KM:g}",
                )
            )
        if p:
            raise ValidationError(p)


def _positive(v: object) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0


@dataclass
class DensityResult:
    """Everything ``geotrack density`` reports, plus what its layers need.

    Attributes
    ----------
    summary : dict
        The JSON document (see :meth:`as_dict`).
    window : Window
        The window analysed.
    line : LineIndex
        The stretch line in EPSG:32652 (for layer geometry).
    bins : Bins
    kde : Kde
    x_m, y_m : ndarray
        EPSG:32652 coordinates of the point-located crossings counted.
    spread_km : ndarray, shape (n, 2)
        Stretches ``[lo, hi]`` km of the spread crossings counted.
    """

    summary: dict[str, Any]
    window: Window
    line: LineIndex
    bins: dens.Bins
    kde: dens.Kde
    x_m: np.ndarray
    y_m: np.ndarray
    spread_km: np.ndarray
    max_offset_km: float
    raster_cell_m: float | None = None
    raster_bandwidth_m: float | None = None
    raster_corridor_km: float = DEFAULT_CORRIDOR_KM
    _grid: dens.Grid | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready summary (a plain dict), as printed by ``geotrack density --json``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from geotrack.workspace import init_workspace
        >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
        >>> doc = density_report(ws, DensityOptions(simulations=9, seed=1)).as_dict()
        >>> doc["crs"], doc["n_crossings"], doc["bin_km"]
        ('EPSG:32652', 0, 5.0)
        """
        return self.summary

    def grid(self) -> dens.Grid:
        """The 2-D density grid (EPSG:32652) over the window, computed once.

        Only a corridor along the river is shown: cells whose centres lie farther
        than ``raster_corridor_km`` from the window's part of the river line
        (EPSG:32652) are NaN (nodata in the GeoTIFF); ``Grid.in_corridor`` is the
        expected number of crossings the kept cells hold.

        Bandwidth: ``raster_bandwidth_m`` or half the corridor (never more than the
        1-D bandwidth).  Every crossing lies within ``max_offset_km`` of the line, so
        with the corridor's edge two bandwidths from the line a crossing on the
        line keeps about 95 % of its kernel inside the corridor across the river;
        the 1-D bandwidth (tens of km on a long window) would spread each crossing
        over a whole region and most of its mass beyond the corridor.  Cell:
        ``raster_cell_m`` or 100 m, coarser when the bandwidth spans more than 25
        cells, and never more than a quarter of the bandwidth.  Point-located
        crossings are at their coordinates; a spread crossing's mass lies along the
        river line over its stretch (placed at nodes no farther apart than half a cell).
        """
        if self._grid is None:
            corridor_m = self.raster_corridor_km * 1000.0
            bw = self.raster_bandwidth_m or min(corridor_m / 2.0, self.kde.bandwidth_km * 1000.0)
            cell = self.raster_cell_m
            if cell is None:
                cell = min(max(100.0, math.ceil(bw / _MAX_SIGMA_CELLS / 50.0) * 50.0), bw / 4.0)
            part = self.line.substring(self.window.from_km * 1000.0, self.window.to_km * 1000.0)
            pad = max(self.max_offset_km * 1000.0, corridor_m)
            bounds = (
                float(part[:, 0].min() - pad),
                float(part[:, 1].min() - pad),
                float(part[:, 0].max() + pad),
                float(part[:, 1].max() + pad),
            )
            x, y, w = self.x_m, self.y_m, np.ones(self.x_m.size)
            spread = clip_sites(self.spread_km, None, (self.window.from_km, self.window.to_km))
            if spread.w.size:
                a, b = self.window.from_km, self.window.to_km
                m = max(1, math.ceil((b - a) * 1000.0 / (cell / 2.0)))
                step = (b - a) / m
                mass = interval_linear_bin(spread.lo, spread.hi, spread.w, a, step, m)
                on = mass > 0
                sx, sy = self.line.interpolate((a + step * np.nonzero(on)[0]) * 1000.0)
                x, y, w = (
                    np.concatenate([x, sx]),
                    np.concatenate([y, sy]),
                    np.concatenate([w, mass[on]]),
                )
            grid = dens.density_grid(x, y, bounds=bounds, cell_m=cell, bandwidth_m=bw, weights=w)
            self._grid = dens.clip_to_corridor(grid, part, corridor_m)
        return self._grid


def _bank_labels(index: LineIndex, towns: dict[str, Town]) -> tuple[str, str, str]:
    """Which country lies left and right of the line, voted by towns within 5 km of it."""
    votes: dict[str, float] = {}
    named = [t for t in towns.values() if t.country in ("CN", "KP")]
    if named:
        x, y = to_measure(np.array([t.lon for t in named]), np.array([t.lat for t in named]))
        loc = index.locate(x, y)
        for t, off, dist in zip(named, loc.offset_m, loc.distance_m, strict=True):
            if dist <= 5000 and off != 0:
                votes[t.country] = votes.get(t.country, 0.0) + (1.0 if off > 0 else -1.0)
    cn, kp = votes.get("CN", 0.0), votes.get("KP", 0.0)
    if cn > 0 >= kp or (cn >= 0 > kp):
        return "CN", "KP", "towns within 5 km of the line: Chinese towns on its left"
    if cn < 0 <= kp or (cn <= 0 < kp):
        return "KP", "CN", "towns within 5 km of the line: Chinese towns on its right"
    return "CN", "KP", "assumed (the stretch runs upstream from the west end: China on the left)"


def _report_ok(r: dict[str, Any], opts: DensityOptions) -> bool:
    if opts.verification and r.get("verification") not in opts.verification:
        return False
    if opts.min_reliability is not None:
        g = r.get("reliability")
        if g not in RELIABILITY or list(RELIABILITY).index(g) > list(RELIABILITY).index(
            opts.min_reliability
        ):
            return False
    if opts.min_credibility is not None:
        g = r.get("credibility")
        if g not in CREDIBILITY or list(CREDIBILITY).index(g) > list(CREDIBILITY).index(
            opts.min_credibility
        ):
            return False
    return True


def _filter_reason(props: dict[str, Any], opts: DensityOptions) -> str | None:
    if opts.min_precision is not None:
        prec = props.get("location_precision")
        order = list(PRECISIONS)
        if prec not in PRECISIONS or order.index(prec) > order.index(opts.min_precision):
            return f"location_precision={prec} is coarser than --min-precision {opts.min_precision}"
    if opts.verification or opts.min_reliability is not None or opts.min_credibility is not None:
        reports = props.get("reports") or []
        if not any(isinstance(r, dict) and _report_ok(r, opts) for r in reports):
            wanted = []
            if opts.verification:
                wanted.append("verification in " + "/".join(opts.verification))
            if opts.min_reliability is not None:
                wanted.append(f"reliability {opts.min_reliability} or better")
            if opts.min_credibility is not None:
                wanted.append(f"credibility {opts.min_credibility} or better")
            return "no report with " + " and ".join(wanted)
    return None


def _filters_dict(opts: DensityOptions, bank_rule: str) -> dict[str, Any]:
    return {
        "retired": "never counted",
        "max_offset_km": opts.max_offset_km,
        "max_offset_rule": "crossings farther than this from the stretch line are excluded "
        "and listed",
        "min_precision": opts.min_precision,
        "verification": list(opts.verification) or None,
        "min_reliability": opts.min_reliability,
        "min_credibility": opts.min_credibility,
        "report_filters": "a crossing is kept if one of its reports meets every report filter",
        "weighting": "none: each crossing counts 1, spread over where it may be "
        "(a site partly inside the window counts for the part inside)",
        "banks": bank_rule,
    }


def _choose_bandwidth(
    c: np.ndarray, window: tuple[float, float], opts: DensityOptions
) -> tuple[float, str, str, str]:
    """The bandwidth, its rule, the rule the hotspot test repeats, and how it was chosen (words).

    *c* holds the point-located crossings' chainages: only they have a
    position to cross-validate on.
    """
    length = window[1] - window[0]
    if opts.bandwidth_km is not None:
        h = _check_bandwidth(opts.bandwidth_km, window)
        return h, "given", "given", f"given: {h:g} km"
    n = c.size
    fallback = min(opts.bin_km, length)
    rule = opts.bandwidth_rule
    basis = ""
    if rule == "auto":
        rule = "cv" if n >= MIN_CV_SITES else "silverman"
        basis = (
            f"auto (likelihood cross-validation from {MIN_CV_SITES} point-located crossings, "
            f"Silverman's rule below, the bin width below 2): {n} point-located, so "
        )
    if rule == "cv" and n >= 2:
        choice = dens.cv_bandwidth(c, window=window)
        note = (
            "; the best bandwidth is at the end of the searched range "
            f"{choice.searched_km[0]:.4g}–{choice.searched_km[1]:.4g} km"
            if choice.at_limit
            else ""
        )
        return (
            choice.bandwidth_km,
            "likelihood cross-validation",
            "cv",
            f"{basis}{choice.rule}, on the {n} point-located crossings{note}",
        )
    if rule == "silverman" and np.unique(c).size >= 2:
        h = dens.silverman_bandwidth(c)
        lo, hi = length * SILVERMAN_RANGE[0], length * SILVERMAN_RANGE[1]
        note = ""
        if not lo <= h <= hi:
            note = f"; it gave {h:.3g} km, held within window/2000–window ({lo:.3g}–{hi:.3g} km)"
            h = min(max(h, lo), hi)
        return (
            h,
            "silverman",
            "silverman",
            f"{basis}Silverman's rule 0.9 min(sd, IQR/1.34) n^-1/5 (standard quartiles) on "
            f"the {n} point-located crossings{note}",
        )
    return (
        fallback,
        "bin width",
        "given",
        f"{basis}the bin width {fallback:g} km: too few distinct point-located crossings "
        f"({np.unique(c).size}) for the {rule} rule",
    )


def site_interval(
    props: dict[str, Any], chainage_km: float, line_km: float
) -> tuple[float, float] | str:
    """Where along the river a crossing may be: ``(lo_km, hi_km)``, or why it cannot be placed.

    * ``chainage_from_km`` and ``chainage_to_km`` set: uniform over that stretch;
    * otherwise, from the point's chainage *c* and ``uncertainty_m`` *r*:
      ``exact`` (or no stated uncertainty) -> the point ``(c, c)``; any other
      precision -> uniform over ``[c - r, c + r]`` clipped to the line.

    "Point-located" means ``lo == hi``.

    Examples
    --------
    >>> site_interval({"location_precision": "exact", "uncertainty_m": 50}, 12.0, 100.0)
    (12.0, 12.0)
    >>> site_interval({"location_precision": "near_place", "uncertainty_m": 2000}, 1.0, 100.0)
    (0.0, 3.0)
    >>> site_interval({"chainage_from_km": 94.5, "chainage_to_km": 164.8}, 130.0, 238.7)
    (94.5, 164.8)
    >>> site_interval({"chainage_from_km": 50, "chainage_to_km": 40}, 45.0, 238.7)
    'chainage_from_km=50 is after chainage_to_km=40: give the stretch from its smaller chainage'
    """
    lo, hi = props.get("chainage_from_km"), props.get("chainage_to_km")
    if lo is not None or hi is not None:
        if lo is None or hi is None:
            return f"chainage_from_km={lo} and chainage_to_km={hi}: give both ends of the stretch"
        try:
            lo, hi = float(lo), float(hi)
        except (TypeError, ValueError):
            return f"chainage_from_km={lo!r}, chainage_to_km={hi!r}: give two numbers in km"
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return f"chainage_from_km={lo}, chainage_to_km={hi}: give finite chainages in km"
        if hi < lo:
            return (
                f"chainage_from_km={lo:g} is after chainage_to_km={hi:g}: give the stretch "
                "from its smaller chainage"
            )
        if lo < 0 or hi > line_km + 1e-9:
            return (
                f"chainage {lo:g}–{hi:g} km is off the stretch line: the valid range is "
                f"[0, {line_km:g}] km"
            )
        return lo, min(hi, line_km)
    if not math.isfinite(chainage_km):
        return "no point geometry"
    r = props.get("uncertainty_m")
    if props.get("location_precision") == "exact" or not isinstance(r, int | float) or r <= 0:
        return chainage_km, chainage_km
    r_km = float(r) / 1000.0
    return max(chainage_km - r_km, 0.0), min(chainage_km + r_km, line_km)


def analyse(
    features: list[dict[str, Any]],
    *,
    stretch: Stretch,
    window: Window,
    window_info: dict[str, Any] | None = None,
    towns: dict[str, Town] | None = None,
    options: DensityOptions | None = None,
) -> DensityResult:
    """Compute the density result for crossing features on a stretch and window.

    Parameters
    ----------
    features : list of dict
        Crossing features (GeoJSON Point features in WGS 84), retired ones included or not.
    stretch : Stretch
        The stretch line.
    window : Window
        The window (already checked against the line).
    window_info : dict, optional
        The window described (``straight_km``, ``max_extent_km``, ...); computed when omitted.
    towns : dict, optional
        Towns by name, to tell which bank is which country.
    options : DensityOptions, optional

    Returns
    -------
    DensityResult

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> from geotrack.reference import Stretch, Window
    >>> s = Stretch.from_wgs84(LineString([(127.0, 41.5), (127.2, 41.5)]))
    >>> f = {"type": "Feature", "id": "YLU-0001", "properties": {"id": "YLU-0001"},
    ...      "geometry": {"type": "Point", "coordinates": [127.1, 41.501]}}
    >>> r = analyse([f], stretch=s, window=Window("w", 0, 16), options=DensityOptions(bin_km=4))
    >>> r.summary["n_crossings"], [b["count"] for b in r.summary["bins"]]
    (1, [0, 0, 1, 0])
    """
    opts = options or DensityOptions()
    opts.check()
    index = stretch.index
    line_km = index.length_m / 1000.0
    win = dens.check_window(window.from_km, window.to_km, line_km=line_km)
    info = dict(window_info) if window_info is not None else stretch.describe(window)
    left, right, bank_rule = _bank_labels(index, towns or {})

    n_retired = 0
    active: list[dict[str, Any]] = []
    props_list: list[dict[str, Any]] = []
    ids: list[str] = []
    lonlat: list[tuple[float, float]] = []
    for f in features:
        props = f.get("properties") or {}
        if props.get("retired"):
            n_retired += 1
            continue
        active.append(f)
        props_list.append(props)
        ids.append(str(f.get("id") or props.get("id")))
        g = f.get("geometry") or {}
        if g.get("type") == "Point" and len(g.get("coordinates") or ()) >= 2:
            lonlat.append((g["coordinates"][0], g["coordinates"][1]))
        else:
            lonlat.append((math.nan, math.nan))
    if active:
        ll = np.asarray(lonlat, dtype=np.float64)
        x, y = to_measure(ll[:, 0], ll[:, 1])
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    else:
        x = y = np.zeros(0)
    loc: Located = index.locate(x, y)
    chain_km = loc.chainage_m / 1000.0
    banks = np.where(loc.offset_m > 0, left, np.where(loc.offset_m < 0, right, "on_line"))
    max_off_m = opts.max_offset_km * 1000.0

    # where along the river each crossing may be: (lo, hi) km, or why it cannot be placed
    spans = [
        site_interval(props, ck, line_km)
        for props, ck in zip(props_list, chain_km.tolist(), strict=True)
    ]
    lo = np.array([sp[0] if isinstance(sp, tuple) else np.nan for sp in spans])
    hi = np.array([sp[1] if isinstance(sp, tuple) else np.nan for sp in spans])
    # why each crossing is not counted (None = counted), first reason that applies
    no_geom = ~np.isfinite(loc.distance_m)
    off_river = ~no_geom & (loc.distance_m > max_off_m)
    with np.errstate(invalid="ignore"):
        in_window = np.where(
            lo == hi,
            (lo >= win[0]) & (lo <= win[1]),
            (np.minimum(hi, win[1]) > np.maximum(lo, win[0])),
        )
    filtering = bool(
        opts.min_precision or opts.verification or opts.min_reliability or opts.min_credibility
    )
    outside_msg = "outside the window"
    reasons: list[str | None] = [
        None if ok else outside_msg for ok in in_window.tolist()
    ]  # the common case; the rarer reasons below take precedence
    if filtering:
        for i, props in enumerate(props_list):
            r = _filter_reason(props, opts)
            if r is not None:
                reasons[i] = r
    for i in np.nonzero(off_river)[0].tolist():
        reasons[i] = (
            f"off the river: {loc.distance_m[i] / 1000:.3f} km from the stretch line "
            f"(max {opts.max_offset_km:g} km)"
        )
    for i, sp in enumerate(spans):
        if isinstance(sp, str):
            reasons[i] = sp
    for i in np.nonzero(no_geom)[0].tolist():
        reasons[i] = "no point geometry"
    kept = np.array([r is None for r in reasons], dtype=bool)
    outside = np.array([r is outside_msg for r in reasons], dtype=bool)
    excluded = ~kept & ~outside
    intervals = np.column_stack([lo[kept], hi[kept]]) if kept.any() else np.zeros((0, 2))
    is_point = intervals[:, 0] == intervals[:, 1]
    c_point = intervals[is_point, 0]
    sites = clip_sites(intervals, None, win)
    n = int(kept.sum())
    n_point = int(is_point.sum())
    n_spread = n - n_point
    total_w = float(sites.w.sum())
    length = win[1] - win[0]
    straight = float(info.get("straight_km") or 0.0)
    log.info("%d crossings counted in window %s (%d excluded)", n, window.name, int(excluded.sum()))

    bins = dens.bin_counts(intervals, window=win, bin_km=opts.bin_km)
    h, rule, test_rule, basis = _choose_bandwidth(c_point, win, opts)
    k = dens.kde(intervals, window=win, bandwidth_km=h, step_km=opts.step_km, bandwidth_rule=rule)
    tested = intervals if opts.include_spread else c_point
    hs = dens.hotspots(
        tested,
        window=win,
        bandwidth_km=h,
        bandwidth_rule=test_rule,
        step_km=opts.step_km,
        simulations=opts.simulations,
        seed=opts.seed,
        alpha=opts.alpha,
        density=k if opts.include_spread or n_spread == 0 else None,
    )
    cl = dens.clustering(
        tested, window=win, simulations=opts.simulations, seed=opts.seed, alpha=opts.alpha
    )
    gp = dens.gaps(intervals, window=win, top=opts.gaps_top)

    synthetic = sum(
        1 for p, keep in zip(props_list, kept, strict=True) if keep and p.get("synthetic")
    )
    finite = np.isfinite(loc.distance_m)
    points = [
        {
            "id": pid,
            "chainage_km": ck if ok else None,
            "offset_m": om if ok else None,
            "distance_m": dm if ok else None,
            "bank": bk if ok else None,
            "located": None if not math.isfinite(a0) else "point" if a0 == b0 else "spread",
            "from_km": a0 if math.isfinite(a0) else None,
            "to_km": b0 if math.isfinite(b0) else None,
            "in_window": iw,
            "excluded": not kp,
            "reason": rs,
        }
        for pid, ck, om, dm, bk, ok, a0, b0, iw, kp, rs in zip(
            ids,
            np.round(chain_km, 6).tolist(),
            np.round(loc.offset_m, 3).tolist(),
            np.round(loc.distance_m, 3).tolist(),
            banks.tolist(),
            finite.tolist(),
            np.round(lo, 6).tolist(),
            np.round(hi, 6).tolist(),
            in_window.tolist(),
            kept.tolist(),
            reasons,
            strict=True,
        )
    ]
    kde_dict = k.as_dict()
    kde_dict["bandwidth_basis"] = basis
    widths = intervals[~is_point, 1] - intervals[~is_point, 0]
    location = {
        "n_point": n_point,
        "n_spread": n_spread,
        "spread_km_median": float(np.median(widths)) if widths.size else None,
        "spread_km_max": float(widths.max()) if widths.size else None,
        "spread_km_covered": _union_length(intervals[~is_point]),
        "expected_in_window": total_w,
        "rule": "a crossing with chainage_from_km/chainage_to_km is uniform over that stretch; "
        "otherwise an exact one is a point and any other is uniform over its chainage ± "
        "uncertainty_m along the river; a crossing partly inside the window counts for the "
        "part inside",
        "tests": "hotspot and clustering tests use "
        + (
            "every crossing, spread ones by simulation with the same spreads"
            if opts.include_spread
            else f"the {n_point} point-located crossings only (pass --include-spread to use "
            f"the {n_spread} spread ones, by simulation with the same spreads)"
        ),
    }
    summary: dict[str, Any] = {
        "crs": MEASURE_CRS,
        "units": {
            "chainage": "km along the stretch line from its first vertex (west, downstream end)",
            "offset": "m, signed: positive on the left of the line's direction "
            f"({left} side), negative on the right ({right} side)",
            "density": "crossings per km of river (per_km); per straight-line km where stated",
        },
        "line": {"length_km": round(line_km, 3), "n_vertices": index.n_vertices},
        "window": {
            "name": window.name,
            "from_km": win[0],
            "to_km": win[1],
            "length_km": round(length, 6),
            "straight_km": info.get("straight_km"),
            "max_extent_km": info.get("max_extent_km"),
            "description": info.get("description", window.description),
            **({"source": info["source"]} if "source" in info else {}),
        },
        "filters": _filters_dict(opts, bank_rule),
        "banks": {"left": left, "right": right},
        "n_crossings": n,
        "location": location,
        "expected_in_window": total_w,
        "n_synthetic": synthetic,
        "n_excluded": int(excluded.sum()),
        "excluded": [
            {"id": ids[i], "reason": reasons[i]} for i in np.nonzero(excluded)[0].tolist()
        ],
        "n_outside_window": int(outside.sum()),
        "n_retired_ignored": n_retired,
        "mean_per_km": total_w / length,
        "mean_per_straight_km": (total_w / straight) if straight > 0 else None,
        "message": "no crossings in the window" if n == 0 else None,
        "bin_km": float(opts.bin_km),
        "bins_rule": "bins from the window's start; [from, to) except the last, closed; "
        "the last bin may be shorter and is divided by its true length; each holds the "
        "expected number of crossings (a spread one counts for its share of the bin)",
        "bins": bins.as_dict(),
        "kde": kde_dict,
        "hotspots": hs.as_dict(),
        "clustering": cl.as_dict(),
        "tests_agree": _agreement(hs, cl),
        "gaps": gp.as_dict(),
        "points": points,
        "options": {k2: (list(v) if isinstance(v, tuple) else v) for k2, v in asdict(opts).items()},
        "seed": opts.seed,
    }
    return DensityResult(
        summary=summary,
        window=window,
        line=index,
        bins=bins,
        kde=k,
        x_m=x[kept][is_point],
        y_m=y[kept][is_point],
        spread_km=intervals[~is_point],
        max_offset_km=opts.max_offset_km,
        raster_cell_m=opts.raster_cell_m,
        raster_bandwidth_m=opts.raster_bandwidth_m,
        raster_corridor_km=opts.raster_corridor_km,
    )


def _union_length(iv: np.ndarray) -> float:
    """Length, km, of the union of intervals (rows ``[lo, hi]``)."""
    if iv.size == 0:
        return 0.0
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    reach = np.concatenate([[-np.inf], np.maximum.accumulate(iv[:, 1])[:-1]])
    return float(np.clip(iv[:, 1] - np.maximum(iv[:, 0], reach), 0, None).sum())


def _agreement(hs: dens.Hotspots, cl: dens.Clustering) -> dict[str, Any]:
    """Whether the hotspot and clustering tests agree, in words where they do not."""
    h, c = hs.significant, cl.clustered
    if h is None or c is None:
        return {"agree": None, "note": "not both tested"}
    if h == c:
        return {"agree": True, "note": None}
    if c:
        note = (
            "the tests disagree: Ripley's L finds clustering but no stretch is a significant "
            f"hotspot at bandwidth {hs.bandwidth_km:.3g} km: the clusters may be at a scale "
            "the kernel smooths over, or many small clusters none dense enough alone"
        )
    else:
        note = (
            "the tests disagree: a stretch is a significant hotspot but Ripley's L does not "
            "find clustering over the window: one dense stretch in otherwise even placement"
        )
    return {"agree": False, "note": note}


def density_report(ws: Workspace, options: DensityOptions | None = None) -> DensityResult:
    """Density of the workspace's crossings over a window of the river.

    Parameters
    ----------
    ws : Workspace
        The workspace (its stretch line, towns, named windows and crossings).
    options : DensityOptions, optional
        What to compute; defaults as ``geotrack density``.

    Returns
    -------
    DensityResult

    Raises
    ------
    WindowError
        The window spec is unknown, reversed, empty or off the line.
    ValidationError
        An option is invalid (every problem listed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> r = density_report(ws, DensityOptions(simulations=9, seed=1))
    >>> r.summary["message"], r.summary["window"]["to_km"]
    ('no crossings in the window', 238.7)
    """
    opts = options or DensityOptions()
    opts.check()
    window = ws.window(opts.window)
    info = ws.describe_window(window)
    feats = ws.read_crossings(include_retired=True)
    return analyse(
        feats, stretch=ws.stretch, window=window, window_info=info, towns=ws.towns, options=opts
    )
