"""CSV (any of ``,`` ``;`` tab) into candidate records: lon/lat, X/Y or WKT columns.

The location comes from, in this order: the columns named by ``lon_column``
and ``lat_column``; columns called ``lon``/``lat`` (or ``longitude``, ``lng``,
``x``, ``geom_x``... in any case); a WKT column (``wkt``, ``geom_wkt``,
``geometry``, ``the_geom``: ``POINT (127.2 41.5)``, as GDAL writes with
``GEOMETRY=AS_WKT``).  In a file separated by ``;`` numbers may use a decimal
comma.  Coordinates may be degrees-minutes-seconds (``41°24'36"N``).  In
geotrack's own reports CSV (it has ``n_reports``, ``report_id`` and ``first_seen``
columns) the ``'`` its exporter puts before a text that starts like a formula
(``=``, ``+``, ``-``, ``@``...) is taken off again.
"""

from __future__ import annotations

__all__ = ["LAT_NAMES", "LON_NAMES", "WKT_NAMES", "from_csv", "from_table", "normalize_name"]

import csv
import io
import re
from typing import Any

from geotrack.errors import ImportFileError, Problem
from geotrack.escape import FORMULA_PREFIXES
from geotrack.importers._read import decode_text
from geotrack.importers._types import Candidates
from geotrack.importers.values import parse_coordinate

LON_NAMES = ("lon", "longitude", "lng", "long", "x", "geom_x", "location_lon", "location.lon")
LAT_NAMES = ("lat", "latitude", "y", "geom_y", "location_lat", "location.lat")
WKT_NAMES = ("wkt", "geom_wkt", "geometry", "the_geom", "geom")
#: Columns that place a site from words instead of a coordinate (see geotrack.placement).
_WHERE_NAMES = {"at", "near", "km_from", "reach", "county"}
_WKT_POINT = re.compile(
    r"^\s*(?:SRID=4326;)?\s*(MULTI)?POINT\s*(?:Z|M|ZM)?\s*\(\s*\(?\s*"
    r"([-+0-9.eE]+)\s+([-+0-9.eE]+)(?:\s+[-+0-9.eE]+){0,2}\s*\)?\s*\)\s*$",
    re.IGNORECASE,
)


def normalize_name(name: str) -> str:
    """A column name as geotrack matches it: stripped, lower case, ``-`` and spaces as ``_``.

    Examples
    --------
    >>> normalize_name(" Event-Start "), normalize_name("Location Precision")
    ('event_start', 'location_precision')
    """
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def _delimiter(text: str, lon_names: set[str], lat_names: set[str]) -> str:
    """The separator that splits the header into lon and lat columns (``,`` ``;`` or tab).

    Only the separator is guessed; quoting stays the standard one (``"`` doubled
    inside a quoted cell): :class:`csv.Sniffer` also guesses quoting, and gets it
    wrong for a semicolon file whose cells hold doubled quotes.
    """
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]  # any line end (old Macs: \r)
    wkt = set(WKT_NAMES)
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:  # e.g. a quoted header cell that spans lines
            cells = []
        cols = {normalize_name(c) for c in cells}
        if (cols & lon_names and cols & lat_names) or (len(cells) > 1 and cols & wkt):
            return delimiter
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _find(cols: list[str], wanted: tuple[str, ...] | list[str]) -> int | None:
    for name in wanted:
        if name in cols:
            return cols.index(name)
    return None


def from_csv(
    data: bytes,
    what: str,
    encoding: str | None,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> Candidates:
    """Rows of a CSV as candidate records (other columns keep their names as written).

    Examples
    --------
    >>> c = from_csv(b"Longitude;Latitude;Kind\\n127,5;41,5;ford\\n", "input", None)
    >>> c.records, c.decimal_comma
    ([{'lon': 127.5, 'lat': 41.5, 'Kind': 'ford'}], True)
    >>> from_csv(b"WKT,kind\\n\\"POINT (127.5 41.5)\\",ford\\n", "input", None).records
    [{'lon': 127.5, 'lat': 41.5, 'kind': 'ford'}]
    """
    text = decode_text(data, what, encoding)
    if "\x00" in text:
        raise ImportFileError(f"{what} holds NUL bytes: it is not a text CSV (wrong --encoding?)")
    lon_names = [normalize_name(lon_column)] if lon_column else list(LON_NAMES)
    lat_names = [normalize_name(lat_column)] if lat_column else list(LAT_NAMES)
    delimiter = _delimiter(text, set(lon_names), set(lat_names))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            f"{what} is empty: a CSV needs a header row with lon and lat"
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"{what}: line 1: {exc}") from None
    cols = [normalize_name(h) for h in header]
    names = [h.strip() for h in header]
    lon_i, lat_i = _find(cols, lon_names), _find(cols, lat_names)
    wkt_i = None
    words = not (lon_column or lat_column) and bool(set(cols) & _WHERE_NAMES)
    if (lon_i is None or lat_i is None) and not words:
        wkt_i = _find(cols, WKT_NAMES) if not (lon_column or lat_column) else None
        if wkt_i is None:
            wanted = (
                f"the columns {lon_column or lat_column!r} named by --lon-column/--lat-column"
                if lon_column or lat_column
                else "lon and lat columns (or longitude/latitude, X/Y, or a WKT column; or "
                "columns that place sites from words: at, near, km_from, reach, county); name "
                "others with --lon-column and --lat-column"
            )
            raise ImportFileError(f"{what}: header={header!r}: a CSV needs {wanted}")
    comma = delimiter == ";"
    out = Candidates([], [], "csv", decimal_comma=comma)
    # geotrack's reports CSV prefixes ' to a text that starts like a formula: take it off
    ours = {"n_reports", "report_id", "first_seen"} <= set(cols)
    try:
        for line_no, values in enumerate(reader, 2):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(cols):
                raise ImportFileError(
                    f"{what}: row {line_no} has {len(values)} cells for {len(cols)} columns: "
                    "check quoting and separators"
                )
            row = f"row {line_no}"
            rec: dict[str, Any] = {}
            if wkt_i is None:
                for key, i in (("lon", lon_i), ("lat", lat_i)):
                    if i is not None and values[i] != "":
                        rec[key] = parse_coordinate(values[i], key, decimal_comma=comma)
            else:
                m = _WKT_POINT.match(values[wkt_i])
                if m:
                    rec["lon"], rec["lat"] = float(m.group(2)), float(m.group(3))
                elif values[wkt_i].strip().upper().endswith("EMPTY") or not values[wkt_i].strip():
                    out.problems.append(
                        Problem(header[wkt_i], values[wkt_i], "has no location", row)
                    )
                else:
                    out.problems.append(
                        Problem(
                            header[wkt_i],
                            values[wkt_i][:60],
                            "is not a WKT POINT (lon lat): crossings are points",
                            row,
                        )
                    )
            for i, (name, value) in enumerate(zip(names, values, strict=True)):
                if i in (lon_i, lat_i, wkt_i) or value == "":
                    continue
                if ours and value[:1] == "'" and value[1:].startswith(FORMULA_PREFIXES):
                    value = value[1:]
                rec[name] = value
            out.records.append(rec)
            out.rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"{what}: line {reader.line_num}: {exc}") from None
    return out


def from_table(data: bytes, what: str, encoding: str | None) -> Candidates:
    """Rows of a CSV that is not a crossings file (claims): column name -> cell text.

    Column names are stripped and lower-cased; empty cells are left out.  The
    same encodings and separators as :func:`from_csv`.

    Examples
    --------
    >>> from_table(b"claim_id;count\\nC1;32\\n", "input", None).records
    [{'claim_id': 'C1', 'count': '32'}]
    """
    text = decode_text(data, what, encoding)
    if "\x00" in text:
        raise ImportFileError(f"{what} holds NUL bytes: it is not a text CSV (wrong --encoding?)")
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = Candidates([], [], "csv")
    try:
        try:
            cols = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise ImportFileError(f"{what} is empty: a CSV needs a header row") from None
        for line_no, values in enumerate(reader, 2):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(cols):
                raise ImportFileError(
                    f"{what}: row {line_no} has {len(values)} cells for {len(cols)} columns: "
                    "check quoting and separators"
                )
            out.records.append({c: v for c, v in zip(cols, values, strict=True) if v != ""})
            out.rows.append(f"row {line_no}")
    except csv.Error as exc:
        raise ImportFileError(f"{what}: line {reader.line_num}: {exc}") from None
    return out
