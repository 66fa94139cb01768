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

from geotrack.claim_schema import claim_label, stated_km
from geotrack.errors import DataError, UsageError
from geotrack.escape import replace_nul
from geotrack.export._schema import DOMAINS, LAYER_SPECS, PUBLIC_DROPPED, Domain, Field

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ID_NUM_RE = re.compile(r"^[A-Z]{2,8}-(\d{1,9})$")
_REPORT_NUM_RE = re.compile(r"^R(\d{1,3})$")


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


def _layer(
    name: str,
    fields: tuple[Field, ...],
    features: list[Feature],
    *,
    note: str = "",
    extra: dict[str, Any] | None = None,
) -> Layer:
    """The layer *name* as :data:`LAYER_SPECS` declares it, with *fields* and *features*."""
    spec = LAYER_SPECS[name]
    return Layer(
        name,
        spec.title,
        spec.description + note,
        spec.geometry_type,
        fields,
        features,
        style=name,
        extra=extra or {},
    )


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
    site_fields = LAYER_SPECS["crossings"].fields_for(public=public)
    report_fields = LAYER_SPECS["reports"].fields_for(public=public)
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
    return (
        _layer("crossings", site_fields, sites, note=note, extra={"decimals": ndigits}),
        _layer("reports", report_fields, reports, note=note),
    )


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
    cfields = LAYER_SPECS["claims"].fields_for(public=public)
    rfields = LAYER_SPECS["relays"].fields_for(public=public)
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
        _layer("claims", cfields, claims, note=note),
        _layer("relays", rfields, relays, note=note),
    )


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
    spec = LAYER_SPECS[name]
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
    return _layer(name, spec.fields, out)
