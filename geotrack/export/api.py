"""Export a workspace to GIS formats: one call, atomic, never clobbering by accident.

:func:`export_workspace` reads the workspace once, builds every layer with an
explicit schema (:mod:`geotrack.export._model`) and writes the formats asked
for into a temporary folder inside the output folder; only when everything
is written are the files renamed into place.  A failure leaves the output
folder as it was.  An existing output is replaced only with ``overwrite=True``.

Files written into ``out_dir`` (``STEM`` is ``geotrack`` unless *name* says otherwise):

========  ===============================================================
gpkg      ``STEM.gpkg``: every layer, styles in ``layer_styles``, domains
geojson   ``STEM-geojson/<layer>.geojson`` + ``<layer>.qml`` (RFC 7946)
kml/kmz   ``STEM.kml`` / ``STEM.kmz`` for Google Earth
csv       ``STEM-reports.csv``: one row per report with its site's attributes;
          ``STEM-claims.csv``: one row per relay with its claim's attributes
tif       ``STEM-density.tif`` + ``STEM-density.qml`` (EPSG:32652)
qgis      ``STEM.qgz``: a QGIS project over ``STEM.gpkg`` and the raster
========  ===============================================================

A *public* export coarsens crossing coordinates to 2 decimals of a degree
(at most about 0.7 km from the true position at 41.6° N; ``precision`` may
coarsen further) and leaves out source URLs, archive URLs, SHA-256 digests,
report notes and the coordinates as originally reported; the result lists
what was removed.
"""

from __future__ import annotations

__all__ = ["FORMATS", "PUBLIC_DECIMALS", "ExportResult", "export_workspace", "targets_for"]

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from geotrack.errors import (
    DataError,
    GeotrackError,
    OutputExistsError,
    StorageError,
    UsageError,
    ValidationError,
)
from geotrack.export._model import (
    PUBLIC_DROPPED,
    Layer,
    check_name,
    claim_layers,
    coarsening_m,
    crossing_layers,
    iso,
    reference_layer,
    round_geometry,
)
from geotrack.geojson import loads

log = logging.getLogger(__name__)

#: Formats in the order they are written; ``all`` means every one.
FORMATS: tuple[str, ...] = ("gpkg", "geojson", "kml", "kmz", "csv", "tif", "qgis")
#: Decimals of a degree a public export keeps in crossing coordinates.
PUBLIC_DECIMALS = 2
_MAX_DECIMALS = 9


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and left out.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    files : tuple of str
        Files and folders written, relative to *out_dir*.
    formats : tuple of str
        Formats written (``qgis`` brings ``gpkg`` and ``tif`` with it).
    counts : dict
        Features per layer.
    decimals : int
        Decimals of a degree kept in crossing coordinates.
    public : bool
        Whether this is a public export.
    removed : tuple of str
        What a public export left out or coarsened, in words.
    notes : tuple of str
        Anything else the user should know (a format skipped, and why).
    window : dict or None
        The window the density layers cover.
    coarsening_m : dict or None
        How far a public export may move a crossing, m.
    raster_corridor_km : float or None
        The density raster's corridor along the river line, km (None when no raster
        was written).
    """

    out_dir: Path
    files: tuple[str, ...]
    formats: tuple[str, ...]
    counts: dict[str, int]
    decimals: int
    public: bool
    removed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    window: dict[str, Any] | None = None
    coarsening_m: dict[str, float] | None = field(default=None)
    raster_corridor_km: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for ``--json``).

        Examples
        --------
        >>> ExportResult(Path("out"), ("a.kml",), ("kml",), {}, 7, False).as_dict()["files"]
        ['a.kml']
        """
        return {
            "out_dir": str(self.out_dir),
            "files": list(self.files),
            "formats": list(self.formats),
            "counts": dict(self.counts),
            "crossing_decimals": self.decimals,
            "public": self.public,
            "removed": list(self.removed),
            "coarsening_m": self.coarsening_m,
            "notes": list(self.notes),
            "window": self.window,
            "raster_corridor_km": self.raster_corridor_km,
        }


def _normalise_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    items = [formats] if isinstance(formats, str) else list(formats)
    wanted: set[str] = set()
    for item in items:
        for part in str(item).split(","):
            part = part.strip().lower()
            if part == "all":
                wanted.update(FORMATS)
            elif part in FORMATS:
                wanted.add(part)
            elif part:
                raise UsageError(
                    f"format={part!r} is not known: use one of {', '.join(FORMATS)} or all"
                )
    if not wanted:
        raise UsageError(f"format: name at least one of {', '.join(FORMATS)} or all")
    if "qgis" in wanted:
        wanted.update({"gpkg", "tif"})
    return tuple(f for f in FORMATS if f in wanted)


def targets_for(formats: Sequence[str], stem: str = "geotrack") -> dict[str, list[str]]:
    """Names written for each format, relative to the output folder.

    Examples
    --------
    >>> targets_for(["gpkg", "tif"])
    {'gpkg': ['geotrack.gpkg'], 'tif': ['geotrack-density.tif', 'geotrack-density.qml']}
    """
    check_name(stem, what="output name")
    names = {
        "gpkg": [f"{stem}.gpkg"],
        "geojson": [f"{stem}-geojson"],
        "kml": [f"{stem}.kml"],
        "kmz": [f"{stem}.kmz"],
        "csv": [f"{stem}-reports.csv", f"{stem}-claims.csv"],
        "tif": [f"{stem}-density.tif", f"{stem}-density.qml"],
        "qgis": [f"{stem}.qgz"],
    }
    return {f: names[f] for f in formats}


def _inside(folder: Path, name: str) -> Path:
    target = folder / name
    if (
        Path(name).is_absolute()
        or target.parent.resolve() != folder.resolve()
        or name
        in (
            ".",
            "..",
        )
    ):
        raise UsageError(
            f"output name={name!r} would leave the output folder {folder}: use a plain name"
        )
    if target.is_symlink():
        raise StorageError(
            f"output {target} is a symbolic link (to {os.readlink(target)!r}): geotrack does "
            "not write through links, which could point outside the output folder; remove the "
            "link or choose another folder with -o (nothing was written)"
        )
    return target


def _read_features(ws: Any, filename: str) -> list[dict[str, Any]]:
    path = ws.file(filename)
    try:
        doc = loads(path.read_bytes(), what=str(path))
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing: restore it from git or make a new workspace with `geotrack init`"
        ) from None
    return list(doc.get("features") or [])


def _reference(ws: Any, precision: int) -> list[Layer]:
    stretch = {
        "type": "Feature",
        "id": "stretch",
        "geometry": {
            "type": "LineString",
            "coordinates": [list(c) for c in ws.stretch.line_wgs84.coords],
        },
        "properties": {
            **dict(ws.stretch_properties),
            "length_km": round(ws.stretch.length_km, 3),
            "measure_crs": "EPSG:32652",
        },
    }
    official = (
        [reference_layer("official_crossings", ws.official_crossings, precision=precision)]
        if ws.official_crossings
        else []
    )
    return [
        *official,
        reference_layer("stretch", [stretch], precision=precision),
        reference_layer("county_segments", list(ws.county_segments), precision=precision),
        reference_layer("border", _read_features(ws, "border.geojson"), precision=precision),
        reference_layer("towns", _read_features(ws, "towns.geojson"), precision=precision),
    ]


@dataclass
class _Density:
    layers: list[Layer]
    write_raster: Any = None  # callable(path) -> (vmax, band label, description)
    notes: list[str] = field(default_factory=list)


def _density_options(raster_corridor_km: float | None) -> Any:
    """The density options of an export, checked (a bad one is a :class:`UsageError`)."""
    from geotrack.analysis import DensityOptions

    # Hotspot simulations are not exported: keep them few; seeded for repeatable files.
    kw = {} if raster_corridor_km is None else {"raster_corridor_km": raster_corridor_km}
    opts = DensityOptions(simulations=19, seed=1, **kw)
    try:
        opts.check()
    except ValidationError as exc:
        raise UsageError(str(exc)) from exc
    return opts


def _density(
    ws: Any,
    raw: Sequence[dict[str, Any]],
    sites: Layer,
    window: Any,
    precision: int,
    options: Any,
) -> _Density:
    """Density layers over *window*, from the sites as exported (coarsened when public)."""
    from dataclasses import replace

    from geotrack.analysis import analyse
    from geotrack.export.density_layers import (
        density_layers,
        raster_description,
        raster_top,
        write_raster,
    )

    shown = {f.key: f.geometry for f in sites.features}
    feats = [{**f, "geometry": shown.get(str(f.get("id")), f.get("geometry"))} for f in raw]
    result = analyse(
        feats,
        stretch=ws.stretch,
        window=window,
        window_info=ws.describe_window(window),
        towns=ws.towns,
        options=replace(options, window=window.name),
    )
    layers = density_layers(result)
    for layer in layers:
        for feat in layer.features:
            feat.geometry = round_geometry(feat.geometry, precision)

    def write(path: Path) -> tuple[float, str, str]:
        grid = result.grid()
        write_raster(
            grid,
            path,
            tags={
                "window": window.name,
                "window_from_km": window.from_km,
                "window_to_km": window.to_km,
                "n_crossings": result.summary.get("n_crossings"),
            },
        )
        return raster_top(grid), grid.units, raster_description(grid)

    k = result.kde
    note = (
        f"density layers over window {window.name} ({window.from_km:g}-{window.to_km:g} km): "
        f"{result.bins.bin_km:g} km bins; Gaussian kernel, bandwidth {k.bandwidth_km:.3g} km"
    )
    return _Density(layers, write, [note])


_TMP_PREFIX = ".geotrack-export-"
_TMP_RE = re.compile(r"^\.geotrack-export-(?P<host>[^-]+)-(?P<pid>\d+)-")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"


def _remove_stale_temp(out_dir: Path) -> None:
    """Remove temporary folders left by exports on this machine whose process has died.

    An export killed while swapping a folder output (between moving the old one aside and
    renaming the new one in) left the old one in ``.previous``: it is put back first.
    """
    host = _host()
    for entry in out_dir.iterdir():
        m = _TMP_RE.match(entry.name)
        if not m or m.group("host") != host or not entry.is_dir() or entry.is_symlink():
            continue
        try:
            os.kill(int(m.group("pid")), 0)
        except ProcessLookupError:
            previous = entry / ".previous"
            for old in previous.iterdir() if previous.is_dir() else ():
                if not os.path.lexists(out_dir / old.name):
                    log.info("restoring %s, moved aside by an export that did not finish", old.name)
                    with contextlib.suppress(OSError):
                        os.replace(old, out_dir / old.name)
            log.info("removing %s, left by an export that did not finish", entry)
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue  # alive (or not ours to signal): leave it


def _set_modes(tmp: Path, names: Sequence[str]) -> None:
    """Give the outputs the usual permissions (temporary files are created private)."""
    mask = os.umask(0)
    os.umask(mask)
    for name in names:
        top = tmp / name
        for path in [top, *(top.rglob("*") if top.is_dir() else ())]:
            os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def _commit(tmp: Path, out_dir: Path, names: Sequence[str]) -> None:
    """Move every built output into place; on failure put back what was there.

    A file replaces the previous one in one atomic rename (a reader or a crash
    sees the old file or the new one, never none); the previous file is kept
    through a hard link until every output is in place.  A folder output
    (GeoJSON) is swapped with two renames.
    """
    backup = tmp / ".previous"
    backup.mkdir()
    placed: list[tuple[Path, Path | None]] = []  # (target, previous version) now in place
    pending: tuple[Path, Path | None] | None = None
    try:
        for name in names:
            target, new = out_dir / name, tmp / name
            old: Path | None = None
            if new.is_dir():
                if os.path.lexists(target):
                    old = backup / name
                    os.replace(target, old)
            elif os.path.lexists(target) and target.is_file():
                old = backup / name
                try:
                    os.link(target, old, follow_symlinks=False)
                except OSError:
                    shutil.copy2(target, old)
            pending = (target, old)
            os.replace(new, target)
            placed.append(pending)
            pending = None
    except OSError:
        if pending is not None and pending[1] is not None and pending[1].is_dir():
            with contextlib.suppress(OSError):
                os.replace(pending[1], pending[0])  # the folder moved aside goes back
        for target, old in reversed(placed):
            with contextlib.suppress(OSError):
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)  # a folder we put there
                if old is not None:
                    os.replace(old, target)
                elif os.path.lexists(target):
                    target.unlink()
        raise
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def export_workspace(
    ws: Any,
    out_dir: str | os.PathLike[str],
    *,
    formats: str | Iterable[str] = "all",
    overwrite: bool = False,
    precision: int = 7,
    public: bool = False,
    window: str | None = None,
    name: str = "geotrack",
    csv_bom: bool = False,
    raster_corridor_km: float | None = None,
) -> ExportResult:
    """Export the workspace's layers to GIS formats in *out_dir*.

    Parameters
    ----------
    ws : Workspace
        The open workspace (:meth:`geotrack.workspace.Workspace.open`).
    out_dir : path-like
        Output folder; created if missing.
    formats : str or iterable of str
        Any of :data:`FORMATS`, or ``all``.
    overwrite : bool
        Replace outputs that exist already; without it an existing output is an error
        and nothing is written.
    precision : int
        Decimals of a degree in coordinates (7 = about 1 cm, the workspace's own).
    public : bool
        Coarsen crossing coordinates to ``min(precision, 2)`` decimals and leave out
        URLs, archive URLs, SHA-256 digests, notes and the coordinates as reported.
    window : str, optional
        The window of the river the density layers cover (default ``reported``, or the
        whole line in a workspace without that named window).
    name : str
        Stem of the output names (letters, digits, ``_``, ``-``).
    csv_bom : bool
        Start the CSV with a UTF-8 byte-order mark (for Excel).
    raster_corridor_km : float, optional
        The density raster shows only cells within this distance of the river line, km
        (nodata beyond; default :data:`geotrack.analysis.DEFAULT_CORRIDOR_KM`).

    Returns
    -------
    ExportResult

    Raises
    ------
    UsageError
        Unknown format, bad precision, a bad *raster_corridor_km*, or a name that would
        leave *out_dir*.
    StorageError
        An output exists (without *overwrite*), or *out_dir* cannot be written;
        *out_dir* is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> ws = init_workspace(tmp / "ws")
    >>> res = export_workspace(ws, tmp / "out", formats=["csv", "kml"])
    >>> res.files
    ('geotrack.kml', 'geotrack-reports.csv', 'geotrack-claims.csv')
    """
    fmts = _normalise_formats(formats)
    if (
        isinstance(precision, bool)
        or not isinstance(precision, int)
        or not (0 <= precision <= _MAX_DECIMALS)
    ):
        raise UsageError(
            f"precision={precision!r}: give a whole number of decimals from 0 to {_MAX_DECIMALS} "
            "(7 = about 1 cm, 5 = about 1 m, 2 = about 1 km)"
        )
    density_options = _density_options(raster_corridor_km)
    out_dir = Path(out_dir)
    targets = targets_for(fmts, name)
    names = [n for ns in targets.values() for n in ns]
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise StorageError(f"output folder {out_dir} is a file: choose a folder with -o DIR")
    if out_dir.is_dir():
        for n in names:
            _inside(out_dir, n)
        with contextlib.suppress(OSError):
            _remove_stale_temp(out_dir)  # first: it may put back an output a killed export moved
        existing = [n for n in names if os.path.lexists(out_dir / n)]
        if existing and not overwrite:
            raise OutputExistsError(
                f"{', '.join(str(out_dir / n) for n in existing)} exist(s) already: pass "
                "--overwrite to replace, or choose another folder with -o (nothing was written)"
            )

    # -- read and build (nothing written yet) ---------------------------------------------
    if window is None:
        window = "reported" if "reported" in ws.windows else "all"
    win = ws.window(window)
    raw = ws.read_crossings()
    sites, reports = crossing_layers(
        raw, precision=precision, public=public, public_precision=PUBLIC_DECIMALS
    )
    decimals = sites.extra["decimals"]
    claims, relays = claim_layers(ws.read_claims(), precision=precision, public=public)
    layers: list[Layer] = [sites, reports, claims, relays, *_reference(ws, precision)]
    notes: list[str] = []
    need_density = bool({"gpkg", "geojson", "kml", "kmz", "tif", "qgis"} & set(fmts))
    dens = (
        _density(ws, raw, sites, win, precision, density_options) if need_density else _Density([])
    )
    layers += dens.layers
    notes += dens.notes
    by_name = {lyr.name: lyr for lyr in layers}
    removed: list[str] = []
    coarse = None
    if public:
        lat = 41.6
        if sites.features:
            lat = sum(f.geometry["coordinates"][1] for f in sites.features) / len(sites.features)
        coarse = {k: round(v, 1) for k, v in coarsening_m(decimals, lat).items()}
        removed.append(
            f"crossing coordinates rounded to {decimals} decimals of a degree (cells of about "
            f"{coarse['cell_ns_m']:.0f} m N-S by {coarse['cell_ew_m']:.0f} m E-W; a site may be "
            f"shown up to {coarse['max_shift_m']:.0f} m from its recorded position, "
            "uncertainty_m raised to at least that)"
        )
        for lname, fields in PUBLIC_DROPPED.items():
            for fname, what in fields.items():
                removed.append(f"{lname}.{fname}: {what}")
        if dens.layers:
            removed.append("density layers computed from the coarsened coordinates")
    description = _description(ws, win, public)

    # -- write into a temporary folder, then rename into place ---------------------------------
    created = False
    try:
        if not out_dir.exists():
            out_dir.mkdir(parents=True)
            created = True
        for n in names:
            _inside(out_dir, n)
        _remove_stale_temp(out_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{_host()}-{os.getpid()}-", dir=out_dir))
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise StorageError(
            f"cannot write to output folder {out_dir}: {exc.strerror or exc}; choose a writable "
            "folder with -o (nothing was written)"
        ) from exc
    try:
        vmax = None
        raster_text = ""
        for fmt in fmts:
            files = targets[fmt]
            if fmt == "gpkg":
                from geotrack.export.gpkg import write_gpkg

                write_gpkg(tmp / files[0], layers)
            elif fmt == "geojson":
                from geotrack.export.geojson_out import write_geojson

                folder = tmp / files[0]
                folder.mkdir()
                write_geojson(
                    folder,
                    layers,
                    extra={
                        "crossings": _nested(reports, "site_id", "reports"),
                        "claims": _nested(relays, "claim_id", "relays"),
                    },
                )
            elif fmt in ("kml", "kmz"):
                from geotrack.export.kml import write_kml, write_kmz

                kw = {"description": description, "decimals": precision}
                if fmt == "kml":
                    write_kml(tmp / files[0], by_name, **kw)
                else:  # one document for both: the KMZ compresses the KML written just before
                    kml = tmp / targets["kml"][0] if "kml" in targets else None
                    write_kmz(tmp / files[0], by_name, kml_file=kml, **kw)
            elif fmt == "csv":
                from geotrack.export.csv_out import write_csv

                write_csv(tmp / files[0], sites, reports, bom=csv_bom)
                write_csv(
                    tmp / files[1], claims, relays, bom=csv_bom, link="claim_id", prefix="relay_"
                )
            elif fmt == "tif":
                from geotrack.export.qml import raster_qml

                vmax, label, raster_text = dens.write_raster(tmp / files[0])
                notes.append(f"{files[0]}: {raster_text}")
                (tmp / files[1]).write_text(raster_qml(vmax=vmax, label=label), encoding="utf-8")
            elif fmt == "qgis":
                from geotrack.export.qgis_project import write_qgis_project

                write_qgis_project(
                    tmp / files[0],
                    gpkg_name=targets["gpkg"][0],
                    layers=layers,
                    raster_name=targets["tif"][0] if "tif" in targets else None,
                    raster_vmax=vmax,
                    raster_description=raster_text,
                    extent_m=_extent_m(ws),
                    title=f"geotrack: reported crossings ({win.name} window)",
                    abstract=description,
                )
        _set_modes(tmp, names)
        _commit(tmp, out_dir, names)
    except GeotrackError:
        raise
    except OSError as exc:
        raise StorageError(
            f"could not write the export to {out_dir}: {exc.strerror or exc}; nothing was "
            "written (free disk space or fix permissions and try again)"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only succeeds if nothing was committed
    counts = {lyr.name: len(lyr.features) for lyr in layers}
    return ExportResult(
        out_dir=out_dir,
        files=tuple(names),
        formats=fmts,
        counts=counts,
        decimals=decimals,
        public=public,
        removed=tuple(removed),
        notes=tuple(notes),
        window=ws.describe_window(win),
        coarsening_m=coarse,
        raster_corridor_km=density_options.raster_corridor_km if "tif" in targets else None,
    )


def _nested(table: Layer, link: str, name: str) -> dict[str, dict[str, Any]]:
    """The rows of a related *table* as a list *name* per parent key (*link* names it)."""
    out: dict[str, dict[str, Any]] = {}
    for rep in sorted(table.features, key=lambda f: f.fid):
        props = {k: iso(v) for k, v in rep.properties.items() if k != link}
        if isinstance(props.get("extra"), str):  # an object again, as the layer holds it
            props["extra"] = orjson.loads(props["extra"])
        out.setdefault(rep.properties[link], {name: []})[name].append(props)
    return out


def _extent_m(ws: Any) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = ws.stretch.line_m.bounds
    pad = 0.05 * max(xmax - xmin, ymax - ymin)
    return (xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def _description(ws: Any, win: Any, public: bool) -> str:
    lines = [
        "Reported crossings of the Yalu (Amnok) between Baishan (China) and Ryanggang "
        "(North Korea), exported by geotrack.",
        f"Density window: {win.name}, chainage {win.from_km:g}-{win.to_km:g} km along the "
        "stretch (EPSG:32652).",
    ]
    if public:
        lines.append(
            f"Public export: crossing coordinates rounded to {PUBLIC_DECIMALS} decimals; source "
            "URLs, archive URLs, digests and notes left out."
        )
    lines += list(ws.attribution())
    return "\n".join(lines)
