"""A small workspace for the export tests: three crossings, hostile text in every text field.

The records are made up for tests (marked ``synthetic``); positions are taken on
the bundled stretch line so that they pass the border-distance check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geotrack.claims.records import import_claims
from geotrack.records import import_crossings
from geotrack.workspace import Workspace, init_workspace

#: Text a report may hold: markup, script, template syntax, quotes, control and bidi
#: characters, formula starts, other scripts, emoji, a long string.
HOSTILE: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert('x')</script>",
    "${alert(1)} `backtick` \\ backslash \"double\" 'single'",
    "nul\x00byte",
    "rtl \u202egnp.exe",
    "crlf\r\nline\rcr",
    '=HYPERLINK("http://evil.example/","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=cmd",
    "\r=cmd",
    "esc \x1b[31m red \x07 bell",
    "압록강 鸭绿江 🌉 &amp; <b>",
    "]]><![CDATA[x]]>",
    "x" * 5000,
)
SHA = "a" * 64
#: Ends every note, so that a test can tell notes were left out.
NOTE_MARK = " [note-7f3a]"


def records(ws: Workspace) -> list[dict[str, Any]]:
    """Three crossings: one with a report per hostile text, two plain ones."""
    line = ws.stretch.line_wgs84
    p1, p2, p3 = (line.interpolate(f, normalized=True) for f in (0.1, 0.45, 0.7))
    reports = [
        {
            "source_name": text,
            "source_type": "social_media",
            "url": "https://example.org/r?a=1&b=<2>",
            "archive_url": "https://web.archive.org/web/2025/https://example.org/r",
            "sha256": SHA,
            "accessed": "2025-12-17",
            "reported": "2025-12-16",
            "event_start": "2025-10-01",
            "event_end": "2025-11-15",
            "reliability": "C",
            "credibility": 3,
            "verification": "in_review",
            "notes": text + NOTE_MARK,
        }
        for text in HOSTILE
    ]
    return [
        {
            "lon": p1.x,
            "lat": p1.y,
            "kind": "pontoon",
            "status": "active",
            "name": HOSTILE[0],
            "location_precision": "exact",
            "uncertainty_m": 30,
            "synthetic": True,
            "reports": reports,
        },
        {
            "lon": p2.x,
            "lat": p2.y,
            "kind": "ford",
            "status": "inactive",
            "synthetic": True,
            "reports": [
                {
                    "source_name": "Satellite analyst (made up for a test)",
                    "source_type": "satellite_imagery",
                    "reported": "2025-06-02",
                    "event_start": "2025-05",
                    "reliability": "A",
                    "credibility": 1,
                    "verification": "verified",
                },
                {
                    "source_name": "News (made up for a test)",
                    "reported": "2025-07-01",
                    "event_start": "2025-06-20",
                    "event_end": "2025-06-21",
                },
            ],
        },
        {
            "lon": p3.x,
            "lat": p3.y,
            "kind": "ice_road",
            "synthetic": True,
            "source_name": "Informant (made up for a test)",
            "source_type": "informant",
            "reliability": "F",
            "credibility": 6,
            "verification": "unverifiable",
        },
    ]


#: Text fields of a claim and of a relay that take free text.
CLAIM_TEXT = (
    "claimed_by",
    "what_as_printed",
    "area_as_printed",
    "stated_length_as_printed",
    "imagery",
    "activity_period_as_printed",
)
RELAY_TEXT = ("publisher", "quote", *CLAIM_TEXT[1:])


def claims() -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """Two made-up claims: one with a relay per hostile text in every text field, one plain."""
    relays = [
        {
            **dict.fromkeys(RELAY_TEXT, text),
            "url": "https://example.org/c?a=1&b=<2>",
            "published": "2025-12-09",
            "language": "en",
            "count": 5,
            "count_qualifier": "at_least",
            "stated_length": 30,
            "stated_unit": "km",
            "notes": text + NOTE_MARK,
        }
        for text in HOSTILE
    ]
    hostile = {
        **{k: HOSTILE[i % len(HOSTILE)] for i, k in enumerate(CLAIM_TEXT)},
        "count": 5,
        "count_qualifier": "at_least",
        "area": {"kind": "counties", "counties": ["Hyesan", "Pochon"], "basis": HOSTILE[1]},
        "stated_length": 30,
        "stated_unit": "km",
        "notes": HOSTILE[2] + NOTE_MARK,
    }
    plain = {
        "claimed_by": "Analyst (made up for a test)",
        "count": 24,
        "count_qualifier": "more_than",
        "area": {"kind": "between", "between": ["Hyesan", "county:Kimjongsuk"]},
        "stated_length": 50,
        "stated_unit": "mi",
        "activity_start": "2024-04",
    }
    return [
        ("C1", hostile, relays),
        ("C2", plain, [{"publisher": "Outlet (made up)", "url": "https://example.org/p"}]),
    ]


def make_workspace(folder: Path) -> Workspace:
    """A workspace in *folder* holding :func:`records` and :func:`claims`."""
    ws = init_workspace(folder)
    import_crossings(ws, records(ws))
    import_claims(ws, claims())
    return ws
