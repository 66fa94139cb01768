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
* filters on location precision, verification status and Admiralty grades,
  and weighting by location precision, are stated in ``filters``.
"""

from __future__ import annotations

__all__ = [
    "MAX_SIMULATIONS",
    "MIN_BIN_KM",
    "PRECISION_WEIGHTS",
    "DensityOptions",
    "DensityResult",
    "analyse",
    "density_report",
]

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from geotrack import density as dens
from geotrack.crs import MEASURE_CRS, to_measure
from geotrack.density.kernel import _check_bandwidth
from geotrack.errors import Problem, ValidationError
from geotrack.linear import LineIndex, Located
from geotrack.schema import CREDIBILITY, PRECISIONS, RELIABILITY, VERIFICATIONS

if TYPE_CHECKING:
    from geotrack.reference import Stretch, Town, Window
    from geotrack.workspace import Workspace

log = logging.getLogger(__name__)

#: Weight of a crossing by location precision, with ``weight_by_precision``.
PRECISION_WEIGHTS: dict[str, float] = {
    "exact": 1.0,
    "near_place": 0.75,
    "reach": 0.5,
    "county": 0.25,
}
BANDWIDTH_RULES = ("silverman", "cv")
#: Shortest bin: at most about 30,000 bins over the whole 306 km line.
MIN_BIN_KM = 0.01
#: Most Monte Carlo simulations (99,999 take about a minute on the bundled stretch).
MAX_SIMULATIONS = 99_999
#: Smallest bandwidth a rule may give, as a fraction of the window length.
_MIN_BANDWIDTH_FRACTION = 1 / 2000
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
    bandwidth_rule : {"silverman", "cv"}
        Silverman's rule of thumb, or likelihood cross-validation.
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
    weight_by_precision : bool
        Weight crossings by :data:`PRECISION_WEIGHTS`.
    simulations : int
        Monte Carlo simulations for the hotspot and clustering tests.
    seed : int, optional
        Random seed (drawn and reported when omitted).
    alpha : float
        Significance level.
    gaps_top : int
        How many of the longest gaps to list.
    raster_cell_m, raster_bandwidth_m : float, optional
        Cell size and kernel bandwidth of the 2-D density raster, metres.

    Examples
    --------
    >>> DensityOptions(window="0:98.5", bin_km=2).bin_km
    2
    """

    window: str = "reported"
    bin_km: float = 5.0
    bandwidth_km: float | None = None
    bandwidth_rule: str = "silverman"
    step_km: float | None = None
    max_offset_km: float = 2.0
    min_precision: str | None = None
    verification: tuple[str, ...] = ()
    min_reliability: str | None = None
    min_credibility: int | None = None
    weight_by_precision: bool = False
    simulations: int = 999
    seed: int | None = None
    alpha: float = 0.05
    gaps_top: int = 5
    raster_cell_m: float | None = None
    raster_bandwidth_m: float | None = None

    def check(self) -> None:
        """Raise :class:`ValidationError` listing every invalid option.

        Examples
        --------
        >>> DensityOptions(bandwidth_rule="scott").check()
        Traceback (most recent call last):
        ...
        geotrack.errors.ValidationError: bandwidth_rule='scott': use one of silverman, cv
        """
        p: list[Problem] = []
        if self.bandwidth_rule not in BANDWIDTH_RULES:
            p.append(Problem("bandwidth_rule", self.bandwidth_rule, "use one of silverman, cv"))
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
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            p.append(Problem("seed", self.seed, "give a non-negative integer"))
        if not (isinstance(self.alpha, int | float) and 0 < self.alpha < 1):
            p.append(Problem("alpha", self.alpha, "give a level in (0, 1), e.g. 0.05"))
        if not isinstance(self.gaps_top, int) or self.gaps_top < 1:
            p.append(Problem("gaps_top", self.gaps_top, "give a positive integer"))
        for name in ("raster_cell_m", "raster_bandwidth_m"):
            v = getattr(self, name)
            if v is not None and not _positive(v):
                p.append(Problem(name, v, "give a positive number of metres"))
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
    x_m, y_m, weights : ndarray
        EPSG:32652 coordinates and weights of the crossings counted.
    """

    summary: dict[str, Any]
    window: Window
    line: LineIndex
    bins: dens.Bins
    kde: dens.Kde
    x_m: np.ndarray
    y_m: np.ndarray
    weights: np.ndarray
    max_offset_km: float
    raster_cell_m: float | None = None
    raster_bandwidth_m: float | None = None
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

        Bandwidth: ``raster_bandwidth_m`` or the 1-D bandwidth; cell: ``raster_cell_m``
        or 100 m, coarser when the bandwidth spans more than 25 cells.
        """
        if self._grid is None:
            bw = self.raster_bandwidth_m or self.kde.bandwidth_km * 1000.0
            cell = self.raster_cell_m
            if cell is None:
                cell = max(100.0, math.ceil(bw / _MAX_SIGMA_CELLS / 50.0) * 50.0)
            part = self.line.substring(self.window.from_km * 1000.0, self.window.to_km * 1000.0)
            pad = self.max_offset_km * 1000.0
            bounds = (
                float(part[:, 0].min() - pad),
                float(part[:, 1].min() - pad),
                float(part[:, 0].max() + pad),
                float(part[:, 1].max() + pad),
            )
            self._grid = dens.density_grid(
                self.x_m, self.y_m, bounds=bounds, cell_m=cell, bandwidth_m=bw, weights=self.weights
            )
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
        "weights": dict(PRECISION_WEIGHTS) if opts.weight_by_precision else None,
        "weighting": "by location precision"
        if opts.weight_by_precision
        else "none (each crossing counts 1)",
        "banks": bank_rule,
    }


def _choose_bandwidth(
    c: np.ndarray, w: np.ndarray, window: tuple[float, float], opts: DensityOptions
) -> tuple[float, str, str | None]:
    """The bandwidth, the rule that chose it, and a note (fallbacks, clamps)."""
    length = window[1] - window[0]
    if opts.bandwidth_km is not None:
        return _check_bandwidth(opts.bandwidth_km, window), "given", None
    distinct = np.unique(c[w > 0]).size
    fallback = min(opts.bin_km, length)
    if opts.bandwidth_rule == "cv":
        if c.size < 2:
            return fallback, "bin width", "too few crossings for cross-validation"
        choice = dens.cv_bandwidth(c, window=window, weights=w)
        note = (
            "the best bandwidth is at the end of the searched range "
            f"{choice.searched_km[0]:.4g}–{choice.searched_km[1]:.4g} km"
            if choice.at_limit
            else None
        )
        return choice.bandwidth_km, "likelihood cross-validation", note
    if distinct < 2:
        return fallback, "bin width", "too few distinct crossings for Silverman's rule"
    h = dens.silverman_bandwidth(c, weights=w)
    lo = length * _MIN_BANDWIDTH_FRACTION
    if h < lo:
        return (
            lo,
            "silverman",
            f"Silverman's rule gave {h:.3g} km; raised to window/2000 = {lo:.3g} km",
        )
    if h > length:
        return (
            length,
            "silverman",
            f"Silverman's rule gave {h:.3g} km; lowered to the window length",
        )
    return h, "silverman", None


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
    index = LineIndex(stretch.line_m, what="stretch line")
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

    # why each crossing is not counted (None = counted), first reason that applies
    no_geom = ~np.isfinite(loc.distance_m)
    off_river = ~no_geom & (loc.distance_m > max_off_m)
    in_window = (chain_km >= win[0]) & (chain_km <= win[1])
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
    for i in np.nonzero(no_geom)[0].tolist():
        reasons[i] = "no point geometry"
    if opts.weight_by_precision:
        weights = np.array(
            [PRECISION_WEIGHTS.get(p.get("location_precision"), 0.25) for p in props_list]
        )
    else:
        weights = np.ones(len(active))
    kept = np.array([r is None for r in reasons], dtype=bool)
    outside = np.array([r is outside_msg for r in reasons], dtype=bool)
    excluded = ~kept & ~outside
    c = chain_km[kept]
    w = weights[kept]
    n = int(kept.sum())
    total_w = float(w.sum())
    length = win[1] - win[0]
    straight = float(info.get("straight_km") or 0.0)
    log.info("%d crossings counted in window %s (%d excluded)", n, window.name, int(excluded.sum()))

    bins = dens.bin_counts(c, window=win, bin_km=opts.bin_km, weights=w)
    h, rule, bw_note = _choose_bandwidth(c, w, win, opts)
    k = dens.kde(
        c, window=win, bandwidth_km=h, step_km=opts.step_km, weights=w, bandwidth_rule=rule
    )
    hs = dens.hotspots(
        c,
        window=win,
        bandwidth_km=h,
        weights=w,
        simulations=opts.simulations,
        seed=opts.seed,
        alpha=opts.alpha,
        density=k,
    )
    seed = hs.seed if opts.seed is None else opts.seed
    cl = dens.clustering(c, window=win, simulations=opts.simulations, seed=seed, alpha=opts.alpha)
    gp = dens.gaps(c, window=win, top=opts.gaps_top)

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
            "in_window": iw,
            "excluded": not kp,
            "reason": rs,
            "weight": wt,
        }
        for pid, ck, om, dm, bk, ok, iw, kp, rs, wt in zip(
            ids,
            np.round(chain_km, 6).tolist(),
            np.round(loc.offset_m, 3).tolist(),
            np.round(loc.distance_m, 3).tolist(),
            banks.tolist(),
            finite.tolist(),
            in_window.tolist(),
            kept.tolist(),
            reasons,
            weights.tolist(),
            strict=True,
        )
    ]
    kde_dict = k.as_dict()
    kde_dict["bandwidth_note"] = bw_note
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
        "total_weight": total_w,
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
        "the last bin may be shorter and is divided by its true length",
        "bins": bins.as_dict(),
        "kde": kde_dict,
        "hotspots": hs.as_dict(),
        "clustering": cl.as_dict(),
        "gaps": gp.as_dict(),
        "points": points,
        "options": {k2: (list(v) if isinstance(v, tuple) else v) for k2, v in asdict(opts).items()},
        "seed": seed,
    }
    return DensityResult(
        summary=summary,
        window=window,
        line=index,
        bins=bins,
        kde=k,
        x_m=x[kept],
        y_m=y[kept],
        weights=w,
        max_offset_km=opts.max_offset_km,
        raster_cell_m=opts.raster_cell_m,
        raster_bandwidth_m=opts.raster_bandwidth_m,
    )


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
    # Reading builds one dict per crossing and the result one per point: no reference
    # cycles, so pausing the cyclic garbage collector meanwhile saves its repeated
    # scans of the growing heap (a third of the time for 100,000 crossings).
    feats = ws.read_crossings(include_retired=True)
    return analyse(
        feats, stretch=ws.stretch, window=window, window_info=info, towns=ws.towns, options=opts
    )
