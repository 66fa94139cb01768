"""Adding and importing crossings: new ones, and updates of existing ones, all-or-nothing."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from geotrack.errors import DataError, NearDuplicateError, Problem, ProblemList, ValidationError
from geotrack.placement import near_pairs
from geotrack.records._build import SITE_INPUT, build_features
from geotrack.records._site import DEFAULT_MAX_BORDER_KM
from geotrack.schema import derive_site_dates, order_crossing
from geotrack.storage import LayerTransaction
from geotrack.store import utc_now
from geotrack.workspace import Workspace

log = logging.getLogger(__name__)

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
        props = {**old, **{k: new["properties"][k] for k in SITE_INPUT - {"precision_m"}}}
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
