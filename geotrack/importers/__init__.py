"""Reading crossings from files: GeoJSON, CSV, KML/KMZ and GeoPackage into candidate records.

Files are untrusted.  Every reader enforces a size limit before reading,
parses XML with :mod:`defusedxml` (no external entities, no entity expansion),
opens KMZ archives without extracting them (member names with ``..`` or a
leading ``/`` and archives that inflate past the limit are refused) and
rejects GeoJSON nested deeper than a GeoJSON layer ever is.

Reading gives :class:`Candidates` (records keyed as the file names them);
:func:`~geotrack.importers.prepare.prepare_crossings` maps their columns to
fields (:mod:`geotrack.importers.fields`, reusable by other layers' imports)
and applies the id policy; :func:`geotrack.records.import_crossings` then
validates them all before anything is written.
"""

from __future__ import annotations

__all__ = [
    "MAX_INPUT_BYTES",
    "Candidates",
    "read_candidates",
    "read_crossings",
    "read_table",
]

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from geotrack.errors import ImportFileError
from geotrack.importers._read import MAX_INPUT_BYTES, guess_format, read_source
from geotrack.importers._types import Candidates

if TYPE_CHECKING:
    from geotrack.importers.prepare import Prepared
    from geotrack.importers.presets import Preset


def read_candidates(
    source: str | Path | BinaryIO,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    limit: int = MAX_INPUT_BYTES,
    lon_column: str | None = None,
    lat_column: str | None = None,
    points_only: bool = False,
) -> Candidates:
    """Read crossing records from a file path, ``-`` (stdin, pass the stream) or a stream.

    Parameters
    ----------
    source : path or binary stream
        The input.
    fmt : {'geojson', 'csv', 'kml', 'kmz', 'gpkg'}, optional
        Format; guessed from the file name or content when omitted.
    encoding : str, optional
        Text encoding of a CSV that is not UTF-8 (e.g. ``latin-1``); UTF-8 and
        UTF-16 with a byte-order mark are recognised by themselves.
    limit : int
        Refuse inputs larger than this many bytes.
    lon_column, lat_column : str, optional
        The CSV columns holding the location (any case), when not called lon/lat.
    points_only : bool
        Skip features that are not points (counted in ``skipped``) instead of
        refusing the file.

    Raises
    ------
    ImportFileError
        The file cannot be read, is too large, hostile or malformed.

    Examples
    --------
    >>> import io
    >>> c = read_candidates(io.BytesIO(b"lon,lat,kind\\n127.5,41.5,ford\\n"), fmt="csv")
    >>> c.records, c.rows
    ([{'lon': 127.5, 'lat': 41.5, 'kind': 'ford'}], ['row 2'])
    """
    data, name = read_source(source, limit)
    what = name or "input"
    fmt = (fmt or guess_format(name, data)).lower()
    if fmt in ("geojson", "json", "geojsonseq"):
        from geotrack.importers.geojson_in import from_geojson

        return from_geojson(data, what, points_only=points_only)
    if fmt == "csv":
        from geotrack.importers.csv_in import from_csv

        return from_csv(data, what, encoding, lon_column=lon_column, lat_column=lat_column)
    if fmt in ("kml", "kmz"):
        from geotrack.importers import kml_in

        if fmt == "kmz":
            return kml_in.from_kmz(data, what, limit, points_only=points_only)
        return kml_in.from_kml(data, what, points_only=points_only)
    if fmt == "gpkg":
        from geotrack.importers.gpkg_in import from_gpkg

        return from_gpkg(data, what, points_only=points_only)
    raise ImportFileError(f"format={fmt!r} is not supported: use geojson, csv, kml, kmz or gpkg")


def read_table(
    source: str | Path | BinaryIO, *, encoding: str | None = None, limit: int = MAX_INPUT_BYTES
) -> Candidates:
    """Rows of a CSV that is not a crossings file (claims): column name -> cell text.

    Column names are stripped and lower-cased; empty cells are left out.  The
    same limits, encodings and separators as :func:`read_candidates`.

    Raises
    ------
    ImportFileError
        The file cannot be read, is too large, empty or malformed.

    Examples
    --------
    >>> import io
    >>> read_table(io.BytesIO(b"claim_id,count\\nC1,32\\n")).records
    [{'claim_id': 'C1', 'count': '32'}]
    """
    from geotrack.importers.csv_in import from_table

    data, name = read_source(source, limit)
    return from_table(data, name or "input", encoding)


def read_crossings(
    source: str | Path | BinaryIO,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
    extra: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    preset: Preset | None = None,
    new_ids: bool = False,
    lon_column: str | None = None,
    lat_column: str | None = None,
    points_only: bool = False,
    limit: int = MAX_INPUT_BYTES,
) -> Prepared:
    """Read a file into crossing records ready for :func:`geotrack.records.merge_crossings`.

    :func:`read_candidates`, then
    :func:`~geotrack.importers.prepare.prepare_crossings` with the column
    *mapping* (over the *preset*'s), the *extra* policy (``keep`` unless the
    preset or the caller says otherwise) and the *defaults* (over the preset's).

    Examples
    --------
    >>> import io
    >>> p = read_crossings(io.BytesIO(b"Longitude,Latitude,Type,Who\\n127.5,41.5,ford,NK News\\n"),
    ...                    mapping={"Who": "source"})
    >>> p.records, p.summary["mapped"]["Type"]
    ([{'lon': 127.5, 'lat': 41.5, 'kind': 'ford', 'source_name': 'NK News'}], 'kind')
    """
    from geotrack.importers.fields import ColumnMapper
    from geotrack.importers.prepare import CROSSING_FIELDS, prepare_crossings

    col_map = {**(preset.map if preset else {}), **(mapping or {})}
    fill = {**(preset.set if preset else {}), **(defaults or {})}
    policy = extra or (preset.extra if preset and preset.extra else "keep")
    mapper = ColumnMapper(CROSSING_FIELDS, col_map, extra=policy, reserved=("reports",))
    for column, target in mapper.mapping.items():
        if target == "lon":
            lon_column = lon_column or column
        elif target == "lat":
            lat_column = lat_column or column
    cands = read_candidates(
        source,
        fmt=fmt,
        encoding=encoding,
        limit=limit,
        lon_column=lon_column,
        lat_column=lat_column,
        points_only=points_only,
    )
    return prepare_crossings(
        cands,
        mapper,
        defaults=fill,
        values=preset.values if preset else None,
        date_formats=preset.date_formats if preset else (),
        new_ids=new_ids,
    )
