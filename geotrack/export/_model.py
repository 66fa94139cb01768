"""Layers as every export writes them: explicit schemas, coded values, stable ids.

No file I/O here.  :mod:`geotrack.export.api` reads the workspace and builds
:class:`Layer` objects with the functions below; each writer (GeoPackage,
GeoJSON, KML, CSV, QML, QGIS project) then turns the same layers into its
format, so that every format carries the same fields, types and values.

Values in :attr:`Feature.properties` are typed per field: ``str``, ``int``,
``float``, ``bool``, :class:`datetime.date` or a timezone-aware
:class:`datetime.datetime` (UTC), or ``None``.  Geometries are GeoJSON
geometry mappings in WGS 84 longitude/latitude, rounded to the export's
precision.
"""

from __future__ import annotations

__all__ = [
    "DOMAINS",
    "PUBLIC_DROPPED",
    "Domain",
    "Feature",
    "Field",
    "Layer",
    "check_name",
    "claim_layers",
    "coarsening_m",
    "crossing_layers",
    "iso",
    "reference_layer",
    "replace_nul",
    "round_geometry",
]

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from geotrack.claim_schema import (
    AREA_KINDS,
    PUBLISHED_PRECISIONS,
    QUALIFIERS,
    UNITS,
    claim_label,
    stated_km,
)
from geotrack.errors import DataError, UsageError
from geotrack.escape import replace_nul
from geotrack.schema import (
    BANKS,
    CREDIBILITY,
    DATE_PRECISIONS,
    DATUMS,
    KINDS,
    PLACEMENTS,
    PRECISIONS,
    RELIABILITY,
    SOURCE_TYPES,
    STATUSES,
    VERIFICATIONS,
)

#: Field types a layer may use (the same names as fiona's schema types).
FIELD_TYPES = ("str", "int", "float", "bool", "date", "datetime")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ID_NUM_RE = re.compile(r"^[A-Z]{2,8}-(\d{1,9})$")
_REPORT_NUM_RE = re.compile(r"^R(\d{1,3})$")


@dataclass(frozen=True)
class Domain:
    """A list of coded values with labels (a GDAL coded field domain).

    Examples
    --------
    >>> DOMAINS["kind"].codes["ford"]
    'Ford'
    """

    name: str
    type: str
    codes: Mapping[Any, str]
    description: str


#: Coded-value domains, by name (the GeoPackage domain name is the same).
DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("kind", "str", KINDS, "Kind of crossing"),
        Domain("status", "str", STATUSES, "Status of the crossing when last reported"),
        Domain("location_precision", "str", PRECISIONS, "How precisely the site is located"),
        Domain("datum", "str", DATUMS, "Datum the coordinate was reported in"),
        Domain("placement", "str", PLACEMENTS, "How the site was placed"),
        Domain("bank", "str", BANKS, "Bank of the river"),
        Domain("source_type", "str", SOURCE_TYPES, "Type of source"),
        Domain("date_precision", "str", DATE_PRECISIONS, "Precision of the event dates"),
        Domain("reliability", "str", RELIABILITY, "Admiralty code: source reliability A-F"),
        Domain("credibility", "int", CREDIBILITY, "Admiralty code: information credibility 1-6"),
        Domain("verification", "str", VERIFICATIONS, "Verification status of the report"),
        Domain("count_qualifier", "str", QUALIFIERS, "How the claimed count is qualified"),
        Domain("stated_unit", "str", UNITS, "Unit of the stated length, as printed"),
        Domain("area_kind", "str", AREA_KINDS, "How the claim's area is described"),
        Domain(
            "published_precision", "str", PUBLISHED_PRECISIONS, "Precision of the publication date"
        ),
    )
}


@dataclass(frozen=True)
class Field:
    """One attribute of a layer.

    Parameters
    ----------
    name : str
        Column name (ASCII, as written in every format).
    type : str
        One of :data:`FIELD_TYPES`.
    alias : str
        A readable name with its unit, shown by QGIS and in KML balloons.
    domain : str, optional
        Name of a :data:`DOMAINS` entry whose codes the values use.

    Examples
    --------
    >>> Field("uncertainty_m", "float", "Location uncertainty (m)").type
    'float'
    """

    name: str
    type: str
    alias: str
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name!r}: type {self.type!r} is not one of {FIELD_TYPES}")


@dataclass
class Feature:
    """One feature: a stable integer FID, a stable text key, geometry and typed values."""

    fid: int
    key: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


@dataclass
class Layer:
    """A layer as exported, with its schema and its features.

    Examples
    --------
    >>> lyr = Layer("towns", "Towns", "Towns on both banks", "Point",
    ...             (Field("name", "str", "Name"),), [], style="towns")
    >>> lyr.field_names
    ['name']
    """

    name: str
    title: str
    description: str
    geometry_type: str | None
    fields: tuple[Field, ...]
    features: list[Feature]
    style: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name(self.name, what="layer name")

    @property
    def field_names(self) -> list[str]:
        """The column names, in order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        """The field called *name*.

        Raises
        ------
        KeyError
            No such field.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


# -- schemas -------------------------------------------------------------------------------------

CROSSING_FIELDS: tuple[Field, ...] = (
    Field("id", "str", "Crossing id"),
    Field("name", "str", "Name"),
    Field("kind", "str", "Kind", "kind"),
    Field("status", "str", "Status", "status"),
    Field("location_precision", "str", "Location precision", "location_precision"),
    Field("uncertainty_m", "float", "Location uncertainty (m)"),
    Field("place_as_printed", "str", "Place as the report printed it"),
    Field("placement", "str", "Placed from", "placement"),
    Field("placement_basis", "str", "Placement basis (geotrack's words)"),
    Field("inferred", "bool", "Placement inferred (not printed)"),
    Field("chainage_km", "float", "Chainage of the point (km from the west, downstream end)"),
    Field("offset_m", "float", "Offset from the river line (m, + = CN side)"),
    Field("bank", "str", "Bank", "bank"),
    Field("chainage_from_km", "float", "Spread along the river from (km)"),
    Field("chainage_to_km", "float", "Spread along the river to (km)"),
    Field("datum", "str", "Datum as reported", "datum"),
    Field("original_lon", "float", "Longitude as reported (deg)"),
    Field("original_lat", "float", "Latitude as reported (deg)"),
    Field("synthetic", "bool", "Synthetic (invented) record"),
    Field("n_reports", "int", "Number of reports"),
    Field("first_reported", "date", "First reported"),
    Field("last_reported", "date", "Last reported"),
    Field("first_seen", "date", "First seen (event start)"),
    Field("last_seen", "date", "Last seen (event end)"),
    Field("created_at", "datetime", "Record created (UTC)"),
    Field("updated_at", "datetime", "Record updated (UTC)"),
)
REPORT_FIELDS: tuple[Field, ...] = (
    Field("site_id", "str", "Crossing id"),
    Field("report_id", "str", "Report id"),
    Field("source_name", "str", "Source"),
    Field("source_type", "str", "Source type", "source_type"),
    Field("url", "str", "Source URL"),
    Field("archive_url", "str", "Archived copy URL"),
    Field("sha256", "str", "SHA-256 of the captured item"),
    Field("accessed", "date", "Accessed"),
    Field("reported", "date", "Reported"),
    Field("event_start", "date", "Event start"),
    Field("event_end", "date", "Event end"),
    Field("date_precision", "str", "Date precision", "date_precision"),
    Field("reliability", "str", "Source reliability (A-F)", "reliability"),
    Field("credibility", "int", "Information credibility (1-6)", "credibility"),
    Field("verification", "str", "Verification", "verification"),
    Field("notes", "str", "Notes"),
    Field("source_ref", "str", "Reference in the source (its id)"),
    Field("extra", "str", "Other columns of the imported file (JSON)"),
)
CLAIM_FIELDS: tuple[Field, ...] = (
    Field("id", "str", "Claim id"),
    Field("label", "str", "Label (count, who, first published)"),
    Field("claimed_by", "str", "Claimed by"),
    Field("count", "int", "Count claimed"),
    Field("count_qualifier", "str", "Count qualifier", "count_qualifier"),
    Field("what_as_printed", "str", "What, as printed"),
    Field("kinds", "str", "Kinds coded from it (;-separated)"),
    Field("area_as_printed", "str", "Area, as printed"),
    Field("area_kind", "str", "Area described as", "area_kind"),
    Field("area_places", "str", "Counties or places named (;-separated)"),
    Field("area_beyond", "str", "Area runs past the stretch's end"),
    Field("from_km", "float", "Window start (chainage km)"),
    Field("to_km", "float", "Window end (chainage km)"),
    Field("river_km", "float", "Window along the river (km, EPSG:32652)"),
    Field("area_basis", "str", "How the area was resolved"),
    Field("area_inferred", "bool", "Area reading inferred (not printed)"),
    Field("stated_length", "float", "Stated length, as printed"),
    Field("stated_unit", "str", "Unit of the stated length", "stated_unit"),
    Field("stated_km", "float", "Stated length in km"),
    Field("stated_length_as_printed", "str", "Stated length, as printed (text)"),
    Field("imagery", "str", "Imagery"),
    Field("activity_period_as_printed", "str", "Activity period, as printed"),
    Field("activity_start", "date", "Activity start"),
    Field("activity_end", "date", "Activity end"),
    Field("first_published", "str", "First published"),
    Field("last_published", "str", "Last published"),
    Field("n_relays", "int", "Number of relays"),
    Field("conflicts", "str", "Where relays differ"),
    Field("notes", "str", "Notes"),
    Field("created_at", "datetime", "Record created (UTC)"),
    Field("updated_at", "datetime", "Record updated (UTC)"),
)
RELAY_FIELDS: tuple[Field, ...] = (
    Field("claim_id", "str", "Claim id"),
    Field("relay_id", "str", "Relay id"),
    Field("publisher", "str", "Publisher"),
    Field("published", "str", "Published"),
    Field("published_precision", "str", "Publication date precision", "published_precision"),
    Field("url", "str", "URL"),
    Field("language", "str", "Language"),
    Field("quote", "str", "Quote, as printed"),
    Field("count", "int", "Count printed"),
    Field("count_qualifier", "str", "Count qualifier printed", "count_qualifier"),
    Field("what_as_printed", "str", "What, as printed"),
    Field("kinds", "str", "Kinds coded from it (;-separated)"),
    Field("area_as_printed", "str", "Area, as printed"),
    Field("counties", "str", "Counties named (;-separated)"),
    Field("between_places", "str", "Places named (;-separated)"),
    Field("stated_length", "float", "Stated length printed"),
    Field("stated_unit", "str", "Unit printed", "stated_unit"),
    Field("stated_length_as_printed", "str", "Stated length, as printed (text)"),
    Field("imagery", "str", "Imagery"),
    Field("activity_period_as_printed", "str", "Activity period, as printed"),
    Field("notes", "str", "Notes"),
)
#: Fields left out by a public export, per layer, and why.
PUBLIC_DROPPED: dict[str, dict[str, str]] = {
    "crossings": {
        "original_lon": "the exact longitude as reported",
        "original_lat": "the exact latitude as reported",
        "offset_m": "the exact offset from the river line (chainage rounded to whole km)",
    },
    "reports": {
        "url": "source URLs",
        "archive_url": "archive URLs",
        "sha256": "SHA-256 digests of captured items",
        "notes": "report notes",
        "extra": "other columns kept from imported files",
    },
    "claims": {"notes": "claim notes"},
    "relays": {"url": "relay URLs", "notes": "relay notes"},
}


# -- helpers -------------------------------------------------------------------------------------


def check_name(name: str, *, what: str = "name") -> str:
    """Refuse a layer or file name that could leave the output folder.

    Parameters
    ----------
    name : str
        1-64 characters: letters, digits, ``_`` or ``-``, starting with a letter or digit.

    Raises
    ------
    UsageError
        The name holds a path separator, ``..``, a dot or another character.

    Examples
    --------
    >>> check_name("crossings")
    'crossings'
    >>> check_name("../x")
    Traceback (most recent call last):
    ...
    geotrack.errors.UsageError: layer or file name='../x' would leave the output folder ...
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise UsageError(
            f"{what if what != 'name' else 'layer or file name'}={name!r} would leave the output "
            "folder or is not a plain name: use 1-64 letters, digits, '_' or '-' "
            "(no '/', '..', dots or spaces)"
        )
    return name


_PLAIN = frozenset({str, int, float, bool})


def iso(value: Any) -> Any:
    """ISO 8601 text for a date or datetime (UTC datetimes end in ``Z``); others unchanged.

    Examples
    --------
    >>> iso(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2025-01-02T03:04:05Z'
    >>> iso(date(2025, 1, 2))
    '2025-01-02'
    """
    if value is None or type(value) in _PLAIN:  # most values: no isinstance checks
        return value
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def round_geometry(geometry: Mapping[str, Any] | None, ndigits: int) -> dict[str, Any] | None:
    """A copy of a GeoJSON geometry with coordinates rounded, 2-D only.

    Examples
    --------
    >>> round_geometry({"type": "Point", "coordinates": [127.123456789, 41.5, 3.0]}, 5)
    {'type': 'Point', 'coordinates': [127.12346, 41.5]}
    """
    if geometry is None:
        return None

    def rnd(c: Any) -> Any:
        if c and isinstance(c[0], int | float):
            return [round(float(c[0]), ndigits) + 0.0, round(float(c[1]), ndigits) + 0.0]
        return [rnd(x) for x in c]

    if geometry.get("type") == "GeometryCollection":
        return {
            "type": "GeometryCollection",
            "geometries": [round_geometry(g, ndigits) for g in geometry["geometries"]],
        }
    return {"type": geometry["type"], "coordinates": rnd(geometry["coordinates"])}


def coarsening_m(ndigits: int, lat: float) -> dict[str, float]:
    """How far rounding to *ndigits* decimals of a degree can move a point, in metres.

    Returns the cell size north-south and east-west at latitude *lat* and the
    largest shift (half the cell's diagonal).

    Examples
    --------
    >>> c = coarsening_m(2, 41.6)
    >>> round(c["cell_ns_m"]), round(c["cell_ew_m"]), round(c["max_shift_m"])
    (1111, 832, 694)
    """
    step = 10.0 ** (-ndigits)
    ns = step * 111_132.0
    ew = step * 111_320.0 * math.cos(math.radians(lat))
    return {"cell_ns_m": ns, "cell_ew_m": ew, "max_shift_m": math.hypot(ns, ew) / 2.0}


def _coerce(value: Any, fld: Field, where: str) -> Any:
    if value is None:
        return None
    kind = fld.type
    try:
        if kind == "str":
            return value if isinstance(value, str) else str(value)
        if kind == "int":
            if isinstance(value, bool):
                raise TypeError
            out = int(value)
            if out != value and not isinstance(value, str):
                raise ValueError
            return out
        if kind == "float":
            if isinstance(value, bool):
                raise TypeError
            out = float(value)
            return out if math.isfinite(out) else None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if value in (0, 1, "true", "false"):
                return value in (1, "true")
            raise ValueError
        if kind == "date":
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            if value == "":
                return None
            return date.fromisoformat(str(value)[:10])
        if kind == "datetime":
            if isinstance(value, datetime):
                dt = value
            elif value == "":
                return None
            else:
                dt = datetime.fromisoformat(str(value))
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (TypeError, ValueError):
        raise DataError(
            f"{where}: {fld.name}={value!r} is not a valid {kind}: fix the record "
            "(`geotrack validate` lists every problem) and export again"
        ) from None
    raise AssertionError(kind)  # pragma: no cover


def _typed(props: Mapping[str, Any], fields: Sequence[Field], where: str) -> dict[str, Any]:
    return {f.name: _coerce(props.get(f.name), f, where) for f in fields}


def _stable_fids(keys: Sequence[str]) -> list[int]:
    """FIDs from the number in ids like ``YLU-0042`` (42), else 1..n in key order."""
    nums = []
    for k in keys:
        m = _ID_NUM_RE.match(k or "")
        if not m:
            break
        nums.append(int(m.group(1)))
    if len(nums) == len(keys) and len(set(nums)) == len(nums) and all(n > 0 for n in nums):
        return nums
    order = {k: i + 1 for i, k in enumerate(sorted(keys))}
    return [order[k] for k in keys]


# -- builders ------------------------------------------------------------------------------------


def crossing_layers(
    features: Iterable[Mapping[str, Any]],
    *,
    precision: int,
    public: bool = False,
    public_precision: int = 2,
) -> tuple[Layer, Layer]:
    """The crossings (sites) layer and the reports table from crossing features.

    Parameters
    ----------
    features : iterable of mapping
        GeoJSON Point features as the workspace stores them (``reports`` inside).
    precision : int
        Decimals of a degree kept in coordinates.
    public : bool
        Coarsen site coordinates to ``min(precision, public_precision)`` decimals,
        raise ``uncertainty_m`` to at least the shift this can cause, and leave
        out :data:`PUBLIC_DROPPED`.
    public_precision : int
        Decimals kept by a public export.

    Returns
    -------
    (Layer, Layer)
        ``crossings`` (Point) and ``reports`` (no geometry, ``site_id`` refers to
        ``crossings.id``).  FIDs are stable: a crossing ``YLU-0042`` has FID 42 and
        its report ``R3`` has FID 42003 when all ids have that form.

    Examples
    --------
    >>> f = {"type": "Feature", "id": "YLU-0042", "geometry": {"type": "Point",
    ...      "coordinates": [128.1234567, 41.4]}, "properties": {"id": "YLU-0042",
    ...      "kind": "ford", "reports": [{"report_id": "R1", "source_name": "x"}]}}
    >>> sites, reports = crossing_layers([f], precision=7)
    >>> sites.features[0].fid, reports.features[0].fid, reports.features[0].properties["site_id"]
    (42, 42001, 'YLU-0042')
    """
    feats = sorted(features, key=lambda f: str(f.get("id") or f["properties"].get("id")))
    ndigits = min(precision, public_precision) if public else precision
    site_fields = CROSSING_FIELDS
    report_fields = REPORT_FIELDS
    if public:
        site_fields = tuple(f for f in site_fields if f.name not in PUBLIC_DROPPED["crossings"])
        report_fields = tuple(f for f in report_fields if f.name not in PUBLIC_DROPPED["reports"])
    keys = [str(f.get("id") or f["properties"].get("id")) for f in feats]
    fids = _stable_fids(keys)
    sites: list[Feature] = []
    reports: list[Feature] = []
    # Report FIDs are site FID * 1000 + report number while that fits 32 bits.
    report_fid_ok = max(fids, default=0) * 1000 + 999 < 2**31 and all(
        _REPORT_NUM_RE.match(str(r.get("report_id") or ""))
        for f in feats
        for r in f["properties"].get("reports") or []
    )
    for key, fid, feat in zip(keys, fids, feats, strict=True):
        props = dict(feat["properties"])
        props["id"] = key
        rep_list = list(props.get("reports") or [])
        props["n_reports"] = len(rep_list)
        geom = feat.get("geometry")
        if not geom or geom.get("type") != "Point":
            raise DataError(
                f"crossing {key}: geometry={geom and geom.get('type')!r}: a crossing must be a "
                "Point; fix it with `geotrack crossings edit` and export again"
            )
        typed = _typed(props, site_fields, f"crossing {key}")
        if public:
            lat = float(geom["coordinates"][1])
            shift = coarsening_m(ndigits, lat)["max_shift_m"]
            if typed.get("uncertainty_m") is None or typed["uncertainty_m"] < shift:
                typed["uncertainty_m"] = round(shift, 1)
            if typed.get("chainage_km") is not None:  # with the bank it would pin the point
                typed["chainage_km"] = float(round(typed["chainage_km"]))
        sites.append(Feature(fid, key, round_geometry(geom, ndigits), typed))
        for n, rep in enumerate(rep_list, start=1):
            rp = dict(rep)
            rp["site_id"] = key
            if isinstance(rp.get("extra"), dict):  # one text column in every table format
                rp["extra"] = json.dumps(rp["extra"], ensure_ascii=False)
            rid = str(rp.get("report_id") or f"R{n}")
            rp["report_id"] = rid
            m = _REPORT_NUM_RE.match(rid)
            rfid = fid * 1000 + int(m.group(1)) if report_fid_ok and m else 0
            reports.append(
                Feature(rfid, f"{key}/{rid}", None, _typed(rp, report_fields, f"{key} {rid}"))
            )
    if not report_fid_ok or len({r.fid for r in reports}) != len(reports):
        for i, r in enumerate(reports, start=1):
            r.fid = i
    note = (
        " Public export: coordinates coarsened, URLs, digests and notes left out." if public else ""
    )
    crossings = Layer(
        "crossings",
        "Reported crossings",
        "Reported crossing sites of the Yalu (Amnok) between Baishan and Ryanggang, one Point per "
        "site (WGS 84); their reports are in the related table 'reports' (reports.site_id = "
        "crossings.id). Dates come from the reports: first_seen/last_seen bound the events." + note,
        "Point",
        site_fields,
        sites,
        style="crossings",
        extra={"decimals": ndigits},
    )
    report_layer = Layer(
        "reports",
        "Reports on crossings",
        "One row per report (a claim by a source at a date) about a crossing site; site_id refers "
        "to crossings.id. Admiralty grades: reliability A-F, credibility 1-6." + note,
        None,
        report_fields,
        reports,
        style="reports",
    )
    return crossings, report_layer


def _joined(value: Any) -> str | None:
    if isinstance(value, list):
        return ";".join(str(v) for v in value) or None
    return value


def _conflict_text(conflicts: Sequence[Mapping[str, Any]]) -> str | None:
    parts = [
        f"{c['field']}: "
        + "; ".join(f"{v['value']} ({', '.join(v['relays'])})" for v in c["values"])
        for c in conflicts
    ]
    return " | ".join(parts) or None


def claim_layers(
    features: Iterable[Mapping[str, Any]], *, precision: int, public: bool = False
) -> tuple[Layer, Layer]:
    """The claims layer (a LineString per claim) and the relays table from claim features.

    Parameters
    ----------
    features : iterable of mapping
        Claim features as the workspace stores them (``relays`` inside).
    precision : int
        Decimals of a degree kept in coordinates.
    public : bool
        Leave out :data:`PUBLIC_DROPPED` (claim notes, relay URLs and notes).

    Returns
    -------
    (Layer, Layer)
        ``claims`` (LineString) and ``relays`` (no geometry, ``claim_id`` refers
        to ``claims.id``).  FIDs follow the claims' order by id; relay FIDs are
        claim FID * 1000 + the relay's position.

    Examples
    --------
    >>> f = {"type": "Feature", "id": "C1", "geometry": {"type": "LineString",
    ...      "coordinates": [[127.1, 41.6], [127.2, 41.6]]}, "properties": {"id": "C1",
    ...      "claimed_by": "NK Pro", "count": 32, "count_qualifier": "at_least",
    ...      "area": {"kind": "counties", "counties": ["Hyesan"], "from_km": 207.1,
    ...               "to_km": 221.9}, "relays": [{"relay_id": "C1-SBS", "publisher": "SBS"}]}}
    >>> claims, relays = claim_layers([f], precision=7)
    >>> claims.features[0].properties["label"], relays.features[0].properties["claim_id"]
    ('≥32 · NK Pro', 'C1')
    """
    feats = sorted(features, key=lambda f: str(f.get("id")))
    cfields, rfields = CLAIM_FIELDS, RELAY_FIELDS
    if public:
        cfields = tuple(f for f in cfields if f.name not in PUBLIC_DROPPED["claims"])
        rfields = tuple(f for f in rfields if f.name not in PUBLIC_DROPPED["relays"])
    claims: list[Feature] = []
    relays: list[Feature] = []
    for fid, feat in enumerate(feats, start=1):
        key = str(feat.get("id"))
        p = dict(feat["properties"])
        area = p.get("area") or {}
        geom = feat.get("geometry")
        if not geom or geom.get("type") != "LineString":
            raise DataError(
                f"claim {key}: geometry={geom and geom.get('type')!r}: a claim must be a "
                "LineString; run `geotrack validate` and export again"
            )
        km = stated_km(p)
        row = {
            **p,
            "id": key,
            "label": claim_label(p),
            "kinds": _joined(p.get("kinds")),
            "area_kind": area.get("kind"),
            "area_places": _joined(area.get("counties") or area.get("between")),
            "area_beyond": area.get("beyond"),
            "from_km": area.get("from_km"),
            "to_km": area.get("to_km"),
            "river_km": None
            if area.get("from_km") is None
            else round(float(area["to_km"]) - float(area["from_km"]), 3),
            "area_basis": area.get("basis"),
            "area_inferred": bool(area.get("inferred")),
            "stated_km": None if km is None else round(km, 3),
            "n_relays": len(p.get("relays") or []),
            "conflicts": _conflict_text(p.get("conflicts") or []),
        }
        claims.append(
            Feature(fid, key, round_geometry(geom, precision), _typed(row, cfields, f"claim {key}"))
        )
        for n, rel in enumerate(p.get("relays") or [], start=1):
            rr = {
                **rel,
                "claim_id": key,
                "kinds": _joined(rel.get("kinds")),
                "counties": _joined(rel.get("counties")),
                "between_places": _joined(rel.get("between_places")),
            }
            rid = str(rel.get("relay_id") or f"{key}-R{n}")
            relays.append(Feature(fid * 1000 + n, f"{key}/{rid}", None, _typed(rr, rfields, rid)))
    note = " Public export: claim notes, relay URLs and notes left out." if public else ""
    return (
        Layer(
            "claims",
            "Claims about stretches",
            "Claims that a source made about a stretch of the river (a count of crossings over "
            "an area described in words), one LineString per claim: the window of the stretch "
            "its area resolves to (from_km-to_km, chainage km in EPSG:32652). Every outlet that "
            "printed it is in the related table 'relays' (relays.claim_id = claims.id); their "
            "figures are never merged, and where they differ 'conflicts' says so." + note,
            "LineString",
            cfields,
            claims,
            style="claims",
        ),
        Layer(
            "relays",
            "Relays of claims",
            "One row per outlet that printed a claim, with the figures it printed; claim_id "
            "refers to claims.id." + note,
            None,
            rfields,
            relays,
            style="relays",
        ),
    )


@dataclass(frozen=True)
class _RefSpec:
    title: str
    description: str
    geometry_type: str
    fields: tuple[Field, ...]
    key_field: str | None
    renames: Mapping[str, str] = field(default_factory=dict)


_SOURCE = Field("source", "str", "Source")
_LICENSE = Field("license", "str", "Licence")
REFERENCE_SPECS: dict[str, _RefSpec] = {
    "stretch": _RefSpec(
        "Stretch (river line)",
        "The Baishan-Ryanggang stretch of the Yalu (Amnok) as one directed line: chainage 0 at "
        "the first vertex (west, downstream end at the Ryanggang/Chagang boundary), increasing "
        "upstream; lengths in km measured in EPSG:32652.",
        "LineString",
        (
            Field("name", "str", "Name"),
            Field("length_km", "float", "Length (km, EPSG:32652)"),
            Field("chainage_origin", "str", "Chainage origin"),
            Field("chainage_direction", "str", "Chainage direction"),
            Field("measure_crs", "str", "CRS of measurements"),
            _SOURCE,
            _LICENSE,
        ),
        None,
        {"length_km_epsg32652": "length_km"},
    ),
    "county_segments": _RefSpec(
        "County segments",
        "The stretch cut at county boundaries (Ryanggang), with chainages in km.",
        "LineString",
        (
            Field("county", "str", "County"),
            Field("province", "str", "Province"),
            Field("wof_id", "str", "Who's On First id"),
            Field("chainage_start_km", "float", "Chainage start (km)"),
            Field("chainage_end_km", "float", "Chainage end (km)"),
            Field("length_km", "float", "Length along the river (km)"),
            _SOURCE,
            _LICENSE,
        ),
        "county",
    ),
    "border": _RefSpec(
        "China-DPRK border",
        "The China-North Korea international boundary (OpenStreetMap, ODbL).",
        "MultiLineString",
        (Field("name", "str", "Name"), _SOURCE, _LICENSE, Field("note", "str", "Note")),
        None,
    ),
    "official_crossings": _RefSpec(
        "Official crossings",
        "Official crossings (bridges, ports of entry) on the stretch: a reference layer, not "
        "reported informal crossings. Coordinate from English Wikipedia, CC BY-SA 4.0 "
        "(Wikipedia contributors).",
        "Point",
        (
            Field("name", "str", "Name"),
            Field("name_local", "str", "Local name"),
            Field("kind", "str", "Kind"),
            Field("cn_side", "str", "Chinese side"),
            Field("kp_side", "str", "North Korean side"),
            Field("facts", "str", "Facts"),
            Field("fact_source", "str", "Source of the facts"),
            Field("coord_source", "str", "Source of the coordinate"),
            Field("coord_licence", "str", "Licence of the coordinate"),
        ),
        "name",
    ),
    "towns": _RefSpec(
        "Towns",
        "Towns on both banks (CN = China, KP = North Korea) with their chainage along the stretch.",
        "Point",
        (
            Field("name", "str", "Name"),
            Field("name_local", "str", "Local name"),
            Field("country", "str", "Country (ISO 3166)"),
            Field("stretch_chainage_km", "float", "Chainage of nearest river point (km)"),
            Field("dist_to_border_km", "float", "Distance to the border (km)"),
            Field("nearest_across_border", "str", "Nearest town across the border"),
            Field("nearest_across_km", "float", "Distance to it (km)"),
            Field("source_dataset", "str", "Source dataset"),
            _LICENSE,
        ),
        "name",
    ),
}


def reference_layer(name: str, features: Sequence[Mapping[str, Any]], *, precision: int) -> Layer:
    """A reference layer (stretch, county segments, border, towns) with its explicit schema.

    Properties not in the schema are left out; geometries are promoted to the
    layer's type (a LineString border becomes a one-part MultiLineString).

    Examples
    --------
    >>> f = {"type": "Feature", "properties": {"name": "Hyesan", "country": "KP"},
    ...      "geometry": {"type": "Point", "coordinates": [128.17778, 41.40167]}}
    >>> lyr = reference_layer("towns", [f], precision=5)
    >>> lyr.features[0].key, lyr.features[0].properties["country"]
    ('Hyesan', 'KP')
    """
    spec = REFERENCE_SPECS[name]
    out: list[Feature] = []
    seen: set[str] = set()
    for i, feat in enumerate(features, start=1):
        props = dict(feat.get("properties") or {})
        for old, new in spec.renames.items():
            if old in props and new not in props:
                props[new] = props[old]
        key = str(props.get(spec.key_field) or "") if spec.key_field else ""
        if not key or key in seen:
            key = str(feat.get("id") or "") or f"{name}-{i}"
        if key in seen:
            key = f"{name}-{i}"
        seen.add(key)
        geom = round_geometry(feat.get("geometry"), precision)
        if geom and spec.geometry_type == "MultiLineString" and geom["type"] == "LineString":
            geom = {"type": "MultiLineString", "coordinates": [geom["coordinates"]]}
        if geom and geom["type"] != spec.geometry_type:
            raise DataError(
                f"{name}.geojson feature {i}: geometry={geom['type']!r}, expected "
                f"{spec.geometry_type}: restore the layer with `geotrack init`"
            )
        out.append(Feature(i, key, geom, _typed(props, spec.fields, f"{name} feature {i}")))
    return Layer(
        name, spec.title, spec.description, spec.geometry_type, spec.fields, out, style=name
    )
