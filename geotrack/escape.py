"""Making untrusted text inert for each place it goes out: spreadsheets and terminals.

Report notes, source names and URLs come from anyone.  HTML and XML outputs
escape with their own serialisers (the map's DOM ``textContent``, ElementTree);
this module holds the escapes that have no library to lean on: spreadsheet cells,
terminal text and the extra escaping of ``--json`` output.  Standard
library only.
"""

from __future__ import annotations

__all__ = [
    "FORMULA_PREFIXES",
    "csv_cell",
    "json_safe",
    "replace_nul",
    "spreadsheet_text",
    "terminal_safe",
]

import re
from typing import Any

#: Leading characters that make a spreadsheet cell a formula (Excel, LibreOffice, Sheets).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Characters a terminal would act on, or that hide or reorder text, besides the C0 controls:
#: DEL and the C1 controls; bidirectional marks, embeddings, overrides and isolates (with the
#: Arabic letter mark U+061C); zero-width and other invisible format characters (soft hyphen,
#: combining grapheme joiner, word joiner, invisible operators, BOM, interlinear annotation,
#: Arabic and other prefixed format signs, tag characters); the line and paragraph separators U+2028/U+2029; the Hangul fillers, which
#: show as blank; and lone surrogates (undecodable bytes of a file name).
_INVISIBLE = (
    "\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufeff\uffa0\ufff9-\ufffb\ud800-\udfff\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f"
)
_TERMINAL = re.compile(f"[\x00-\x08\x0a-\x1f{_INVISIBLE}]")
_TERMINAL_NL = re.compile(f"[\x00-\x08\x0b-\x1f{_INVISIBLE}]")
#: What ``--json`` output escapes beyond what JSON escapes itself (C0 controls).
_JSON = re.compile(f"[{_INVISIBLE}]")


def _code(ch: str) -> str:
    n = ord(ch)
    return f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}"


def _json_code(ch: str) -> str:
    n = ord(ch)
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


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
    """Text that cannot act on a terminal: unsafe characters shown as ``\\uXXXX``.

    Escapes the C0 and C1 controls (escape sequences), DEL, bidirectional
    controls, zero-width and invisible characters, U+2028/U+2029, the Hangul
    fillers and lone surrogates.  Tabs are kept; newlines are kept with
    *keep_newlines* (messages), else shown as ``\\n`` (table cells).  A
    ``\\r\\n`` line end counts as a newline.

    Examples
    --------
    >>> terminal_safe("a\\x1b[31mb\\u202e")
    'a\\\\u001b[31mb\\\\u202e'
    >>> terminal_safe("x\\u200by\\u3164\\U000e0041")
    'x\\\\u200by\\\\u3164\\\\U000e0041'
    >>> terminal_safe("one\\r\\ntwo", keep_newlines=True)
    'one\\ntwo'
    >>> terminal_safe(None)
    ''
    """
    text = "" if text is None else str(text)
    if keep_newlines:
        if "\r\n" in text:
            text = text.replace("\r\n", "\n")
        return _TERMINAL_NL.sub(lambda m: _code(m.group()), text)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return _TERMINAL.sub(lambda m: _code(m.group()), text)


def json_safe(document: str) -> str:
    """A serialised JSON document with C1, bidi and invisible characters as ``\\u`` escapes.

    Such characters can only stand inside JSON strings, where ``\\uXXXX`` means
    the same character: the document parses to the same value.

    Examples
    --------
    >>> import json
    >>> doc = json.dumps({"note": "\\u202eevil\\x9b"}, ensure_ascii=False)
    >>> json_safe(doc)
    '{"note": "\\\\u202eevil\\\\u009b"}'
    >>> json.loads(json_safe(doc)) == json.loads(doc)
    True
    """
    return _JSON.sub(lambda m: _json_code(m.group()), document)
