"""GeoPackage export: every layer in one file, typed, styled and with coded domains.

Each layer is written in one bulk call (pyogrio through Arrow) from its explicit
schema (every column typed: text, int32, float64, bool, date, UTC timestamp), the
``layer_styles`` table with fiona, then finished with SQL on the GeoPackage's own
metadata tables:

- GeoPackage 1.2 (``VERSION=1.2``: QGIS 3.22's GDAL warns on 1.4);
- each layer with its identifier and description (``gpkg_contents``), a stable
  FID (crossing ``YLU-0042`` is FID 42), a spatial index (``rtree_*``), dates as
  DATE and times as timezone-aware DATETIME (``...Z``), coordinates in EPSG:4326;
- coded values (kind, status, location precision, datum, source type, date
  precision, Admiralty reliability and credibility, verification) as GeoPackage
  ``enum`` data column constraints (the schema extension), which GDAL reads as
  coded field domains and QGIS shows as value maps;
- a ``layer_styles`` table with one default QML style per layer, in the form QGIS
  3.22 loads: ``f_table_catalog`` and ``f_table_schema`` ``''`` (not NULL),
  ``f_table_name`` the layer name, ``f_geometry_column`` ``geom`` (``''`` for the
  reports table, which has no geometry), ``useAsDefault`` 1.

Text is stored exactly, except NUL characters (GDAL cuts text at them), which
become U+FFFD.
"""

from __future__ import annotations

__all__ = ["GEOMETRY_COLUMN", "write_gpkg"]

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geotrack.errors import StorageError
from geotrack.export._model import DOMAINS, Layer, replace_nul
from geotrack.export.qml import layer_qml

#: Name of the geometry column GDAL writes (and ``layer_styles`` must name).
GEOMETRY_COLUMN = "geom"
_STYLE_SCHEMA = {
    "geometry": "None",
    "properties": {
        "f_table_catalog": "str:256",
        "f_table_schema": "str:256",
        "f_table_name": "str:256",
        "f_geometry_column": "str:256",
        "styleName": "str:30",
        "styleQML": "str",
        "styleSLD": "str",
        "useAsDefault": "bool",
        "description": "str",
        "owner": "str:30",
        "ui": "str:30",
        "update_time": "datetime",
    },
}
_SCHEMA_EXT = "http://www.geopackage.org/spec/#extension_schema"


_ARROW_TYPES = {
    "str": "string",
    "int": "int32",
    "float": "float64",
    "bool": "bool_",
    "date": "date32",
    "datetime": "timestamp",
}


def _column(name: str, kind: str, feats: Sequence[Any]):
    import pyarrow as pa

    values = [f.properties.get(name) for f in feats]
    if kind == "str":
        values = [replace_nul(v) if isinstance(v, str) else v for v in values]
    elif kind == "float":
        values = [None if v is None else float(v) for v in values]
    if kind == "datetime":
        return pa.array(values, pa.timestamp("ms", tz="UTC"))
    return pa.array(values, getattr(pa, _ARROW_TYPES[kind])())


def _wkb(layer: Layer, feats: Sequence[Any]):
    import pyarrow as pa
    import shapely
    from shapely.geometry import shape

    if layer.geometry_type == "Point" and all(f.geometry for f in feats):
        coords = [f.geometry["coordinates"][:2] for f in feats]
        geoms = shapely.points(coords) if coords else []
    else:
        geoms = [shape(f.geometry) if f.geometry else None for f in feats]
    return pa.array(shapely.to_wkb(geoms) if len(geoms) else [], pa.binary())


def _write_layer(path: Path, layer: Layer, *, first: bool) -> None:
    """One layer in one bulk write (pyogrio through Arrow), its schema given column by column."""
    import pyarrow as pa
    from pyogrio.raw import write_arrow

    feats = sorted(layer.features, key=lambda f: f.fid)
    # "fid" as a regular column: GDAL uses its value as the FID (primary key).
    columns = {"fid": pa.array([int(f.fid) for f in feats], pa.int64())}
    for f in layer.fields:
        columns[f.name] = _column(f.name, f.type, feats)
    options: dict[str, Any] = {
        "IDENTIFIER": layer.title,
        "DESCRIPTION": layer.description,
        "FID": "fid",
    }
    geometry: dict[str, Any] = {}
    if layer.geometry_type:
        columns[GEOMETRY_COLUMN] = _wkb(layer, feats)
        options["GEOMETRY_NAME"] = GEOMETRY_COLUMN
        options["SPATIAL_INDEX"] = "YES"
        geometry = {
            "geometry_name": GEOMETRY_COLUMN,
            "geometry_type": layer.geometry_type,
            "crs": "EPSG:4326",
        }
    write_arrow(
        pa.table(columns),
        str(path),
        layer=layer.name,
        driver="GPKG",
        append=not first,
        dataset_options={"VERSION": "1.2"} if first else None,
        layer_options=options,
        **geometry,
    )


def _write_styles(path: Path, layers: Sequence[Layer]) -> None:
    import fiona
    from fiona.model import Feature, Properties

    now = datetime.now(UTC).replace(microsecond=0)
    with fiona.open(
        path,
        "w",
        driver="GPKG",
        layer="layer_styles",
        schema=_STYLE_SCHEMA,
        IDENTIFIER="layer_styles",
        DESCRIPTION="QGIS default styles of the layers of this GeoPackage (written by geotrack)",
    ) as sink:
        sink.writerecords(
            [
                Feature(
                    properties=Properties(
                        f_table_catalog="",
                        f_table_schema="",
                        f_table_name=layer.name,
                        f_geometry_column=GEOMETRY_COLUMN if layer.geometry_type else "",
                        styleName=layer.name,
                        styleQML=layer_qml(layer),
                        styleSLD="",
                        useAsDefault=True,
                        description=f"geotrack default style: {layer.title}",
                        owner="",
                        ui=None,
                        update_time=now,
                    )
                )
                for layer in layers
            ]
        )


def _write_domains(con: sqlite3.Connection, layers: Sequence[Layer]) -> None:
    con.executescript(
        """
        CREATE TABLE IF NOT EXISTS gpkg_data_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
            description TEXT, mime_type TEXT, constraint_name TEXT,
            CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
            CONSTRAINT gdc_tn UNIQUE (table_name, name));
        CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
            constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT,
            min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN,
            description TEXT,
            CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
        """
    )
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        con.execute(
            "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, "
            "definition, scope) SELECT ?, NULL, 'gpkg_schema', ?, 'read-write' WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = "
            "'gpkg_schema')",
            (table, _SCHEMA_EXT, table),
        )
    used = sorted({f.domain for lyr in layers for f in lyr.fields if f.domain})
    for name in used:
        dom = DOMAINS[name]
        con.executemany(
            "INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, "
            "description) VALUES (?, 'enum', ?, ?)",
            [(dom.name, str(code), label) for code, label in dom.codes.items()],
        )
    for lyr in layers:
        seen: set[str] = set()
        for f in lyr.fields:
            title = f.alias if f.alias not in seen else f"{f.alias} ({f.name})"
            seen.add(title)
            desc = DOMAINS[f.domain].description if f.domain else f.alias
            con.execute(
                "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, "
                "description, mime_type, constraint_name) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (lyr.name, f.name, title, title, desc, f.domain),
            )


def write_gpkg(path: str | os.PathLike[str], layers: Sequence[Layer]) -> Path:
    """Write *layers* to a new GeoPackage at *path* with styles and coded domains.

    Parameters
    ----------
    path : path-like
        A file that must not exist yet (the caller writes into a temporary
        folder and renames; see :func:`geotrack.export.api.export_workspace`).
    layers : sequence of Layer
        In the order they should be listed.

    Returns
    -------
    Path
        *path*.

    Raises
    ------
    StorageError
        *path* exists, or GDAL or SQLite failed to write it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.export._model import reference_layer
    >>> towns = reference_layer("towns", [{"type": "Feature", "properties": {"name": "Hyesan",
    ...     "country": "KP"}, "geometry": {"type": "Point", "coordinates": [128.18, 41.40]}}],
    ...     precision=5)
    >>> p = write_gpkg(pathlib.Path(tempfile.mkdtemp()) / "t.gpkg", [towns])
    >>> import fiona; fiona.listlayers(p)
    ['towns', 'layer_styles']
    """
    path = Path(path)
    if path.exists():
        raise StorageError(f"{path} exists already: write to a new file")
    try:
        for i, layer in enumerate(layers):
            _write_layer(path, layer, first=i == 0)
        _write_styles(path, layers)
        with contextlib.closing(sqlite3.connect(path)) as con, con:
            _write_domains(con, layers)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(
            f"could not write GeoPackage {path}: {_reason(exc, path.parent)}"
        ) from exc
    except Exception as exc:  # fiona's DriverError / CPLE errors, "GDAL Error: ..." RuntimeErrors
        if type(exc).__module__.startswith(("fiona", "pyogrio")) or str(exc).startswith(
            "GDAL Error"
        ):
            raise StorageError(
                f"could not write GeoPackage {path}: {_reason(exc, path.parent)}"
            ) from exc
        raise
    return path


def _reason(exc: Exception, folder: Path) -> str:
    """What went wrong, in a line: GDAL quotes whole SQL statements and records.

    On a full disk SQLite may fail on a later statement with a misleading message ("no
    such table"), so a folder with less than 1 MiB free is named as the reason.
    """
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(folder).free
        if free < 1 << 20:
            return f"No space left on device ({free} bytes free; GDAL said: {str(exc)[:120]}…)"
    text = str(exc)
    if len(text) > 300 and " failed: " in text:
        text = text.rsplit(" failed: ", 1)[1]
    return text if len(text) <= 300 else text[:300] + "…"
