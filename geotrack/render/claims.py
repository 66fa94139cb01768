"""The map's claims and official crossings: bands beside the river, check results, relays.

:func:`claims_payload` turns the workspace's claims into what the page draws:
for each claim a band along its window of the stretch, drawn beside the river
line on the North Korean side (one lane per claim, so overlapping claims stay
apart), labelled like "≥32 · NK Pro · 2025-12-09", with the result of
:func:`geotrack.claims.check.check_claims` (measures of the window, every
stated length beside them, readings ranked by fit, sites located inside) and
every relay.  Official crossings are points drawn unlike reported ones.

All text goes to the page as data; the page script sets it with
``textContent`` only.
"""

from __future__ import annotations

__all__ = ["BAND_STEP_M", "CLAIM_COLOURS", "claims_payload", "official_payload"]

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

from geotrack.render.encode import latlon, rounded

#: Distance between the river line and the first band, and between bands, metres.
BAND_STEP_M = 1100.0
#: Band colours (ColorBrewer Dark2: distinct from the kind colours and the river's blue).
CLAIM_COLOURS = ("#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def _band(line_m: Any, from_km: float, to_km: float, offset_m: float) -> list[list[list[float]]]:
    """The window of *line_m* shifted *offset_m* to its right (the KP side), as lat/lon parts."""
    part = substring(line_m, from_km * 1000.0, to_km * 1000.0)
    part = shapely.simplify(part, 60.0)
    shifted = shapely.offset_curve(part, -offset_m, join_style="round")
    parts = list(shifted.geoms) if hasattr(shifted, "geoms") else [shifted]
    out = []
    for p in parts:
        xy = shapely.get_coordinates(p)
        if len(xy) >= 2:
            out.append(latlon(xy[:, 0], xy[:, 1], 4))
    return out


def claims_payload(
    claims: Sequence[Mapping[str, Any]], check: Mapping[str, Any], *, line_m: Any
) -> dict[str, Any]:
    """Every claim as the page draws it, with its check results and relays.

    Parameters
    ----------
    claims : sequence of GeoJSON features
        The workspace's claims (not retired).
    check : mapping
        :func:`geotrack.claims.check.check_claims` of the same workspace.
    line_m : LineString
        The stretch line in EPSG:32652.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from geotrack.workspace import init_workspace
    >>> from geotrack.claims.check import check_claims
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w", public_record=True)
    >>> p = claims_payload(ws.read_claims(), check_claims(ws), line_m=ws.stretch.line_m)
    >>> [c["label"] for c in p["claims"]][:1]
    ['≥32 · NK Pro (NK News) · 2025-12-09']
    """
    checked = {c["claim"]: c for c in check.get("claims", [])}
    out = []
    ordered = sorted(claims, key=lambda f: str(f["id"]))
    for i, f in enumerate(ordered):
        p = f["properties"]
        area = p["area"]
        c = checked.get(f["id"], {})
        bands = _band(line_m, area["from_km"], area["to_km"], BAND_STEP_M * (i + 1))
        # labels spread along their bands so that overlapping claims' labels do not collide
        longest = max(bands, key=len) if bands else None
        mid = longest[int((i + 1) / (len(ordered) + 1) * (len(longest) - 1))] if longest else None
        relays = [
            {
                k: r.get(k)
                for k in (
                    "relay_id",
                    "publisher",
                    "published",
                    "published_precision",
                    "url",
                    "language",
                    "quote",
                    "count",
                    "count_qualifier",
                    "stated_length",
                    "stated_unit",
                    "stated_length_as_printed",
                    "area_as_printed",
                    "notes",
                )
            }
            for r in p["relays"]
        ]
        readings = [
            {
                "reading": m["reading"],
                "as_resolved": m["as_resolved"],
                "fit_rank": m.get("fit_rank"),
                "from_km": m["from_km"],
                "to_km": m["to_km"],
                "river_km": rounded(m["river_km"], 1),
                "straight_km": rounded(m["straight_km"], 1),
                "max_extent_km": rounded(m["max_extent_km"], 1),
                "stated": [
                    {
                        "as_printed": s.get("as_printed"),
                        "stated_length": s["stated_length"],
                        "stated_unit": s["stated_unit"],
                        "stated_km": rounded(s["stated_km"], 1),
                        "printed_by": s["printed_by"],
                        "difference_pct": s["difference_pct"],
                        "closest": s["closest"],
                    }
                    for s in m["stated"]
                ],
            }
            for m in sorted(c.get("readings", []), key=lambda m: m.get("fit_rank") or 0)
        ]
        out.append(
            {
                "id": f["id"],
                "label": c.get("label") or p.get("claimed_by"),
                "colour": CLAIM_COLOURS[i % len(CLAIM_COLOURS)],
                "claimed_by": p.get("claimed_by"),
                "count": p.get("count"),
                "count_qualifier": p.get("count_qualifier"),
                "what_as_printed": p.get("what_as_printed"),
                "kinds": p.get("kinds") or [],
                "area_as_printed": p.get("area_as_printed"),
                "area_basis": area.get("basis"),
                "area_inferred": bool(area.get("inferred")),
                "from_km": area["from_km"],
                "to_km": area["to_km"],
                "beyond": (c.get("beyond_stretch") or {}).get("statement"),
                "bands": bands,
                "label_at": mid,
                "readings": readings,
                "sites": (c.get("sites") or {}).get("statement"),
                "density": c.get("density"),
                "conflicts": p.get("conflicts") or [],
                "relays": relays,
            }
        )
    return {"claims": out, "method": dict(check.get("method") or {})}


def official_payload(features: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Official crossings (bridges, ports of entry) as points with their facts and attribution.

    Examples
    --------
    >>> official_payload([{"geometry": {"type": "Point", "coordinates": [128.175, 41.4069]},
    ...                    "properties": {"name": "Bridge", "kind": "road bridge"}}])[0]["lat"]
    41.4069
    """
    out = []
    for f in features:
        lon, lat = (f.get("geometry") or {}).get("coordinates") or [None, None]
        if lon is None or lat is None or not np.isfinite([lon, lat]).all():
            continue
        p = f.get("properties") or {}
        out.append(
            {
                "lat": round(float(lat), 5),
                "lon": round(float(lon), 5),
                **{
                    k: p.get(k)
                    for k in (
                        "name",
                        "name_local",
                        "kind",
                        "facts",
                        "coord_source",
                        "coord_licence",
                    )
                },
            }
        )
    return out
