"""From crossings (or a workspace) to the density result: every statistic over a window."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from geotrack import density as dens
from geotrack.analysis._bandwidth import _choose_bandwidth
from geotrack.analysis._options import (
    DensityOptions,
)
from geotrack.analysis._result import DensityResult
from geotrack.analysis._sites import _bank_labels, _filter_reason, _filters_dict, site_interval
from geotrack.crs import MEASURE_CRS, to_measure
from geotrack.density.spread import sites as clip_sites
from geotrack.linear import Located

if TYPE_CHECKING:
    from geotrack.reference import Stretch, Town, Window
    from geotrack.workspace import Workspace

log = logging.getLogger(__name__)


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
