"""Making untrusted text inert for each place it goes out: spreadsheets and terminals.

Report notes, source names and URLs come from anyone.  HTML and XML outputs
escape with their own serialisers (the map's DOM ``textContent``, ElementTree);
this module holds the two escapes that have no library to lean on.  Standard
library only.
"""

from __future__ import annotations

__all__ = ["FORMULA_PREFIXES", "csv_cell", "replace_nul", "spreadsheet_text", "terminal_safe"]

import re
from typing import Any

#: Leading characters that make a spreadsheet cell a formula (Excel, LibreOffice, Sheets).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def replace_nul(text: str) -> str:
    """Replace NUL characters (which GDAL and many tools cut text at) by U+FFFD.

    Examples
    --------
    >>> replace_nul("a\\x00b")
    'a\\ufffdb'
    """
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def spreadsheet_text(text: str) -> str:
    """Make a text cell inert in spreadsheets: prefix ``'`` before a formula character.

    Examples
    --------
    >>> spreadsheet_text('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> spreadsheet_text("Ford near Hyesan")
    'Ford near Hyesan'
    """
    text = replace_nul(text)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: numbers stay numbers, text is made inert, None is empty.

    Examples
    --------
    >>> [csv_cell(v) for v in (None, True, 2.5, "-1+1")]
    ['', 'true', 2.5, "'-1+1"]
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return spreadsheet_text(str(value))


def terminal_safe(text: Any, *, keep_newlines: bool = False) -> str:
    """Text with control characters (terminal escapes, bidi overrides) shown as ``\\uXXXX``.

    Examples
    --------
    >>> terminal_safe("a\\x1b[31mb\\u202e")
    'a\\\\u001b[31mb\\\\u202e'
    """
    pattern = _CONTROL_NL if keep_newlines else _CONTROL
    text = "" if text is None else str(text)
    if not keep_newlines:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
