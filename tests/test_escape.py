"""The one terminal escape and the ``--json`` escape (``geotrack.escape``), over all of Unicode."""

from __future__ import annotations

import json
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from geotrack.escape import json_safe, terminal_safe

#: Invisible or blank-looking characters outside the categories below that must be escaped.
HIDDEN = "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"


def _must_escape(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if ch in "\n\t":
        return False
    return cat in ("Cc", "Cf", "Zl", "Zp", "Cs") or ch in HIDDEN


UNSAFE = [chr(n) for n in range(sys.maxunicode + 1) if _must_escape(chr(n))]


def test_every_control_format_separator_and_filler_is_escaped():
    # Every C0/C1 control, format character (bidi, zero-width, tags...), line and paragraph
    # separator, lone surrogate and Hangul filler: escaped as a visible code, never passed.
    assert len(UNSAFE) > 200
    for ch in UNSAFE:
        out = terminal_safe(f"a{ch}b")
        assert ch not in out, f"U+{ord(ch):04X} passed through"
        assert out[:3] in ("a\\u", "a\\U") or out in ("a\\nb", "a\\rb"), out
        kept = terminal_safe(f"a{ch}b", keep_newlines=True)
        assert ch not in kept


def test_named_attacks():
    for ch in "\u061c\u200b\u200c\u200d\u2060\ufeff\u2028\u2029\u115f\u1160\u3164\uffa0\u202e\u2067\x9b\x1b":
        assert f"\\u{ord(ch):04x}" in terminal_safe(f"x{ch}y")
    assert terminal_safe("Ford near 혜산 (惠山)\tok") == "Ford near 혜산 (惠山)\tok"


def test_newlines_kept_only_when_asked():
    assert terminal_safe("a\nb\r\nc") == "a\\nb\\r\\nc"
    assert terminal_safe("a\nb\r\nc\rd", keep_newlines=True) == "a\nb\nc\\u000dd"


@given(st.text())
def test_terminal_output_holds_no_unsafe_character(text):
    out = terminal_safe(text, keep_newlines=True)
    assert not any(_must_escape(c) for c in out)


@given(st.text())
def test_json_escape_keeps_the_value(text):
    for doc in (json.dumps({"k": text}, ensure_ascii=False), json.dumps([text, 1.5])):
        if any(unicodedata.category(c) == "Cs" for c in text):
            continue
        safe = json_safe(doc)
        assert json.loads(safe) == json.loads(doc)
        assert not any(_must_escape(c) for c in safe)
