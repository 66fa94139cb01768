"""GeoJSON (collection, feature or sequence) into candidate records."""

from __future__ import annotations

__all__ = ["from_geojson", "point_of"]

from typing import Any

from geotrack.errors import ImportFileError
from geotrack.geojson import parse_features
from geotrack.importers._types import Candidates


def point_of(geom: Any) -> tuple[Any, Any] | str:
    """The (lon, lat) of a Point or one-point MultiPoint, else why there is none.

    Examples
    --------
    >>> point_of({"type": "MultiPoint", "coordinates": [[127.2, 41.5]]})
    (127.2, 41.5)
    >>> point_of(None)
    'has no location (its geometry is null)'
    """
    if not isinstance(geom, dict) or geom.get("type") is None:
        return "has no location (its geometry is null)"
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind == "MultiPoint" and isinstance(coords, (list, tuple)):
        if len(coords) == 1:
            coords = coords[0]
        elif not coords:
            return "has no location (an empty MultiPoint)"
        else:
            return (
                f"geometry='MultiPoint' of {len(coords)} points: a crossing is one point; "
                "split it into one feature per point"
            )
        kind = "Point"
    if kind != "Point":
        return (
            f"geometry={kind!r}: crossings are Points; convert lines or polygons to a point "
            "(e.g. their centroid) first, or pass --points-only to skip them"
        )
    if isinstance(coords, (list, tuple)) and not coords:
        return "has no location (a Point with no coordinates)"
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        return "a Point needs [longitude, latitude]"
    return coords[0], coords[1]


def from_geojson(data: bytes, what: str, *, points_only: bool = False) -> Candidates:
    """Features of a GeoJSON text as candidate records.

    Examples
    --------
    >>> fc = b'{"type": "Feature", "id": 7, "properties": {"Kind": "ford"},'
    >>> fc += b' "geometry": {"type": "Point", "coordinates": [127.2, 41.5]}}'
    >>> from_geojson(fc, "input").records
    [{'Kind': 'ford', 'id': 7, 'lon': 127.2, 'lat': 41.5}]
    """
    out = Candidates([], [], "geojson")
    for i, feat in enumerate(parse_features(data, what=what), 1):
        label = f"feature {i}" + (f" ({feat['id']})" if isinstance(feat.get("id"), str) else "")
        where = point_of(feat.get("geometry"))
        if isinstance(where, str):
            geom = feat.get("geometry")
            kind = geom.get("type") if isinstance(geom, dict) else None
            if points_only and kind not in (None, "Point", "MultiPoint"):
                out.skipped[str(kind)] = out.skipped.get(str(kind), 0) + 1
                continue
            raise ImportFileError(f"{what}: {label}: {where}")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise ImportFileError(f"{what}: {label}: properties must be an object")
        rec = props  # the parsed object itself: a feature may hold a million properties
        rec.pop("lon", None)
        rec.pop("lat", None)
        if "id" in feat and "id" not in rec:
            rec["id"] = feat["id"]
        rec["lon"], rec["lat"] = where
        out.records.append(rec)
        out.rows.append(label)
    return out
