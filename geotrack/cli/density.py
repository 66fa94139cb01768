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
from geotrack.errors import UsageError, ValidationError

log = logging.getLogger(__name__)


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
    type=click.Choice(["silverman", "cv"]),
    default="silverman",
    show_default=True,
    help="Silverman's rule of thumb, or likelihood cross-validation.",
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
    "--weight-by-precision",
    is_flag=True,
    help="Weight crossings by location precision (exact 1, near_place 0.75, reach 0.5, county 0.25).",
)
@click.option(
    "--simulations",
    type=int,
    default=999,
    show_default=True,
    help="Monte Carlo simulations under uniform placement.",
)
@click.option("--seed", type=int, default=None, help="Random seed (drawn and reported if omitted).")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--raster-cell-m", type=float, default=None, help="Density raster cell size, m.")
@click.option(
    "--raster-bandwidth-m",
    type=float,
    default=None,
    help="Density raster kernel bandwidth, m (default: the 1-D bandwidth).",
)
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
    weight_by_precision: bool,
    simulations: int,
    seed: int | None,
    alpha: float,
    raster_cell_m: float | None,
    raster_bandwidth_m: float | None,
    no_raster: bool,
    as_json: bool,
    out_dir: str | None,
    overwrite: bool,
    workspace: str | None,
) -> None:
    """Density of reported crossings along a window of the river.

    Counts, per-bin and kernel densities (per km of river and per
    straight-line km), hotspots and a clustering test against uniform
    placement (Monte Carlo), and the longest gaps.  Crossings farther than
    --max-offset-km from the river are excluded and listed; retired ones are
    never counted.

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
        weight_by_precision=weight_by_precision,
        simulations=simulations,
        seed=seed,
        alpha=alpha,
        raster_cell_m=raster_cell_m,
        raster_bandwidth_m=raster_bandwidth_m,
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
    if as_json:
        emit_json(summary)
    else:
        _print_table(summary)


def _echo(text: str) -> None:
    click.echo(terminal_safe(text))


#: Below this many counted sites the text output lists only the bins that hold one.
_FEW = 5


def _print_table(s: dict[str, Any]) -> None:
    w = s["window"]
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
    if s["filters"]["weights"]:
        _echo(f"Weighted by location precision: {s['filters']['weights']}")
    if s["message"]:
        _echo(s["message"])
    _echo(
        f"Mean density: {_f(s['mean_per_km'], 4)} per km of river; "
        f"{_f(s['mean_per_straight_km'], 4)} per straight-line km"
    )
    few = s["n_crossings"] < _FEW
    if few:
        _echo(
            f"Few located sites ({s['n_crossings']}): `geotrack claims check` sets the claims' "
            "counts and stated lengths beside the river; `geotrack demo demo` shows a full "
            "map of synthetic crossings."
        )
    bins = [b for b in s["bins"] if b["count"]] if few else s["bins"]
    _echo("")
    _echo(
        f"Bins of {s['bin_km']:g} km (last bin divided by its true length)"
        + (f": the {len(bins)} of {len(s['bins'])} with a site (all in --json):" if few else ":")
    )
    echo_table(
        [[_f(b["from_km"], 2), _f(b["to_km"], 2), b["count"], _f(b["per_km"], 4)] for b in bins],
        ["from_km", "to_km", "count", "per_km"],
    )
    k = s["kde"]
    peak = max(k["values"], key=lambda v: v["per_km"]) if k["values"] else None
    _echo("")
    _echo(
        f"Kernel density: {k['kernel']}, bandwidth {_f(k['bandwidth_km'])} km "
        f"({k['bandwidth_rule']}), step {_f(k['step_km'], 4)} km, {k['edge_correction']}"
        + (f"; peak {_f(peak['per_km'], 4)} per km at {_f(peak['km'], 2)} km" if peak else "")
    )
    if k.get("bandwidth_note"):
        _echo(f"  note: {k['bandwidth_note']}")
    h = s["hotspots"]
    t = h["test"]
    _echo("")
    _echo(
        f"Hotspots: density above the uniform rate {_f(h['uniform_per_km'], 4)} per km; "
        f"significant above {_f(t['envelope_per_km'], 4)} per km "
        f"(max of {t['simulations']} uniform simulations, alpha {t['alpha']:g}, seed {t['seed']})"
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
                    x["n_crossings"],
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
        _echo(f"  ({other} more stretch(es) above the uniform rate, not significant: see --json)")
    c = s["clustering"]
    _echo("")
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
    _echo("")
    _echo("Longest gaps without a crossing:")
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
    if s["excluded"]:
        _echo("")
        _echo("Excluded:")
        echo_table([[e["id"], e["reason"]] for e in s["excluded"]], ["id", "reason"])
