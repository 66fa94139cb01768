"""The crossing record: coded values, field rules and validation.

A crossing *site* (a bridge, a ford, a ferry landing) is a GeoJSON Point
feature whose ``reports`` list holds the claims made about it by sources at
dates.  This module knows the fields and their codes and checks values; it
does no I/O and knows nothing of files or geography beyond coordinate ranges.

Every check returns or raises *all* problems at once, each naming the field,
the value and the fix (:class:`geotrack.errors.Problem`).
"""

from __future__ import annotations

__all__ = [
    "BANKS",
    "CREDIBILITY",
    "DATE_PRECISIONS",
    "DATUMS",
    "KINDS",
    "MIN_DATE",
    "PLACEMENTS",
    "PLACEMENT_FIELDS",
    "PRECISIONS",
    "RELIABILITY",
    "REPORT_FIELDS",
    "SITE_FIELDS",
    "SOURCE_TYPES",
    "STATUSES",
    "VERIFICATIONS",
    "check_lonlat",
    "derive_site_dates",
    "editable_site_fields",
    "is_crossing_id",
    "location_phrase",
    "normalize_report",
    "normalize_site",
    "order_crossing",
    "parse_date",
    "today_utc",
]

import calendar
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from geotrack.errors import Problem

KINDS: dict[str, str] = {
    "temporary_bridge": "Temporary bridge",
    "pontoon": "Pontoon bridge",
    "ford": "Ford",
    "ferry_boat": "Ferry or boat",
    "ice_road": "Ice road",
    "cable": "Cable",
    "earth_causeway": "Earth-fill causeway (earth piled on the riverbed)",
    "raft": "Raft",
    "wading": "Wading (people crossing on foot)",
    "other": "Other",
}
STATUSES: dict[str, str] = {
    "active": "Active",
    "inactive": "Inactive",
    "destroyed": "Destroyed",
    "unknown": "Unknown",
}
PRECISIONS: dict[str, str] = {
    "exact": "Exact: the structure itself is located",
    "near_place": "Near a named place",
    "reach": "Somewhere on a stated reach of the river",
    "county": "Only the county is known",
}
PLACEMENTS: dict[str, str] = {
    "coordinate": "From a coordinate",
    "near_place": "Near a named place",
    "km_from": "A distance along the river from a named place",
    "reach": "Somewhere on a stretch between two places or chainages",
    "county": "Somewhere on a county's riverfront",
}
BANKS: dict[str, str] = {"CN": "Chinese bank", "KP": "North Korean bank"}
DATUMS: dict[str, str] = {
    "wgs84": "WGS 84 (GPS, OpenStreetMap, Google Earth)",
    "gcj02": "GCJ-02 (AMap/Gaode, Tencent, Google Maps in China)",
    "bd09": "BD-09 (Baidu Maps)",
}
SOURCE_TYPES: dict[str, str] = {
    "satellite_imagery": "Satellite imagery",
    "media": "News media",
    "social_media": "Social media",
    "official": "Official statement or record",
    "informant": "Informant",
    "other": "Other",
    "unknown": "Not given",
}
DATE_PRECISIONS: dict[str, str] = {
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "year": "Year",
}
RELIABILITY: dict[str, str] = {
    "A": "A: completely reliable",
    "B": "B: usually reliable",
    "C": "C: fairly reliable",
    "D": "D: not usually reliable",
    "E": "E: unreliable",
    "F": "F: reliability cannot be judged",
}
CREDIBILITY: dict[int, str] = {
    1: "1: confirmed by other sources",
    2: "2: probably true",
    3: "3: possibly true",
    4: "4: doubtful",
    5: "5: improbable",
    6: "6: truth cannot be judged",
}
VERIFICATIONS: dict[str, str] = {
    "unverified": "Unverified",
    "in_review": "In review",
    "verified": "Verified",
    "unverifiable": "Unverifiable",
    "disputed": "Disputed",
    "false": "False",
}

#: Site fields saying how the site was placed (all optional, None when not known).
PLACEMENT_FIELDS: tuple[str, ...] = (
    "place_as_printed",
    "placement",
    "placement_basis",
    "inferred",
    "chainage_from_km",
    "chainage_to_km",
    "bank",
)
#: Site properties in the order they are written.
SITE_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "kind",
    "status",
    "location_precision",
    "uncertainty_m",
    *PLACEMENT_FIELDS,
    "chainage_km",
    "offset_m",
    "datum",
    "original_lon",
    "original_lat",
    "synthetic",
    "retired",
    "retired_reason",
    "retired_at",
    "created_at",
    "updated_at",
    "first_reported",
    "last_reported",
    "first_seen",
    "last_seen",
    "reports",
)
#: Report fields in the order they are written.
REPORT_FIELDS: tuple[str, ...] = (
    "report_id",
    "source_name",
    "source_type",
    "url",
    "archive_url",
    "sha256",
    "accessed",
    "reported",
    "event_start",
    "event_end",
    "date_precision",
    "reliability",
    "credibility",
    "verification",
    "notes",
    "source_ref",
    "extra",
)
#: Report and event dates must not be earlier than this (a typo such as 1025).
MIN_DATE = date(1900, 1, 1)
_SITE_EDITABLE = {
    "name",
    "place_as_printed",
    "kind",
    "status",
    "location_precision",
    "uncertainty_m",
    "synthetic",
}
_ID_RE = re.compile(r"[A-Z]{2,8}-[0-9]{4,9}")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_MAX_TEXT = 100_000


def is_crossing_id(value: object) -> bool:
    """Tell whether *value* is a well-formed crossing id such as ``YLU-0001``.

    Examples
    --------
    >>> is_crossing_id("YLU-0001"), is_crossing_id("../x")
    (True, False)
    """
    return isinstance(value, str) and bool(_ID_RE.fullmatch(value))


def parse_date(value: object, *, end: bool = False) -> tuple[str, str]:
    """Parse an ISO date of day, month or year precision.

    Parameters
    ----------
    value : str
        ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.
    end : bool
        For a month or a year, return its last day instead of its first.

    Returns
    -------
    (str, str)
        The ISO day and the precision it was given with (``day``, ``month``, ``year``).

    Raises
    ------
    ValueError
        If *value* is not such a date.

    Examples
    --------
    >>> parse_date("2025-11")
    ('2025-11-01', 'month')
    >>> parse_date("2025-02", end=True)
    ('2025-02-28', 'month')
    """
    if isinstance(value, date):
        return value.isoformat(), "day"
    if not isinstance(value, str):
        raise ValueError("expected a date as YYYY-MM-DD, YYYY-MM or YYYY")
    m = _DATE_RE.fullmatch(value.strip())
    if not m:
        raise ValueError("expected a date as YYYY-MM-DD, YYYY-MM or YYYY")
    year = int(m.group(1))
    if m.group(3):
        day = date(year, int(m.group(2)), int(m.group(3)))  # raises ValueError
        return day.isoformat(), "day"
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"month {month} is not in 1..12")
        last = calendar.monthrange(year, month)[1]
        return date(year, month, last if end else 1).isoformat(), "month"
    return (date(year, 12, 31) if end else date(year, 1, 1)).isoformat(), "year"


def _text(
    problems: list[Problem], rec: Mapping[str, Any], key: str, row: str | None, *, required=False
) -> str | None:
    value = rec.get(key)
    if value is None or value == "":
        if required:
            problems.append(Problem(key, value, "is required: give a non-empty text", row))
        return None
    if not isinstance(value, str):
        problems.append(Problem(key, value, "must be text", row))
        return None
    if len(value) > _MAX_TEXT:
        problems.append(
            Problem(
                key, value[:40] + "…", f"is longer than {_MAX_TEXT} characters: shorten it", row
            )
        )
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. undecodable bytes from argv
        problems.append(
            Problem(
                key,
                value,
                f"is not valid Unicode text (character {exc.start + 1} is a lone surrogate "
                f"{value[exc.start]!r}): re-type it or save the source as UTF-8",
                row,
            )
        )
        return None
    return value


def _code(
    problems: list[Problem],
    rec: Mapping[str, Any],
    key: str,
    codes: Mapping[Any, str],
    row: str | None,
    *,
    default: Any = None,
) -> Any:
    value = rec.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        value_n = value.strip()
        if key in ("kind", "status", "location_precision", "source_type", "verification"):
            value_n = value_n.lower().replace("-", "_").replace(" ", "_")
        elif key == "datum":
            value_n = value_n.lower().replace("-", "").replace(" ", "").replace("_", "")
        elif key == "reliability":
            value_n = value_n.upper()
        elif key == "credibility" and value_n.isdigit():
            value_n = int(value_n)
    else:
        value_n = value
    try:
        known = not isinstance(value_n, bool) and value_n in codes
    except TypeError:  # unhashable (a list or an object)
        known = False
    if not known:
        problems.append(
            Problem(key, value, f"unknown code: use one of {', '.join(map(str, codes))}", row)
        )
        return None
    if key == "credibility":
        value_n = int(value_n)  # the code itself: 3, not 3.0
    return value_n


def _number(
    problems: list[Problem], rec: Mapping[str, Any], key: str, row: str | None, *, lo=None, hi=None
) -> float | None:
    value = rec.get(key)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        comma = isinstance(value, str) and "," in value
        hint = " with a decimal point (127.27, not 127,27)" if comma else ""
        problems.append(Problem(key, value, f"must be a number{hint}", row))
        return None
    if not math.isfinite(number):
        problems.append(Problem(key, value, "must be a finite number (not NaN or infinity)", row))
        return None
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        problems.append(Problem(key, value, f"must be within [{lo}, {hi}]", row))
        return None
    return number


def today_utc() -> date:
    """Today's date in UTC, the upper bound of report and event dates.

    Examples
    --------
    >>> today_utc() >= MIN_DATE
    True
    """
    return datetime.now(UTC).date()


def _date(problems: list[Problem], rec: Mapping[str, Any], key: str, row, *, end=False):
    value = rec.get(key)
    if value is None or value == "":
        return None, None
    try:
        day, prec = parse_date(value, end=end)
        first = parse_date(value)[0]  # a month or year is in the future only if it starts there
    except ValueError as exc:
        problems.append(Problem(key, value, f"{exc} (for example 2025-11-30)", row))
        return None, None
    today = today_utc()
    if first > today.isoformat():
        problems.append(
            Problem(
                key,
                value,
                f"is after today ({today.isoformat()}): dates of reports and events cannot be "
                "in the future; check the year for a typo",
                row,
            )
        )
        return None, None
    if day < MIN_DATE.isoformat():
        problems.append(
            Problem(
                key,
                value,
                f"is before {MIN_DATE.isoformat()}: geotrack records reports from 1900 on; "
                "check the year for a typo",
                row,
            )
        )
        return None, None
    return day, prec


def _bool(problems: list[Problem], rec: Mapping[str, Any], key: str, row) -> bool:
    value = rec.get(key, False)
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    problems.append(Problem(key, value, "must be true or false", row))
    return False


def normalize_report(
    rec: Mapping[str, Any], *, row: str | None = None, problems: list[Problem] | None = None
) -> dict[str, Any]:
    """Check one report and return it with every field present, in order.

    Parameters
    ----------
    rec : mapping
        The report's fields as given (strings are accepted for numbers and codes).
    row : str, optional
        Where it came from, for messages.
    problems : list, optional
        Problems are appended here; when omitted, a ValidationError is raised instead.

    Returns
    -------
    dict
        The normalised report.  Texts are kept exactly as given.

    Examples
    --------
    >>> r = normalize_report({"source_name": "NK News", "reported": "2025-12-16",
    ...                       "reliability": "b", "credibility": "2"})
    >>> r["reliability"], r["credibility"], r["verification"]
    ('B', 2, 'unverified')
    """
    own = problems is None
    probs: list[Problem] = [] if own else problems
    unknown = sorted(set(rec) - set(REPORT_FIELDS), key=str)
    for key in unknown:
        probs.append(
            Problem(key, rec[key], f"is not a report field: use {', '.join(REPORT_FIELDS)}", row)
        )
    out: dict[str, Any] = {
        "report_id": rec.get("report_id"),
        "source_name": _text(probs, rec, "source_name", row, required=True),
        "source_type": _code(probs, rec, "source_type", SOURCE_TYPES, row, default="unknown"),
        "url": _url(probs, rec, "url", row),
        "archive_url": _url(probs, rec, "archive_url", row),
        "sha256": None,
        "accessed": _date(probs, rec, "accessed", row)[0],
        "reported": _date(probs, rec, "reported", row)[0],
    }
    sha = rec.get("sha256")
    if sha not in (None, ""):
        if isinstance(sha, str) and _SHA_RE.match(sha.strip().lower()):
            out["sha256"] = sha.strip().lower()
        else:
            probs.append(
                Problem("sha256", sha, "must be 64 hexadecimal digits (a SHA-256 digest)", row)
            )
    start, start_prec = _date(probs, rec, "event_start", row)
    end, end_prec = _date(probs, rec, "event_end", row, end=True)
    if start and end and end < start:
        probs.append(
            Problem(
                "event_end", rec.get("event_end"), f"is before event_start {start}: swap them", row
            )
        )
    out["event_start"] = start
    out["event_end"] = end
    given_prec = rec.get("date_precision")
    if given_prec in (None, ""):
        out["date_precision"] = (
            start_prec if start_prec == end_prec or not end_prec else start_prec or end_prec
        )
        if out["date_precision"] is None and (start or end):
            out["date_precision"] = "day"
    else:
        out["date_precision"] = _code(probs, rec, "date_precision", DATE_PRECISIONS, row)
    # a grade not given stays not graded (null): F6 means "cannot be judged", a judgement
    out["reliability"] = _code(probs, rec, "reliability", RELIABILITY, row)
    out["credibility"] = _code(probs, rec, "credibility", CREDIBILITY, row)
    out["verification"] = _code(
        probs, rec, "verification", VERIFICATIONS, row, default="unverified"
    )
    out["notes"] = _text(probs, rec, "notes", row)
    out["source_ref"] = _text(probs, rec, "source_ref", row)
    out["extra"] = _extra(probs, rec, row)
    if own and probs:
        from geotrack.errors import ValidationError

        raise ValidationError(probs)
    return out


def _extra(problems: list[Problem], rec: Mapping[str, Any], row) -> dict[str, Any] | None:
    """Other columns of an imported file kept with the report: a JSON object, bounded."""
    value = rec.get("extra")
    if value is None or value == {} or value == "":
        return None
    if isinstance(value, str):  # as a table format (CSV, GeoPackage, KML) carries it
        try:
            value = json.loads(value)
        except ValueError:
            problems.append(Problem("extra", value[:40], "must be a JSON object", row))
            return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        problems.append(Problem("extra", value, "must be an object of named values", row))
        return None
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError):
        problems.append(Problem("extra", value, "must hold JSON values only", row))
        return None
    if size > _MAX_TEXT:
        problems.append(
            Problem(
                "extra",
                f"{len(value)} values, {size:,} characters",
                f"is longer than {_MAX_TEXT} characters: map the columns that matter with --map "
                "and pass --extra drop",
                row,
            )
        )
        return None
    return value or None


def _url(problems: list[Problem], rec: Mapping[str, Any], key: str, row) -> str | None:
    value = _text(problems, rec, key, row)
    if value is None:
        return None
    # Stored as given; outputs link only http(s) URLs.  A URL with spaces or
    # no scheme is most likely a paste error, so say so now.
    if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+", value):
        problems.append(
            Problem(key, value, "must be an absolute URL such as https://example.org/a", row)
        )
        return None
    return value


def normalize_site(
    rec: Mapping[str, Any], *, row: str | None = None, problems: list[Problem] | None = None
) -> dict[str, Any]:
    """Check a site's own attributes (not its coordinates or reports).

    Parameters
    ----------
    rec : mapping
        Site attributes as given.
    row : str, optional
        Where it came from, for messages.
    problems : list, optional
        Problems are appended here; when omitted, a ValidationError is raised.

    Returns
    -------
    dict
        ``name``, ``kind``, ``status``, ``location_precision``, ``uncertainty_m``,
        ``datum``, ``synthetic`` and the placement fields (:data:`PLACEMENT_FIELDS`),
        normalised.

    Examples
    --------
    >>> normalize_site({"kind": "Pontoon", "precision_m": 250})["kind"]
    'pontoon'
    """
    own = problems is None
    probs: list[Problem] = [] if own else problems
    if "precision_m" in rec and "uncertainty_m" not in rec:
        rec = {**rec, "uncertainty_m": rec["precision_m"]}
    out = {
        "name": _text(probs, rec, "name", row),
        "kind": _code(probs, rec, "kind", KINDS, row),
        "status": _code(probs, rec, "status", STATUSES, row, default="unknown"),
        "location_precision": _code(
            probs, rec, "location_precision", PRECISIONS, row, default="near_place"
        ),
        "uncertainty_m": _number(probs, rec, "uncertainty_m", row, lo=0, hi=100_000),
        "datum": _code(probs, rec, "datum", DATUMS, row, default="wgs84"),
        "synthetic": _bool(probs, rec, "synthetic", row),
    }
    out.update(_placement_fields(probs, rec, row))
    if out["kind"] is None and rec.get("kind") in (None, ""):  # (an unknown code is said above)
        probs.append(
            Problem("kind", rec.get("kind"), f"is required: use one of {', '.join(KINDS)}", row)
        )
    if out["uncertainty_m"] is None:
        out["uncertainty_m"] = _DEFAULT_UNCERTAINTY_M[out["location_precision"] or "near_place"]
    if own and probs:
        from geotrack.errors import ValidationError

        raise ValidationError(probs)
    return out


def _placement_fields(problems: list[Problem], rec: Mapping[str, Any], row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "place_as_printed": _text(problems, rec, "place_as_printed", row),
        "placement": _code(problems, rec, "placement", PLACEMENTS, row),
        "placement_basis": _text(problems, rec, "placement_basis", row),
        "inferred": None,
        "chainage_from_km": _number(problems, rec, "chainage_from_km", row, lo=0, hi=100_000),
        "chainage_to_km": _number(problems, rec, "chainage_to_km", row, lo=0, hi=100_000),
        "bank": None,
    }
    if rec.get("inferred") not in (None, ""):
        out["inferred"] = _bool(problems, rec, "inferred", row)
    bank = rec.get("bank")
    if bank not in (None, ""):
        code = bank.strip().upper() if isinstance(bank, str) else None
        if code in BANKS:
            out["bank"] = code
        else:
            problems.append(Problem("bank", bank, "must be CN or KP (or left empty)", row))
    lo, hi = out["chainage_from_km"], out["chainage_to_km"]
    if (lo is None) != (hi is None) and not any(
        p.field in ("chainage_from_km", "chainage_to_km") for p in problems
    ):
        missing = "chainage_to_km" if hi is None else "chainage_from_km"
        problems.append(
            Problem(missing, None, "is needed too: a spread has both ends (or neither)", row)
        )
    elif lo is not None and hi is not None and hi < lo:
        problems.append(
            Problem("chainage_to_km", hi, f"is below chainage_from_km {lo:g}: swap them", row)
        )
    return out


#: Uncertainty radius assumed when a report gives none, by location precision.
_DEFAULT_UNCERTAINTY_M = {"exact": 50.0, "near_place": 1000.0, "reach": 5000.0, "county": 20000.0}


def editable_site_fields() -> frozenset[str]:
    """Site fields that ``crossings edit`` may change.

    Examples
    --------
    >>> "kind" in editable_site_fields()
    True
    """
    return frozenset(_SITE_EDITABLE)


def check_lonlat(lon: object, lat: object, *, row: str | None = None) -> list[Problem]:
    """Check a longitude/latitude pair and say if it looks swapped.

    Examples
    --------
    >>> [p.message[:22] for p in check_lonlat(41.5, 127.9)]
    ['looks swapped: did you']
    """
    probs: list[Problem] = []
    rec = {"lon": lon, "lat": lat}
    if lon is None or lon == "" or lat is None or lat == "":
        for key in ("lon", "lat"):
            if rec[key] is None or rec[key] == "":
                probs.append(Problem(key, rec[key], "is missing: give decimal degrees", row))
        return probs
    x = _number(probs, rec, "lon", row)
    y = _number(probs, rec, "lat", row)
    if x is None or y is None:
        return probs
    if not -90 <= y <= 90:
        if -90 <= x <= 90 and -180 <= y <= 180:
            probs.append(
                Problem(
                    "lat",
                    lat,
                    f"looks swapped: did you mean --lon {y} --lat {x}? (latitude must be within [-90, 90])",
                    row,
                )
            )
        else:
            probs.append(Problem("lat", lat, "must be within [-90, 90] decimal degrees", row))
    if not -180 <= x <= 180:
        probs.append(Problem("lon", lon, "must be within [-180, 180] decimal degrees", row))
    return probs


def derive_site_dates(reports: list[Mapping[str, Any]]) -> dict[str, str | None]:
    """First/last reported and first/last seen dates of a site, from its reports.

    Examples
    --------
    >>> derive_site_dates([{"reported": "2025-12-16", "event_start": "2025-10-01",
    ...                     "event_end": None}])["last_seen"]
    '2025-10-01'
    """
    reported = [r["reported"] for r in reports if r.get("reported")]
    starts = [r["event_start"] for r in reports if r.get("event_start")]
    ends = [r.get("event_end") or r.get("event_start") for r in reports]
    ends = [e for e in ends if e]
    return {
        "first_reported": min(reported) if reported else None,
        "last_reported": max(reported) if reported else None,
        "first_seen": min(starts) if starts else (min(ends) if ends else None),
        "last_seen": max(ends) if ends else None,
    }


def order_crossing(feature: Mapping[str, Any]) -> dict[str, Any]:
    """A crossing feature with keys in the written order and coordinates to 7 decimals.

    Examples
    --------
    >>> f = order_crossing({"properties": {"kind": "ford", "id": "YLU-0001"}, "id": "YLU-0001",
    ...                     "geometry": {"coordinates": [127.123456789, 41.5], "type": "Point"}})
    >>> list(f), list(f["properties"])[:2], f["geometry"]["coordinates"]
    (['type', 'id', 'geometry', 'properties'], ['id', 'kind'], [127.1234568, 41.5])
    """
    props = feature["properties"]
    ordered = {k: props.get(k) for k in SITE_FIELDS if k in props}
    ordered.update({k: v for k, v in props.items() if k not in ordered})
    if "reports" in ordered and isinstance(ordered["reports"], list):
        ordered["reports"] = [
            {**{k: r.get(k) for k in REPORT_FIELDS if k in r}, **r} for r in ordered["reports"]
        ]
    geom = feature.get("geometry")
    if geom:
        geom = {
            "type": geom["type"],
            "coordinates": [round(float(c), 7) for c in geom["coordinates"]],
        }
    return {"type": "Feature", "id": feature["id"], "geometry": geom, "properties": ordered}


_LEAD = re.compile(r"^([^:]+):")


def location_phrase(props: Mapping[str, Any]) -> str:
    """Say where a site is along the river, in words, from its stored fields.

    Uses ``chainage_km``, ``offset_m`` and ``bank`` (written by geotrack with
    every site) and the spread ``chainage_from_km``/``chainage_to_km``.  A
    spread or near-place site names a bank only if one was stated.

    Examples
    --------
    >>> location_phrase({"chainage_km": 208.43, "offset_m": -148.2, "bank": "KP"})
    'at km 208.4, KP bank, 148 m from the line'
    >>> location_phrase({"chainage_from_km": 94.5, "chainage_to_km": 164.8, "chainage_km": 129.6,
    ...                  "placement_basis": "Kimjongsuk county: its riverfront"})
    'somewhere on km 94.5–164.8 (Kimjongsuk county)'
    >>> location_phrase({"placement": "near_place", "uncertainty_m": 2000, "chainage_km": 206.8,
    ...                  "placement_basis": "near Hyesan (km 206.8): within 2 km"})
    'near Hyesan (km 206.8), within 2 km'
    """
    lo, hi = props.get("chainage_from_km"), props.get("chainage_to_km")
    km = props.get("chainage_km")
    basis = props.get("placement_basis") or ""
    m = _LEAD.match(basis)
    why = f" ({m.group(1)})" if m else ""
    side = f", {props['bank']} bank" if props.get("bank") else ""
    if lo is not None and hi is not None and hi > lo:
        return f"somewhere on km {lo:.1f}–{hi:.1f}{why}{side}"
    where = "at an unmeasured chainage" if km is None else f"at km {km:.1f}"
    if props.get("placement") == "near_place":
        r = float(props.get("uncertainty_m") or 0.0) / 1000.0
        lead = m.group(1) if m else f"near km {km:.1f}" if km is not None else "near a place"
        return f"{lead}, within {r:g} km{side}"
    off = props.get("offset_m")
    return f"{where}{side}" + (f", {abs(off):.0f} m from the line" if off is not None else "")
