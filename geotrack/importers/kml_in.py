"""KML and KMZ into candidate records: placemarks parsed as a stream, archives never extracted.

XML is parsed with :mod:`defusedxml` (no DTD, no entities); a KMZ is read in
memory, refusing member names with ``..`` or a leading ``/`` and members that
inflate past the limit.

What a placemark gives: its Point (or a MultiGeometry of one Point; whitespace
inside ``<coordinates>`` is allowed), ``name``, ``description`` -> ``notes``
(its whole inner XHTML, as GDAL keeps it), ``TimeStamp`` -> ``event_start``
and ``TimeSpan`` -> ``event_start``/``event_end`` with their times of day and
UTC offsets (converted to UTC later), a folder's or document's time span when
the placemark has none, ``ExtendedData`` (``Data`` and ``SchemaData``) by name,
and its ``id`` (a reference unless it is a geotrack id).  A geotrack export's
placemark carries its reports as JSON in ``<Data name="reports">``: its balloon
and time span (derived from the reports) are then left aside.

A KMZ's ``NetworkLink`` to another document of the same archive is followed;
a link elsewhere (a web address, a file outside the archive) is not, and is
named in the summary.
"""

from __future__ import annotations

__all__ = ["MAX_KML_ELEMENTS", "MAX_KML_PLACEMARK_ELEMENTS", "from_kml", "from_kmz", "unzip_kml"]

import io
import posixpath
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from geotrack.errors import ImportFileError, Problem
from geotrack.importers._read import read_limited
from geotrack.importers._types import Candidates

#: The most elements one KML Placemark may hold (a real one has a few dozen).
MAX_KML_PLACEMARK_ELEMENTS = 10_000
#: The most elements a KML document may hold (parsing costs ~2 µs each: this bounds it to
#: seconds; 100,000 real placemarks hold about 2 million).
MAX_KML_ELEMENTS = 5_000_000
#: The most documents of one KMZ read by following NetworkLinks.
MAX_KMZ_DOCUMENTS = 100
_GEOMETRIES = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Model", "Track")
_CONTAINERS = ("Document", "Folder")
#: Keys (never in a file) marking a placemark's geometry type and a geotrack crossing.
_GEOM, _GT = "\0geometry", "\0geotrack"


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _archive(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise ImportFileError(f"{what} is not a KMZ (zip) archive") from None
    for info in archive.infolist():
        name = info.filename
        parts = Path(name.replace("\\", "/")).parts  # "..\\x.kml" is a Windows path too
        if name.startswith(("/", "\\")) or ".." in parts or ":" in name:
            archive.close()
            raise ImportFileError(
                f"{what}: archive member {name!r} has an unsafe path; refusing the KMZ"
            )
    return archive


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str, limit: int) -> bytes:
    if info.file_size > limit:
        raise ImportFileError(
            f"{what}: {info.filename} inflates to {info.file_size} bytes, over the limit: refusing it"
        )
    try:
        with archive.open(info) as fh:
            return read_limited(fh, limit, f"{what}:{info.filename}")
    except ImportFileError:
        raise
    except (
        zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
        ValueError, OSError,
    ) as exc:  # fmt: skip
        # a bad CRC, a size that lies, damaged data, encryption, an unknown compression
        raise ImportFileError(
            f"{what}: {info.filename} cannot be extracted ({exc}): the KMZ is damaged, "
            "encrypted or compressed in a way geotrack does not read; save it again from "
            "Google Earth (nothing was imported)"
        ) from None


def _main_document(archive: zipfile.ZipFile, what: str) -> zipfile.ZipInfo:
    kmls = [i for i in archive.infolist() if i.filename.lower().endswith(".kml")]
    if not kmls:
        raise ImportFileError(f"{what}: the KMZ holds no .kml document")
    return next((i for i in kmls if i.filename.lower() == "doc.kml"), kmls[0])


def unzip_kml(data: bytes, what: str, limit: int) -> bytes:
    """The main KML document of a KMZ (``doc.kml``, else the first ``.kml``).

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("doc.kml", "<kml/>")
    >>> unzip_kml(buf.getvalue(), "input", 1000)
    b'<kml/>'
    """
    with _archive(data, what) as archive:
        return _member(archive, _main_document(archive, what), what, limit)


def from_kmz(data: bytes, what: str, limit: int, *, points_only: bool = False) -> Candidates:
    """Placemarks of a KMZ: its main document and the members its NetworkLinks name.

    Memory and time stay bounded: every member read counts against *limit*
    together, and at most :data:`MAX_KMZ_DOCUMENTS` documents are read.
    """
    with _archive(data, what) as archive:
        names = {i.filename: i for i in archive.infolist()}
        doc = _main_document(archive, what)
        todo, done = [doc.filename], []
        out = Candidates([], [], "kml")
        budget = limit
        while todo:
            name = todo.pop(0)
            if name in done:
                continue
            done.append(name)
            if len(done) > MAX_KMZ_DOCUMENTS:
                raise ImportFileError(
                    f"{what}: NetworkLinks lead to more than {MAX_KMZ_DOCUMENTS} documents: "
                    "refusing the KMZ (nothing was imported)"
                )
            text = _member(archive, names[name], what, budget)
            budget -= len(text)
            part, links = _parse(text, f"{what}:{name}" if name != doc.filename else what,
                                 points_only)  # fmt: skip
            prefix = "" if name == doc.filename else f"{name}: "
            out.records += part.records
            out.rows += [prefix + r for r in part.rows]
            out.problems += part.problems
            for kind, n in part.skipped.items():
                out.skipped[kind] = out.skipped.get(kind, 0) + n
            for href in links:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), href))
                if "://" not in href and not href.startswith("/") and target in names:
                    todo.append(target)
                else:
                    out.notes.append(
                        f"NetworkLink to {href!r} in {name} not followed: it is outside the "
                        "archive (import that file by itself)"
                    )
    return out


def from_kml(data: bytes, what: str, *, points_only: bool = False) -> Candidates:
    """Placemarks of a KML document, parsed as a stream.

    Elements outside placemarks are dropped as soon as they are closed and a
    placemark may hold at most :data:`MAX_KML_PLACEMARK_ELEMENTS` elements, so
    memory stays proportional to one placemark: a small KMZ that inflates to
    millions of empty elements cannot exhaust it.

    Examples
    --------
    >>> kml = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>A</name>'
    ...        b'<Point><coordinates> 127.27, 41.52 </coordinates></Point></Placemark></kml>')
    >>> from_kml(kml, "input").records
    [{'lon': '127.27', 'lat': '41.52', 'name': 'A'}]
    """
    out, links = _parse(data, what, points_only)
    out.notes += [
        f"NetworkLink to {href!r} not followed: a KML file's links are not read (import the "
        "linked file by itself)"
        for href in links
    ]
    return out


def _time_of(el: Any) -> dict[str, str]:
    """``event_start``/``event_end`` of a TimeSpan or TimeStamp element, as written."""
    out = {}
    for child in el:
        tag, text = _local(child.tag), (child.text or "").strip()
        if text and tag in ("begin", "when"):
            out["event_start"] = text
        elif text and tag == "end":
            out["event_end"] = text
    return out


def _parse(data: bytes, what: str, points_only: bool) -> tuple[Candidates, list[str]]:
    found: list[tuple[int, dict[str, Any]]] = []
    out = Candidates([], [], "kml")
    links: list[str] = []
    stack: list[Any] = []
    times: list[dict[str, str] | None] = []  # the time span of each open container
    open_pms: list[list[int]] = []  # [number, elements so far] of each open Placemark
    n_pm = n_elements = 0
    try:
        events = SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
        for event, el in events:
            tag = _local(el.tag)
            if event == "start":
                n_elements += 1
                if n_elements > MAX_KML_ELEMENTS:
                    raise ImportFileError(
                        f"{what} holds more than {MAX_KML_ELEMENTS:,} XML elements: split it into "
                        "smaller files (nothing was imported)"
                    )
                stack.append(el)
                if tag in _CONTAINERS and not open_pms:
                    times.append(None)
                for pm in open_pms:
                    pm[1] += 1
                    if pm[1] > MAX_KML_PLACEMARK_ELEMENTS:
                        raise ImportFileError(
                            f"{what}: placemark {pm[0]} holds more than "
                            f"{MAX_KML_PLACEMARK_ELEMENTS} elements: not a crossing "
                            "placemark; refusing the file (nothing was imported)"
                        )
                if tag == "Placemark":
                    n_pm += 1
                    open_pms.append([n_pm, 0])
                continue
            stack.pop()
            if open_pms:
                if tag == "Placemark":
                    number, _ = open_pms.pop()
                    inherited = next((t for t in reversed(times) if t), None)
                    rec = _placemark(el, f"placemark {number}", what, out, points_only, inherited)
                    if rec is not None:
                        found.append((number, rec))
                else:
                    continue
            elif (
                tag in ("TimeSpan", "TimeStamp") and stack and _local(stack[-1].tag) in _CONTAINERS
            ):
                times[-1] = _time_of(el)
            elif tag == "href" and len(stack) >= 2 and _local(stack[-2].tag) == "NetworkLink":
                if el.text and el.text.strip() and len(links) < 1000:
                    links.append(el.text.strip())
            elif tag in _CONTAINERS and times:
                times.pop()
            if stack and _local(stack[-1].tag) not in ("TimeSpan", "TimeStamp"):
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
    if any(rec[_GT] for _, rec in found):
        # a geotrack export: its crossings folder; the reference folders (towns, stretch,
        # border, counties, density) are not crossings
        others = sum(1 for _, rec in found if not rec[_GT])
        if others:
            out.notes.append(
                f"left out {others} placemark(s) of the export's reference folders "
                "(towns, stretch, border, counties, density): they are not crossings"
            )
        found = [(n, rec) for n, rec in found if rec[_GT]]
        labels = {f"placemark {n}" for n, _ in found}
        out.problems = [p for p in out.problems if p.row in labels]
    for _, rec in found:
        del rec[_GT]
    for n, rec in [(n, rec) for n, rec in found if _GEOM in rec]:
        if not points_only:
            raise ImportFileError(
                f"{what}: placemark {n}: has no Point but a {rec[_GEOM]}; crossings are "
                "points: convert it to a point first, or pass --points-only to skip it"
            )
        out.skipped[rec[_GEOM]] = out.skipped.get(rec[_GEOM], 0) + 1
    found = [(n, rec) for n, rec in found if _GEOM not in rec]
    out.records = [rec for _, rec in found]
    out.rows = [f"placemark {number}" for number, _ in found]
    return out, links


def _inner_xml(el: Any) -> str:
    """An element's content as text and markup, namespaces left out (as GDAL gives it)."""
    parts = [el.text or ""]
    for child in el:
        attrs = "".join(f' {_local(k)}="{v}"' for k, v in child.attrib.items())
        name = _local(child.tag)
        inner = _inner_xml(child)
        parts.append(f"<{name}{attrs}>{inner}</{name}>" if inner else f"<{name}{attrs}/>")
        parts.append(child.tail or "")
    return "".join(parts)


def _point(pm: Any) -> tuple[str, str] | str:
    """The placemark's coordinate as written, or why it has none."""
    geoms = [el for el in pm if _local(el.tag) in _GEOMETRIES]
    if not geoms:
        return "has no location (no Point or other geometry)"
    geom = geoms[0]
    if _local(geom.tag) == "MultiGeometry":
        parts = [el for el in geom.iter() if _local(el.tag) in _GEOMETRIES[:-2] and el is not geom]
        points = [el for el in parts if _local(el.tag) == "Point"]
        if len(points) != len(parts):
            return "MultiGeometry"
        if len(points) > 1:
            return (
                f"is a MultiGeometry of {len(points)} Points: a crossing is one point; split it "
                "into one placemark per point"
            )
        if not points:
            return "has no location (an empty MultiGeometry)"
        geom = points[0]
    if _local(geom.tag) != "Point":
        return _local(geom.tag)
    coords = next((el for el in geom.iter() if _local(el.tag) == "coordinates"), None)
    text = re.sub(r"\s*,\s*", ",", (coords.text or "") if coords is not None else "").strip()
    if not text:
        return "has no location (a Point with no coordinates)"
    first = text.split()[0].split(",")
    if len(first) < 2 or not first[0] or not first[1]:
        return "<coordinates> must read LON,LAT[,ALT]"
    return first[0], first[1]


def _carries_reports(pm: Any) -> bool:
    """Whether a placemark is a geotrack crossing (its reports in ``<Data name="reports">``)."""
    return any(_local(el.tag) == "Data" and el.get("name") == "reports" for el in pm.iter())


def _placemark(
    pm: Any,
    label: str,
    what: str,
    out: Candidates,
    points_only: bool,
    inherited: dict[str, str] | None,
) -> dict[str, Any] | None:
    where = _point(pm)
    if isinstance(where, str):
        if where in _GEOMETRIES:  # a line, polygon, model or track: decided by _parse
            return {_GEOM: where, _GT: _carries_reports(pm)}
        if where.startswith("<coordinates>"):
            raise ImportFileError(f"{what}: {label}: {where}")
        out.problems.append(Problem("geometry", None, where, label))
        return None
    rec: dict[str, Any] = {"lon": where[0], "lat": where[1]}
    children = {_local(c.tag): c for c in pm}
    extended: dict[str, Any] = {}
    for data_el in children["ExtendedData"].iter() if "ExtendedData" in children else ():
        tag, key = _local(data_el.tag), data_el.get("name")
        if tag == "Data" and key:
            value = next((v for v in data_el if _local(v.tag) == "value"), None)
            extended[key] = (value.text or "") if value is not None else ""
        elif tag == "SimpleData" and key:
            extended[key] = data_el.text or ""
    from_geotrack = "reports" in extended
    rec[_GT] = from_geotrack
    if pm.get("id") and not from_geotrack:
        rec["id"] = pm.get("id")
    if "name" in children and children["name"].text:
        rec["name"] = children["name"].text
    if not from_geotrack:
        if "description" in children:
            notes = _inner_xml(children["description"])
            if notes:
                rec["notes"] = notes
        spans = [children[t] for t in ("TimeSpan", "TimeStamp") if t in children]
        if len(spans) == 2:
            out.problems.append(
                Problem(
                    "TimeStamp",
                    None,
                    "the placemark has both a TimeStamp and a TimeSpan: keep the one that "
                    "says when the crossing was seen",
                    label,
                )
            )
        elif spans:
            rec.update(_time_of(spans[0]))
        elif inherited:
            rec.update(inherited)
    rec.update(extended)
    return rec
