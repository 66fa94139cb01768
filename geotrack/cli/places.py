"""``geotrack places``: the gazetteer crossings are placed from (towns + places users add)."""

from __future__ import annotations

import click

from geotrack.cli._common import echo_table, emit_json, open_workspace, workspace_option


@click.group("places")
def places() -> None:
    """The gazetteer: towns of the workspace plus places you add (add, list).

    \b
    Example:
        geotrack places list
    """


@places.command("add")
@workspace_option
@click.argument("name")
@click.option("--lon", required=True, help="Longitude, decimal degrees (WGS 84).")
@click.option("--lat", required=True, help="Latitude, decimal degrees (WGS 84).")
@click.option("--source", required=True, help="Where the coordinate comes from (map, gazetteer).")
@click.option("--name-local", default=None, help="The name in local script (송전리, 长白).")
@click.option("--country", default=None, help="CN or KP.")
@click.option("--notes", default=None, help="Free text.")
@click.option("--reason", default=None, help="Why, for the history.")
@click.option("--json", "as_json", is_flag=True, help="Print the new place as GeoJSON.")
def add_cmd(workspace, name, lon, lat, source, name_local, country, notes, reason, as_json):
    """Add a named place NAME that crossings can be placed from; print its id.

    \b
    Example:
        geotrack places add Example-ri --name-local 예시리 --country KP \\
            --lon 128.1 --lat 41.38 --source "SYNTHETIC example place"
    """
    ws = open_workspace(workspace)
    record = {"name": name, "lon": lon, "lat": lat, "source": source}
    for key, value in (("name_local", name_local), ("country", country), ("notes", notes)):
        if value is not None:
            record[key] = value
    feat = ws.add_place(record, reason=reason)
    clash = feat.pop("same_name_as", None)
    if clash:
        click.echo(
            f"warning: {feat['id']} has the same name as {', '.join(clash)}: refer to it by "
            f"its id ({feat['id']}) where the name is ambiguous",
            err=True,
        )
    if as_json:
        emit_json(feat)
    else:
        click.echo(feat["id"])


@places.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection.")
def list_cmd(workspace, as_json):
    """List the gazetteer: towns and added places, with their chainage on the stretch.

    \b
    Example:
        geotrack places list --json
    """
    ws = open_workspace(workspace)
    placer = ws.placer()
    gaz = placer.gazetteer.places
    km, off, _ = placer.locate([p.lon for p in gaz], [p.lat for p in gaz])
    feats = []
    for p, k, o in zip(gaz, km, off, strict=True):
        feats.append(
            {
                "type": "Feature",
                "id": p.id,
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "id": p.id,
                    "name": p.name,
                    "name_local": p.name_local,
                    "country": p.country,
                    "source": p.source,
                    "chainage_km": round(float(k), 3),
                    "distance_from_line_m": round(abs(float(o)), 1),
                },
            }
        )
    if as_json:
        emit_json({"type": "FeatureCollection", "features": feats})
        return
    rows = [
        [
            f["id"],
            f["properties"]["name_local"] or "",
            f["properties"]["country"] or "",
            f"{f['properties']['chainage_km']:.1f}",
            f"{f['properties']['distance_from_line_m'] / 1000:.1f}",
            f["properties"]["source"] or "",
        ]
        for f in feats
    ]
    echo_table(rows, ["id", "local name", "country", "km", "km from line", "source"])
    click.echo(f"{len(feats)} place(s) in {ws.path}", err=True)
