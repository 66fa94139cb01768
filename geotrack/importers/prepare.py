"""From a reader's candidates to crossing records: fields, ids, sites, coordinates, times.

:func:`prepare_crossings` runs after a reader (:func:`geotrack.importers.read_candidates`)
and before validation (:func:`geotrack.records.import_crossings`):

1. columns become fields (:class:`~geotrack.importers.fields.ColumnMapper`,
   :data:`CROSSING_FIELDS`), a preset's value codes are translated and ``--set``
   defaults fill empty fields;
2. ids: only geotrack ids (``YLU-0001``) are ids; any other id (a numeric
   GeoJSON id, a CSV ``id`` column, a KML id) becomes the report's
   ``source_ref``; with ``new_ids`` geotrack ids become references too;
3. CSV rows with the same geotrack id (the rows of a reports CSV) become one site
   with several reports; rows whose site fields disagree are a conflict;
4. a geotrack export's ``original_lon``/``original_lat`` are the coordinate as
   reported when they still convert to the geometry (else the point was moved,
   in WGS 84); times of day are converted to UTC and kept in ``extra``.
"""

from __future__ import annotations

__all__ = ["CROSSING_FIELDS", "SITE_KEYS", "Prepared", "prepare_crossings"]

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geotrack.crs import to_wgs84
from geotrack.errors import Problem, ProblemList, UsageError
from geotrack.importers._types import Candidates
from geotrack.importers.csv_in import WKT_NAMES
from geotrack.importers.fields import ColumnMapper, FieldSet
from geotrack.importers.values import parse_when
from geotrack.placement import WORD_KEYS
from geotrack.schema import PLACEMENT_FIELDS, REPORT_FIELDS, SITE_FIELDS, is_crossing_id

_DERIVED = {
    "n_reports": "derived from the reports",
    "first_reported": "derived from the reports",
    "last_reported": "derived from the reports",
    "first_seen": "derived from the reports",
    "last_seen": "derived from the reports",
    "created_at": "set by geotrack when the record is written",
    "updated_at": "set by geotrack when the record is written",
    "retired": "set by `geotrack crossings retire`",
    "retired_reason": "set by `geotrack crossings retire`",
    "retired_at": "set by `geotrack crossings retire`",
    "site_id": "the crossing id, given by the id column",
    "chainage_km": "measured by geotrack from the point",
    "offset_m": "measured by geotrack from the point",
    "fid": "the GeoPackage row number",
    **dict.fromkeys(WKT_NAMES, "the location, read from it"),
}
#: Site keys of a flat record (the rest are report fields): the location, the schema's site
#: fields but the derived ones, and where a site is in words (see geotrack.placement).
SITE_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            "lon",
            "lat",
            *(f for f in SITE_FIELDS if f not in _DERIVED and f != "reports"),
            "at",
            *WORD_KEYS,
            *PLACEMENT_FIELDS,
        )
    )
)
#: The fields a crossings import accepts, their aliases and the derived fields it ignores.
CROSSING_FIELDS = FieldSet(
    fields=(*SITE_KEYS, *REPORT_FIELDS),
    aliases={
        "source": "source_name",
        "type": "kind",
        "date": "reported",
        "precision_m": "uncertainty_m",
        "precision": "location_precision",
        "description": "notes",
        "longitude": "lon",
        "lng": "lon",
        "long": "lon",
        "x": "lon",
        "geom_x": "lon",
        "latitude": "lat",
        "y": "lat",
        "geom_y": "lat",
        "begin": "event_start",
        "end": "event_end",
        "source_id": "source_ref",
        "km_from_place": "km_from",
        "report_source_name": "source_name",
    },
    ignored=_DERIVED,
)
_DATE_FIELDS = ("reported", "accessed", "event_start", "event_end")
_NUMBER_FIELDS = ("uncertainty_m",)


@dataclass
class Prepared:
    """Crossing records ready for validation, and what was done to get them.

    Attributes
    ----------
    records, rows : list
        One record per site (``reports`` inside when the file gave several) and its label.
    problems : ProblemList
        Problems found before validation (reader, columns, conflicts).
    summary : dict
        Per column what happened (see :meth:`ColumnMapper.summary`), with the counts.
    """

    records: list[dict[str, Any]]
    rows: list[str]
    problems: ProblemList
    summary: dict[str, Any] = field(default_factory=dict)
    format: str = ""


def _original(rec: dict[str, Any]) -> None:
    """Use a geotrack export's coordinate as reported when it still gives the geometry."""
    olon, olat = rec.pop("original_lon", None), rec.pop("original_lat", None)
    if olon in (None, "") or olat in (None, ""):
        return
    datum = rec.get("datum") or "wgs84"
    try:
        olon, olat = float(olon), float(olat)
        lon, lat = to_wgs84(olon, olat, str(datum).lower())
        same = abs(lon - float(rec["lon"])) < 1e-6 and abs(lat - float(rec["lat"])) < 1e-6
    except (TypeError, ValueError, OverflowError, KeyError):
        return  # validation names the bad coordinate or datum
    if same:
        rec["lon"], rec["lat"] = olon, olat
    else:  # the point was moved (in QGIS, Google Earth): the geometry is WGS 84
        rec["datum"] = "wgs84"


def _dates(rep: dict[str, Any], extra: dict[str, Any], formats: tuple[str, ...]) -> None:
    for key in _DATE_FIELDS:
        value = rep.get(key)
        if isinstance(value, str) and formats:
            for fmt in formats:
                try:
                    when = datetime.strptime(value.strip(), fmt)
                except ValueError:
                    continue
                # a time of day is kept (as parse_when keeps one without an offset)
                value = when.isoformat() if "%H" in fmt or "%I" in fmt else when.date().isoformat()
                break
        day, instant = parse_when(value)
        if value is not None:
            rep[key] = day
        if instant is not None:
            extra[f"{key}_time" if not instant.endswith("Z") else f"{key}_utc"] = instant
            rep.setdefault("date_precision", "day")


def _extra_of(rec: dict[str, Any], problems: ProblemList, row: str) -> dict[str, Any]:
    """Pop the record's ``extra`` (an object, or its JSON text as a table format carries it)."""
    given = rec.pop("extra", None)
    if isinstance(given, str) and given.strip():
        try:
            given = json.loads(given)
        except ValueError:
            given = None
    if given in (None, ""):
        return {}
    if not isinstance(given, Mapping):
        problems.append(Problem("extra", given, "must be a JSON object of named values", row))
        return {}
    return dict(given)


def _split(rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    site = {k: v for k, v in rec.items() if k in SITE_KEYS or k == "reports"}
    report = {k: v for k, v in rec.items() if k not in site}
    return site, report


def prepare_crossings(
    cands: Candidates,
    mapper: ColumnMapper,
    *,
    defaults: Mapping[str, Any] | None = None,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    date_formats: tuple[str, ...] = (),
    new_ids: bool = False,
) -> Prepared:
    """Turn a reader's candidates into crossing records (see the module docstring).

    Parameters
    ----------
    cands : Candidates
        From :func:`geotrack.importers.read_candidates`.
    mapper : ColumnMapper
        Over :data:`CROSSING_FIELDS` (with the user's ``--map`` and ``--extra``).
    defaults : mapping, optional
        Field values for records that have none (``--set``), by field or alias.
    values : mapping, optional
        Per field, codes to translate (a preset's ``geo_precision`` 1/2/3); the value
        as given is kept in ``extra`` under its column name.
    date_formats : tuple of str
        :func:`datetime.strptime` formats tried on date fields (a preset's).
    new_ids : bool
        Import every record as a new site: geotrack ids become references.

    Examples
    --------
    >>> c = Candidates([{"lon": 127.2, "lat": 41.5, "id": 7, "Type": "ford"},
    ...                 {"lon": 127.2, "lat": 41.5, "id": 8, "Type": "ford"}], ["row 2", "row 3"],
    ...                "csv")
    >>> p = prepare_crossings(c, ColumnMapper(CROSSING_FIELDS), defaults={"source": "NK News"})
    >>> p.records[0]
    {'lon': 127.2, 'lat': 41.5, 'kind': 'ford', 'source_name': 'NK News', 'source_ref': '7'}
    """
    fill = {}
    for key, value in (defaults or {}).items():
        target = CROSSING_FIELDS.lookup(key)
        if target is None:
            raise UsageError(
                f"--set {key}={value}: {key!r} is not a crossing or report field: use one of "
                f"{', '.join(CROSSING_FIELDS.fields)}"
            )
        fill[target] = value
    problems = mapper.problems
    problems.extend(cands.problems)
    sites: dict[str, int] = {}  # geotrack id -> index in records
    records: list[dict[str, Any]] = []
    rows: list[str] = []
    for raw, row in zip(cands.records, cands.rows, strict=True):
        rec = mapper.map(raw, row)
        extra = _extra_of(rec, problems, row)
        for fname, codes in (values or {}).items():
            if fname in rec and str(rec[fname]).strip() in codes:
                source = next((c for c, f in mapper.mapping.items() if f == fname), fname)
                extra.setdefault(source, rec[fname])
                rec[fname] = codes[str(rec[fname]).strip()]
        for key, value in fill.items():
            if rec.get(key) in (None, ""):
                rec[key] = value
        if cands.decimal_comma:
            for key in _NUMBER_FIELDS:
                if isinstance(rec.get(key), str):
                    rec[key] = rec[key].replace(",", ".")
        _original(rec)
        fid = rec.pop("id", None)
        ref = None
        if fid not in (None, "") and (new_ids or not is_crossing_id(fid)):
            ref, fid = str(fid), None
        site, report = _split(rec)
        nested = site.pop("reports", None)
        if isinstance(nested, str):  # a geotrack KML's reports, as JSON text
            try:
                nested = json.loads(nested)
            except ValueError:
                problems.append(Problem("reports", nested[:40], "must be a JSON list", row))
                continue
        if nested is not None and report:
            problems.append(
                Problem(
                    sorted(report)[0],
                    report[sorted(report)[0]],
                    "is a report field beside a reports list: put it in the reports, or map "
                    "the column elsewhere with --map",
                    row,
                )
            )
            continue
        reports = nested if isinstance(nested, list) else [report]
        if nested is not None and not isinstance(nested, list):
            site["reports"] = nested  # validation says what is wrong with it
            reports = []
        prepared = []
        for rep in reports:
            if not isinstance(rep, Mapping):
                prepared.append(rep)
                continue
            rep = mapper.map(rep, row) if rep is not report else rep
            rep_extra = {**extra, **_extra_of(rep, problems, row)}
            if ref is not None:
                if rep.get("source_ref") in (None, ""):
                    rep["source_ref"] = ref
                else:
                    rep_extra.setdefault("id", ref)
            _dates(rep, rep_extra, date_formats)
            if rep_extra:
                rep["extra"] = rep_extra
            prepared.append(rep)
        if fid in (None, "") or cands.format != "csv":
            if fid not in (None, ""):
                site["id"] = fid
            records.append(
                {**site, **prepared[0]} if nested is None else {**site, "reports": prepared}
            )
            rows.append(row)
            continue
        site["id"] = fid
        if fid not in sites:
            sites[fid] = len(records)
            records.append({**site, "reports": prepared})
            rows.append(row)
            continue
        first = records[sites[fid]]
        differ = sorted(
            k for k in set(site) | set(first) if k != "reports" and site.get(k) != first.get(k)
        )
        if differ:
            problems.append(
                Problem(
                    differ[0],
                    site.get(differ[0]),
                    f"conflicts with {rows[sites[fid]]} for the same crossing {fid} "
                    f"({first.get(differ[0])!r}): give one value per site",
                    row,
                )
            )
            continue
        first["reports"].extend(prepared)
    problems.extend(mapper.refusals())
    summary = mapper.summary()
    summary["records"] = len(cands.records)
    summary["sites"] = len(records)
    summary["skipped"] = dict(cands.skipped)
    summary["notes"] = list(cands.notes)
    return Prepared(records, rows, problems, summary, cands.format)
