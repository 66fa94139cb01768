"""``geotrack crossings``: add, import, list, show, edit, add-report, retire, history, undo."""

from __future__ import annotations

from typing import Any

import click

from geotrack.cli._common import (
    echo_table,
    emit_json,
    emit_json_lines,
    open_workspace,
    terminal_safe,
    workspace_option,
)
from geotrack.cli._options import apply_options, given, reason_option, text_options
from geotrack.errors import UsageError
from geotrack.records import (
    DEFAULT_MAX_BORDER_KM,
    add_crossing,
    add_report,
    edit_crossing,
    retire_crossing,
    undo,
)
from geotrack.schema import KINDS

_REPORT_OPTIONS = [
    ("--source", "source_name", "Source name (publisher, channel, analyst)."),
    (
        "--source-type",
        "source_type",
        "satellite_imagery, media, social_media, official, informant, other.",
    ),
    ("--url", "url", "URL of the report."),
    ("--archive-url", "archive_url", "Archived copy (e.g. web archive)."),
    ("--sha256", "sha256", "SHA-256 of the captured item."),
    ("--accessed", "accessed", "Date the source was accessed (YYYY-MM-DD)."),
    ("--reported", "reported", "Date the source published the report."),
    (
        "--event-start",
        "event_start",
        "Start of the observed activity (YYYY-MM-DD, YYYY-MM or YYYY).",
    ),
    ("--event-end", "event_end", "End of the observed activity."),
    ("--date-precision", "date_precision", "day, week, month or year."),
    ("--reliability", "reliability", "Admiralty source reliability A-F."),
    ("--credibility", "credibility", "Admiralty information credibility 1-6."),
    (
        "--verification",
        "verification",
        "unverified, in_review, verified, unverifiable, disputed, false.",
    ),
    ("--notes", "notes", "Free text (stored exactly as given)."),
]
_SITE_OPTIONS = [
    ("--name", "name", "A name for the site."),
    ("--as-printed", "place_as_printed", "The place as the report printed it (kept verbatim)."),
    (
        "--kind",
        "kind",
        "temporary_bridge, pontoon, ford, ferry_boat, ice_road, cable, earth_causeway, raft, "
        "wading, other.",
    ),
    ("--status", "status", "active, inactive, destroyed, unknown."),
    ("--location-precision", "location_precision", "exact, near_place, reach, county."),
    ("--precision-m", "uncertainty_m", "Location uncertainty radius in metres."),
]


#: Placing a site from what a report says (see geotrack.placement); value options.
_WHERE_OPTIONS = [
    ("--at", "at", "LON,LAT of the site (same as --lon/--lat): exact unless --precision-m."),
    ("--near", "near", "A place of the gazetteer the site is near (`geotrack places list`)."),
    ("--within-km", "within_km", "With --near: how near, km [default: 2]."),
    ("--km-from", "km_from", "A place the site is --km D along the river from."),
    ("--km", "km", "With --km-from: the distance along the river, km."),
    (
        "--plus-minus-km",
        "plus_minus_km",
        "With --km-from: its uncertainty, km [default: 20% of D].",
    ),
    ("--reach", "reach", "Somewhere between two ends, A..B: places or km (Hyesan..Changbai)."),
    ("--bank", "bank", "CN or KP: the bank the report puts the site on."),
]


def _where_options(f):
    f = click.option(
        "--county",
        "county",
        multiple=True,
        help="Only the county is known (repeat for adjacent counties).",
    )(f)
    f = click.option(
        "--downstream/--upstream",
        "downstream",
        default=None,
        help="With --km-from: which way along the river (downstream = lower km).",
    )(f)
    return text_options(_WHERE_OPTIONS)(f)


def _where(kw: dict[str, Any]) -> dict[str, Any]:
    out = given(kw, _WHERE_OPTIONS)
    down = kw.pop("downstream", None)
    if down is not None:
        out["direction"] = "downstream" if down else "upstream"
    county = kw.pop("county", ())
    if county:
        out["county"] = list(county)
    return out


def _say_where(ws, fids: list[str]) -> None:
    from geotrack.placement import site_phrases

    feats = [f for f in map(ws.crossings.read_one, fids) if f is not None]
    for f, phrase in zip(feats, site_phrases(feats, ws.placer), strict=True):
        click.echo(f"{f['id']} {terminal_safe(phrase)}", err=True)


def _max_km(force_far: bool, max_border_km: float) -> float | None:
    return None if force_far else max_border_km


_far_options = [
    click.option(
        "--max-border-km",
        type=float,
        default=DEFAULT_MAX_BORDER_KM,
        show_default=True,
        help="Refuse points farther than this from the border line.",
    ),
    click.option("--force-far", is_flag=True, help="Record a point however far from the border."),
]


@click.group("crossings")
def crossings() -> None:
    """Record reported crossings: add, import, list, show, edit, retire, history, undo.

    \b
    Example:
        geotrack crossings list
        geotrack crossings show YLU-0001
    """


@crossings.command("add")
@workspace_option
@click.option("--lon", default=None, help="Longitude, decimal degrees.")
@click.option("--lat", default=None, help="Latitude, decimal degrees.")
@_where_options
@click.option(
    "--datum",
    default="wgs84",
    show_default=True,
    help="wgs84, gcj02 (AMap, Tencent) or bd09 (Baidu).",
)
@text_options(_SITE_OPTIONS)
@text_options(_REPORT_OPTIONS)
@click.option("--synthetic", is_flag=True, help="Mark the record as synthetic (example) data.")
@reason_option
@apply_options(_far_options)
@click.option(
    "--allow-near",
    is_flag=True,
    help="Record the site even if an existing one is within either's uncertainty.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new feature as GeoJSON.")
def add_cmd(
    workspace,
    lon,
    lat,
    datum,
    synthetic,
    reason,
    max_border_km,
    force_far,
    allow_near,
    as_json,
    **kw,
):
    """Record one crossing with its first report; print its new id.

    Give the site as a coordinate (--at LON,LAT or --lon/--lat) or as the report
    words it: --near PLACE, --km-from PLACE --km D --downstream|--upstream,
    --reach A..B or --county NAME.  Where it was put goes to stderr.

    \b
    Example:
        geotrack crossings add --lon 127.27 --lat 41.51 --kind ford \\
            --source "NK News" --reported 2025-12-16 --reliability B --credibility 3
        geotrack crossings add --km-from Kimhyongjik-up --km 20 --upstream --kind ford \\
            --as-printed "20 km upstream of Kimhyongjik" --source "Example (SYNTHETIC)"
    """
    where = _where(kw)
    if (lon is None) != (lat is None):
        raise UsageError("give both --lon and --lat (or --at LON,LAT)")
    if lon is None and not where:
        raise UsageError(
            "say where the site is: --at LON,LAT (or --lon/--lat), --near PLACE, "
            "--km-from PLACE --km D --downstream|--upstream, --reach A..B or --county NAME"
        )
    ws = open_workspace(workspace)
    record = {"lon": lon, "lat": lat, "datum": datum, "synthetic": synthetic, **where}
    record.update(given(kw, _SITE_OPTIONS))
    record.update(given(kw, _REPORT_OPTIONS))
    fid = add_crossing(
        ws,
        record,
        max_border_km=_max_km(force_far, max_border_km),
        reason=reason,
        allow_near=allow_near,
    )
    _say_where(ws, [fid])
    if as_json:
        emit_json(ws.crossings.read_one(fid))
    else:
        click.echo(fid)


@crossings.command("import")
@workspace_option
@click.argument("source", type=click.File("rb"))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["geojson", "csv", "kml", "kmz", "gpkg"]),
    default=None,
    help="Input format (guessed from the name or content).",
)
@click.option(
    "--encoding", default=None, help="Text encoding of a CSV that is not UTF-8 (e.g. latin-1)."
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read COLUMN as FIELD (repeatable), e.g. --map 'Event Date=event_start'. Field names "
    "and the options' names (source, date, type, lon...) match in any case by themselves.",
)
@click.option(
    "--extra",
    type=click.Choice(["keep", "drop", "refuse"]),
    default=None,
    help="Columns that are no field: keep them with each report as 'extra' (default), drop "
    "them (listed in the summary) or refuse the file.",
)
@click.option(
    "--set",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A value for FIELD where a row has none (repeatable), e.g. --set kind=ford --set source_name='NK News'.",
)
@click.option(
    "--preset",
    default=None,
    help="A named mapping: acled, ushahidi, or one saved with --save-preset.",
)
@click.option(
    "--save-preset",
    default=None,
    metavar="NAME",
    help="Save this --map/--set/--extra as preset NAME in the workspace (then import).",
)
@click.option("--lon-column", default=None, help="The CSV column holding longitudes.")
@click.option("--lat-column", default=None, help="The CSV column holding latitudes.")
@click.option(
    "--points-only", is_flag=True, help="Skip features that are not points (counted) instead."
)
@click.option(
    "--update-existing",
    is_flag=True,
    help="Rows with ids in the workspace update those crossings (recorded as edits).",
)
@click.option(
    "--new-ids",
    is_flag=True,
    help="Import every row as a new site; geotrack ids in the file are kept as references.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be imported; write nothing.")
@reason_option
@apply_options(_far_options)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_cmd(
    workspace,
    source,
    fmt,
    encoding,
    mapping,
    extra,
    defaults,
    preset,
    save_preset,
    lon_column,
    lat_column,
    points_only,
    update_existing,
    new_ids,
    dry_run,
    reason,
    max_border_km,
    force_far,
    as_json,
):
    """Import crossings from SOURCE (a file, or - for stdin): GeoJSON, CSV, KML, KMZ, GeoPackage.

    All or nothing: problems are listed (each kind once per column or field, with
    counts) and nothing is written.  geotrack's own exports import back.

    \b
    Example:
        geotrack crossings import reports.csv --set source_name="NK News"
        geotrack crossings import acled.csv --preset acled --set kind=ford --dry-run
        geotrack crossings import edited.gpkg --update-existing
        cat found.geojson | geotrack crossings import - --map Type=kind
    """
    from geotrack.errors import ValidationError
    from geotrack.importers import read_crossings
    from geotrack.importers.fields import parse_mapping
    from geotrack.importers.presets import get_preset
    from geotrack.importers.presets import save_preset as save
    from geotrack.records import merge_crossings

    if update_existing and new_ids:
        raise UsageError("--update-existing and --new-ids exclude each other: choose one")
    ws = open_workspace(workspace)
    chosen = get_preset(ws, preset) if preset else None
    user_map = parse_mapping(mapping)
    fill = parse_mapping(defaults, option="--set") if defaults else {}
    if save_preset:
        save(ws, save_preset, mapping=user_map, defaults=fill, extra=extra)
        click.echo(f"saved preset {terminal_safe(save_preset)} in {ws.path}", err=True)
    prep = read_crossings(
        source,
        fmt=fmt,
        encoding=encoding,
        mapping=user_map,
        extra=extra,
        defaults=fill,
        preset=chosen,
        new_ids=new_ids,
        lon_column=lon_column,
        lat_column=lat_column,
        points_only=points_only,
    )
    source_name = click.format_filename(getattr(source, "name", None) or "<stdin>")
    n_read = prep.summary["records"]
    click.echo(
        f"read {n_read} record(s) from {terminal_safe(source_name)} ({prep.format})"
        + (f" as {len(prep.records)} site(s)" if len(prep.records) != n_read else ""),
        err=True,
    )
    for line in _summary_lines(prep.summary):
        click.echo(line, err=True)
    if prep.problems:
        raise ValidationError(
            prep.problems, header=f"{prep.problems.total} problem(s); nothing was written:"
        )
    if not prep.records:
        from geotrack.errors import DataError

        said = "; ".join(prep.summary["notes"])
        raise DataError(
            "no crossings to import: the input holds no features or rows"
            + (f" ({said})" if said else "")
        )
    done = merge_crossings(
        ws,
        prep.records,
        rows=prep.rows,
        update_existing=update_existing,
        dry_run=dry_run,
        max_border_km=_max_km(force_far, max_border_km),
        reason=reason or f"import of {source_name}",
    )
    counts = {k: len(v) for k, v in done.items()}
    if as_json:
        emit_json(
            {
                "dry_run": dry_run,
                "imported": counts["new"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "ids": [i for i in done["new"] if i],
                "updated_ids": done["updated"],
                "summary": prep.summary,
            }
        )
        return
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {counts['new']} new crossing(s)"
        + (
            f", {'would update' if dry_run else 'updated'} {counts['updated']}"
            if update_existing
            else ""
        )
        + (f", {counts['unchanged']} unchanged" if counts["unchanged"] else "")
        + ("; nothing was written (--dry-run)" if dry_run else ""),
        err=True,
    )
    if not dry_run:
        ids = [*done["new"], *done["updated"]]
        if ids:
            click.echo("\n".join(ids))


def _summary_lines(summary: dict[str, Any], shown: int = 12) -> list[str]:
    """What was done with the columns, one line per kind, at most *shown* columns each."""

    def cut(items: list[str]) -> str:
        more = len(items) - shown
        return ", ".join(items[:shown]) + (f", … and {more:,} more" if more > 0 else "")

    lines = []
    renamed = [f"{c} -> {f}" for c, f in summary["mapped"].items() if c != f]
    if renamed:
        lines.append(f"  columns read as fields: {cut([terminal_safe(r) for r in renamed])}")
    for key, what in (
        ("extra", "kept with each report as 'extra'"),
        ("dropped", "dropped (--extra drop)"),
        ("ignored", "ignored (derived or set by geotrack)"),
    ):
        cols = [f"{terminal_safe(c)} ({n:,})" for c, n in summary[key].items()]
        if cols:
            lines.append(f"  columns {what}: {cut(cols)}")
    if summary.get("other_cells"):
        lines.append(
            f"  … and {summary['other_cells']:,} cell(s) of columns beyond the first 10,000, "
            "not listed"
        )
    for kind, n in summary.get("skipped", {}).items():
        lines.append(f"  skipped {n:,} {terminal_safe(kind)} feature(s) (--points-only)")
    lines += [f"  note: {terminal_safe(n)}" for n in summary.get("notes", [])]
    return lines


@crossings.command("list")
@workspace_option
@click.option("--all", "include_retired", is_flag=True, help="Include retired crossings.")
@click.option(
    "--kind",
    type=click.Choice(sorted(KINDS)),
    default=None,
    help="Only this kind (an unknown kind is refused, exit 2).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection.")
def list_cmd(workspace, include_retired, kind, as_json):
    """List crossings (a table; --json for GeoJSON).

    \b
    Example:
        geotrack crossings list --all
        geotrack crossings list --kind ford --json | jq '.features | length'
    """
    ws = open_workspace(workspace)
    feats = ws.read_crossings(include_retired=include_retired)
    if kind:
        feats = [f for f in feats if f["properties"]["kind"] == kind]
    if as_json:
        emit_json({"type": "FeatureCollection", "features": feats})
        return
    from geotrack.placement import site_phrases

    rows = []
    for f, where in zip(feats, site_phrases(feats, ws.placer), strict=True):
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        rows.append(
            [
                f["id"],
                p["kind"],
                p["status"],
                f"{lon:.5f}",
                f"{lat:.5f}",
                where,
                len(p["reports"]),
                p.get("first_reported") or "not given",
                "retired" if p.get("retired") else "",
                "SYNTHETIC" if p.get("synthetic") else "",
            ]
        )
    header = ["id", "kind", "status", "lon", "lat", "where", "reports", "first reported"]
    echo_table(rows, [*header, "retired", "synthetic"])
    click.echo(f"{len(feats)} crossing(s) in {terminal_safe(ws.path)}", err=True)


@crossings.command("show")
@workspace_option
@click.argument("fid", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the GeoJSON feature.")
def show_cmd(workspace, fid, as_json):
    """Show one crossing with every report.

    \b
    Example:
        geotrack crossings show YLU-0001
        geotrack crossings show YLU-0001 --json | jq '.properties.reports | length'
    """
    ws = open_workspace(workspace)
    feat = next((f for f in ws.read_crossings(include_retired=True) if f["id"] == fid), None)
    if feat is None:
        from geotrack.errors import NotFoundError

        raise NotFoundError(
            f"id={fid!r}: no such crossing; `geotrack crossings list` shows the ids"
        )
    if as_json:
        emit_json(feat)
        return
    from geotrack.placement import site_phrases

    p = feat["properties"]
    lon, lat = feat["geometry"]["coordinates"]
    if p.get("original_lon") is None:
        reported = (
            f"placed from words ({_given_text(p.get('placement'))}): "
            f"{_given_text(p.get('placement_basis'))}"
        )
        if p.get("inferred"):
            reported += " [an inference]"
    else:
        reported = f"reported as {p['original_lon']}, {p['original_lat']} in {p['datum']}"
    lines = [
        f"{fid}  {p['kind']}  status={p['status']}"
        + ("  RETIRED: " + terminal_safe(p["retired_reason"]) if p.get("retired") else ""),
        f"{fid} {site_phrases([feat], ws.placer)[0]}",
        f"  location {lon:.6f}, {lat:.6f} (WGS 84); {terminal_safe(reported)}",
        f"  precision {_given_text(p.get('location_precision'))}, uncertainty "
        + ("not given" if p.get("uncertainty_m") is None else f"{p['uncertainty_m']:g} m"),
        f"  first reported {_given_text(p.get('first_reported'))}, seen "
        + (
            "not given"
            if p.get("first_seen") is None and p.get("last_seen") is None
            else f"{_given_text(p.get('first_seen'))} – {_given_text(p.get('last_seen'))}"
        ),
    ]
    if p.get("place_as_printed"):
        lines.insert(2, f"  as printed: {terminal_safe(p['place_as_printed'])}")
    if p.get("name"):
        lines.insert(1, f"  name: {terminal_safe(p['name'])}")
    if p.get("synthetic"):
        lines.insert(1, "  SYNTHETIC (example data, not a real report)")
    for r in p["reports"]:
        lines.append(
            f"  [{r['report_id']}] {terminal_safe(r['source_name'])} "
            f"({_given_text(r.get('source_type'))}), {_grade(r)}, "
            f"{_given_text(r.get('verification'))}"
        )
        for key in (
            "url",
            "archive_url",
            "reported",
            "event_start",
            "event_end",
            "date_precision",
            "sha256",
            "notes",
        ):
            if r.get(key):
                lines.append(f"      {key}: {terminal_safe(r[key])}")
    click.echo("\n".join(lines))


def _given_text(value: Any) -> str:
    """A stored value for a person to read: ``not given`` for null, never ``None``."""
    return "not given" if value is None or value == "" else terminal_safe(value)


def _grade(report: dict[str, Any]) -> str:
    rel, cred = report.get("reliability"), report.get("credibility")
    if rel is None and cred is None:
        return "not graded"
    return f"grade {rel or '?'}{'?' if cred is None else cred}"


@crossings.command("edit")
@workspace_option
@click.argument("fid", metavar="ID")
@click.option(
    "--report",
    "report_id",
    default=None,
    help="Edit this report (R1, R2, ...) instead of the site.",
)
@click.option("--lon", default=None, help="New longitude.")
@click.option("--lat", default=None, help="New latitude.")
@click.option("--datum", default=None, help="Datum of the new --lon/--lat.")
@_where_options
@text_options(_SITE_OPTIONS)
@text_options(_REPORT_OPTIONS)
@click.option("--synthetic/--not-synthetic", default=None, help="Mark or unmark as synthetic.")
@reason_option
@apply_options(_far_options)
def edit_cmd(
    workspace, fid, report_id, lon, lat, datum, synthetic, reason, max_border_km, force_far, **kw
):
    """Change fields of crossing ID (or of one of its reports with --report).

    A new location is a coordinate (--at, --lon/--lat) or words (--near,
    --km-from, --reach, --county), as for `crossings add`.

    \b
    Example:
        geotrack crossings edit YLU-0001 --status destroyed --reason "imagery 2026-01-03"
        geotrack crossings edit YLU-0001 --report R1 --verification verified
        geotrack crossings edit YLU-0002 --reach Hyesan..Changbai --reason "second report"
    """
    ws = open_workspace(workspace)
    where = _where(kw)
    if report_id:
        changes = given(kw, _REPORT_OPTIONS)
        if given(kw, _SITE_OPTIONS) or lon or lat or where:
            raise UsageError("with --report, give report fields only (site fields edit the site)")
    else:
        changes = {**given(kw, _SITE_OPTIONS), **where}
        if given(kw, _REPORT_OPTIONS):
            raise UsageError("report fields need --report R1 (see `geotrack crossings show ID`)")
        for key, value in (("lon", lon), ("lat", lat), ("datum", datum), ("synthetic", synthetic)):
            if value is not None:
                changes[key] = value
    edit_crossing(
        ws,
        fid,
        changes,
        report_id=report_id,
        max_border_km=_max_km(force_far, max_border_km),
        reason=reason,
    )
    click.echo(f"edited {fid}", err=True)
    if not report_id and ({"lon", "lat"} & set(changes) or where):
        _say_where(ws, [fid])


@crossings.command("add-report")
@workspace_option
@click.argument("fid", metavar="ID")
@text_options(_REPORT_OPTIONS)
@reason_option
def add_report_cmd(workspace, fid, reason, **kw):
    """Add a report (a new source or date) to crossing ID; print the report id.

    \b
    Example:
        geotrack crossings add-report YLU-0001 --source "Planet imagery" \\
            --source-type satellite_imagery --reported 2025-12-20 --reliability B --credibility 2
    """
    ws = open_workspace(workspace)
    click.echo(add_report(ws, fid, given(kw, _REPORT_OPTIONS), reason=reason))


@crossings.command("retire")
@workspace_option
@click.argument("fid", metavar="ID")
@click.option("--reason", required=True, help="Why it is retired (false report, duplicate of ...).")
def retire_cmd(workspace, fid, reason):
    """Retire crossing ID: a tombstone with the reason, never a silent delete.

    \b
    Example:
        geotrack crossings retire YLU-0001 --reason "duplicate of YLU-0002"
    """
    ws = open_workspace(workspace)
    retire_crossing(ws, fid, reason=reason)
    click.echo(f"retired {fid}", err=True)


@crossings.command("history")
@workspace_option
@click.argument("fid", metavar="[ID]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines of the entries.")
@click.pass_context
def history_cmd(ctx, workspace, fid, as_json):
    """Show the history of the crossings layer, or of one crossing.

    With --json, one JSON object per line (JSON lines), oldest first.  A damaged
    history line is reported on stderr by its line number (exit 1); the readable
    entries are still listed.

    \b
    Example:
        geotrack crossings history YLU-0001
        geotrack crossings history --json | jq -r .op
    """
    ws = open_workspace(workspace)
    damage = ws.crossings.check_history()
    entries = list(ws.crossings.history(fid, skip_damaged=True))
    if as_json:
        emit_json_lines(e.as_dict() for e in entries)
    else:
        rows = []
        for e in entries:
            ids = [c.id for c in e.changes]
            shown = ", ".join(ids[:3]) + (f" … (+{len(ids) - 3})" if len(ids) > 3 else "")
            rows.append(
                [
                    e.seq,
                    e.time,
                    e.user,
                    e.op + (f" of {e.undoes}" if e.undoes else ""),
                    shown,
                    e.reason or "",
                ]
            )
        echo_table(rows, ["seq", "time (UTC)", "user", "op", "ids", "reason"])
    if damage:
        for p in damage:
            click.echo(f"Error: {terminal_safe(str(p))}", err=True)
        ctx.exit(1)


@crossings.command("undo")
@workspace_option
@click.option(
    "--op",
    "op",
    type=click.IntRange(min=1),
    default=None,
    help="Undo operation N (its seq in `crossings history`) instead of your latest change.",
)
def undo_cmd(workspace, op):
    """Revert your latest change, or operation N, with a new history entry.

    The undo is itself an operation: `undo --op M` on it brings the change back.
    It is refused, naming who changed what since, when someone changed the
    same crossings after it.

    \b
    Example:
        geotrack crossings undo && geotrack crossings history
    """
    ws = open_workspace(workspace)
    entry = undo(ws, op=op)
    target = next((e for e in ws.crossings.history() if e.seq == entry.undoes), None)
    what = ""
    if target is not None:
        ids = [c.id for c in target.changes]
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        why = f"; its reason: {terminal_safe(target.reason)}" if target.reason else ""
        what = f" ({target.op} of {shown}{why})"
    click.echo(
        f"undid operation {entry.undoes}{what}; the undo is operation {entry.seq} in the history",
        err=True,
    )
