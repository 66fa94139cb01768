"""Parsing of months, amounts, currencies, units, flags and article dates.

Every parser raises :class:`ValueError` with a message that says what to write
instead; callers turn it into a :class:`geotrack.errors.Problem` naming the row and
column.
"""

from __future__ import annotations

__all__ = ["parse_amount", "parse_flag_word", "parse_month", "parse_year"]

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from geotrack.trade.model import CURRENCIES, FLAGS, FLOWS, UNITS

_MONTH_NAMES = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_CURRENCY_WORDS = {
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "us dollar": "USD",
    "us dollars": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "美元": "USD",
    "달러": "USD",
    "ドル": "USD",
    "cny": "CNY",
    "rmb": "CNY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "元": "CNY",
    "人民币": "CNY",
    "위안": "CNY",
    "元人民币": "CNY",
}
_UNIT_WORDS = {
    "one": "one",
    "ones": "one",
    "unit": "one",
    "units": "one",
    "thousand": "thousand",
    "thousands": "thousand",
    "k": "thousand",
    "千": "thousand",
    "ten_thousand": "ten_thousand",
    "ten thousand": "ten_thousand",
    "万": "ten_thousand",
    "萬": "ten_thousand",
    "만": "ten_thousand",
    "million": "million",
    "millions": "million",
    "mn": "million",
    "mln": "million",
    "m": "million",
    "百万": "million",
    "hundred_million": "hundred_million",
    "hundred million": "hundred_million",
    "亿": "hundred_million",
    "億": "hundred_million",
    "억": "hundred_million",
    "billion": "billion",
    "billions": "billion",
    "bn": "billion",
    "b": "billion",
}
_NOT_STATED = {"", "-", "–", "—", "n/a", "na", "..", "…"}
_NUMBER_RE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_ISO_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_ISO_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# -- parsing ------------------------------------------------------------------


def parse_month(value: object) -> str:
    """Parse a month in any of the usual spellings to ``YYYY-MM``.

    Accepted: ``2025-11``, ``2025-11-01`` (a date: its month), ``2025.11``,
    ``2025/11``, ``11/2025``, ``11.2025``, ``Nov 2025``, ``November 2025``,
    ``2025 Nov``, ``2025年11月``, ``2025년 11월``, ``202511``, and date or
    datetime objects (from spreadsheets).

    Raises
    ------
    ValueError
        With a message that lists the accepted forms.

    Examples
    --------
    >>> [parse_month(s) for s in ["2025-11", "Nov 2025", "2025年11月", "2025.11", "11/2025"]]
    ['2025-11', '2025-11', '2025-11', '2025-11', '2025-11']
    """
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if not isinstance(value, str):
        raise ValueError(
            f"a {type(value).__name__} is not a month; write months as text such as 2025-11"
        )
    s = value.strip()
    year = month = None
    patterns = (
        (r"^(\d{4})[-./](\d{1,2})$", (1, 2)),
        (r"^(\d{4})-(\d{2})-(\d{2})$", (1, 2)),
        (r"^(\d{1,2})[-./](\d{4})$", (2, 1)),
        (r"^(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]$", (1, 2)),
        (r"^(\d{4})(\d{2})$", (1, 2)),
    )
    for pat, (yi, mi) in patterns:
        m = re.match(pat, s)
        if m:
            year, month = int(m.group(yi)), int(m.group(mi))
            if len(m.groups()) == 3:
                date(year, month, int(m.group(3)))  # a real day, or ValueError
            break
    else:
        m = re.match(r"^([A-Za-z]+)\.?[\s,\-]*(\d{4})$", s) or re.match(
            r"^(\d{4})[\s,\-]+([A-Za-z]+)\.?$", s
        )
        if m:
            a, b = m.groups()
            name, yr = (a, b) if a.isalpha() else (b, a)
            if name.casefold() in _MONTH_NAMES:
                year, month = int(yr), _MONTH_NAMES[name.casefold()]
    if year is None or month is None:
        raise ValueError(
            "not a month; write it as 2025-11, Nov 2025, 2025年11月, 2025.11 or 11/2025"
        )
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not 1-12; write it as 2025-11")
    if not 1950 <= year <= 2100:
        raise ValueError(f"year {year} is outside 1950-2100; check the column holds months")
    return f"{year:04d}-{month:02d}"


def parse_year(value: object) -> str:
    """Parse a calendar year (an annual figure's period) to ``YYYY``.

    Accepted: ``2025``, ``2025年``, ``2025년``, an int, or a date (its year).

    Raises
    ------
    ValueError
        With a message that says how to write it.

    Examples
    --------
    >>> [parse_year(v) for v in ["2025", "2024年", 2023]]
    ['2025', '2024', '2023']
    """
    if isinstance(value, datetime | date):
        return f"{value.year:04d}"
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a year; write it as 2025")
    m = re.match(r"^(\d{4})\s*[年년]?$", value.strip())
    if not m:
        raise ValueError("not a year; write the calendar year as 2025")
    year = int(m.group(1))
    if not 1950 <= year <= 2100:
        raise ValueError(f"year {year} is outside 1950-2100; check the column holds years")
    return f"{year:04d}"


def parse_flag_word(value: object) -> bool:
    """A yes/no cell (``yes``, ``no``, ``true``, ``false``, ``1``, ``0``, empty = no).

    Examples
    --------
    >>> parse_flag_word("yes"), parse_flag_word(""), parse_flag_word("0")
    (True, False, False)
    """
    s = "" if value is None else str(value).strip().casefold()
    if s in ("yes", "y", "true", "1", "x"):
        return True
    if s in ("", "no", "n", "false", "0"):
        return False
    raise ValueError("write yes or no (or leave it empty)")


def parse_amount(value: object) -> tuple[Decimal | None, str | None, str | None]:
    """Parse a figure, with an optional currency mark and unit word.

    Returns ``(figure, currency, unit)``; ``currency`` and ``unit`` are None
    when the cell does not say.  Empty cells and ``-``, ``—``, ``n/a`` mean
    "not stated" and give ``(None, None, None)``.  Thousands separators
    (``1,234.5``) are accepted; the figure keeps the digits given.

    Raises
    ------
    ValueError
        Non-numeric, negative, or with an unknown currency or unit.

    Examples
    --------
    >>> parse_amount("281")
    (Decimal('281'), None, None)
    >>> parse_amount("US$ 1,234.5 million")
    (Decimal('1234.5'), 'USD', 'million')
    >>> parse_amount("3100万元")
    (Decimal('3100'), 'CNY', 'ten_thousand')
    """
    if value is None:
        return None, None, None
    if isinstance(value, bool):
        raise ValueError("a true/false value is not a figure")
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        value = repr(value)
    elif isinstance(value, Decimal):
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} is not a figure")
    s = value.strip()
    if s.casefold() in _NOT_STATED:
        return None, None, None
    if s.startswith("-") or s.startswith("−") or (s.startswith("(") and s.endswith(")")):
        raise ValueError(
            "is negative; trade figures are 0 or more (leave the cell empty if unknown)"
        )
    currency = None
    rest = s
    for word in sorted(_CURRENCY_WORDS, key=len, reverse=True):
        if rest.casefold().startswith(word):
            currency = _CURRENCY_WORDS[word]
            rest = rest[len(word) :].strip()
            break
    m = _NUMBER_RE.match(rest)
    if not m:
        raise ValueError("is not a number; write a figure such as 281 or 37.1")
    number = m.group(0).replace(",", "")
    tail = rest[m.end() :].strip()
    unit = None
    if tail:
        low = tail.casefold()
        for word in sorted(_UNIT_WORDS, key=len, reverse=True):
            if low.startswith(word) and (
                len(low) == len(word) or not low[len(word)].isalpha() or not word.isascii()
            ):
                unit = _UNIT_WORDS[word]
                low = low[len(word) :].strip()
                break
        if low:
            cur = _CURRENCY_WORDS.get(low)
            if cur is None:
                raise ValueError(
                    f"has unknown words {tail!r}; a figure may carry only a currency "
                    f"({', '.join(CURRENCIES)}) and a unit ({', '.join(UNITS)})"
                )
            if currency and cur != currency:
                raise ValueError(f"names two currencies ({currency} and {cur}); keep one")
            currency = cur
    try:
        dec = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        raise ValueError("is not a number") from None
    return dec, currency, unit


def _parse_currency(value: str) -> str:
    s = value.strip()
    code = s.upper() if s.upper() in CURRENCIES else _CURRENCY_WORDS.get(s.casefold())
    if code is None:
        raise ValueError(
            f"unknown currency; use one of {', '.join(CURRENCIES)} (or USD/US$/dollars, "
            "CNY/RMB/yuan/元)"
        )
    return code


def _parse_unit(value: str) -> str:
    s = value.strip().casefold().replace("-", " ")
    unit = _UNIT_WORDS.get(s) or _UNIT_WORDS.get(s.replace(" ", "_"))
    if unit is None:
        raise ValueError(f"unknown unit; use one of {', '.join(UNITS)}")
    return unit


def _parse_flags(value: str) -> tuple[str, ...]:
    out = []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        code, _, scope = part.partition(":")
        if code not in FLAGS:
            raise ValueError(f"unknown flag {code!r}; use one of {', '.join(FLAGS)}")
        if scope and scope not in FLOWS:
            raise ValueError(
                f"flag {part!r} names unknown flow {scope!r}; use one of {', '.join(FLOWS)}"
            )
        out.append(part)
    return tuple(out)


def _parse_flows(value: str) -> tuple[str, ...]:
    out = []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        if part not in FLOWS:
            raise ValueError(f"unknown flow {part!r}; use one of {', '.join(FLOWS)}")
        out.append(part)
    return tuple(out)


def _check_article_date(value: str) -> str:
    s = value.strip()
    if not s:
        return ""
    if re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", s):
        parts = [int(p) for p in s.split("-")]
        if len(parts) >= 2 and not 1 <= parts[1] <= 12:
            raise ValueError("month is not 1-12")
        if len(parts) == 3:
            date(*parts)
        return s
    raise ValueError("write the article date as YYYY-MM-DD, YYYY-MM or YYYY (or leave it empty)")
