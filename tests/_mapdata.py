"""Small map inputs made in code, shared by the map tests (and reusable by the hardening suite).

Trade figures below are real and cited (not invented): copied from the project's
cited trade table (Korea JoongAng Daily, 2025-12-19, and Newsis, 2025-12-19, both
citing China's customs (GACC) via NK News).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from geotrack.crs import to_wire

#: Report notes that must come out as inert text in every output.
HOSTILE_NOTES = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "${alert(1)} `${document.title='pwned'}` `backtick`",
    "quote \" apostrophe ' backslash \\ end\\",
    "<!-- comment --> &amp; &lt;b&gt; \u2028line\u2029sep \u202eRTL",
)
JOONGANG = (
    "https://koreajoongangdaily.joins.com/news/2025-12-19/national/northKorea/"
    "North-Koreas-trade-with-China-reaches-6year-high-following-recent-summit-between-leaders/2482299"
)


def trade_rows() -> list[Any]:
    """Three real monthly rows (USD million) from cited news reports."""
    from geotrack.trade import TradeRow

    return [
        TradeRow(
            period="2025-09",
            total_trade=Decimal("271"),
            source="Newsis (citing NK News / GACC)",
            article_date="2025-12-19",
            source_url="https://mobile.newsis.com/view/NISX20251219_0003447175",
            row_id="T0001",
        ),
        TradeRow(
            period="2025-10",
            total_trade=Decimal("227"),
            cn_exports_to_kp=Decimal("198"),
            cn_imports_from_kp=Decimal("29"),
            source="Newsis (citing NK News / GACC)",
            article_date="2025-12-19",
            source_url="https://mobile.newsis.com/view/NISX20251219_0003447175",
            row_id="T0002",
        ),
        TradeRow(
            period="2025-11",
            total_trade=Decimal("281"),
            cn_exports_to_kp=Decimal("244"),
            cn_imports_from_kp=Decimal("37.1"),
            source="Korea JoongAng Daily",
            article_date="2025-12-19",
            source_url=JOONGANG,
            row_id="T0003",
        ),
    ]


def crossing(
    i: int,
    km: float,
    stretch,
    *,
    offset_m: float = 80.0,
    kind: str = "pontoon",
    status: str = "active",
    notes: str = "plain note",
    url: str | None = "https://example.org/report",
    event_start: str | None = "2025-10",
    event_end: str | None = "2025-11",
    verification: str = "unverified",
    synthetic: bool = False,
) -> dict[str, Any]:
    """A crossing feature *offset_m* to the left (Chinese side) of the river at chainage *km*."""
    line = stretch.line_m
    d = km * 1000.0
    p = line.interpolate(d)
    q = line.interpolate(min(d + 20.0, line.length))
    r = line.interpolate(max(d - 20.0, 0.0))
    tx, ty = q.x - r.x, q.y - r.y
    n = (tx * tx + ty * ty) ** 0.5
    lon, lat = to_wire(p.x - ty / n * offset_m, p.y + tx / n * offset_m)
    fid = f"YLU-{i:04d}"
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
        "properties": {
            "id": fid,
            "name": f"Test crossing {i}",
            "kind": kind,
            "status": status,
            "location_precision": "near_place",
            "uncertainty_m": 500.0,
            "datum": "wgs84",
            "original_lon": float(lon),
            "original_lat": float(lat),
            "synthetic": synthetic,
            "retired": False,
            "reports": [
                {
                    "report_id": "R1",
                    "source_name": "Test source (made up for a unit test)",
                    "source_type": "media",
                    "url": url,
                    "archive_url": None,
                    "sha256": None,
                    "accessed": "2025-12-20",
                    "reported": "2025-12-16",
                    "event_start": event_start,
                    "event_end": event_end,
                    "date_precision": "month",
                    "reliability": "B",
                    "credibility": 3,
                    "verification": verification,
                    "notes": notes,
                }
            ],
        },
    }
