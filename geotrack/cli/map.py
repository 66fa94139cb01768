"""``geotrack map`` and ``geotrack demo``: the self-contained map page (and a PNG of it)."""

from __future__ import annotations

from pathlib import Path

import click

from geotrack.cli._common import open_workspace, terminal_safe, workspace_option


def _render(
    ws,
    *,
    output: Path,
    window: str | None,
    online: bool,
    png: Path | None,
    overwrite: bool,
    title: str | None,
) -> None:
    from geotrack.errors import UsageError
    from geotrack.render.map import MapOptions, render_html, workspace_payload, write_html

    for flag, path in (("--output", output), ("--png", png)):
        if path is not None and (str(path) in ("", ".") or path.is_dir()):
            raise UsageError(
                f"{flag}={str(path)!r} is not a file path: give one such as maps/yalu.html "
                "or maps/yalu.png"
            )
    if output.exists() and not overwrite:
        raise UsageError(
            f"output={str(output)!r} exists: pass --overwrite to replace it, or choose another path"
        )
    if png is not None and png.exists() and not overwrite:
        raise UsageError(
            f"--png={str(png)!r} exists: pass --overwrite to replace it, or choose another path"
        )
    opts = MapOptions(online=online, **({"title": title} if title else {}))
    click.echo("geotrack: reading the workspace, measuring density, charting trade...", err=True)
    payload = workspace_payload(ws, window=window, options=opts)
    for problem in payload["meta"].get("date_problems", []):
        click.echo(f"geotrack: warning: {terminal_safe(problem)}", err=True)
    click.echo("geotrack: building the page (inlining Leaflet and the chart library)...", err=True)
    html = render_html(payload)
    path = write_html(html, output, overwrite=overwrite)
    click.echo(f"wrote {terminal_safe(path)} ({path.stat().st_size / 1e6:.2f} MB)", err=True)
    if png is not None:
        from geotrack.render.screenshot import screenshot

        shot = screenshot(path, png, overwrite=overwrite, allow_network=online)
        click.echo(f"wrote {terminal_safe(shot)}", err=True)
    click.echo(terminal_safe(path))


@click.command("map")
@workspace_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("maps/yalu.html"),
    show_default=True,
    help="HTML file to write.",
)
@click.option(
    "--window",
    default="reported",
    show_default=True,
    help="Window whose figures the side panel gives: a named window, FROM_KM:TO_KM or 'all'.",
)
@click.option(
    "--online",
    is_flag=True,
    help="Link Leaflet from a CDN and offer OpenStreetMap / satellite tiles. Without it the "
    "page is self-contained and contacts no other host.",
)
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save a static PNG of the map (headless Chromium at /usr/bin/chromium).",
)
@click.option("--title", default=None, help="Page title (default: the stretch's name).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def map_cmd(workspace, output, window, online, png, title, overwrite):
    """Write the investigator's map: one self-contained HTML page.

    The page shows every crossing (by kind, status and verification, with its
    location uncertainty), the density along the river, the official trade
    chart, headline figures for the window, filters and a chainage strip.
    It works offline; it loads nothing from the network unless --online.

    \b
    Examples:
        geotrack map -o maps/yalu.html
        geotrack map --window 0:120 -o maps/west.html --png maps/west.png --overwrite
    """
    ws = open_workspace(workspace)
    _render(
        ws, output=output, window=window, online=online, png=png, overwrite=overwrite, title=title
    )


@click.command("demo")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="demo")
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 100_000),
    default=32,
    show_default=True,
    help="Number of synthetic crossings.",
)
@click.option("--seed", type=int, default=20251216, show_default=True, help="Random seed.")
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save a static PNG of the demo map.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing demo in DIRECTORY.")
def demo_cmd(directory, count, seed, png, overwrite):
    """Make a SYNTHETIC demo workspace and its map, to see geotrack at work.

    Creates DIRECTORY/layers (a workspace with the real reference layers and
    trade table, plus COUNT invented crossings marked synthetic) and renders
    DIRECTORY/maps/demo.html, which carries a "SYNTHETIC DEMO DATA" banner.

    \b
    Example:
        geotrack demo demo --png demo/maps/demo.png
        geotrack map -w demo/layers -o demo/maps/again.html
    """
    from geotrack.demo import create_demo

    ws = create_demo(directory / "layers", n=count, seed=seed, overwrite=overwrite)
    click.echo(
        f"created {terminal_safe(ws.path)}: {count} SYNTHETIC crossings (seed {seed})", err=True
    )
    _render(
        ws,
        output=directory / "maps" / "demo.html",
        window="reported",
        online=False,
        png=png,
        overwrite=overwrite,
        title=None,
    )
