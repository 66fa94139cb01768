"""GeoPackage (a geotrack export, or any point layer) through GDAL (pyogrio).

A geotrack GeoPackage holds a ``crossings`` point layer and a ``reports``
table (``reports.site_id`` = ``crossings.id``): each crossing is read with its
reports nested, so that it imports back as it was exported.  Any other
GeoPackage is read from its first point layer, one record per feature.
"""

from __future__ import annotations

__all__ = ["from_gpkg"]

import math
import os
import tempfile
from datetime import date, datetime
from typing import Any

from geotrack.errors import ImportFileError
from geotrack.importers._types import Candidates
from geotrack.importers.geojson_in import point_of


def _plain(value: Any) -> Any:
    """A GDAL value as JSON would carry it (dates as ISO text, NaN and NaT as None)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _read(path: str, layer: str, what: str) -> tuple[list[dict[str, Any]], list[Any]]:
    import pyogrio

    try:
        meta, _, geometry, fields = pyogrio.raw.read(path, layer=layer, datetime_as_string=True)
    except Exception as exc:  # pyogrio raises several DataSourceError/FieldError classes
        raise ImportFileError(f"{what}: layer {layer!r} cannot be read by GDAL: {exc}") from None
    names = list(meta["fields"])
    rows = [
        {n: _plain(col[i]) for n, col in zip(names, fields, strict=True)}
        for i in range(len(fields[0]) if fields else (len(geometry) if geometry is not None else 0))
    ]
    return rows, list(geometry) if geometry is not None else [None] * len(rows)


def from_gpkg(data: bytes, what: str, *, points_only: bool = False) -> Candidates:
    """The crossings (with their reports) or the first point layer of a GeoPackage.

    Examples
    --------
    >>> from_gpkg(b"not sqlite", "input")
    Traceback (most recent call last):
    ...
    geotrack.errors.ImportFileError: input is not a GeoPackage GDAL can open: ...
    """
    import pyogrio
    import shapely

    fd, path = tempfile.mkstemp(suffix=".gpkg")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            layers = {str(n): str(g) for n, g in pyogrio.list_layers(path)}
        except Exception as exc:
            raise ImportFileError(f"{what} is not a GeoPackage GDAL can open: {exc}") from None
        if "crossings" in layers:
            name = "crossings"
        else:
            name = next((n for n, g in layers.items() if g in ("Point", "MultiPoint")), None)
            if name is None:
                raise ImportFileError(
                    f"{what}: no point layer (layers: {', '.join(f'{n} ({g})' for n, g in layers.items()) or 'none'}): crossings are points"
                )
        feats, geoms = _read(path, name, what)
        nested: dict[str, list[dict[str, Any]]] = {}
        if name == "crossings" and "reports" in layers:
            reports, _ = _read(path, "reports", what)
            for rep in reports:
                site = rep.pop("site_id", None)
                rep.pop("fid", None)
                nested.setdefault(str(site), []).append(rep)
    finally:
        os.unlink(path)
    out = Candidates([], [], "gpkg")
    for i, (props, wkb) in enumerate(zip(feats, geoms, strict=True), 1):
        geom = shapely.geometry.mapping(shapely.from_wkb(wkb)) if wkb is not None else None
        label = f"{name} feature {i}" + (f" ({props['id']})" if props.get("id") else "")
        where = point_of(geom) if geom is None or not shapely.from_wkb(wkb).is_empty else None
        if where is None:
            where = "has no location (an empty geometry)"
        if isinstance(where, str):
            kind = geom.get("type") if geom else None
            if points_only and kind not in (None, "Point", "MultiPoint"):
                out.skipped[str(kind)] = out.skipped.get(str(kind), 0) + 1
                continue
            raise ImportFileError(f"{what}: {label}: {where}")
        rec = {k: v for k, v in props.items() if v is not None}
        if nested:
            rec["reports"] = [
                {k: v for k, v in r.items() if v is not None}
                for r in nested.get(str(props.get("id")), [])
            ]
        rec["lon"], rec["lat"] = where
        out.records.append(rec)
        out.rows.append(label)
    return out
