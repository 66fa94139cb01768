"""``geotrack export``: the workspace as GeoPackage, GeoJSON+QML, KML/KMZ, CSV, GeoTIFF, QGIS project."""

from __future__ import annotations

import click

from geotrack.cli._common import emit_json, open_workspace, terminal_safe, workspace_option
from geotrack.cli._options import raster_corridor_option
from geotrack.export.api import FORMATS, export_workspace

_FORMAT_HELP = (
    "What to write: "
    + ", ".join(FORMATS)
    + " or all (default). Repeat or separate with commas; qgis also writes gpkg and tif."
)


@click.command("export")
@workspace_option
@click.option(
    "-o",
    "--output",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(path_type=str),
    help="Output folder (created if missing).",
)
@click.option("--format", "formats", multiple=True, metavar="FORMAT", help=_FORMAT_HELP)
@click.option("--overwrite", is_flag=True, help="Replace outputs that exist already.")
@click.option(
    "--precision",
    type=int,
    default=7,
    show_default=True,
    metavar="N",
    help="Decimals of a degree in coordinates (7 = about 1 cm, 5 = about 1 m).",
)
@click.option(
    "--public",
    is_flag=True,
    help="For sharing outside the team: crossing coordinates rounded to 2 decimals "
    "(about 1 km); source URLs, archive URLs, SHA-256 digests, notes and the coordinates "
    "as reported left out. The output says what was removed.",
)
@click.option(
    "--window",
    default=None,
    metavar="WINDOW",
    help="Window of the river for the density layers: a named window, FROM_KM:TO_KM or all "
    "(default: reported).",
)
@click.option(
    "--name",
    "stem",
    default="geotrack",
    show_default=True,
    help="Stem of the output file names (letters, digits, '_' or '-').",
)
@click.option("--bom", is_flag=True, help="Start the CSV with a UTF-8 byte-order mark (Excel).")
@raster_corridor_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def export_cmd(
    workspace: str | None,
    out_dir: str,
    formats: tuple[str, ...],
    overwrite: bool,
    precision: int,
    public: bool,
    window: str | None,
    stem: str,
    bom: bool,
    raster_corridor_km: float,
    as_json: bool,
) -> None:
    """Export the workspace for QGIS, Google Earth and spreadsheets.

    Writes every format into a temporary folder inside the output folder and
    renames the files into place only when all are written: a failure leaves
    the folder as it was. Existing outputs are replaced only with --overwrite.

    \b
    Examples:
        geotrack export -o out/
        geotrack export --format kmz --public -o share/
        geotrack export --format gpkg,csv --bom --overwrite --json
        geotrack export --format tif --raster-corridor-km 5 -o wide/
    Open out/geotrack.qgz in QGIS, out/geotrack.kmz in Google Earth.
    """
    ws = open_workspace(workspace)
    result = export_workspace(
        ws,
        out_dir,
        formats=formats or ("all",),
        overwrite=overwrite,
        precision=precision,
        public=public,
        window=window,
        name=stem,
        csv_bom=bom,
        raster_corridor_km=raster_corridor_km,
    )
    if as_json:
        emit_json(result.as_dict())
        return
    n_sites = result.counts.get("crossings", 0)
    n_reports = result.counts.get("reports", 0)
    click.echo(
        f"Exported {n_sites} crossing(s) and {n_reports} report(s) to "
        f"{terminal_safe(result.out_dir)}:",
        err=True,
    )
    for name in result.files:
        click.echo(f"  {terminal_safe(result.out_dir / name)}", err=True)
    if result.public:
        click.echo("Public export: removed or coarsened:", err=True)
        for line in result.removed:
            click.echo(f"  - {terminal_safe(line)}", err=True)
    for note in result.notes:
        click.echo(f"Note: {terminal_safe(note)}", err=True)
