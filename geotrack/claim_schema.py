"""The claim record: a count of crossings over a stretch of river, as each outlet printed it.

A *claim* ("at least 32 temporary crossings along about 95 km in five
Ryanggang counties") is made by someone (NK Pro) and printed by one or more
*relays* (SBS, News1, Korea JoongAng Daily), each with its own date, URL,
language, quote and its own figures.  Relays are never merged into one
figure: where they differ (95 km vs 98 km, "a total of 24" vs "more than 24")
the difference is listed as a conflict by :func:`relay_conflicts`.

This module knows the fields and their codes and checks values; it does no
I/O and knows nothing of the river.  Resolving an area to a window of the
stretch is :mod:`geotrack.claims`' job.  Every check collects *all* problems,
each naming the field, the value and the fix (:class:`geotrack.errors.Problem`).
"""

from __future__ import annotations

__all__ = [
    "AREA_KINDS",
    "BEYOND_ENDS",
    "CLAIM_FIELDS",
    "EDITABLE_CLAIM_FIELDS",
    "EDITABLE_RELAY_FIELDS",
    "KM_PER_UNIT",
    "PUBLISHED_PRECISIONS",
    "QUALIFIERS",
    "QUALIFIER_SIGNS",
    "RELAY_FIELDS",
    "UNITS",
    "claim_label",
    "count_phrase",
    "derive_claim",
    "is_claim_id",
    "normalize_area",
    "normalize_claim",
    "normalize_relay",
    "order_claim",
    "relay_conflicts",
    "stated_km",
]

import re
from collections.abc import Mapping, Sequence
from typing import Any

from geotrack.errors import Problem, ValidationError
from geotrack.schema import KINDS, _bool, _date, _number, _text, _url, parse_date

QUALIFIERS: dict[str, str] = {
    "exact": "Exactly (as printed: a total of N)",
    "at_least": "At least N",
    "more_than": "More than N",
    "about": "About N",
}
#: How a qualifier is written in labels ("≥32 · NK Pro · 2025-12-09").
QUALIFIER_SIGNS: dict[str, str] = {"exact": "", "at_least": "≥", "more_than": ">", "about": "~"}
UNITS: dict[str, str] = {"km": "Kilometres", "mi": "Miles (statute)"}
#: Kilometres per unit of a stated length.
KM_PER_UNIT: dict[str, float] = {"km": 1.0, "mi": 1.609344}
AREA_KINDS: dict[str, str] = {
    "counties": "The riverfront of named counties",
    "between": "Between two named places (each a town or a county's whole riverfront)",
    "chainage": "A chainage range of the stretch, km",
    "beyond": "Runs beyond the bundled stretch; the part on it is a chainage range",
}
BEYOND_ENDS: dict[str, str] = {
    "upstream": "Past the stretch's upstream (east) end",
    "downstream": "Past the stretch's downstream (west) end",
    "both": "Past both ends",
}
PUBLISHED_PRECISIONS: dict[str, str] = {
    "day": "Day",
    "month": "Month",
    "year": "Year",
    "unknown": "Not printed",
}

#: The claim's own fields, as given (and edited), in the order they are written.
_CLAIM_INPUT_FIELDS: tuple[str, ...] = (
    "claimed_by",
    "count",
    "count_qualifier",
    "what_as_printed",
    "kinds",
    "area_as_printed",
    "area",
    "stated_length",
    "stated_unit",
    "stated_length_as_printed",
    "imagery",
    "activity_period_as_printed",
    "activity_start",
    "activity_end",
    "notes",
)
#: Claim properties in the order they are written.
CLAIM_FIELDS: tuple[str, ...] = (
    "id",
    *_CLAIM_INPUT_FIELDS,
    "retired",
    "retired_reason",
    "retired_at",
    "created_at",
    "updated_at",
    "first_published",
    "last_published",
    "relays",
    "conflicts",
)
#: Relay fields in the order they are written.
RELAY_FIELDS: tuple[str, ...] = (
    "relay_id",
    "publisher",
    "published",
    "published_precision",
    "url",
    "language",
    "quote",
    "count",
    "count_qualifier",
    "what_as_printed",
    "kinds",
    "area_as_printed",
    "counties",
    "between_places",
    "stated_length",
    "stated_unit",
    "stated_length_as_printed",
    "imagery",
    "activity_period_as_printed",
    "notes",
)
_CLAIM_INPUT = frozenset(_CLAIM_INPUT_FIELDS)
#: Claim fields that ``claims edit`` may change (``area`` is re-resolved on change).
EDITABLE_CLAIM_FIELDS: frozenset[str] = _CLAIM_INPUT
#: Relay fields that ``claims edit --relay`` may change.
EDITABLE_RELAY_FIELDS: frozenset[str] = frozenset(RELAY_FIELDS) - {"relay_id"}
_AREA_INPUT = ("kind", "counties", "between", "from_km", "to_km", "beyond", "basis", "inferred")
_ID_RE = re.compile(r"[A-Z][A-Z0-9]{0,15}(?:-[A-Z0-9]{1,24}){0,3}")
_LANG_RE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")
_NAME_RE = re.compile(r"(?:(?:town|county):)?[^\x00-\x1f;:]{1,120}")
_COUNT_RE = re.compile(r"[0-9]{1,9}")


def is_claim_id(value: object) -> bool:
    """Tell whether *value* is a well-formed claim or relay id (``C1``, ``C1-SBS``).

    Examples
    --------
    >>> is_claim_id("C1"), is_claim_id("C1-JOONGANG"), is_claim_id("../c1")
    (True, True, False)
    """
    return isinstance(value, str) and bool(_ID_RE.fullmatch(value))


def _ident(problems: list[Problem], rec: Mapping[str, Any], key: str, row: str | None):
    value = rec.get(key)
    if value in (None, ""):
        return None
    if not is_claim_id(value):
        problems.append(
            Problem(
                key,
                value,
                "must be an upper-case id such as C1 or C1-SBS (letters, digits, '-')",
                row,
            )
        )
        return None
    return value


def _count(problems: list[Problem], rec: Mapping[str, Any], row, *, required: bool) -> int | None:
    value = rec.get("count")
    if value is None or value == "":
        if required:
            problems.append(Problem("count", value, "is required: give a whole number ≥ 1", row))
        return None
    if isinstance(value, bool):
        ok = False
    elif isinstance(value, int):
        ok = value >= 1
    else:
        ok = isinstance(value, str) and bool(_COUNT_RE.fullmatch(value.strip()))
        ok = ok and int(value) >= 1
    if not ok:
        problems.append(
            Problem("count", value, "must be a positive whole number (32, not 32.5 or -1)", row)
        )
        return None
    return int(value)


def _choice(
    problems: list[Problem],
    rec: Mapping[str, Any],
    key: str,
    codes: Mapping[str, str],
    row,
    *,
    required: bool = False,
) -> str | None:
    value = rec.get(key)
    if value is None or value == "":
        if required:
            problems.append(Problem(key, value, f"is required: use one of {', '.join(codes)}", row))
        return None
    code = _as_code(value)
    if code not in codes:
        problems.append(Problem(key, value, f"unknown code: use one of {', '.join(codes)}", row))
        return None
    return code


def _as_code(value: object) -> str | None:
    """A code as written ('At least', 'at-least') -> its form in the code list ('at_least')."""
    if not isinstance(value, str):
        return None
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def _items(
    problems: list[Problem], rec: Mapping[str, Any], key: str, row, *, fix: str, texts: bool
) -> list[Any] | None:
    """The items of a list or of a ``;``-separated text (empty or bad -> None).

    *texts*: every item must be text; *fix* ends the message when the value is
    not a list of items.
    """
    value = rec.get(key)
    if value is None or value == "" or value == []:
        return None
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or (
        texts and not all(isinstance(v, str) for v in items)
    ):
        problems.append(Problem(key, value, fix, row))
        return None
    return list(items)


def _names(problems: list[Problem], rec: Mapping[str, Any], key: str, row) -> list[str] | None:
    """A list of names from a list or a ``;``-separated text (empty -> None)."""
    fix = "must be names separated by ';' (Hyesan;Pochon)"
    items = _items(problems, rec, key, row, fix=fix, texts=True)
    if items is None:
        return None
    names = [v.strip() for v in items if v.strip()]
    bad = [n for n in names if not _NAME_RE.fullmatch(n)]
    if bad:
        problems.append(
            Problem(key, bad[0], "is not a place name: no control characters, ';' or ':'", row)
        )
        return None
    return names or None


def _kinds(problems: list[Problem], rec: Mapping[str, Any], row) -> list[str]:
    items = _items(problems, rec, "kinds", row, fix="must be kinds separated by ';'", texts=False)
    out: list[str] = []
    for item in items or []:
        code = _as_code(item)
        if code not in KINDS:
            problems.append(
                Problem("kinds", item, f"unknown kind: use one of {', '.join(KINDS)}", row)
            )
        elif code not in out:
            out.append(code)
    return out


def _published(problems: list[Problem], rec: Mapping[str, Any], row) -> tuple[str | None, str]:
    value = rec.get("published")
    given = _choice(problems, rec, "published_precision", PUBLISHED_PRECISIONS, row)
    if value is None or value == "":
        if given not in (None, "unknown"):
            problems.append(
                Problem(
                    "published_precision",
                    rec.get("published_precision"),
                    "is given but published is empty: give the date or use 'unknown'",
                    row,
                )
            )
        return None, "unknown"
    day, prec = _date(problems, {"published": value}, "published", row)
    if day is None:
        return None, given or "unknown"
    if given is not None and given != prec:
        problems.append(
            Problem(
                "published_precision",
                rec.get("published_precision"),
                f"does not match published={value!r} (a date to the {prec}): write the date "
                "to that precision (2025-12 for a month) or fix the precision",
                row,
            )
        )
    return day[: {"day": 10, "month": 7, "year": 4}[prec]], prec


def _length(
    problems: list[Problem], rec: Mapping[str, Any], row
) -> tuple[float | None, str | None]:
    length = _number(problems, rec, "stated_length", row, lo=0, hi=100_000)
    unit = _choice(problems, rec, "stated_unit", UNITS, row)
    if length is not None and length <= 0:
        problems.append(Problem("stated_length", rec.get("stated_length"), "must be > 0", row))
        length = None
    if length is not None and unit is None and rec.get("stated_unit") in (None, ""):
        problems.append(
            Problem("stated_unit", None, "is required with stated_length: km or mi", row)
        )
    if length is None and unit is not None and rec.get("stated_length") in (None, ""):
        problems.append(
            Problem("stated_length", None, f"is required with stated_unit={unit!r}", row)
        )
    return length, unit


def _figures(problems: list[Problem], rec: Mapping[str, Any], row, *, relay: bool) -> dict:
    """The fields a claim and each of its relays both carry, as printed."""
    length, unit = _length(problems, rec, row)
    out = {
        "count": _count(problems, rec, row, required=not relay),
        "count_qualifier": _choice(
            problems, rec, "count_qualifier", QUALIFIERS, row, required=not relay
        ),
        "what_as_printed": _text(problems, rec, "what_as_printed", row),
        "kinds": _kinds(problems, rec, row),
        "area_as_printed": _text(problems, rec, "area_as_printed", row),
        "stated_length": length,
        "stated_unit": unit,
        "stated_length_as_printed": _text(problems, rec, "stated_length_as_printed", row),
        "imagery": _text(problems, rec, "imagery", row),
        "activity_period_as_printed": _text(problems, rec, "activity_period_as_printed", row),
        "notes": _text(problems, rec, "notes", row),
    }
    return out


def _unknown(
    problems: list[Problem], rec: Mapping[str, Any], fields: Sequence[str], what: str, row
) -> None:
    """A problem for each key of *rec* not in *fields*, listing *fields* as the fix."""
    for key in sorted(set(rec) - set(fields), key=str):
        problems.append(
            Problem(key, rec[key], f"is not a {what} field: use {', '.join(fields)}", row)
        )


def normalize_relay(
    rec: Mapping[str, Any], *, row: str | None = None, problems: list[Problem] | None = None
) -> dict[str, Any]:
    """Check one relay (an outlet that printed the claim) and return it in order.

    ``publisher`` and ``url`` are required; every figure the relay printed
    (count, qualifier, stated length and unit, counties, places) is kept as
    that relay printed it.  Empty means the relay does not say.

    Raises
    ------
    ValidationError
        When *problems* is not given and anything is wrong.

    Examples
    --------
    >>> r = normalize_relay({"publisher": "SBS News", "url": "https://news.sbs.co.kr/x",
    ...                      "published": "2025-12-09", "count": "32",
    ...                      "count_qualifier": "at least", "stated_length": "95",
    ...                      "stated_unit": "km"})
    >>> r["count"], r["count_qualifier"], r["published_precision"], r["stated_length"]
    (32, 'at_least', 'day', 95.0)
    """
    own = problems is None
    probs: list[Problem] = [] if own else problems
    _unknown(probs, rec, RELAY_FIELDS, "relay", row)
    published, precision = _published(probs, rec, row)
    url = _url(probs, rec, "url", row)
    if url is None and rec.get("url") in (None, ""):
        probs.append(Problem("url", rec.get("url"), "is required: the URL the relay printed", row))
    lang = rec.get("language")
    if lang not in (None, "") and not (isinstance(lang, str) and _LANG_RE.fullmatch(lang)):
        probs.append(Problem("language", lang, "must be a language code such as en, ko, zh", row))
        lang = None
    out: dict[str, Any] = {
        "relay_id": _ident(probs, rec, "relay_id", row),
        "publisher": _text(probs, rec, "publisher", row, required=True),
        "published": published,
        "published_precision": precision,
        "url": url,
        "language": lang or None,
        "quote": _text(probs, rec, "quote", row),
    }
    out.update(_figures(probs, rec, row, relay=True))
    out["counties"] = _names(probs, rec, "counties", row)
    out["between_places"] = _names(probs, rec, "between_places", row)
    if out["between_places"] is not None and len(out["between_places"]) != 2:
        probs.append(
            Problem("between_places", rec.get("between_places"), "must name two places", row)
        )
    out = {k: out[k] for k in RELAY_FIELDS}
    if own and probs:
        raise ValidationError(probs)
    return out


def normalize_area(
    rec: Mapping[str, Any] | None, *, row: str | None = None, problems: list[Problem] | None = None
) -> dict[str, Any] | None:
    """Check the shape of an area (not whether its names exist on the river).

    An area is ``{"kind": "counties", "counties": [...]}``, ``{"kind":
    "between", "between": [A, B]}`` (each ``town:NAME``, ``county:NAME`` or a
    bare name), ``{"kind": "chainage", "from_km", "to_km"}`` or ``{"kind":
    "beyond", "beyond": "upstream", "from_km", "to_km"}``; ``basis`` says in
    words how it was resolved and ``inferred`` marks a reading the source
    did not print.

    Examples
    --------
    >>> normalize_area({"kind": "between", "between": "Hyesan;county:Kimjongsuk"})["between"]
    ['Hyesan', 'county:Kimjongsuk']
    """
    own = problems is None
    probs: list[Problem] = [] if own else problems
    if rec is None:
        return None
    if not isinstance(rec, Mapping):
        probs.append(Problem("area", rec, "must be an object with a 'kind'", row))
        return None
    for key in sorted(set(rec) - set(_AREA_INPUT), key=str):
        probs.append(Problem(f"area.{key}", rec[key], f"use {', '.join(_AREA_INPUT)}", row))
    kind = _choice(probs, rec, "kind", AREA_KINDS, row, required=True)
    out: dict[str, Any] = {
        "kind": kind,
        "counties": _names(probs, rec, "counties", row),
        "between": _names(probs, rec, "between", row),
        "from_km": _number(probs, rec, "from_km", row, lo=0, hi=100_000),
        "to_km": _number(probs, rec, "to_km", row, lo=0, hi=100_000),
        "beyond": _choice(probs, rec, "beyond", BEYOND_ENDS, row),
        "basis": _text(probs, rec, "basis", row),
        "inferred": _bool(probs, rec, "inferred", row),
    }
    need = {
        "counties": ("counties",),
        "between": ("between",),
        "chainage": ("from_km", "to_km"),
        "beyond": ("beyond",),
    }.get(kind or "", ())
    for key in need:
        if out[key] is None and not any(p.field == key for p in probs):
            probs.append(
                Problem(f"area.{key}", None, f"is required for an area of kind {kind}", row)
            )
    if kind == "between" and out["between"] is not None and len(out["between"]) != 2:
        probs.append(Problem("area.between", rec.get("between"), "must name two places", row))
    if own and probs:
        raise ValidationError(probs)
    return out


def normalize_claim(
    rec: Mapping[str, Any], *, row: str | None = None, problems: list[Problem] | None = None
) -> dict[str, Any]:
    """Check a claim's own fields (not its relays) and return them normalised.

    ``claimed_by``, ``count`` and ``count_qualifier`` are required.

    Examples
    --------
    >>> c = normalize_claim({"claimed_by": "NK Pro", "count": 32, "count_qualifier": "at_least",
    ...                      "area": {"kind": "chainage", "from_km": 0, "to_km": 238.7}})
    >>> c["count"], c["area"]["to_km"]
    (32, 238.7)
    """
    own = problems is None
    probs: list[Problem] = [] if own else problems
    _unknown(probs, rec, sorted(_CLAIM_INPUT), "claim", row)
    out: dict[str, Any] = {"claimed_by": _text(probs, rec, "claimed_by", row, required=True)}
    out.update(_figures(probs, rec, row, relay=False))
    out["area"] = normalize_area(rec.get("area"), row=row, problems=probs)
    start, _ = _date(probs, rec, "activity_start", row)
    end, _ = _date(probs, rec, "activity_end", row, end=True)
    if start and end and end < start:
        probs.append(Problem("activity_end", rec.get("activity_end"), f"is before {start}", row))
    out["activity_start"], out["activity_end"] = start, end
    if own and probs:
        raise ValidationError(probs)
    return out


def stated_km(figures: Mapping[str, Any]) -> float | None:
    """The stated length in km (miles converted), or None when none is stated.

    Examples
    --------
    >>> round(stated_km({"stated_length": 59, "stated_unit": "mi"}), 2)
    94.95
    """
    length, unit = figures.get("stated_length"), figures.get("stated_unit")
    if length is None or unit not in KM_PER_UNIT:
        return None
    return float(length) * KM_PER_UNIT[unit]


def _as_printed(field: str, relay: Mapping[str, Any]) -> tuple[Any, str] | None:
    """(comparison key, text shown) of one relay's value of *field*, or None if silent."""
    if field == "stated_length":
        km = stated_km(relay)
        if km is None:
            return None
        shown = f"{relay['stated_length']:g} {relay['stated_unit']}"
        if relay["stated_unit"] != "km":
            shown += f" ({km:.1f} km)"
        return round(km), shown
    value = relay.get(field)
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(sorted(v.lower() for v in value)), ";".join(value)
    return value, str(value)


def relay_conflicts(relays: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Where the relays of one claim print different figures; none are merged.

    Compared: ``count``, ``count_qualifier``, ``stated_length`` (in whole km,
    so 59 mi and 95 km agree and 95 km and 98 km do not), ``counties`` and
    ``between_places``.  A relay that does not print a field is listed as
    silent on it, not as a disagreement.

    Examples
    --------
    >>> c = relay_conflicts([
    ...     {"relay_id": "A", "stated_length": 95.0, "stated_unit": "km"},
    ...     {"relay_id": "B", "stated_length": 59.0, "stated_unit": "mi"},
    ...     {"relay_id": "C", "stated_length": 98.0, "stated_unit": "km"}])
    >>> [(v["value"], v["relays"]) for v in c[0]["values"]]
    [('95 km', ['A', 'B']), ('98 km', ['C'])]
    """
    out = []
    for field in ("count", "count_qualifier", "stated_length", "counties", "between_places"):
        groups: dict[Any, dict[str, Any]] = {}
        silent = []
        for r in relays:
            got = _as_printed(field, r)
            if got is None:
                silent.append(r.get("relay_id"))
                continue
            key, shown = got
            g = groups.setdefault(key, {"value": shown, "relays": []})
            g["relays"].append(r.get("relay_id"))
        if len(groups) > 1:
            out.append({"field": field, "values": list(groups.values()), "silent": silent})
    return out


def derive_claim(relays: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fields derived from the relays: first/last publication date and the conflicts.

    ``first_published`` is the earliest date printed to the day (else the
    earliest month or year): the date a label can show.

    Examples
    --------
    >>> derive_claim([{"relay_id": "A", "published": "2025-12"},
    ...               {"relay_id": "B", "published": "2025-12-19"}])["first_published"]
    '2025-12-19'
    """
    dates = [r["published"] for r in relays if r.get("published")]
    days = [d for d in dates if len(d) == 10]
    return {
        "first_published": min(days or dates, key=lambda d: parse_date(d)[0]) if dates else None,
        "last_published": max(dates, key=lambda d: parse_date(d, end=True)[0]) if dates else None,
        "conflicts": relay_conflicts(relays),
    }


def count_phrase(props: Mapping[str, Any]) -> str:
    """The count in words with its qualifier: 'at least 32', 'more than 24', '43'.

    Examples
    --------
    >>> count_phrase({"count": 32, "count_qualifier": "at_least"})
    'at least 32'
    """
    words = {"exact": "", "at_least": "at least ", "more_than": "more than ", "about": "about "}
    return f"{words.get(props.get('count_qualifier') or '', '')}{props.get('count')}"


def claim_label(props: Mapping[str, Any]) -> str:
    """The short label of a claim on maps: qualifier and count, who, first published.

    Examples
    --------
    >>> claim_label({"count": 32, "count_qualifier": "at_least", "claimed_by": "NK Pro (NK News)",
    ...              "first_published": "2025-12-09"})
    '≥32 · NK Pro (NK News) · 2025-12-09'
    """
    sign = QUALIFIER_SIGNS.get(props.get("count_qualifier") or "", "")
    parts = [f"{sign}{props.get('count')}", str(props.get("claimed_by") or "")]
    if props.get("first_published"):
        parts.append(str(props["first_published"]))
    return " · ".join(parts)


def order_claim(feature: Mapping[str, Any]) -> dict[str, Any]:
    """A claim feature with keys in the written order and coordinates to 7 decimals.

    Examples
    --------
    >>> f = order_claim({"id": "C1", "properties": {"count": 32, "id": "C1"},
    ...                  "geometry": {"type": "LineString", "coordinates": [[127.1234567891, 41.5]]}})
    >>> list(f["properties"]), f["geometry"]["coordinates"]
    (['id', 'count'], [[127.1234568, 41.5]])
    """
    props = feature["properties"]
    ordered = {k: props.get(k) for k in CLAIM_FIELDS if k in props}
    ordered.update({k: v for k, v in props.items() if k not in ordered})
    if isinstance(ordered.get("relays"), list):
        ordered["relays"] = [
            {**{k: r.get(k) for k in RELAY_FIELDS if k in r}, **r} for r in ordered["relays"]
        ]
    geom = feature.get("geometry")
    if geom:
        geom = {
            "type": geom["type"],
            "coordinates": [[round(float(c), 7) for c in xy] for xy in geom["coordinates"]],
        }
    return {"type": "Feature", "id": feature["id"], "geometry": geom, "properties": ordered}
