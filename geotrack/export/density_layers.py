"""Write the layers of ``geotrack density -o DIR``.

Files (each written through a temporary file and renamed, so a reader never
sees half a file; nothing is replaced without ``overwrite``):

* ``density_bins.geojson`` (+ ``.qml``): one LineString per bin, the river
  between the bin's edges, with ``count`` and ``per_km`` for graduated
  styling in QGIS;
* ``density_kde.geojson`` (+ ``.qml``): the kernel density sampled as short
  river segments (one per grid node, ``step_km`` long) with ``per_km``;
* ``density_summary.json``: the document of ``geotrack density --json``;
* ``density.tif`` (+ ``.qml``): the 2-D density in crossings per km², a tiled,
  deflate-compressed float32 GeoTIFF in EPSG:32652 with overviews, the unit
  in the band, and kernel, bandwidth, cell size and corridor in its tags;
  cells farther than the corridor from the river line are nodata.

Vector layers are RFC 7946 GeoJSON: WGS 84 longitude/latitude, no ``crs``.
"""

from __future__ import annotations

__all__ = [
    "NODATA",
    "OUTPUT_FILES",
    "density_layers",
    "raster_description",
    "raster_top",
    "write_density_outputs",
    "write_raster",
]

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from geotrack import __version__
from geotrack.crs import MEASURE_CRS, to_wire
from geotrack.errors import StorageError, UsageError
from geotrack.export._model import Feature, Field, Layer, round_geometry
from geotrack.export.geojson_out import geojson_bytes
from geotrack.export.qml import layer_qml, raster_qml
from geotrack.store import atomic_path, atomic_write

if TYPE_CHECKING:
    from geotrack.analysis import DensityResult
    from geotrack.density import Grid

#: Value marking "no data" in the raster: a cell beyond the corridor along the river
#: (0 means no density).
NODATA = -9999.0
#: Files written by :func:`write_density_outputs` (the raster ones only with ``raster=True``).
OUTPUT_FILES = (
    "density_bins.geojson",
    "density_bins.qml",
    "density_kde.geojson",
    "density_kde.qml",
    "density_summary.json",
    "density.tif",
    "density.qml",
)
_RASTER_FILES = ("density.tif", "density.qml")
_PRECISION = 7  # decimals of a degree in GeoJSON (about 1 cm)
_UNIT_1D = "crossings per km of river"
_UNIT_2D = "crossings per km²"

_BIN_FIELDS = (
    Field("bin", "int", "Bin number (from the window's start)"),
    Field("from_km", "float", "Bin start (km of chainage)"),
    Field("to_km", "float", "Bin end (km of chainage)"),
    Field("length_km", "float", "Bin length along the river (km)"),
    Field("count", "int", "Crossings located as points in the bin"),
    Field("spread", "float", "Expected number of spread crossings in the bin (their share)"),
    Field("expected", "float", "Expected number of crossings in the bin (points + spread)"),
    Field("per_km", "float", "Density (crossings per km of river)"),
    Field("bin_km", "float", "Bin length asked for (km; the last bin may be shorter)"),
    Field("window", "str", "Window"),
)
_KDE_FIELDS = (
    Field("node", "int", "Grid node"),
    Field("km", "float", "Chainage of the grid node (km)"),
    Field("from_km", "float", "Segment start (km of chainage)"),
    Field("to_km", "float", "Segment end (km of chainage)"),
    Field("per_km", "float", "Kernel density (crossings per km of river)"),
    Field("bandwidth_km", "float", "Kernel bandwidth, Gaussian standard deviation (km)"),
    Field("step_km", "float", "Grid step of the kernel density (km)"),
    Field("window", "str", "Window"),
)


def _segments_wgs84(
    result: DensityResult, spans: list[tuple[float, float]]
) -> list[dict[str, Any]]:
    """GeoJSON LineStrings (WGS 84) of the river between chainage pairs in km."""
    parts = [result.line.substring(a * 1000.0, b * 1000.0) for a, b in spans]
    if not parts:
        return []
    allxy = np.concatenate(parts)
    lon, lat = to_wire(allxy[:, 0], allxy[:, 1])
    lonlat = np.column_stack([lon, lat])
    out, i = [], 0
    for p in parts:
        coords = lonlat[i : i + len(p)].tolist()
        i += len(p)
        out.append(round_geometry({"type": "LineString", "coordinates": coords}, _PRECISION))
    return out


def density_layers(result: DensityResult) -> list[Layer]:
    """The bins and kernel-density layers of a result, as export :class:`Layer` objects.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> from geotrack.analysis import DensityOptions, density_report
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> r = density_report(ws, DensityOptions(window="0:12", bin_km=5, simulations=9, seed=1))
    >>> [(lyr.name, len(lyr.features)) for lyr in density_layers(r)]
    [('density_bins', 3), ('density_kde', 121)]
    """
    win = result.window
    bins = result.bins
    edges = bins.edges_km
    spans = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
    geoms = _segments_wgs84(result, spans)
    bin_feats = [
        Feature(
            i + 1,
            f"bin-{i + 1:04d}",
            g,
            {
                "bin": i + 1,
                "from_km": a,
                "to_km": b,
                "length_km": b - a,
                "count": int(bins.count[i]),
                "spread": float(bins.spread[i]) if bins.spread is not None else 0.0,
                "expected": float(bins.weight[i]),
                "per_km": float(bins.per_km[i]),
                "bin_km": bins.bin_km,
                "window": win.name,
            },
        )
        for i, ((a, b), g) in enumerate(zip(spans, geoms, strict=True))
    ]
    k = result.kde
    half = k.step_km / 2.0
    kspans = [(max(win.from_km, float(x) - half), min(win.to_km, float(x) + half)) for x in k.km]
    kgeoms = _segments_wgs84(result, kspans)
    kde_feats = [
        Feature(
            i + 1,
            f"node-{i:06d}",
            g,
            {
                "node": i,
                "km": float(k.km[i]),
                "from_km": a,
                "to_km": b,
                "per_km": float(k.per_km[i]),
                "bandwidth_km": k.bandwidth_km,
                "step_km": k.step_km,
                "window": win.name,
            },
        )
        for i, ((a, b), g) in enumerate(zip(kspans, kgeoms, strict=True))
    ]
    where = f"window {win.name} ({win.from_km:g}–{win.to_km:g} km)"
    return [
        Layer(
            "density_bins",
            "Crossings per bin",
            f"Crossings per {bins.bin_km:g} km bin of river, {where}; the last bin may be "
            f"shorter and is divided by its true length. Density in {_UNIT_1D}.",
            "LineString",
            _BIN_FIELDS,
            bin_feats,
            style="density_bins",
            extra={"graduated_attr": "per_km", "unit": _UNIT_1D},
        ),
        Layer(
            "density_kde",
            "Kernel density along the river",
            f"Gaussian kernel density, bandwidth {k.bandwidth_km:.4g} km ({k.bandwidth_rule}), "
            f"grid step {k.step_km:.4g} km, reflection at the window's ends, {where}. "
            f"Density in {_UNIT_1D}.",
            "LineString",
            _KDE_FIELDS,
            kde_feats,
            style="density_kde",
            extra={"graduated_attr": "per_km", "unit": _UNIT_1D},
        ),
    ]


def raster_description(grid: Grid) -> str:
    """One sentence on the raster: unit, kernel, bandwidth, cell, CRS and corridor.

    Parameters
    ----------
    grid : Grid
        From :func:`geotrack.density.density_grid` (clipped or not).

    Returns
    -------
    str

    Examples
    --------
    >>> from geotrack.density import density_grid
    >>> g = density_grid([0.0], [0.0], bounds=(0, 0, 0, 0), cell_m=100, bandwidth_m=400)
    >>> raster_description(g)
    'crossing density (crossings per km²), Gaussian kernel, bandwidth 0.4 km, cell 100 m, EPSG:32652'
    """
    text = (
        f"crossing density ({grid.units}), {grid.kernel.capitalize()} kernel, "
        f"bandwidth {grid.bandwidth_m / 1000.0:g} km, cell {grid.cell_m:g} m, {MEASURE_CRS}"
    )
    if grid.corridor_m is not None:
        text += (
            f"; only within {grid.corridor_m / 1000.0:g} km of the river line (nodata beyond), "
            f"holding {grid.in_corridor:.3g} of {grid.total:.3g} expected crossings"
        )
    return text


def raster_top(grid: Grid) -> float:
    """The top of the raster's colour ramp: its largest value, or 1 when it has none.

    Examples
    --------
    >>> from geotrack.density import density_grid
    >>> raster_top(density_grid([], [], bounds=(0, 0, 0, 0), cell_m=100, bandwidth_m=400))
    1.0
    """
    finite = grid.values[np.isfinite(grid.values)]
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0


def write_raster(
    grid: Grid, path: str | os.PathLike[str], *, tags: dict[str, Any] | None = None
) -> Path:
    """Write a density grid as a tiled, compressed GeoTIFF (EPSG:32652) atomically.

    Parameters
    ----------
    grid : Grid
        From :func:`geotrack.density.density_grid` (values in crossings per km²).
    path : path-like
        The ``.tif`` to write (replaced if it exists: the caller checks first).
    tags : dict, optional
        More dataset tags (window, number of crossings).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib, rasterio
    >>> from geotrack.density import density_grid
    >>> g = density_grid([400000.0], [4600000.0], bounds=(399000, 4599000, 401000, 4601000),
    ...                  cell_m=100, bandwidth_m=300)
    >>> p = write_raster(g, pathlib.Path(tempfile.mkdtemp()) / "d.tif")
    >>> with rasterio.open(p) as src:
    ...     src.crs.to_epsg(), src.nodata, src.tags()["bandwidth_m"], src.units
    (32652, -9999.0, '300.0', ('crossings per km²',))
    """
    import rasterio
    from affine import Affine
    from rasterio.enums import Resampling

    target = Path(path)
    rows, cols = grid.values.shape
    block = 256
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "float32",
        "crs": MEASURE_CRS,
        "transform": Affine(*grid.transform),
        "nodata": NODATA,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": 6,
        "tiled": True,
        "blockxsize": block,
        "blockysize": block,
        "BIGTIFF": "IF_SAFER",
    }
    corridor = grid.corridor_m
    if corridor is None:
        nodata_meaning = "no cell is nodata; 0 means no density"
        corridor_tags: dict[str, str] = {}
    else:
        nodata_meaning = (
            f"cell centre farther than {corridor:g} m from the river line (outside the "
            "corridor); 0 means no density"
        )
        corridor_tags = {
            "corridor_m": f"{corridor:g}",
            "corridor_meaning": "cells whose centres lie farther than corridor_m from the "
            "window's part of the river line (EPSG:32652) are nodata",
            "in_corridor": f"{grid.in_corridor:.6g}",
            "in_corridor_meaning": "expected number of crossings in the kept cells (sum of "
            "cells x cell area); the rest of the kernel's mass lies beyond the corridor",
        }
    all_tags = {
        "units": grid.units,
        "kernel": grid.kernel,
        "bandwidth_m": f"{grid.bandwidth_m}",
        "bandwidth_meaning": "standard deviation of the Gaussian kernel, metres",
        "cell_m": f"{grid.cell_m}",
        "crs": MEASURE_CRS,
        "method": grid.method,
        "total": f"{grid.total:g}",
        "integral_rule": "sum of cells x cell area (km²) = expected number of crossings in the "
        "window (a spread crossing's mass lies along the river over its stretch)",
        "nodata_meaning": nodata_meaning,
        **corridor_tags,
        "software": f"geotrack {__version__}",
        **{k: str(v) for k, v in (tags or {}).items()},
    }
    levels = [f for f in (2, 4, 8, 16, 32) if min(rows, cols) // f >= 8]
    try:
        with atomic_path(target, suffix=".tif") as tmp, rasterio.open(tmp, "w", **profile) as dst:
            values = grid.values.astype(np.float32)
            dst.write(np.where(np.isnan(values), np.float32(NODATA), values), 1)
            dst.update_tags(**all_tags)
            dst.set_band_description(1, raster_description(grid))
            dst.set_band_unit(1, grid.units)
            dst.update_tags(1, units=grid.units, bandwidth_m=f"{grid.bandwidth_m}")
            if levels:
                dst.build_overviews(levels, Resampling.average)
                dst.update_tags(ns="rio_overview", resampling="average")
    except rasterio.errors.RasterioError as exc:
        raise StorageError(
            f"could not write {target}: {exc}; the previous file is unchanged. "
            "Free disk space or fix permissions and try again."
        ) from exc
    return target


def write_density_outputs(
    result: DensityResult,
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    raster: bool = True,
) -> list[Path]:
    """Write the density layers, the summary and the raster into *out_dir*.

    Parameters
    ----------
    result : DensityResult
        From :func:`geotrack.analysis.density_report`.
    out_dir : path-like
        Folder (created if missing).
    overwrite : bool
        Replace files of the same names; otherwise any existing one is an error
        and nothing is written.
    raster : bool
        Also write the GeoTIFF and its style.

    Returns
    -------
    list of Path
        The files written, in :data:`OUTPUT_FILES` order.

    Raises
    ------
    UsageError
        An output file exists and *overwrite* is false, or *out_dir* is a file.
    StorageError
        A file could not be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> from geotrack.analysis import DensityOptions, density_report
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> r = density_report(init_workspace(tmp / "w"), DensityOptions(simulations=9, seed=1))
    >>> [p.name for p in write_density_outputs(r, tmp / "out")][:3]
    ['density_bins.geojson', 'density_bins.qml', 'density_kde.geojson']
    """
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"output folder={str(folder)!r} is a file: give a folder for -o")
    names = [n for n in OUTPUT_FILES if raster or n not in _RASTER_FILES]
    if not overwrite:
        present = [n for n in names if (folder / n).exists()]
        if present:
            raise UsageError(
                f"output folder={str(folder)!r} already holds {', '.join(present)}: pass "
                "--overwrite to replace them, or choose another folder (nothing was written)"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {folder}: {exc.strerror or exc}") from exc
    written: list[Path] = []
    for layer in density_layers(result):
        atomic_write(folder / f"{layer.name}.geojson", geojson_bytes(layer))
        atomic_write(folder / f"{layer.name}.qml", layer_qml(layer).encode("utf-8"))
        written += [folder / f"{layer.name}.geojson", folder / f"{layer.name}.qml"]
    summary = dict(result.as_dict())
    if raster:
        grid = result.grid()
        summary["raster"] = {
            "file": "density.tif",
            "crs": MEASURE_CRS,
            "cell_m": grid.cell_m,
            "bandwidth_m": grid.bandwidth_m,
            "corridor_m": grid.corridor_m,
            "in_corridor": grid.in_corridor,
            "cells_kept": int(np.isfinite(grid.values).sum()),
            "cells_nodata": int(np.isnan(grid.values).sum()),
            "description": raster_description(grid),
            "kernel": grid.kernel,
            "units": grid.units,
            "nodata": NODATA,
            "shape": list(grid.values.shape),
            "bounds_m": list(grid.bounds),
        }
    atomic_write(
        folder / "density_summary.json",
        orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n",
    )
    written.append(folder / "density_summary.json")
    if raster:
        w = result.window
        write_raster(
            grid,
            folder / "density.tif",
            tags={
                "window": w.name,
                "window_from_km": w.from_km,
                "window_to_km": w.to_km,
                "n_crossings": result.summary["n_crossings"],
            },
        )
        vmax = raster_top(grid)
        atomic_write(folder / "density.qml", raster_qml(vmax=vmax, label=_UNIT_2D).encode("utf-8"))
        written += [folder / "density.tif", folder / "density.qml"]
    return written
