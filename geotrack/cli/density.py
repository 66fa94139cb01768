"""``geotrack density``: how many crossings along a window of the river, where, and how clustered."""

from __future__ import annotations

import logging
from typing import Any

import click

from geotrack.cli._common import (
    echo_table,
    emit_json,
    open_workspace,
    terminal_safe,
    workspace_option,
)
from geotrack.cli._options import raster_corridor_option
from geotrack.errors import UsageError, ValidationError

log = logging.getLogger(__name__)

#: The seed of :data:`geotrack.analysis.DEFAULT_SEED` (repeated here so that ``--help`` needs
#: no numerical import; tests/test_cli_density.py checks that the two agree).
DEFAULT_SEED = 20251209
#: With fewer crossings than this in the window, the table output is a short summary.
FEW_SITES = 5


def _split_multi(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return tuple(out)


def _f(v: Any, nd: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


@click.command("density")
@click.option(
    "--window",
    default="reported",
    show_default=True,
    help="A named window, FROM_KM:TO_KM, all, town:NAME..NAME or lonlat:LON,LAT..LON,LAT.",
)
@click.option(
    "--bin-km", type=float, default=5.0, show_default=True, help="Bin length, km of river."
)
@click.option(
    "--bandwidth-km",
    type=float,
    default=None,
    help="Kernel bandwidth (Gaussian standard deviation), km. Default: by --bandwidth-rule.",
)
@click.option(
    "--bandwidth-rule",
    type=click.Choice(["auto", "cv", "silverman"]),
    default="auto",
    show_default=True,
    help="auto: likelihood cross-validation with 10 or more point-located crossings, "
    "Silverman's rule with 2 to 9, the bin width with fewer than 2; or that rule.",
)
@click.option("--step-km", type=float, default=None, help="Kernel density grid step, km.")
@click.option(
    "--max-offset-km",
    type=float,
    default=2.0,
    show_default=True,
    help="Exclude (and list) crossings farther than this from the river line.",
)
@click.option(
    "--min-precision",
    type=click.Choice(["exact", "near_place", "reach", "county"]),
    default=None,
    help="Keep crossings located at least this precisely.",
)
@click.option(
    "--verification",
    multiple=True,
    help="Keep crossings with a report of this verification status (repeat or comma-separate).",
)
@click.option(
    "--min-reliability",
    type=click.Choice(list("ABCDEF")),
    default=None,
    help="Keep crossings with a report whose source reliability is this or better (A best).",
)
@click.option(
    "--min-credibility",
    type=click.IntRange(1, 6),
    default=None,
    help="Keep crossings with a report whose credibility is this or better (1 best).",
)
@click.option(
    "--include-spread",
    is_flag=True,
    help="Let the hotspot and clustering tests use spread crossings too (by simulation with "
    "the same spreads); by default they use point-located crossings only.",
)
@click.option(
    "--simulations",
    type=int,
    default=999,
    show_default=True,
    help="Monte Carlo simulations under uniform placement.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed of the Monte Carlo tests (the same data gives the same p-values).",
)
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--raster-cell-m", type=float, default=None, help="Density raster cell size, m.")
@click.option(
    "--raster-bandwidth-m",
    type=float,
    default=None,
    help="Density raster kernel bandwidth, m (default: half the corridor, at most the 1-D "
    "bandwidth).",
)
@raster_corridor_option
@click.option("--no-raster", is_flag=True, help="With -o, skip the GeoTIFF.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=str),
    default=None,
    help="Also write layers (GeoJSON + QML), the summary JSON and a GeoTIFF into this folder.",
)
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@workspace_option
def density_cmd(
    window: str,
    bin_km: float,
    bandwidth_km: float | None,
    bandwidth_rule: str,
    step_km: float | None,
    max_offset_km: float,
    min_precision: str | None,
    verification: tuple[str, ...],
    min_reliability: str | None,
    min_credibility: int | None,
    include_spread: bool,
    simulations: int,
    seed: int,
    alpha: float,
    raster_cell_m: float | None,
    raster_bandwidth_m: float | None,
    raster_corridor_km: float,
    no_raster: bool,
    as_json: bool,
    out_dir: str | None,
    overwrite: bool,
    workspace: str | None,
) -> None:
    """Density of reported crossings along a window of the river.

    Counts, per-bin and kernel densities (per km of river and per
    straight-line km), hotspots and a clustering test against uniform
    placement (Monte Carlo), and the longest gaps.  Each crossing counts
    where it may be: a point, or spread uniformly over its stretch of river
    (a reach, a county, a radius around a place); bins hold expected counts.
    The tests use point-located crossings only unless --include-spread.
    Crossings farther than --max-offset-km from the river are excluded and
    listed; retired ones are never counted.

    \b
    Examples:
        geotrack density
        geotrack density --window 0:98.5 --bin-km 2 --json
        geotrack density --window town:Hyesan..Kimjongsuk --seed 1 -o out/density
    """
    from geotrack.analysis import DensityOptions, density_report

    opts = DensityOptions(
        window=window,
        bin_km=bin_km,
        bandwidth_km=bandwidth_km,
        bandwidth_rule=bandwidth_rule,
        step_km=step_km,
        max_offset_km=max_offset_km,
        min_precision=min_precision,
        verification=_split_multi(verification),
        min_reliability=min_reliability,
        min_credibility=min_credibility,
        include_spread=include_spread,
        simulations=simulations,
        seed=seed,
        alpha=alpha,
        raster_cell_m=raster_cell_m,
        raster_bandwidth_m=raster_bandwidth_m,
        raster_corridor_km=raster_corridor_km,
    )
    try:  # every option checked before the layer is read
        opts.check()
    except ValidationError as exc:
        raise UsageError(str(exc)) from exc
    ws = open_workspace(workspace)
    if out_dir is not None and not overwrite:
        # refuse before computing anything
        from pathlib import Path

        from geotrack.export.density_layers import OUTPUT_FILES

        present = [n for n in OUTPUT_FILES if (Path(out_dir) / n).exists()]
        if present:
            raise UsageError(
                f"output folder={out_dir!r} already holds {', '.join(present)}: pass "
                "--overwrite to replace them, or choose another folder (nothing was written)"
            )
    log.info("computing density over window %s", window)
    result = density_report(ws, opts)
    summary = result.as_dict()
    if out_dir is not None:
        from geotrack.export.density_layers import write_density_outputs

        paths = write_density_outputs(result, out_dir, overwrite=overwrite, raster=not no_raster)
        click.echo(f"wrote {len(paths)} files to {terminal_safe(out_dir)}", err=True)
        if not no_raster:
            import numpy as np

            from geotrack.export.density_layers import raster_description

            grid = result.grid()
            kept = int(np.isfinite(grid.values).sum())
            click.echo(
                terminal_safe(
                    f"density.tif: {raster_description(grid)}; {kept} cells kept, "
                    f"{grid.values.size - kept} nodata"
                ),
                err=True,
            )
    if as_json:
        emit_json(summary)
    else:
        _print_table(summary)


def _echo(text: str) -> None:
    click.echo(terminal_safe(text))


def _print_table(s: dict[str, Any]) -> None:
    w = s["window"]
    loc = s["location"]
    _echo(
        f"Window {w['name']}: chainage {_f(w['from_km'])}–{_f(w['to_km'])} km, "
        f"{_f(w['length_km'])} km of river, straight-line {_f(w['straight_km'])} km "
        f"(max extent {_f(w['max_extent_km'])} km); {s['crs']}"
    )
    if w.get("description"):
        _echo(f"  {w['description']}")
    _echo(
        f"Crossings counted: {s['n_crossings']} (excluded {s['n_excluded']}, outside the window "
        f"{s['n_outside_window']}, retired and ignored {s['n_retired_ignored']}; "
        f"synthetic among counted {s['n_synthetic']})"
    )
    spread = (
        f"{loc['n_spread']} spread over their stretch of river (median "
        f"{_f(loc['spread_km_median'], 1)} km, widest {_f(loc['spread_km_max'], 1)} km, "
        f"{_f(loc['spread_km_covered'], 1)} km covered)"
        if loc["n_spread"]
        else "none spread"
    )
    _echo(
        f"Located: {loc['n_point']} as points, {spread}; expected in the window "
        f"{_f(loc['expected_in_window'], 2)}"
    )
    if s["message"]:
        _echo(s["message"])
    _echo(
        f"Mean density: {_f(s['mean_per_km'], 4)} per km of river; "
        f"{_f(s['mean_per_straight_km'], 4)} per straight-line km"
    )
    if s["n_crossings"] < FEW_SITES:
        _print_few(s)
        return
    _echo("")
    bins = [b for b in s["bins"] if b["expected"] > 0]
    _echo(
        f"Bins of {s['bin_km']:g} km (expected crossings; last bin divided by its true length)"
        + (
            f": {len(s['bins']) - len(bins)} of {len(s['bins'])} empty, not shown"
            if len(bins) < len(s["bins"])
            else ":"
        )
    )
    echo_table(
        [
            [
                _f(b["from_km"], 2),
                _f(b["to_km"], 2),
                b["count"],
                _f(b["spread"], 2),
                _f(b["expected"], 2),
                _f(b["per_km"], 4),
            ]
            for b in bins
        ],
        ["from_km", "to_km", "points", "spread", "expected", "per_km"],
    )
    _print_kde(s["kde"])
    h = s["hotspots"]
    t = h["test"]
    _echo("")
    _echo(f"Tests: {loc['tests']}; seed {s['seed']}")
    if not h["tested"]:
        _echo(f"Hotspots: not tested ({h['reason']})")
    else:
        _echo(
            f"Hotspots: density above the uniform rate {_f(h['uniform_per_km'], 4)} per km; "
            f"significant above {_f(t['envelope_per_km'], 4)} per km "
            f"(max of {t['simulations']} uniform simulations, alpha {t['alpha']:g}; bandwidth "
            f"{t['bandwidth']})"
        )
        sig = [x for x in h["stretches"] if x["significant"]]
        if sig:
            echo_table(
                [
                    [
                        _f(x["from_km"], 2),
                        _f(x["to_km"], 2),
                        _f(x["peak_km"], 2),
                        _f(x["peak_per_km"], 4),
                        _f(x["expected_crossings"], 1),
                        _f(x["p_value"], 4),
                    ]
                    for x in sig
                ],
                ["from_km", "to_km", "peak_km", "peak_per_km", "crossings", "p_value"],
            )
        else:
            _echo("  no significant hotspot")
        other = len(h["stretches"]) - len(sig)
        if other:
            _echo(
                f"  ({other} more stretch(es) above the uniform rate, not significant: see --json)"
            )
    c = s["clustering"]
    if c["p_value"] is None:
        _echo(f"Clustering: not tested ({c['reason']})")
    else:
        nn = c["nearest_neighbour"]
        _echo(
            f"Clustering (Ripley's L global test, {c['simulations']} simulations): "
            f"p = {_f(c['p_value'], 4)} -> "
            + ("clustered" if c["clustered"] else "not distinguishable from uniform")
        )
        if c.get("subsample"):
            _echo(f"  tested on {c['subsample']}")
        _echo(
            f"  mean nearest-neighbour distance {_f(nn['observed_km'])} km vs "
            f"{_f(nn['expected_km'])} km under uniform placement (p = {_f(nn['p_value_clustered'], 4)})"
        )
    if s["tests_agree"]["note"] and s["tests_agree"]["agree"] is False:
        _echo(f"Note: {s['tests_agree']['note']}")
    _echo("")
    _echo("Longest gaps where no crossing is, or may be:")
    echo_table(
        [
            [
                _f(g["from_km"], 2),
                _f(g["to_km"], 2),
                _f(g["length_km"], 2),
                "yes" if g["at_window_end"] else "",
            ]
            for g in s["gaps"]
        ],
        ["from_km", "to_km", "length_km", "at_window_end"],
    )
    _print_excluded(s)


def _print_kde(k: dict[str, Any]) -> None:
    peak = max(k["values"], key=lambda v: v["per_km"]) if k["values"] else None
    _echo("")
    _echo(
        f"Kernel density: {k['kernel']}, bandwidth {_f(k['bandwidth_km'])} km, step "
        f"{_f(k['step_km'], 4)} km, {k['edge_correction']}"
        + (f"; peak {_f(peak['per_km'], 4)} per km at {_f(peak['km'], 2)} km" if peak else "")
    )
    _echo(f"  bandwidth: {k['bandwidth_basis']}")


def _print_few(s: dict[str, Any]) -> None:
    """The short output of a window with few crossings: where each may be, and where to look next."""
    _echo(
        f"Few located sites ({s['n_crossings']}): `geotrack claims check` sets the claims' "
        "counts and stated lengths beside the river; `geotrack demo demo` shows a full map of "
        "synthetic crossings."
    )
    bins = [b for b in s["bins"] if b["expected"] > 0]
    _echo("")
    _echo(
        f"Bins of {s['bin_km']:g} km (expected crossings): the {len(bins)} of {len(s['bins'])} "
        "with a site (all in --json):"
    )
    echo_table(
        [[_f(b["from_km"], 2), _f(b["to_km"], 2), b["count"], _f(b["spread"], 2)] for b in bins],
        ["from_km", "to_km", "points", "spread"],
    )
    pts = [p for p in s["points"] if not p["excluded"]]
    if pts:
        _echo("")
        echo_table(
            [
                [
                    p["id"],
                    _f(p["chainage_km"], 2),
                    "a point"
                    if p["located"] == "point"
                    else f"somewhere on km {_f(p['from_km'], 1)}–{_f(p['to_km'], 1)}",
                    p["bank"] or "",
                ]
                for p in pts
            ],
            ["id", "chainage_km", "where", "bank"],
        )
    _print_kde(s["kde"])
    _echo(
        f"Hotspot and clustering tests: not shown for fewer than {FEW_SITES} crossings "
        "(--json has them, and the reason where they were not tested)."
    )
    _print_excluded(s)


def _print_excluded(s: dict[str, Any]) -> None:
    if s["excluded"]:
        _echo("")
        _echo("Excluded:")
        echo_table([[e["id"], e["reason"]] for e in s["excluded"]], ["id", "reason"])
