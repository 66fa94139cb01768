"""Recording crossings: add, import, edit, add reports, retire, undo, validate.

Each operation validates everything first (collecting every problem), then
changes the crossings layer in one :class:`geotrack.store.LayerStore`
transaction: one lock, one history entry, one atomic write.  A batch import
of 100,000 crossings is one validation pass, one entry and one write.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_BORDER_KM",
    "add_crossing",
    "add_report",
    "build_features",
    "edit_crossing",
    "history_problems",
    "import_crossings",
    "merge_crossings",
    "retire_crossing",
    "undo",
    "validate_workspace",
]

import logging
from collections.abc import Container, Mapping, Sequence
from typing import Any

import numpy as np

from geotrack.crs import to_measure, to_wgs84
from geotrack.errors import (
    DataError,
    GeotrackError,
    NearDuplicateError,
    NotFoundError,
    Problem,
    ProblemList,
    ValidationError,
)
from geotrack.placement import WORD_KEYS, Placement, Placer, near_pairs
from geotrack.places import normalize_place
from geotrack.reference import check_window
from geotrack.schema import (
    PLACEMENT_FIELDS,
    REPORT_FIELDS,
    check_lonlat,
    derive_site_dates,
    editable_site_fields,
    is_crossing_id,
    normalize_report,
    normalize_site,
    order_crossing,
)
from geotrack.storage import ID_DIGITS_MAX, HistoryEntry, Layer, LayerTransaction, id_number
from geotrack.store import history_problems as history_file_problems
from geotrack.store import utc_now
from geotrack.workspace import Workspace

log = logging.getLogger(__name__)

#: A crossing farther than this from the border line is refused unless forced.
DEFAULT_MAX_BORDER_KM = 5.0
ID_PREFIX = "YLU"
_SITE_INPUT = {"name", "kind", "status", "location_precision", "uncertainty_m", "precision_m"}
_SITE_INPUT |= {"datum", "synthetic", *PLACEMENT_FIELDS}
#: Keys that say where a site is: a coordinate, or words (see geotrack.placement).
_WHERE_INPUT = {"lon", "lat", "at", *WORD_KEYS}
_IGNORED_ON_IMPORT = {
    "chainage_km",
    "offset_m",
    "retired",
    "retired_reason",
    "retired_at",
    "created_at",
    "updated_at",
    "first_reported",
    "last_reported",
    "first_seen",
    "last_seen",
    "original_lon",
    "original_lat",
    "n_reports",
}


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
            - _SITE_INPUT
            - set(REPORT_FIELDS)
            - _IGNORED_ON_IMPORT
            - _WHERE_INPUT
            - {"id", "reports"}
        )
        for key in unknown:
            problems.append(
                Problem(key, rec[key], "is not a crossing or report field: rename or drop it", row)
            )
        placed, where, ll = _where(rec, placer, row)
        problems.extend(ll)
        site_in = {k: rec[k] for k in _SITE_INPUT if k in rec}
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
        props.update(
            retired=False, retired_reason=None, retired_at=None, created_at=now, updated_at=now
        )
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
    _check_spreads(out, placer, problems)
    if problems:
        raise ValidationError(problems, header=f"{problems.total} problem(s); nothing was written:")
    for feat in out:
        feat.pop("_row")
    return out


def _where(
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
            placement_basis=_coordinate_basis(datum),
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


def _measured(props: dict[str, Any], km: float, off: float) -> None:
    """Store where the site's point lies: chainage (km) and signed offset (m, + = CN side)."""
    props["chainage_km"] = round(float(km), 3) + 0.0  # never -0.0
    props["offset_m"] = round(float(off), 1) + 0.0


def _coordinate_basis(datum: object) -> str:
    # not the numbers: they are in original_lon/lat, which a public export leaves out
    return f"the coordinate as reported (datum {datum}; see original_lon/original_lat)"


def _check_spreads(
    feats: list[dict[str, Any]], placer: Placer | None, problems: list[Problem]
) -> None:
    """Coordinate sites get the bank they lie on; a stored spread must lie on the stretch."""
    if not feats or placer is None:
        return
    lonlat = np.array([f["geometry"]["coordinates"] for f in feats], dtype=float)
    kms, offsets, banks = placer.locate(lonlat[:, 0], lonlat[:, 1])
    for feat, km, off, b in zip(feats, kms, offsets, banks, strict=True):
        p = feat["properties"]
        _measured(p, km, off)
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


#: At most this many near-duplicates are listed in one message.
_MAX_NEAR_LISTED = 20


def _refuse_near(feats: list[dict[str, Any]], tx, ws: Workspace, rows) -> None:
    old = [tx.features[k] for k in tx.features]
    old = [f for f in old if not f["properties"].get("retired")]
    pairs = near_pairs(feats, old, ws.placer())
    if not pairs:
        return
    lines = []
    for i, j, d in pairs[:_MAX_NEAR_LISTED]:
        where = f"{rows[i]}: " if rows and len(feats) > 1 else ""
        oid = old[j]["id"]
        lines.append(
            f"{where}the new site may be {oid}: their points are {d:,.0f} m apart, within the "
            f"uncertainty of one of them; if it is the same site, add the report to it with "
            f"`geotrack crossings add-report {oid} --source ...`"
        )
    more = len(pairs) - len(lines)
    if more > 0:
        lines.append(f"... and {more} more")
    lines.append("to record a distinct site anyway, pass --allow-near. Nothing was written.")
    raise NearDuplicateError("\n".join(lines))


def _stamp_ids(features: list[dict[str, Any]], tx: LayerTransaction) -> list[dict[str, Any]]:
    """Give fresh ids to features without one; kept ids move the id counter past them."""
    tx.reserve_ids(f["id"] for f in features if f["id"])
    fresh = iter(tx.new_ids(sum(1 for f in features if not f["id"])))
    for f in features:
        if not f["id"]:
            f["id"] = f["properties"]["id"] = next(fresh)
    return features


def add_crossing(
    ws: Workspace,
    record: Mapping[str, Any],
    *,
    max_border_km: float | None = DEFAULT_MAX_BORDER_KM,
    reason: str | None = None,
    user: str | None = None,
    allow_near: bool = True,
) -> str:
    """Record one crossing with its first report; return its new id.

    The site is given by ``lon``/``lat`` (or ``at``) or placed from words
    (``near``, ``km_from``, ``reach``, ``county``: see
    :meth:`geotrack.placement.Placer.from_words`).  A site within the
    uncertainty of an existing one is refused when *allow_near* is False (the
    CLI's default: ``crossings add`` needs ``--allow-near`` to record it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> add_crossing(ws, {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "NK News"})
    'YLU-0001'
    """
    return import_crossings(
        ws,
        [record],
        max_border_km=max_border_km,
        reason=reason,
        user=user,
        op="add",
        allow_near=allow_near,
    )[0]


def import_crossings(
    ws: Workspace,
    records: Sequence[Mapping[str, Any]],
    *,
    rows: Sequence[str] | None = None,
    max_border_km: float | None = DEFAULT_MAX_BORDER_KM,
    reason: str | None = None,
    user: str | None = None,
    op: str = "import",
    allow_near: bool = True,
) -> list[str]:
    """Add many crossings all-or-nothing; return their ids in input order.

    Parameters
    ----------
    allow_near : bool
        Record a site even if it lies within the uncertainty of an existing
        (not retired) one, or that one within its own.  False refuses it
        with :class:`~geotrack.errors.NearDuplicateError`.

    Raises
    ------
    ValidationError
        Any record is bad: every problem is listed by row and nothing is written.
    NearDuplicateError
        A new site may be an existing one (see *allow_near*); nothing is written.
    """
    done = merge_crossings(
        ws,
        records,
        rows=rows,
        max_border_km=max_border_km,
        reason=reason,
        user=user,
        op=op,
        allow_near=allow_near,
    )
    return done["new"]


def merge_crossings(
    ws: Workspace,
    records: Sequence[Mapping[str, Any]],
    *,
    rows: Sequence[str] | None = None,
    update_existing: bool = False,
    dry_run: bool = False,
    max_border_km: float | None = DEFAULT_MAX_BORDER_KM,
    reason: str | None = None,
    user: str | None = None,
    op: str = "import",
    allow_near: bool = True,
) -> dict[str, list[str]]:
    """Add new crossings and, with *update_existing*, update existing ones, all-or-nothing.

    A record whose ``id`` is in the workspace is, with *update_existing*, an
    edit of that crossing: its site fields and location replace the current
    ones, a report with a known ``report_id`` replaces that report, any other
    report is added; reports absent from the record are kept (nothing is
    deleted).  The change is validated like a new crossing and recorded in the
    history as an ``edit``.

    A new site within the uncertainty of an existing one is refused with
    :class:`~geotrack.errors.NearDuplicateError` unless *allow_near*.

    Returns
    -------
    dict
        ``new``, ``updated`` and ``unchanged`` ids.  With *dry_run* nothing is
        written and ``new`` holds ``None`` for ids not yet given.

    Raises
    ------
    ValidationError
        Any record is bad, or (with *update_existing*) names an id not in the
        workspace or a retired crossing: every problem is listed, nothing is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> rec = {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "NK News"}
    >>> merge_crossings(ws, [rec])["new"]
    ['YLU-0001']
    >>> merge_crossings(ws, [{**rec, "id": "YLU-0001", "status": "destroyed"}],
    ...                 update_existing=True)["updated"]
    ['YLU-0001']
    """
    if not records:
        raise DataError("no crossings to import: the input holds no features or rows")
    labels = list(rows) if rows else [f"record {i + 1}" for i in range(len(records))]
    fresh, fresh_rows, updates = [], [], []
    for rec, row in zip(records, labels, strict=True):
        if update_existing and rec.get("id") not in (None, ""):
            updates.append((rec, row))
        else:
            fresh.append(rec)
            fresh_rows.append(row)
    # the history records updates as edits
    with ws.crossings.transaction(op="edit" if updates else op, reason=reason, user=user) as tx:
        if len(records) > 1:
            log.info(
                "validating %d record(s) against %d crossing(s)", len(records), len(tx.features)
            )
        problems: list[Problem] = ProblemList()
        feats: list[dict[str, Any]] = []
        try:
            if fresh:
                feats = build_features(
                    fresh,
                    ws=ws,
                    existing_ids=tx.features,
                    max_border_km=max_border_km,
                    rows=fresh_rows,
                )
        except ValidationError as exc:
            problems.absorb(exc)
        changed, unchanged = _updates(tx, updates, ws, max_border_km, problems)
        if not allow_near and not problems:
            _refuse_near(feats, tx, ws, fresh_rows)
        if problems:
            raise ValidationError(
                problems, header=f"{problems.total} problem(s); nothing was written:"
            )
        if dry_run:
            return {
                "new": [f["id"] for f in feats],
                "updated": [f["id"] for f in changed],
                "unchanged": unchanged,
            }
        _stamp_ids(feats, tx)
        done = {"new": [f["id"] for f in feats], "updated": [f["id"] for f in changed]}
        for f in [*feats, *changed]:
            tx.put(f)  # stages its own ordered copy
        del feats, changed  # so that only that copy stays in memory while the layer is written
        if len(records) > 1:
            log.info("all valid; writing %s and its history", ws.crossings.describe())
    return {**done, "unchanged": unchanged}


def _same_report(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two reports say the same (report ids and unset fields aside)."""

    def said(r: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "report_id" and v is not None}

    return said(a) == said(b)


def _said(feature: Mapping[str, Any]) -> dict[str, Any]:
    """A crossing as compared by an update: written form, unset report fields aside."""
    f = order_crossing(feature)
    props = {**f["properties"], "reports": [
        {k: v for k, v in r.items() if v is not None} for r in f["properties"]["reports"]
    ]}  # fmt: skip
    return {**f, "properties": props}


def _updates(
    tx: Any,
    updates: list[tuple[Mapping[str, Any], str]],
    ws: Workspace,
    max_border_km: float | None,
    problems: list[Problem],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Existing crossings updated from records (see :func:`merge_crossings`)."""
    changed: list[dict[str, Any]] = []
    unchanged: list[str] = []
    seen: dict[str, str] = {}
    for rec, row in updates:
        fid = rec["id"]
        if fid in seen:
            problems.append(Problem("id", fid, f"is updated twice: also in {seen[fid]}", row))
            continue
        seen[fid] = row
        if fid not in tx.features:
            problems.append(
                Problem(
                    "id",
                    fid,
                    "is not in this workspace: --update-existing only updates crossings that "
                    "exist; import it without --update-existing, or with --new-ids",
                    row,
                )
            )
            continue
        current = tx.features[fid]
        old = current["properties"]
        if old.get("retired"):
            problems.append(
                Problem(
                    "id",
                    fid,
                    f"is retired ({old.get('retired_reason')}): it cannot be updated",
                    row,
                )
            )
            continue
        given = [r for r in rec.get("reports") or [] if isinstance(r, Mapping)]
        try:
            (new,) = build_features(
                [{k: v for k, v in rec.items() if k != "id"}],
                ws=ws,
                max_border_km=max_border_km,
                rows=[row],
            )
        except ValidationError as exc:
            problems.absorb(exc)
            continue
        reports = [dict(r) for r in old["reports"]]
        by_id = {r["report_id"]: i for i, r in enumerate(reports)}
        top = max((int(r[1:]) for r in by_id if r[1:].isdigit()), default=0)
        incoming = new["properties"]["reports"]
        for j, rep in enumerate(incoming):
            rid = given[j].get("report_id") if j < len(given) else None
            if rid in by_id:
                reports[by_id[rid]] = {**rep, "report_id": rid}
            elif any(_same_report(rep, r) for r in reports):
                continue  # already there (a row of the export it came from)
            else:
                top += 1
                reports.append({**rep, "report_id": f"R{top}"})
        props = {**old, **{k: new["properties"][k] for k in _SITE_INPUT - {"precision_m"}}}
        props["original_lon"] = new["properties"]["original_lon"]
        props["original_lat"] = new["properties"]["original_lat"]
        props["reports"] = reports
        props.update(derive_site_dates(reports))
        feat = {**current, "geometry": new["geometry"], "properties": props}
        if _said(feat) == _said(current):
            unchanged.append(fid)
            continue
        props["updated_at"] = utc_now()
        changed.append(feat)
    return changed, unchanged


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
        feat = tx.get(fid)
        props = dict(feat["properties"])
        if props.get("retired"):
            raise DataError(
                f"id={fid!r} is retired ({props.get('retired_reason')}); it cannot be edited"
            )
        geometry = feat["geometry"]
        problems: list[Problem] = []
        if report_id is not None:
            reports = [dict(r) for r in props["reports"]]
            idx = next((i for i, r in enumerate(reports) if r["report_id"] == report_id), None)
            if idx is None:
                raise NotFoundError(
                    f"report={report_id!r}: crossing {fid} has reports "
                    f"{', '.join(r['report_id'] for r in reports)}"
                )
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
    for key in sorted(set(changes) - allowed):
        problems.append(
            Problem(
                key,
                changes[key],
                f"cannot be edited: editable fields are {', '.join(sorted(allowed))}",
            )
        )
    keep = editable_site_fields() | {"datum", *PLACEMENT_FIELDS}
    site_in = {k: props.get(k) for k in keep}
    site_in.update({k: v for k, v in changes.items() if k in editable_site_fields()})
    words = {k: v for k, v in changes.items() if k in WORD_KEYS or k == "bank"}
    if "at" in changes or any(k in WORD_KEYS for k in changes):
        rec = {**words, **{k: changes[k] for k in ("at", "lon", "lat", "datum") if k in changes}}
        rec.update({k: changes[k] for k in ("location_precision", "uncertainty_m") if k in changes})
        placed, where, ll = _where(rec, ws.placer(), fid)
        problems.extend(ll)
        if placed is not None:
            site_in.update(placed.fields(), datum="wgs84")
            props.update(normalize_site(site_in, row=fid, problems=problems))
            props["original_lon"] = props["original_lat"] = None
            km, off, _ = ws.placer().locate([placed.lon], [placed.lat])
            _measured(props, km[0], off[0])
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
    _measured(props, km[0], off[0])
    props["placement_basis"] = _coordinate_basis(props["datum"])
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
    with ws.crossings.transaction(op="add-report", reason=reason, user=user) as tx:
        feat = tx.get(fid)
        props = dict(feat["properties"])
        if props.get("retired"):  # as edit: a tombstone takes no new reports
            raise DataError(
                f"id={fid!r} is retired ({props.get('retired_reason')}); it takes no new "
                "reports: undo the retirement first (`geotrack crossings undo`) or add the "
                "report to the crossing that replaces it"
            )
        rep = normalize_report(
            {k: v for k, v in report.items() if k != "report_id"}, row=f"{fid} new report"
        )
        numbers = [
            int(r["report_id"][1:]) for r in props["reports"] if r["report_id"][1:].isdigit()
        ]
        rep["report_id"] = f"R{max(numbers, default=0) + 1}"
        props["reports"] = [*props["reports"], rep]
        props.update(derive_site_dates(props["reports"]))
        props["updated_at"] = utc_now()
        tx.put({**feat, "properties": props})
    return rep["report_id"]


def retire_crossing(
    ws: Workspace, fid: str, *, reason: str, user: str | None = None
) -> dict[str, Any]:
    """Retire a crossing: it stays in the layer as a tombstone, never silently deleted."""
    if not reason or not reason.strip():
        raise DataError("reason='': say why the crossing is retired (--reason TEXT)")
    with ws.crossings.transaction(op="retire", reason=reason, user=user) as tx:
        feat = tx.get(fid)
        props = dict(feat["properties"])
        if props.get("retired"):
            raise DataError(f"id={fid!r} is already retired ({props.get('retired_reason')})")
        now = utc_now()
        props.update(retired=True, retired_reason=reason, retired_at=now, updated_at=now)
        new = {**feat, "properties": props}
        tx.put(new)
    return new


def undo(ws: Workspace, *, op: int | None = None, user: str | None = None) -> HistoryEntry:
    """Revert your latest change to the crossings layer, or operation *op*.

    The revert is a new ``undo`` entry in the history (it can be undone in turn);
    it is refused, naming who changed what since, when a later change depends on
    it (see :func:`geotrack.storage.plan_undo`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> fid = add_crossing(ws, {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "X"})
    >>> undo(ws).undoes, ws.read_crossings()
    (1, [])
    >>> add_crossing(ws, {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "X"})
    'YLU-0002'
    """
    return ws.crossings.undo(op=op, user=user)


def validate_workspace(ws: Workspace) -> list[Problem]:
    """Check every layer of the workspace; return every problem (empty = healthy).

    Checks: the reference layers load; the stretch is one LineString; the
    crossings layer is a valid FeatureCollection of Points with valid records
    and unique ids; the layer equals the replay of its history; named windows
    lie on the line; every line of the crossings history and of the trade history
    is a readable entry (damage reported by line number).  First it completes
    any write a killed process logged but did not finish, and says so when it
    rebuilt the layer from its history (see :meth:`geotrack.storage.Layer.recover`).
    """
    from geotrack.trade.storage import HISTORY_FILE as TRADE_HISTORY_FILE

    problems: list[Problem] = []
    ws.crossings.recover_if_writable()
    problems.extend(ws.crossings.check_history())
    problems.extend(history_file_problems(ws.path / TRADE_HISTORY_FILE))
    for name in ("stretch", "border_wgs84", "towns", "county_segments"):
        try:
            getattr(ws, name)
        except Exception as exc:
            problems.append(Problem(name, None, str(exc), "workspace"))
    try:
        length = ws.stretch.length_km
        for w in ws.windows.values():
            try:
                check_window(w, length_km=length)
            except Exception as exc:
                problems.append(Problem("windows.json", w.name, str(exc)))
    except Exception:  # noqa: S110 - the stretch problem is reported above
        pass
    try:
        feats = ws.crossings.read()
    except Exception as exc:
        problems.append(Problem("crossings.geojson", None, str(exc)))
        return problems
    seen = set()
    for f in feats:
        fid = f.get("id")
        row = f"feature {fid}"
        if not is_crossing_id(fid):
            problems.append(Problem("id", fid, "is not a crossing id", row))
        if fid in seen:
            problems.append(Problem("id", fid, "duplicate id", row))
        seen.add(fid)
        geom = f.get("geometry") or {}
        if geom.get("type") != "Point":
            problems.append(Problem("geometry", geom.get("type"), "must be a Point", row))
        else:
            lon, lat = geom["coordinates"][:2]
            problems.extend(check_lonlat(lon, lat, row=row))
        props = f.get("properties") or {}
        site_in = {k: props.get(k) for k in _SITE_INPUT if k in props}
        normalize_site(site_in, row=row, problems=problems)
        for r in props.get("reports") or []:
            normalize_report(r, row=f"{row} {r.get('report_id')}", problems=problems)
        if not props.get("reports"):
            problems.append(Problem("reports", None, "a crossing needs at least one report", row))
    problems.extend(history_problems(ws.crossings, feats))
    problems.extend(_place_problems(ws))
    return problems


def _place_problems(ws: Workspace) -> list[Problem]:
    """Every user place must be a valid place; the layer must equal its history's replay."""
    try:
        places = ws.places.read()
    except GeotrackError as exc:
        return [Problem("places.geojson", None, str(exc))]
    problems: list[Problem] = []
    for f in places:
        props = f.get("properties") or {}
        coords = (f.get("geometry") or {}).get("coordinates") or [None, None]
        rec = {k: props.get(k) for k in ("name", "name_local", "country", "source", "notes")}
        try:
            normalize_place({**rec, "lon": coords[0], "lat": coords[1]}, row=f"place {f.get('id')}")
        except ValidationError as exc:
            problems.extend(exc.problems)
    return problems + history_problems(ws.places, places)


def history_problems(store: Layer, feats: list[dict[str, Any]]) -> list[Problem]:
    """A problem when the layer *feats* differs from the replay of *store*'s history.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> history_problems(ws.crossings, ws.crossings.read())
    []
    """
    replayed = store.replay()
    current = {f["id"]: f for f in feats}
    has_history = next(store.history(skip_damaged=True), None) is not None
    if replayed == current or not (replayed or has_history):
        return []
    diff = sorted(set(replayed) ^ set(current)) or sorted(
        k for k in current if replayed.get(k) != current[k]
    )
    return [
        Problem(
            "history",
            ", ".join(diff[:5]),
            f"the {store.name} layer differs from the replay of its history for these ids: "
            "the layer was edited outside geotrack; record the edit with geotrack commands",
        )
    ]
