"""Where a crossing's site is: a coordinate or words, measured on the line, near the border."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from geotrack.crs import to_measure
from geotrack.errors import NotFoundError, Problem, ValidationError
from geotrack.placement import WORD_KEYS, Placement, Placer
from geotrack.schema import check_lonlat
from geotrack.workspace import Workspace

#: A crossing farther than this from the border line is refused unless forced.
DEFAULT_MAX_BORDER_KM = 5.0


def where_given(
    rec: Mapping[str, Any], placer: Placer | None, row: str
) -> tuple[Placement | None, dict[str, Any] | None, list[Problem]]:
    """Where a record says its site is: placed from words, or a coordinate.

    Returns the placement (words), or the site fields a coordinate implies
    (``--at`` defaults to ``exact``), and the problems found.
    """
    words = [k for k in WORD_KEYS if rec.get(k) not in (None, "")]
    has = {k for k in ("lon", "lat", "at") if rec.get(k) not in (None, "")}
    if words and has:
        coord = " and ".join(sorted(has))
        return (
            None,
            None,
            [
                Problem(
                    f"{coord}/{words[0]}",
                    f"{rec.get('at') or (rec.get('lon'), rec.get('lat'))} / {rec[words[0]]}",
                    f"give either a coordinate ({coord}) or a place ({words[0]}), not both: "
                    "keep the one the report printed",
                    row,
                )
            ],
        )
    if words:
        set_by_words = [
            k
            for k in ("location_precision", "uncertainty_m", "precision_m", "datum")
            if rec.get(k) not in (None, "") and not (k == "datum" and rec[k] == "wgs84")
        ]
        if set_by_words:
            hint = {"near": "--within-km", "km_from": "--plus-minus-km"}.get(words[0], "the place")
            return (
                None,
                None,
                [
                    Problem(
                        set_by_words[0],
                        rec[set_by_words[0]],
                        f"is set by {words[0]} itself: drop it (the uncertainty comes from {hint})",
                        row,
                    )
                ],
            )
        if placer is None:
            return None, None, [Problem(words[0], rec[words[0]], "needs a workspace", row)]
        try:
            return placer.from_words(rec), None, []
        except ValidationError as exc:
            return None, None, [Problem(p.field, p.value, p.message, row) for p in exc.problems]
        except NotFoundError as exc:
            return None, None, [Problem(words[0], rec[words[0]], str(exc), row)]
    fields: dict[str, Any] = {}
    rec_ll = rec
    if "at" in has:
        if "lon" in has or "lat" in has:
            return (
                None,
                None,
                [Problem("at", rec["at"], "give --at LON,LAT or --lon/--lat, not both", row)],
            )
        parts = str(rec["at"]).replace(" ", "").split(",")
        if len(parts) != 2:
            return (
                None,
                None,
                [
                    Problem(
                        "at",
                        rec["at"],
                        "write the coordinate as LON,LAT, e.g. 128.1868,41.4111",
                        row,
                    )
                ],
            )
        rec_ll = {"lon": parts[0], "lat": parts[1]}
        if rec.get("location_precision") in (None, ""):
            given_r = rec.get("uncertainty_m", rec.get("precision_m"))
            fields["location_precision"] = "exact" if given_r in (None, "") else "near_place"
    ll = check_lonlat(rec_ll.get("lon"), rec_ll.get("lat"), row=row)
    if ll:
        return None, None, ll
    if rec.get("placement") in (None, "", "coordinate"):
        datum = rec.get("datum") or "wgs84"
        fields.update(
            placement="coordinate",
            placement_basis=coordinate_basis(datum),
            inferred=False,
            chainage_from_km=None,
            chainage_to_km=None,
        )
        if rec.get("placement") == "coordinate":
            # a geotrack record coming back (an export): its bank was derived from the point,
            # which may have moved; it is measured again, not checked as a stated bank
            fields["bank"] = None
    fields["lon"], fields["lat"] = rec_ll["lon"], rec_ll["lat"]
    return None, fields, []


def measured(props: dict[str, Any], km: float, off: float) -> None:
    """Store where the site's point lies: chainage (km) and signed offset (m, + = CN side)."""
    props["chainage_km"] = round(float(km), 3) + 0.0  # never -0.0
    props["offset_m"] = round(float(off), 1) + 0.0


def coordinate_basis(datum: object) -> str:
    # not the numbers: they are in original_lon/lat, which a public export leaves out
    return f"the coordinate as reported (datum {datum}; see original_lon/original_lat)"


def check_spreads(
    feats: list[dict[str, Any]], placer: Placer | None, problems: list[Problem]
) -> None:
    """Coordinate sites get the bank they lie on; a stored spread must lie on the stretch."""
    if not feats or placer is None:
        return
    lonlat = np.array([f["geometry"]["coordinates"] for f in feats], dtype=float)
    kms, offsets, banks = placer.locate(lonlat[:, 0], lonlat[:, 1])
    for feat, km, off, b in zip(feats, kms, offsets, banks, strict=True):
        p = feat["properties"]
        measured(p, km, off)
        if p.get("placement") == "coordinate":
            stated = p.get("bank")
            if stated and b and stated != b:
                problems.append(
                    Problem(
                        "bank",
                        stated,
                        f"contradicts the coordinate, which lies on the {b} side of the line: "
                        "check the coordinate and its datum, or drop the bank",
                        feat["_row"],
                    )
                )
            p["bank"] = str(b) or None
        hi = p.get("chainage_to_km")
        if hi is not None and hi > placer.length_km + 1e-3:
            problems.append(
                Problem(
                    "chainage_to_km",
                    hi,
                    f"is beyond the stretch (0 to {placer.length_km:.1f} km): check the spread",
                    feat["_row"],
                )
            )


def border_distance_km(ws: Workspace, lonlat: np.ndarray) -> np.ndarray:
    """Distance in km from each lon/lat to the border line (EPSG:32652).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> float(border_distance_km(ws, np.array([[127.06444, 41.65679]]))[0]) < 0.1
    True
    """
    import shapely

    x, y = to_measure(lonlat[:, 0], lonlat[:, 1])
    pts = shapely.points(x, y)
    return shapely.distance(ws.border_m, pts) / 1000.0
