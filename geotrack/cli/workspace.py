"""``geotrack init``, ``stretch``, ``windows`` and ``validate``."""

from __future__ import annotations

import click

from geotrack.cli._common import (
    echo_table,
    emit_json,
    open_workspace,
    report,
    terminal_safe,
    workspace_option,
)
from geotrack.reference import REPORTED_KM
from geotrack.workspace import init_workspace


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--public-record/--empty",
    default=True,
    show_default=True,
    help="Include the bundled public record (claims, site reports) or start with empty layers.",
)
@click.option(
    "--store",
    "store",
    default=None,
    metavar="URL",
    help="Keep the layers in this PostGIS database (postgresql://host/db); saved in the workspace.",
)
def init_cmd(directory: str, public_record: bool, store: str | None) -> None:
    """Create a new workspace DIRECTORY with the bundled reference layers and public record.

    The public record is the claims and site reports compiled from published
    sources (see layers/README.md); --empty leaves the crossings and claims empty.
    With --store URL every layer lives in that shared PostGIS database: its
    schema is created or migrated and the URL is saved in DIRECTORY/geotrack.json,
    so every later command there uses it.

    \b
    Example:
        geotrack init my-layers && geotrack claims check -w my-layers
        geotrack init --empty scratch && geotrack -w scratch validate
    """
    import shlex

    from geotrack.cli._common import global_store

    store = store or global_store()
    styles = None
    if store and store != "folder":
        from geotrack.cli.store import pg_styles

        styles = pg_styles()
    ws = init_workspace(directory, public_record=public_record, store=store, styles=styles)
    try:
        where = ws.store.describe()
    finally:
        ws.close()
    what = "the public record's claims and site reports" if public_record else "empty layers"
    report(f"created workspace {ws.path} (reference layers, {what}; layers in {where})")
    report(
        "next: record a crossing there with\n"
        f"  geotrack -w {shlex.quote(str(ws.path))} crossings add --lon LON --lat LAT "
        '--kind ford --source "NAME"\n'
        f"or set GEOTRACK_WORKSPACE={shlex.quote(str(ws.path))} to make it the default"
    )


@click.command("stretch")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stretch_cmd(workspace: str | None, as_json: bool) -> None:
    """Show the stretch line, its county segments, the named windows and their lengths.

    Lengths are measured in EPSG:32652 along the line and in a straight line
    between each window's ends, beside the report's "roughly 98 km".

    \b
    Example:
        geotrack stretch --json
    """
    ws = open_workspace(workspace)
    st = ws.stretch
    windows = [ws.describe_window(w) for w in ws.windows.values()]
    segments = [
        {
            "county": f["properties"]["county"],
            "from_km": f["properties"]["chainage_start_km"],
            "to_km": f["properties"]["chainage_end_km"],
            "length_km": f["properties"]["length_km"],
        }
        for f in ws.county_segments
    ]
    doc = {
        "stretch": {
            "name": ws.stretch_properties.get("name"),
            "length_km": round(st.length_km, 3),
            "vertices": len(st.line_m.coords),
            "chainage_origin": ws.stretch_properties.get("chainage_origin"),
            "chainage_direction": ws.stretch_properties.get("chainage_direction"),
            "crs": "EPSG:32652",
            "source": ws.stretch_properties.get("source"),
        },
        "county_segments": segments,
        "windows": windows,
        "claims": _claim_windows(ws),
        "reported": {
            "figure_km": REPORTED_KM,
            "source": "Korea JoongAng Daily, 2025-12-19, citing NK News: at least 32 crossings "
            "along 'a roughly 98-kilometer stretch'",
        },
    }
    if as_json:
        emit_json(doc)
        return
    s = doc["stretch"]
    click.echo(f"{terminal_safe(s['name'])}")
    click.echo(f"  {s['length_km']:.1f} km along the line ({s['vertices']} vertices, {s['crs']})")
    click.echo(
        f"  chainage 0: {terminal_safe(s['chainage_origin'])}; increasing {s['chainage_direction']}"
    )
    click.echo("\nCounty segments (North Korean bank):")
    echo_table(
        [
            [g["county"], f"{g['from_km']:.1f}", f"{g['to_km']:.1f}", f"{g['length_km']:.1f}"]
            for g in segments
        ],
        ["county", "from km", "to km", "length km"],
    )
    click.echo("\nNamed windows (along the river vs straight line between the ends):")
    echo_table(
        [
            [
                w["name"],
                f"{w['from_km']:.1f}",
                f"{w['to_km']:.1f}",
                f"{w['length_km']:.1f}",
                f"{w['straight_km']:.1f}",
                f"{w['max_extent_km']:.1f}",
            ]
            for w in windows
        ],
        ["window", "from km", "to km", "river km", "straight km", "max extent km"],
    )
    if doc["claims"]:
        click.echo(
            "\nClaims in the workspace (the window each is resolved to; stated lengths as "
            "printed by its relays; `geotrack claims check` compares every reading):"
        )
        echo_table(
            [
                [
                    c["id"],
                    c["label"],
                    f"{c['from_km']:.1f}",
                    f"{c['to_km']:.1f}",
                    f"{c['river_km']:.1f}",
                    f"{c['straight_km']:.1f}",
                    ", ".join(c["stated"]),
                    f"runs on past the {c['beyond']} end" if c["beyond"] else "",
                ]
                for c in doc["claims"]
            ],
            ["claim", "", "from km", "to km", "river km", "straight km", "stated", ""],
        )
    click.echo(
        f"\nReported: 'a roughly {REPORTED_KM:g}-kilometer stretch' (Korea JoongAng Daily, "
        "2025-12-19). It matches the straight-line extent of the 'reported' window, not its "
        "length along the river."
    )


def _claim_windows(ws) -> list[dict]:
    from geotrack.claim_schema import claim_label
    from geotrack.reference import Window

    out = []
    for f in ws.read_claims():
        p = f["properties"]
        a = p["area"]
        d = ws.stretch.describe(Window(f["id"], a["from_km"], a["to_km"]))
        stated = []
        for r in [p, *p["relays"]]:
            if r.get("stated_length") is not None:
                text = f"{r['stated_length']:g} {r['stated_unit']}"
                if text not in stated:
                    stated.append(text)
        out.append(
            {
                "id": f["id"],
                "label": claim_label(p),
                "from_km": a["from_km"],
                "to_km": a["to_km"],
                "river_km": d["length_km"],
                "straight_km": d["straight_km"],
                "beyond": a.get("beyond"),
                "stated": stated,
            }
        )
    return out


@click.group("windows")
def windows_cmd() -> None:
    """List, save and remove named windows of the river.

    \b
    Example:
        geotrack windows add upper 200:238.7 --description "Hyesan to Pochon"
        geotrack windows list
    """


@windows_cmd.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def windows_list(workspace: str | None, as_json: bool) -> None:
    """List named windows with their lengths along the river and in a straight line.

    \b
    Example:
        geotrack windows list --json | jq '.[].name'
    """
    ws = open_workspace(workspace)
    rows = [ws.describe_window(w) for w in ws.windows.values()]
    if as_json:
        emit_json(rows)
        return
    echo_table(
        [
            [
                w["name"],
                w["from_km"],
                w["to_km"],
                w["length_km"],
                w["straight_km"],
                w["description"],
            ]
            for w in rows
        ],
        ["window", "from km", "to km", "river km", "straight km", "description"],
    )


@windows_cmd.command("add")
@workspace_option
@click.argument("name")
@click.argument("spec")
@click.option("--description", default="", help="What the window is.")
def windows_add(workspace: str | None, name: str, spec: str, description: str) -> None:
    """Save SPEC (FROM_KM:TO_KM, town:A..B, lonlat:...) as the named window NAME.

    \b
    Example:
        geotrack windows add hyesan-reach town:Hyesan..Poch --description "Hyesan to Pochon"
    """
    ws = open_workspace(workspace)
    w = ws.save_window(name, spec, description=description)
    report(f"saved window {w.name}: {w.from_km:g}–{w.to_km:g} km")


@windows_cmd.command("remove")
@workspace_option
@click.argument("name")
def windows_remove(workspace: str | None, name: str) -> None:
    """Remove the named window NAME.

    \b
    Example:
        geotrack windows add scratch 10:20 && geotrack windows remove scratch
    """
    open_workspace(workspace).remove_window(name)
    report(f"removed window {name}")


@click.command("validate")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def validate_cmd(ctx: click.Context, workspace: str | None, as_json: bool) -> None:
    """Check every layer of the workspace; exit 1 on any problem.

    Also completes a write that a killed process logged but did not finish.

    \b
    Example:
        geotrack validate && echo healthy
    """
    from geotrack.claims.records import validate_claims
    from geotrack.records import validate_workspace

    ws = open_workspace(workspace)
    problems = validate_workspace(ws) + validate_claims(ws)
    n = len(ws.read_crossings(include_retired=True))
    if as_json:
        emit_json(
            {
                "workspace": str(ws.path),
                "valid": not problems,
                "crossings": n,
                "problems": [
                    {"field": p.field, "value": str(p.value), "message": p.message, "where": p.row}
                    for p in problems
                ],
            }
        )
    else:
        for p in problems:
            click.echo(terminal_safe(str(p)), err=True)
        report(
            f"{ws.path}: {'healthy' if not problems else f'{len(problems)} problem(s)'} "
            f"({n} crossings)"
        )
    if problems:
        ctx.exit(1)
