"""Changing recorded crossings: edit a site or a report, add a report, retire, undo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from geotrack.crs import to_wgs84
from geotrack.errors import DataError, Problem, ValidationError
from geotrack.lifecycle import RecordKind, not_editable
from geotrack.placement import WORD_KEYS
from geotrack.records._site import (
    DEFAULT_MAX_BORDER_KM,
    border_distance_km,
    coordinate_basis,
    measured,
    where_given,
)
from geotrack.schema import (
    PLACEMENT_FIELDS,
    check_lonlat,
    derive_site_dates,
    editable_site_fields,
    normalize_report,
    normalize_site,
)
from geotrack.storage import HistoryEntry
from geotrack.store import utc_now
from geotrack.workspace import Workspace

#: Crossings as records: reports are their sub-records.
CROSSING = RecordKind("crossing", "id", "report")


def edit_crossing(
    ws: Workspace,
    fid: str,
    changes: Mapping[str, Any],
    *,
    report_id: str | None = None,
    max_border_km: float | None = DEFAULT_MAX_BORDER_KM,
    reason: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Change site fields (or, with *report_id*, one report's fields) of a crossing.

    Site fields: name, kind, status, location_precision, uncertainty_m, synthetic,
    and the location as lon, lat (with datum).

    Returns
    -------
    dict
        The feature after the edit.
    """
    if not changes:
        raise DataError("nothing to change: give at least one --FIELD VALUE")
    with ws.crossings.transaction(op="edit", reason=reason, user=user) as tx:
        feat, props = CROSSING.live(tx, fid, refusal="; it cannot be edited")
        geometry = feat["geometry"]
        problems: list[Problem] = []
        if report_id is not None:
            reports = [dict(r) for r in props["reports"]]
            idx = CROSSING.child_index(reports, fid, report_id)
            merged = {**reports[idx], **changes}
            merged.pop("report_id")
            new = normalize_report(merged, row=f"{fid} {report_id}", problems=problems)
            new["report_id"] = report_id
            reports[idx] = new
            props["reports"] = reports
            props.update(derive_site_dates(reports))
        else:
            geometry = _edit_site(ws, fid, props, geometry, changes, max_border_km, problems)
        if problems:
            raise ValidationError(problems, header="nothing was changed:")
        props["updated_at"] = utc_now()
        new_feat = {**feat, "geometry": geometry, "properties": props}
        tx.put(new_feat)
    return new_feat


def _edit_site(ws, fid, props, geometry, changes, max_border_km, problems):
    """Apply site *changes* to *props* in place; return the (new) geometry."""
    allowed = editable_site_fields() | {"lon", "lat", "datum", "at", "bank", *WORD_KEYS}
    problems.extend(not_editable(changes, allowed))
    keep = editable_site_fields() | {"datum", *PLACEMENT_FIELDS}
    site_in = {k: props.get(k) for k in keep}
    site_in.update({k: v for k, v in changes.items() if k in editable_site_fields()})
    words = {k: v for k, v in changes.items() if k in WORD_KEYS or k == "bank"}
    if "at" in changes or any(k in WORD_KEYS for k in changes):
        rec = {**words, **{k: changes[k] for k in ("at", "lon", "lat", "datum") if k in changes}}
        rec.update({k: changes[k] for k in ("location_precision", "uncertainty_m") if k in changes})
        placed, where, ll = where_given(rec, ws.placer(), fid)
        problems.extend(ll)
        if placed is not None:
            site_in.update(placed.fields(), datum="wgs84")
            props.update(normalize_site(site_in, row=fid, problems=problems))
            props["original_lon"] = props["original_lat"] = None
            km, off, _ = ws.placer().locate([placed.lon], [placed.lat])
            measured(props, km[0], off[0])
            return {"type": "Point", "coordinates": [placed.lon, placed.lat]}
        if where is None:
            return geometry
        changes = {**changes, "lon": where.pop("lon"), "lat": where.pop("lat")}
        site_in.update(where)
        site_in["bank"] = changes.get("bank")
    elif "bank" in changes:
        problems.append(
            Problem(
                "bank",
                changes["bank"],
                "is stated with the location it applies to: give it with --near, --km-from, "
                "--reach or --county (a coordinate's bank is where it lies)",
                fid,
            )
        )
    if "lon" in changes or "lat" in changes:
        # both given: WGS 84 unless said; one given: the other keeps its reported datum
        both = "lon" in changes and "lat" in changes
        site_in["datum"] = changes.get("datum", "wgs84" if both else props["datum"])
        if "at" not in changes:
            site_in.update(placement="coordinate", chainage_from_km=None, chainage_to_km=None)
            site_in.update(inferred=False, bank=None)
    elif "datum" in changes:
        problems.append(
            Problem(
                "datum",
                changes["datum"],
                "says which datum a new --lon/--lat is in: give it with --lon and --lat",
                fid,
            )
        )
    props.update(normalize_site(site_in, row=fid, problems=problems))
    if "lon" not in changes and "lat" not in changes:
        return geometry
    lon_in = changes.get("lon", props["original_lon"])
    lat_in = changes.get("lat", props["original_lat"])
    ll = check_lonlat(lon_in, lat_in, row=fid)
    problems.extend(ll)
    if ll:
        return geometry
    try:
        lon, lat = to_wgs84(float(lon_in), float(lat_in), props["datum"])
    except DataError as exc:  # a datum offset that leaves the valid range
        problems.append(Problem("lon", lon_in, str(exc), fid))
        return geometry
    if max_border_km is not None:
        d = float(border_distance_km(ws, np.array([[lon, lat]]))[0])
        if d > max_border_km:
            problems.append(
                Problem(
                    "lon/lat",
                    f"{lon:.6f},{lat:.6f}",
                    f"is {d:.1f} km from the border (limit {max_border_km:g} km): "
                    "check it, or pass --force-far",
                    fid,
                )
            )
    placer = ws.placer()
    found, contra = placer.coordinate(lon, lat, side=props.get("bank"))
    problems.extend(Problem(p.field, p.value, p.message, fid) for p in contra)
    props["bank"] = found
    km, off, _ = placer.locate([lon], [lat])
    measured(props, km[0], off[0])
    props["placement_basis"] = coordinate_basis(props["datum"])
    props["original_lon"], props["original_lat"] = float(lon_in), float(lat_in)
    return {"type": "Point", "coordinates": [lon, lat]}


def add_report(
    ws: Workspace,
    fid: str,
    report: Mapping[str, Any],
    *,
    reason: str | None = None,
    user: str | None = None,
) -> str:
    """Add a report to an existing crossing; return the new report id (R2, ...)."""

    def make(reports: list[dict[str, Any]]) -> dict[str, Any]:
        rep = normalize_report(
            {k: v for k, v in report.items() if k != "report_id"}, row=f"{fid} new report"
        )
        numbers = [int(r["report_id"][1:]) for r in reports if r["report_id"][1:].isdigit()]
        rep["report_id"] = f"R{max(numbers, default=0) + 1}"
        return rep

    return CROSSING.add_child(
        ws.crossings,
        fid,
        make,
        derive=derive_site_dates,
        # as edit: a tombstone takes no new reports
        refusal="; it takes no new reports: undo the retirement first (`geotrack crossings "
        "undo`) or add the report to the crossing that replaces it",
        reason=reason,
        user=user,
    )


def retire_crossing(
    ws: Workspace, fid: str, *, reason: str, user: str | None = None
) -> dict[str, Any]:
    """Retire a crossing: it stays in the layer as a tombstone, never silently deleted."""
    return CROSSING.retire(ws.crossings, fid, reason=reason, user=user)


def undo(ws: Workspace, *, op: int | None = None, user: str | None = None) -> HistoryEntry:
    """Revert your latest change to the crossings layer, or operation *op*.

    The revert is a new ``undo`` entry in the history (it can be undone in turn);
    it is refused, naming who changed what since, when a later change depends on
    it (see :func:`geotrack.storage.plan_undo`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> from geotrack.records import add_crossing
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> fid = add_crossing(ws, {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "X"})
    >>> undo(ws).undoes, ws.read_crossings()
    (1, [])
    >>> add_crossing(ws, {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "X"})
    'YLU-0002'
    """
    return ws.crossings.undo(op=op, user=user)
