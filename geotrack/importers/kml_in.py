"""KML and KMZ into candidate records: placemarks parsed as a stream, archives never extracted.

XML is parsed with :mod:`defusedxml` (no DTD, no entities); a KMZ is read in
memory, refusing member names with ``..`` or a leading ``/`` and members that
inflate past the limit.
"""

from __future__ import annotations

__all__ = ["MAX_KML_ELEMENTS", "MAX_KML_PLACEMARK_ELEMENTS", "from_kml", "from_kmz", "unzip_kml"]

import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from geotrack.errors import ImportFileError
from geotrack.importers._read import read_limited
from geotrack.importers._types import Candidates

#: The most elements one KML Placemark may hold (a real one has a few dozen).
MAX_KML_PLACEMARK_ELEMENTS = 10_000
#: The most elements a KML document may hold (parsing costs ~2 µs each: this bounds it to
#: seconds; 100,000 real placemarks hold about 2 million).
MAX_KML_ELEMENTS = 5_000_000


def unzip_kml(data: bytes, what: str, limit: int) -> bytes:
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
                return read_limited(fh, limit, f"{what}:{doc.filename}")
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


def from_kml(data: bytes, what: str, *, points_only: bool = False) -> Candidates:
    """Placemarks of a KML document, parsed as a stream.

    Elements outside placemarks are dropped as soon as they are closed and a
    placemark may hold at most :data:`MAX_KML_PLACEMARK_ELEMENTS` elements, so
    memory stays proportional to one placemark: a small KMZ that inflates to
    millions of empty elements cannot exhaust it.
    """
    found: list[tuple[int, dict[str, Any]]] = []
    skipped: dict[str, int] = {}
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
                geom = _geometry_kind(el)
                if points_only and geom not in ("Point", None):
                    skipped[geom] = skipped.get(geom, 0) + 1
                else:
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
        [rec for _, rec in found],
        [f"placemark {number}" for number, _ in found],
        "kml",
        skipped=skipped,
    )


def from_kmz(data: bytes, what: str, limit: int, *, points_only: bool = False) -> Candidates:
    """Placemarks of a KMZ archive's KML document (see :func:`from_kml`)."""
    return from_kml(unzip_kml(data, what, limit), what, points_only=points_only)


_GEOMETRIES = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Model", "Track")


def _geometry_kind(pm: Any) -> str | None:
    """The first geometry element of a placemark (``Point``, ``LineString``...), if any."""
    for el in pm.iter():
        tag = _local(el.tag)
        if tag in _GEOMETRIES:
            return tag
    return None


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
