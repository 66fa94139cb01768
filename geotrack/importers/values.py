"""Coordinates and times as real files write them: DMS, decimal commas, times of day, offsets.

Nothing here refuses a value: what cannot be read is returned as given, and
the record's validation names it with its fix.
"""

from __future__ import annotations

__all__ = ["parse_coordinate", "parse_when"]

import re
from datetime import UTC, datetime
from typing import Any

_NUM = r"(\d+(?:[.,]\d+)?)"
_DMS = re.compile(
    rf"^\s*([NSEWnsew])?\s*{_NUM}\s*(?:°|º|˚|d|\s|:)\s*"
    rf"(?:{_NUM}\s*(?:'|′|’|m|:|\s)\s*)?"
    rf"(?:{_NUM}\s*(?:\"|″|”|''|s)?\s*)?([NSEWnsew])?\s*$"
)
_HEMI_DECIMAL = re.compile(r"^\s*([NSEWnsew])?\s*(\d+(?:\.\d+)?)\s*°?\s*([NSEWnsew])?\s*$")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_TIME = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def parse_coordinate(value: Any, axis: str, *, decimal_comma: bool = False) -> Any:
    """A longitude or latitude as a float when *value* reads as one, else *value* unchanged.

    Reads decimal degrees (``127.27``; ``127,27`` when *decimal_comma*), a
    hemisphere letter (``41.4N``, ``W 2.5``) and degrees-minutes-seconds
    (``41°24'36"N``, ``41 24 36 N``, ``41°24.6'``).

    Parameters
    ----------
    value : object
        The cell or property as read.
    axis : {'lon', 'lat'}
        Which coordinate: ``N``/``S`` belong to latitudes, ``E``/``W`` to longitudes.
    decimal_comma : bool
        Read ``127,27`` as 127.27 (a CSV separated by ``;``).

    Examples
    --------
    >>> parse_coordinate("41°24'36\\"N", "lat")
    41.41
    >>> parse_coordinate("127,5", "lon", decimal_comma=True), parse_coordinate("x", "lon")
    (127.5, 'x')
    >>> parse_coordinate("41°24'36\\"E", "lat")
    '41°24\\'36"E'
    """
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    if decimal_comma and _DECIMAL_COMMA.match(text):
        return float(text.replace(",", "."))
    try:
        return float(text)
    except ValueError:
        pass
    m = _HEMI_DECIMAL.match(text)
    if m and (m.group(1) or m.group(3)) and not (m.group(1) and m.group(3)):
        return _signed(float(m.group(2)), m.group(1) or m.group(3), axis, value)
    m = _DMS.match(text)
    if not m or (m.group(1) and m.group(5)):
        return value
    parts = [float(g.replace(",", ".")) if g else 0.0 for g in m.group(2, 3, 4)]
    if parts[1] >= 60 or parts[2] >= 60:
        return value
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    hemi = m.group(1) or m.group(5)
    if hemi is None:
        if m.group(3) is None:  # "41 24" alone is not clearly degrees and minutes
            return value
        return round(degrees, 9)
    return _signed(degrees, hemi, axis, value)


def _signed(degrees: float, hemi: str, axis: str, value: Any) -> Any:
    hemi = hemi.upper()
    if (axis == "lat" and hemi not in "NS") or (axis == "lon" and hemi not in "EW"):
        return value
    return round(-degrees if hemi in "SW" else degrees, 9)


def parse_when(value: Any) -> tuple[Any, str | None]:
    """A date field's value and, for a time of day, the instant in UTC.

    A date (``2025-10-01``, ``2025-10``, ``2025``) is returned as it is.  A time
    of day with a UTC offset is converted to UTC: the date is the UTC date and
    the instant is returned as ``YYYY-MM-DDTHH:MM:SSZ`` so that it is kept
    (not truncated).  A time without an offset keeps its date and its text.

    Examples
    --------
    >>> parse_when("2025-10-01T01:30:00+09:00")
    ('2025-09-30', '2025-09-30T16:30:00Z')
    >>> parse_when("2025-10-01T12:00:00Z"), parse_when("2025-10")
    (('2025-10-01', '2025-10-01T12:00:00Z'), ('2025-10', None))
    >>> parse_when("2025-10-01 08:00")
    ('2025-10-01', '2025-10-01T08:00')
    """
    if not isinstance(value, str):
        return value, None
    m = _TIME.match(value)
    if not m:
        return value, None
    day, clock, offset = m.groups()
    if offset is None:
        return day, f"{day}T{clock}"
    if offset != "Z" and ":" not in offset:
        offset = offset[:3] + ":" + offset[3:]
    try:
        instant = datetime.fromisoformat(f"{day}T{clock}{'+00:00' if offset == 'Z' else offset}")
    except ValueError:
        return value, None
    utc = instant.astimezone(UTC)
    return utc.date().isoformat(), utc.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
