"""Reading crossings from files: GeoJSON, CSV and KML/KMZ into candidate records.

Files are untrusted.  Every reader enforces a size limit before reading,
parses XML with :mod:`defusedxml` (no external entities, no entity expansion),
opens KMZ archives without extracting them (member names with ``..`` or a
leading ``/`` and archives that inflate past the limit are refused) and
rejects GeoJSON nested deeper than a GeoJSON layer ever is.  The records
returned are plain dicts for :func:`geotrack.records.import_crossings`, which
validates them all before anything is written.
"""

from __future__ import annotations

__all__ = ["MAX_INPUT_BYTES", "Candidates", "read_candidates", "read_table"]

import codecs
import csv
import io
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from geotrack.crs import to_wgs84
from geotrack.errors import ImportFileError
from geotrack.geojson import parse_features

#: The largest input read (bytes, after decompression for KMZ).
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: The most elements one KML Placemark may hold (a real one has a few dozen).
MAX_KML_PLACEMARK_ELEMENTS = 10_000
#: The most elements a KML document may hold (parsing costs ~2 µs each: this bounds it to
#: seconds; 100,000 real placemarks hold about 2 million).
MAX_KML_ELEMENTS = 5_000_000
_KML_NS = "{http://www.opengis.net/kml/2.2}"
_LON_NAMES = ("lon", "longitude", "lng", "long", "x")
_LAT_NAMES = ("lat", "latitude", "y")


@dataclass(frozen=True)
class Candidates:
    """Records read from a file, each with a label for messages."""

    records: list[dict[str, Any]]
    rows: list[str]
    format: str


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _read_limited(stream: BinaryIO, limit: int, what: str) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise ImportFileError(
                f"{what} is larger than {_size(limit)}: split it into smaller files "
                "(nothing was imported)"
            )
        chunks.append(chunk)


def _regular_file_size(stream: BinaryIO) -> int | None:
    """The size of *stream* when it is a regular file (a pipe or socket has none)."""
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_candidates(
    source: str | Path | BinaryIO,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    limit: int = MAX_INPUT_BYTES,
) -> Candidates:
    """Read crossing records from a file path, ``-`` (stdin, pass the stream) or a stream.

    Parameters
    ----------
    source : path or binary stream
        The input.
    fmt : {'geojson', 'csv', 'kml', 'kmz'}, optional
        Format; guessed from the file name or content when omitted.
    encoding : str, optional
        Text encoding of a CSV that is not UTF-8 (e.g. ``latin-1``); UTF-8 and
        UTF-16 with a byte-order mark are recognised by themselves.
    limit : int
        Refuse inputs larger than this many bytes.

    Raises
    ------
    ImportFileError
        The file cannot be read, is too large, hostile or malformed.

    Examples
    --------
    >>> c = read_candidates(io.BytesIO(b"lon,lat,kind\\n127.5,41.5,ford\\n"), fmt="csv")
    >>> c.records, c.rows
    ([{'lon': '127.5', 'lat': '41.5', 'kind': 'ford'}], ['row 2'])
    """
    data, name = _read_source(source, limit)
    what = name or "input"
    fmt = (fmt or _guess_format(name, data)).lower()
    if fmt in ("geojson", "json", "geojsonseq"):
        return _from_geojson(data, what)
    if fmt == "csv":
        return _from_csv(data, what, encoding)
    if fmt == "kml":
        return _from_kml(data, what)
    if fmt == "kmz":
        return _from_kml(_unzip_kml(data, what, limit), what)
    raise ImportFileError(f"format={fmt!r} is not supported: use geojson, csv, kml or kmz")


def _read_source(source: str | Path | BinaryIO, limit: int) -> tuple[bytes, str | None]:
    """The bytes of a path or stream (at most *limit*) and its name for messages."""
    name = getattr(source, "name", None) if not isinstance(source, (str, Path)) else str(source)
    what = name or "input"
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > limit:
                raise ImportFileError(
                    f"{path} is {_size(size)}, over the {_size(limit)} limit: split it into "
                    "smaller files (nothing was imported)"
                )
            with path.open("rb") as fh:
                data = _read_limited(fh, limit, what)
        except FileNotFoundError:
            raise ImportFileError(f"file={str(path)!r} does not exist") from None
        except IsADirectoryError:
            raise ImportFileError(f"file={str(path)!r} is a folder, not a file") from None
        except PermissionError:
            raise ImportFileError(f"file={str(path)!r} cannot be read: permission denied") from None
    else:
        size = _regular_file_size(source)
        if size is not None and size > limit:  # an opened file (the CLI's): refuse before reading
            raise ImportFileError(
                f"{what} is {_size(size)}, over the {_size(limit)} limit: split it into "
                "smaller files (nothing was imported)"
            )
        data = _read_limited(source, limit, what)
    return data, name


def _guess_format(name: str | None, data: bytes) -> str:
    suffix = Path(name).suffix.lower().lstrip(".") if name else ""
    if suffix in ("geojson", "json", "geojsonl", "geojsons", "ndjson"):
        return "geojson"
    if suffix in ("csv", "txt", "tsv"):
        return "csv"
    if suffix in ("kml", "kmz"):
        return suffix
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n\x1e")
    if data[:2] == b"PK":
        return "kmz"
    if head.startswith((b"{", b"[")):
        return "geojson"
    if head.startswith(b"<"):
        return "kml"
    return "csv"


def _from_geojson(data: bytes, what: str) -> Candidates:
    records, rows = [], []
    for i, feat in enumerate(parse_features(data, what=what), 1):
        label = f"feature {i}" + (f" ({feat['id']})" if isinstance(feat.get("id"), str) else "")
        geom = feat.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            kind = geom.get("type") if isinstance(geom, dict) else None
            raise ImportFileError(
                f"{what}: {label}: geometry={kind!r}: crossings are Points; convert lines or "
                "polygons to a point (e.g. their centroid) first"
            )
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise ImportFileError(f"{what}: {label}: a Point needs [longitude, latitude]")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise ImportFileError(f"{what}: {label}: properties must be an object")
        rec = {k: v for k, v in props.items() if k not in ("lon", "lat")}
        if "id" in feat and "id" not in rec:
            rec["id"] = feat["id"]
        rec["lon"], rec["lat"] = coords[0], coords[1]
        original = _original_coordinate(props, coords)
        if original is not None:
            rec["lon"], rec["lat"] = original
        records.append(rec)
        rows.append(label)
    return Candidates(records, rows, "geojson")


def _original_coordinate(props: dict[str, Any], coords: list[Any]) -> tuple[Any, Any] | None:
    """The coordinate as reported, when *props* come from a geotrack layer.

    A geotrack layer keeps the reported coordinate in ``original_lon`` and
    ``original_lat`` (in ``datum``) beside its WGS 84 geometry.  Re-importing
    the geometry with that datum would shift it twice, so the original is used
    when it still converts to the geometry (the point was not moved since).
    """
    olon, olat, datum = props.get("original_lon"), props.get("original_lat"), props.get("datum")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (olon, olat)):
        return None
    if datum in (None, ""):
        datum = "wgs84"
    if datum not in ("wgs84", "gcj02", "bd09"):
        return None
    try:
        lon, lat = to_wgs84(float(olon), float(olat), datum)
        same = abs(lon - float(coords[0])) < 1e-6 and abs(lat - float(coords[1])) < 1e-6
    except (TypeError, ValueError, OverflowError):
        return None
    return (olon, olat) if same else None


def _decode_text(data: bytes, what: str, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except LookupError:
            raise ImportFileError(f"encoding={encoding!r} is not a known text encoding") from None
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{what} is not {encoding}: {exc.reason} at byte {exc.start}"
            ) from None
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(enc)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{what} is not UTF-8 ({exc.reason} at byte {exc.start}): save it as UTF-8, or name its "
            "encoding with --encoding (e.g. --encoding latin-1 or cp949)"
        ) from None


def _csv_text(data: bytes, what: str, encoding: str | None) -> str:
    text = _decode_text(data, what, encoding)
    if "\x00" in text:
        raise ImportFileError(f"{what} holds NUL bytes: it is not a text CSV (wrong --encoding?)")
    return text


def _delimiter(text: str) -> str:
    """The separator that splits the header into lon and lat columns (``,`` ``;`` or tab).

    Only the separator is guessed; quoting stays the standard one (``"`` doubled
    inside a quoted cell): :class:`csv.Sniffer` also guesses quoting, and gets it
    wrong for a semicolon file whose cells hold doubled quotes.
    """
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]  # any line end (old Macs: \r)
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:  # e.g. a quoted header cell that spans lines
            cells = []
        cols = {c.strip().lower() for c in cells}
        if cols & set(_LON_NAMES) and cols & set(_LAT_NAMES):
            return delimiter
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _from_csv(data: bytes, what: str, encoding: str | None) -> Candidates:
    text = _csv_text(data, what, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            f"{what} is empty: a CSV needs a header row with lon and lat"
        ) from None
    cols = [h.strip().lower() for h in header]
    lon_col = next((c for c in _LON_NAMES if c in cols), None)
    lat_col = next((c for c in _LAT_NAMES if c in cols), None)
    if lon_col is None or lat_col is None:
        raise ImportFileError(
            f"{what}: header={header!r}: a CSV needs lon and lat columns (or longitude/latitude)"
        )
    return _csv_rows(reader, cols, what, rename={lon_col: "lon", lat_col: "lat"})


def _csv_rows(reader: Any, cols: list[str], what: str, *, rename: dict[str, str]) -> Candidates:
    """Records from the data rows of a CSV *reader* whose header gave *cols*."""
    records, rows = [], []
    try:
        for line_no, values in enumerate(reader, 2):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(cols):
                raise ImportFileError(
                    f"{what}: row {line_no} has {len(values)} cells for {len(cols)} columns: "
                    "check quoting and separators"
                )
            rec: dict[str, Any] = {}
            for col, value in zip(cols, values, strict=True):
                key = rename.get(col, col)
                if value != "":
                    rec[key] = value
            records.append(rec)
            rows.append(f"row {line_no}")
    except csv.Error as exc:
        raise ImportFileError(f"{what}: line {reader.line_num}: {exc}") from None
    return Candidates(records, rows, "csv")


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
    >>> read_table(io.BytesIO(b"claim_id,count\\nC1,32\\n")).records
    [{'claim_id': 'C1', 'count': '32'}]
    """
    data, name = _read_source(source, limit)
    what = name or "input"
    text = _csv_text(data, what, encoding)
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        cols = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError(f"{what} is empty: a CSV needs a header row") from None
    except csv.Error as exc:
        raise ImportFileError(f"{what}: line {reader.line_num}: {exc}") from None
    return _csv_rows(reader, cols, what, rename={})


def _unzip_kml(data: bytes, what: str, limit: int) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise ImportFileError(f"{what} is not a KMZ (zip) archive") from None
    with archive:
        infos = archive.infolist()
        for info in infos:
            name = info.filename
            parts = Path(name.replace("\\", "/")).parts  # "..\\x.kml" is a Windows path too
            if name.startswith(("/", "\\")) or ".." in parts or ":" in name:
                raise ImportFileError(
                    f"{what}: archive member {name!r} has an unsafe path; refusing the KMZ"
                )
        kmls = [i for i in infos if i.filename.lower().endswith(".kml")]
        if not kmls:
            raise ImportFileError(f"{what}: the KMZ holds no .kml document")
        doc = next((i for i in kmls if i.filename.lower() == "doc.kml"), kmls[0])
        if doc.file_size > limit:
            raise ImportFileError(
                f"{what}: {doc.filename} inflates to {doc.file_size} bytes, over the limit: refusing it"
            )
        try:
            with archive.open(doc) as fh:
                return _read_limited(fh, limit, f"{what}:{doc.filename}")
        except ImportFileError:
            raise
        except (
            zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError,
        ) as exc:  # fmt: skip
            # a bad CRC, a size that lies, damaged data, encryption, an unknown compression
            raise ImportFileError(
                f"{what}: {doc.filename} cannot be extracted ({exc}): the KMZ is damaged, "
                "encrypted or compressed in a way geotrack does not read; save it again from "
                "Google Earth (nothing was imported)"
            ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _from_kml(data: bytes, what: str) -> Candidates:
    """Placemarks of a KML document, parsed as a stream.

    Elements outside placemarks are dropped as soon as they are closed and a
    placemark may hold at most :data:`MAX_KML_PLACEMARK_ELEMENTS` elements, so
    memory stays proportional to one placemark: a small KMZ that inflates to
    millions of empty elements cannot exhaust it.
    """
    found: list[tuple[int, dict[str, Any]]] = []
    stack: list[Any] = []
    open_pms: list[list[int]] = []  # [number, elements so far] of each open Placemark
    n_pm = n_elements = 0
    try:
        events = SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
        for event, el in events:
            is_pm = el.tag.endswith("Placemark") and _local(el.tag) == "Placemark"
            if event == "start":
                n_elements += 1
                if n_elements > MAX_KML_ELEMENTS:
                    raise ImportFileError(
                        f"{what} holds more than {MAX_KML_ELEMENTS:,} XML elements: split it into "
                        "smaller files (nothing was imported)"
                    )
                stack.append(el)
                if open_pms:
                    for pm in open_pms:
                        pm[1] += 1
                        if pm[1] > MAX_KML_PLACEMARK_ELEMENTS:
                            raise ImportFileError(
                                f"{what}: placemark {pm[0]} holds more than "
                                f"{MAX_KML_PLACEMARK_ELEMENTS} elements: not a crossing "
                                "placemark; refusing the file (nothing was imported)"
                            )
                if is_pm:
                    n_pm += 1
                    open_pms.append([n_pm, 0])
                continue
            stack.pop()
            if is_pm:
                number, _ = open_pms.pop()
                found.append((number, _placemark(el, f"placemark {number}", what)))
            if stack and not open_pms:
                stack[-1].remove(el)  # closed and outside every placemark: drop it
    except DefusedXmlException as exc:
        raise ImportFileError(
            f"{what}: the KML declares a DTD or entities ({type(exc).__name__}); geotrack refuses "
            "them (they can read local files or expand without bound)"
        ) from None
    except SafeET.ParseError as exc:
        raise ImportFileError(f"{what} is not well-formed XML: {exc}") from None
    except LookupError as exc:  # <?xml ... encoding="no-such-codec"?>
        raise ImportFileError(
            f"{what}: the XML declaration names an unknown encoding ({exc}); save it as UTF-8"
        ) from None
    found.sort(key=lambda item: item[0])
    return Candidates(
        [rec for _, rec in found], [f"placemark {number}" for number, _ in found], "kml"
    )


def _placemark(pm: Any, label: str, what: str) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    point = next((el for el in pm.iter() if _local(el.tag) == "Point"), None)
    if point is None:
        raise ImportFileError(f"{what}: {label}: has no Point; crossings are points")
    coords = next((el for el in point.iter() if _local(el.tag) == "coordinates"), None)
    try:
        lon, lat = (coords.text or "").strip().split()[0].split(",")[:2]
    except (AttributeError, ValueError, IndexError):
        raise ImportFileError(f"{what}: {label}: <coordinates> must read LON,LAT[,ALT]") from None
    rec["lon"], rec["lat"] = lon, lat
    for child in pm:
        tag = _local(child.tag)
        if tag == "name" and child.text:
            rec["name"] = child.text
        elif tag == "description" and child.text:
            rec["notes"] = child.text
        elif tag == "TimeSpan":
            for el in child:
                if _local(el.tag) == "begin" and el.text:
                    rec["event_start"] = el.text.strip()[:10]
                if _local(el.tag) == "end" and el.text:
                    rec["event_end"] = el.text.strip()[:10]
        elif tag == "TimeStamp":
            when = next((el for el in child if _local(el.tag) == "when"), None)
            if when is not None and when.text:
                rec["event_start"] = when.text.strip()[:10]
        elif tag == "ExtendedData":
            for data_el in child.iter():
                if _local(data_el.tag) == "Data" and data_el.get("name"):
                    value = next((v for v in data_el if _local(v.tag) == "value"), None)
                    if value is not None and value.text is not None:
                        rec[data_el.get("name")] = value.text
                elif _local(data_el.tag) == "SimpleData" and data_el.get("name"):
                    rec[data_el.get("name")] = data_el.text or ""
    return rec
