"""Candidate records -> crossing features: every problem of every record found in one pass."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from typing import Any

import numpy as np

from geotrack.crs import to_measure, to_wgs84
from geotrack.errors import DataError, Problem, ProblemList, ValidationError
from geotrack.lifecycle import new_record_fields
from geotrack.placement import WORD_KEYS
from geotrack.records._site import (
    DEFAULT_MAX_BORDER_KM,
    border_distance_km,
    check_spreads,
    where_given,
)
from geotrack.schema import (
    PLACEMENT_FIELDS,
    REPORT_FIELDS,
    SITE_FIELDS,
    derive_site_dates,
    is_crossing_id,
    normalize_report,
    normalize_site,
)
from geotrack.storage import ID_DIGITS_MAX, id_number
from geotrack.store import utc_now
from geotrack.workspace import Workspace

ID_PREFIX = "YLU"
#: The site fields a record may give.
SITE_INPUT = {"name", "kind", "status", "location_precision", "uncertainty_m", "precision_m"}
SITE_INPUT |= {"datum", "synthetic", *PLACEMENT_FIELDS}
#: Keys that say where a site is: a coordinate, or words (see geotrack.placement).
_WHERE_INPUT = {"lon", "lat", "at", *WORD_KEYS}
#: Fields geotrack derives (an export carries them): an import ignores them.
_IGNORED_ON_IMPORT = (set(SITE_FIELDS) - SITE_INPUT - {"id", "reports"}) | {"n_reports"}


#: A kept (imported) id must leave room for this many new ids below the 9-digit limit.
ID_HEADROOM = 1_000_000


def build_features(
    records: Sequence[Mapping[str, Any]],
    *,
    ws: Workspace,
    existing_ids: Container[str] = (),
    max_border_km: float | None = DEFAULT_MAX_BORDER_KM,
    rows: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Validate candidate records and build crossing features (ids left as given or None).

    Parameters
    ----------
    records : sequence of mapping
        Each with ``lon``, ``lat``, optional ``id``, site fields, and either a
        ``reports`` list or flat report fields (``source_name``, ``url``, ...).
    ws : Workspace
        For the border-distance check.
    existing_ids : container of str
        Ids already in the layer (a given id equal to one of them is a duplicate);
        only membership is asked, so a database can answer it row by row.
    max_border_km : float or None
        Refuse points farther than this from the border; None skips the check.
    rows : sequence of str, optional
        Labels for messages (``"row 3"``); defaults to ``record 1``, ...

    Raises
    ------
    ValidationError
        Listing every problem of every record; nothing is built.
    """
    problems: list[Problem] = ProblemList()
    existing = existing_ids
    seen: dict[str, str] = {}
    placer = ws.placer() if ws is not None else None
    now = utc_now()
    out: list[dict[str, Any]] = []
    coords: list[tuple[float, float]] = []
    for i, rec in enumerate(records):
        row = rows[i] if rows else f"record {i + 1}"
        before = len(problems)
        fid = rec.get("id")
        if fid not in (None, ""):
            if not is_crossing_id(fid):
                problems.append(
                    Problem("id", fid, "must look like YLU-0001 (letters, '-', 4+ digits)", row)
                )
            elif (id_number(fid, ID_PREFIX) or 0) > 10**ID_DIGITS_MAX - 1 - ID_HEADROOM:
                problems.append(
                    Problem(
                        "id",
                        fid,
                        f"is too close to the last id the pattern allows ({ID_PREFIX}-"
                        f"{10**ID_DIGITS_MAX - 1}): geotrack could give no new ids after it; "
                        "renumber it or leave the id out to get a fresh one",
                        row,
                    )
                )
            elif fid in existing:
                problems.append(
                    Problem(
                        "id",
                        fid,
                        "a crossing with this id exists already: pass --update-existing to "
                        "update it from this file, or --new-ids to import it as a new site",
                        row,
                    )
                )
            elif fid in seen:
                problems.append(Problem("id", fid, f"duplicate id: also in {seen[fid]}", row))
            else:
                seen[fid] = row
        else:
            fid = None
        unknown = sorted(
            set(rec)
            - SITE_INPUT
            - set(REPORT_FIELDS)
            - _IGNORED_ON_IMPORT
            - _WHERE_INPUT
            - {"id", "reports"}
        )
        for key in unknown:
            problems.append(
                Problem(key, rec[key], "is not a crossing or report field: rename or drop it", row)
            )
        placed, where, ll = where_given(rec, placer, row)
        problems.extend(ll)
        site_in = {k: rec[k] for k in SITE_INPUT if k in rec}
        if placed is not None:
            site_in.update(placed.fields())
            site_in["datum"] = "wgs84"
        elif where is not None and not ll:
            given_ll = (where.pop("lon"), where.pop("lat"))
            site_in.update(where)
        site = normalize_site(site_in, row=row, problems=problems)
        raw_reports = rec.get("reports")
        if raw_reports is None:
            flat = {k: rec[k] for k in REPORT_FIELDS if k in rec}
            raw_reports = [flat]
        elif not isinstance(raw_reports, list) or not raw_reports:
            problems.append(
                Problem("reports", raw_reports, "must be a non-empty list of reports", row)
            )
            raw_reports = []
        reports = []
        for j, r in enumerate(raw_reports, 1):
            if not isinstance(r, Mapping):
                problems.append(Problem("reports", r, "each report must be an object", row))
                continue
            r = {k: v for k, v in r.items() if k != "report_id"}
            rep = normalize_report(r, row=f"{row} report {j}", problems=problems)
            rep["report_id"] = f"R{j}"
            reports.append(rep)
        if len(problems) > before or ll:
            continue
        if placed is not None:
            olon = olat = None
            lon, lat = placed.lon, placed.lat
        else:
            olon, olat = float(given_ll[0]), float(given_ll[1])
            try:
                lon, lat = to_wgs84(olon, olat, site["datum"])
            except DataError as exc:  # a datum offset that leaves the valid range
                problems.append(Problem("lon", olon, str(exc), row))
                continue
            if rec.get("placement") not in (None, "", "coordinate"):
                # an export of a site placed from words: its point is geotrack's, not reported
                olon = olat = None
        coords.append((lon, lat))
        props = {"id": fid, **site}
        props["original_lon"], props["original_lat"] = olon, olat
        props.update(new_record_fields(now))
        props.update(derive_site_dates(reports))
        props["reports"] = reports
        out.append(
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
                "_row": row,
            }
        )
    if max_border_km is not None and out:
        import shapely

        lonlat = np.array(coords)
        x, y = to_measure(lonlat[:, 0], lonlat[:, 1])
        near = shapely.dwithin(ws.border_m, shapely.points(x, y), max_border_km * 1000.0)
        far = np.flatnonzero(~near)
        for i, d in zip(far, border_distance_km(ws, lonlat[far]), strict=True):
            feat = out[i]
            if d > max_border_km:
                lon, lat = feat["geometry"]["coordinates"]
                problems.append(
                    Problem(
                        "lon/lat",
                        f"{lon:.6f},{lat:.6f}",
                        f"is {d:.1f} km from the China–DPRK border (limit {max_border_km:g} km): "
                        "check the coordinates and datum, or pass --force-far to record it anyway",
                        feat["_row"],
                    )
                )
    check_spreads(out, placer, problems)
    if problems:
        raise ValidationError(problems, header=f"{problems.total} problem(s); nothing was written:")
    for feat in out:
        feat.pop("_row")
    return out
