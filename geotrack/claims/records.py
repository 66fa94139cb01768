"""Recording claims: resolve their areas on the river, add, import, edit, retire, undo.

Each operation validates everything first (collecting every problem), then
changes the claims layer in one :class:`geotrack.store.LayerStore`
transaction: one lock, one history entry, one atomic write.  A claim is a
GeoJSON LineString feature: the part of the stretch line its area resolves to.

An area resolves to a window of the stretch's chainage:

* ``counties``: from the start of the first named county's riverfront to the
  end of the last (county segments of the workspace);
* ``between``: two places, each a town (the line point nearest it) or a
  county's whole riverfront (``town:NAME`` / ``county:NAME``; a bare name is
  a town when a town matches, else a county);
* ``chainage``: the range as given;
* ``beyond``: the part on the stretch as a range (default: the whole line),
  the rest past the named end, where geotrack has no line to measure.
"""

from __future__ import annotations

__all__ = [
    "Reading",
    "add_claim",
    "add_relay",
    "claim_rows_to_records",
    "edit_claim",
    "import_claims",
    "readings",
    "resolve_area",
    "retire_claim",
    "undo_claims",
    "validate_claims",
    "window_geometry",
]

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.ops import substring

from geotrack.claim_schema import (
    EDITABLE_CLAIM_FIELDS,
    EDITABLE_RELAY_FIELDS,
    derive_claim,
    is_claim_id,
    normalize_area,
    normalize_claim,
    normalize_relay,
)
from geotrack.crs import to_wire
from geotrack.errors import DataError, NotFoundError, Problem, ValidationError
from geotrack.lifecycle import RecordKind, history_problems, new_record_fields, not_editable
from geotrack.reference import Window
from geotrack.store import HistoryEntry, utc_now
from geotrack.workspace import Workspace


@dataclass(frozen=True)
class Reading:
    """One way of reading an area as a window of the stretch.

    Examples
    --------
    >>> Reading("town Hyesan to town Kimjongsuk-up", 125.74, 206.82, True).length_km
    81.08
    """

    label: str
    from_km: float
    to_km: float
    as_resolved: bool

    @property
    def length_km(self) -> float:
        """Length along the river, km."""
        return round(self.to_km - self.from_km, 3)

    def window(self, name: str = "claim") -> Window:
        """The reading as a :class:`~geotrack.reference.Window`."""
        return Window(name, self.from_km, self.to_km, self.label)


def _key(name: str) -> str:
    """A place name reduced for matching: 'Kim Jong Suk County' -> 'kimjongsuk'."""
    text = name.lower()
    text = re.sub(r"\b(county|city|gun|si|province)\b", "", text)
    return re.sub(r"[^0-9a-z\u3131-\uD7A3\u4e00-\u9fff]", "", text)


def _counties(ws: Workspace) -> dict[str, tuple[str, float, float]]:
    out = {}
    for f in ws.county_segments:
        p = f["properties"]
        entry = (p["county"], float(p["chainage_start_km"]), float(p["chainage_end_km"]))
        for name in (p.get("county"), p.get("wof_name")):
            if name:
                out[_key(name)] = entry
    return out


def _candidates(ws: Workspace) -> str:
    towns = ", ".join(sorted(ws.towns))
    counties = ", ".join(f["properties"]["county"] for f in ws.county_segments)
    return f"counties: {counties}; towns: {towns}"


def _place(ws: Workspace, spec: str, row: str | None, problems: list[Problem]) -> list[Reading]:
    """Every reading of one named place: its town point and/or its county's riverfront."""
    what, sep, name = spec.partition(":")
    if not sep:
        what, name = "", spec
    key = _key(name)
    out: list[Reading] = []
    if what in ("", "town") and key:
        hits = [t for n, t in ws.towns.items() if _key(n).startswith(key)]
        hits = [t for t in hits if t.country == "KP"] or hits
        if len(hits) == 1:
            km = round(float(ws.stretch.chainage_of(hits[0].lon, hits[0].lat)), 3)
            out.append(Reading(f"town {hits[0].name} (km {km:.1f})", km, km, False))
    county = _counties(ws).get(key) if what in ("", "county") else None
    if county is not None:
        name_c, lo, hi = county
        out.append(Reading(f"{name_c} County's riverfront (km {lo:.1f}–{hi:.1f})", lo, hi, False))
    if not out:
        problems.append(
            Problem(
                "area",
                spec,
                f"names no town or county of the workspace: use one of {_candidates(ws)}",
                row,
            )
        )
    return out


def _bare(spec: str) -> str:
    what, sep, name = spec.partition(":")
    return name if sep and what in ("town", "county") else spec


def _span(a: Reading, b: Reading, *, as_resolved: bool) -> Reading:
    lo, hi = min(a.from_km, b.from_km), max(a.to_km, b.to_km)
    return Reading(f"{a.label} to {b.label}", lo, hi, as_resolved)


def readings(ws: Workspace, area: Mapping[str, Any], *, row: str | None = None) -> list[Reading]:
    """Every reading of *area*; the one the claim is resolved to first.

    For ``between`` the readings are the one resolved (``town:``/``county:``
    as given, else a town where a town matches) and then every other
    combination of each name read as a town and as a county's whole
    riverfront; the other kinds have one reading.

    Raises
    ------
    ValidationError
        A name matches no town or county (the candidates are listed), or the
        window is off the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> [(r.from_km, r.to_km) for r in readings(ws, {"kind": "between",
    ...                                              "between": ["Hyesan", "Kimjongsuk"]})]
    [(125.738, 206.82), (94.5, 206.82), (125.738, 221.9), (94.5, 221.9)]
    """
    problems: list[Problem] = []
    kind = area.get("kind")
    out: list[Reading] = []
    if kind == "counties":
        table = _counties(ws)
        found = []
        for name in area.get("counties") or []:
            hit = table.get(_key(name))
            if hit is None:
                problems.append(
                    Problem(
                        "area.counties",
                        name,
                        f"is not a county of the stretch: use one of {_candidates(ws)}",
                        row,
                    )
                )
            else:
                found.append(hit)
        if found:
            lo, hi = min(f[1] for f in found), max(f[2] for f in found)
            named = {f[0] for f in found}
            between = [
                f["properties"]["county"]
                for f in ws.county_segments
                if lo <= f["properties"]["chainage_start_km"] < hi
                and f["properties"]["county"] not in named
            ]
            label = f"riverfront of {', '.join(f[0] for f in found)} (km {lo:.1f}–{hi:.1f})"
            if between:
                label += f"; it also spans {', '.join(between)}, not named"
            out.append(Reading(label, lo, hi, True))
    elif kind == "between":
        a, b = area.get("between") or ["", ""]
        ra, rb = _place(ws, a, row, problems), _place(ws, b, row, problems)
        if ra and rb:
            chosen = _span(ra[0], rb[0], as_resolved=True)
            out.append(chosen)
            # every other reading of the two names, whatever town:/county: chose
            for x in _place(ws, _bare(a), row, []):
                for y in _place(ws, _bare(b), row, []):
                    r = _span(x, y, as_resolved=False)
                    if (r.from_km, r.to_km) not in {(o.from_km, o.to_km) for o in out}:
                        out.append(r)
    elif kind in ("chainage", "beyond"):
        lo = area.get("from_km")
        hi = area.get("to_km")
        lo = 0.0 if lo is None else float(lo)
        hi = round(ws.stretch.length_km, 3) if hi is None else float(hi)
        label = f"chainage {lo:g}–{hi:g} km"
        if kind == "beyond":
            label += f" of the stretch; the area continues past its {area.get('beyond')} end"
        out.append(Reading(label, lo, hi, True))
    for r in out:
        if r.to_km <= r.from_km or r.from_km < 0 or r.to_km > ws.stretch.length_km + 1e-3:
            problems.append(
                Problem(
                    "area",
                    f"{r.from_km:g}–{r.to_km:g} km",
                    f"is not a window of the line (0 to {ws.stretch.length_km:.3f} km, not empty)",
                    row,
                )
            )
    if problems:
        raise ValidationError(problems, header="the area does not resolve; nothing was written:")
    return out


def resolve_area(
    ws: Workspace, area: Mapping[str, Any], *, row: str | None = None
) -> dict[str, Any]:
    """The area with ``from_km``/``to_km`` of the reading it is resolved to, and its basis.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> a = resolve_area(ws, {"kind": "counties", "counties": ["Hyesan", "Pochon"]})
    >>> a["from_km"], a["to_km"], a["basis"]
    (207.1, 238.7, 'riverfront of Hyesan, Pochon (km 207.1–238.7)')
    """
    norm = normalize_area(dict(area), row=row)
    assert norm is not None
    first = readings(ws, norm, row=row)[0]
    return {
        **norm,
        "from_km": first.from_km,
        "to_km": first.to_km,
        "basis": norm.get("basis") or first.label,
    }


def window_geometry(ws: Workspace, from_km: float, to_km: float) -> dict[str, Any]:
    """The stretch line between two chainages as a GeoJSON LineString (WGS 84).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> window_geometry(ws, 0, 10)["type"]
    'LineString'
    """
    part = substring(ws.stretch.line_m, from_km * 1000.0, to_km * 1000.0)
    xy = shapely.get_coordinates(part)
    lon, lat = to_wire(xy[:, 0], xy[:, 1])
    return {
        "type": "LineString",
        "coordinates": [
            [round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)
        ],
    }


def _relays(
    cid: str, raw: Sequence[Mapping[str, Any]], row: str, problems: list[Problem], *, taken=()
) -> list[dict[str, Any]]:
    out = []
    seen = set(taken)
    for j, r in enumerate(raw, 1):
        rel = normalize_relay(r, row=f"{row} relay {j}", problems=problems)
        rid = rel["relay_id"]
        if rid is None:
            n = 1
            while f"{cid}-R{n}" in seen:
                n += 1
            rid = rel["relay_id"] = f"{cid}-R{n}"
        elif rid in seen:
            problems.append(
                Problem("relay_id", rid, f"duplicate relay id in claim {cid}: choose another", row)
            )
        seen.add(rid)
        out.append(rel)
    return out


def _build(
    ws: Workspace,
    cid: str,
    claim: Mapping[str, Any],
    relays: list[dict[str, Any]],
    row: str,
    problems: list[Problem],
    *,
    now: str,
    created_at: str | None = None,
) -> dict[str, Any] | None:
    before = len(problems)
    props = normalize_claim(claim, row=row, problems=problems)
    if props["area"] is None and not any(p.field.startswith("area") for p in problems):
        problems.append(
            Problem(
                "area",
                None,
                "is required: give counties, two places (between), a chainage range, or "
                "beyond with the part on the stretch",
                row,
            )
        )
    if not relays and not any(
        p.row and p.row.startswith(row) and "relay" in p.row for p in problems
    ):
        problems.append(
            Problem(
                "relays", None, "a claim needs at least one relay (the outlet that printed it)", row
            )
        )
    if len(problems) > before:
        return None
    try:
        props["area"] = resolve_area(ws, props["area"], row=row)
    except ValidationError as exc:
        problems.extend(exc.problems)
        return None
    props.update(new_record_fields(now, created_at=created_at))
    props["relays"] = relays
    props.update(derive_claim(relays))
    geometry = window_geometry(ws, props["area"]["from_km"], props["area"]["to_km"])
    return {"type": "Feature", "id": cid, "geometry": geometry, "properties": {"id": cid, **props}}


def import_claims(
    ws: Workspace,
    claims: Sequence[tuple[str | None, Mapping[str, Any], Sequence[Mapping[str, Any]]]],
    *,
    rows: Sequence[str] | None = None,
    reason: str | None = None,
    user: str | None = None,
    op: str = "import",
) -> list[str]:
    """Add claims all-or-nothing; each item is ``(id or None, claim fields, relays)``.

    Raises
    ------
    ValidationError
        Any claim or relay is bad: every problem is listed and nothing is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> import_claims(ws, [(None, {"claimed_by": "X", "count": 3, "count_qualifier": "exact",
    ...                            "area": {"kind": "counties", "counties": ["Hyesan"]}},
    ...                     [{"publisher": "Y", "url": "https://example.org/a"}])])
    ['C1']
    """
    if not claims:
        raise DataError("no claims to import: the input holds no rows")
    problems: list[Problem] = []
    now = utc_now()
    with ws.claims.transaction(op=op, reason=reason, user=user) as tx:
        taken = set(tx.features)
        feats = []
        for i, (cid, claim, relays) in enumerate(claims):
            row = rows[i] if rows else f"claim {i + 1}"
            if cid in (None, ""):
                (cid,) = tx.new_ids(1)  # never an id given before, even to an undone claim
            elif not is_claim_id(cid):
                problems.append(
                    Problem(
                        "id", cid, "must be an id such as C1 (upper-case letters, digits, '-')", row
                    )
                )
                continue
            elif cid in taken:
                problems.append(
                    Problem(
                        "id",
                        cid,
                        "a claim with this id exists already: give a new id, or add relays "
                        "with `geotrack claims add-relay`",
                        row,
                    )
                )
                continue
            taken.add(cid)
            rel = _relays(cid, relays, row, problems)
            feat = _build(ws, cid, claim, rel, row, problems, now=now)
            if feat is not None:
                feats.append(feat)
        if problems:
            raise ValidationError(
                problems, header=f"{len(problems)} problem(s); nothing was written:"
            )
        for f in feats:
            tx.put(f)
    return [f["id"] for f in feats]


def add_claim(
    ws: Workspace,
    claim: Mapping[str, Any],
    relay: Mapping[str, Any],
    *,
    claim_id: str | None = None,
    reason: str | None = None,
    user: str | None = None,
) -> str:
    """Record one claim with its first relay; return its id.

    The first relay printed the claim: the figures it does not give are the
    claim's (count, qualifier, what, kinds, area and length as printed,
    imagery, activity period; the counties or places of the area).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> add_claim(ws, {"claimed_by": "X", "count": 5, "count_qualifier": "at_least",
    ...                "area": {"kind": "chainage", "from_km": 200, "to_km": 230}},
    ...           {"publisher": "Y", "url": "https://example.org/a"}, claim_id="C7")
    'C7'
    """
    first = {k: claim[k] for k in _FIRST_RELAY if claim.get(k) is not None}
    area = claim.get("area") or {}
    if area.get("kind") == "counties" and area.get("counties"):
        first["counties"] = area["counties"]
    if area.get("kind") == "between" and area.get("between"):
        first["between_places"] = area["between"]
    first.update(relay)
    return import_claims(ws, [(claim_id, claim, [first])], reason=reason, user=user, op="add")[0]


#: Claim fields its first relay printed unless the relay says otherwise.
_FIRST_RELAY = (
    "count",
    "count_qualifier",
    "what_as_printed",
    "kinds",
    "area_as_printed",
    "stated_length",
    "stated_unit",
    "stated_length_as_printed",
    "imagery",
    "activity_period_as_printed",
)


def _get(tx, cid: str) -> dict[str, Any]:
    if cid not in tx.features:
        ids = ", ".join(sorted(tx.features)) or "none yet"
        raise NotFoundError(
            f"claim={cid!r}: no such claim (claims: {ids}); `geotrack claims list` shows them"
        )
    return tx.features[cid]


#: Claims as records: relays are their sub-records.
CLAIM = RecordKind("claim", "claim", "relay", get=_get)
#: What a retired claim cannot do (the end of the message refusing it).
_RETIRED = ": it cannot change"


def add_relay(
    ws: Workspace,
    cid: str,
    relay: Mapping[str, Any],
    *,
    reason: str | None = None,
    user: str | None = None,
) -> str:
    """Add a relay (another outlet printing the claim) to claim *cid*; return its id."""

    def make(relays: list[dict[str, Any]]) -> dict[str, Any]:
        problems: list[Problem] = []
        taken = [r["relay_id"] for r in relays]
        (new,) = _relays(cid, [relay], f"claim {cid}", problems, taken=taken)
        if problems:
            raise ValidationError(problems, header="nothing was written:")
        return new

    return CLAIM.add_child(
        ws.claims, cid, make, derive=derive_claim, refusal=_RETIRED, reason=reason, user=user
    )


def edit_claim(
    ws: Workspace,
    cid: str,
    changes: Mapping[str, Any],
    *,
    relay_id: str | None = None,
    reason: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Change a claim's fields (or one relay's, with *relay_id*); return the feature.

    A changed ``area`` is resolved again and the claim's line redrawn.
    """
    if not changes:
        raise DataError("nothing to change: give at least one field to change")
    with ws.claims.transaction(op="edit", reason=reason, user=user) as tx:
        _, props = CLAIM.live(tx, cid, refusal=_RETIRED)
        allowed = EDITABLE_RELAY_FIELDS if relay_id else EDITABLE_CLAIM_FIELDS
        problems = not_editable(changes, allowed, row=cid)
        if problems:
            raise ValidationError(problems, header="nothing was changed:")
        relays = [dict(r) for r in props["relays"]]
        if relay_id is not None:
            idx = CLAIM.child_index(relays, cid, relay_id)
            relays[idx] = {**relays[idx], **changes}
            claim_in = {k: props[k] for k in EDITABLE_CLAIM_FIELDS}
        else:
            claim_in = {**{k: props[k] for k in EDITABLE_CLAIM_FIELDS}, **changes}
            if "area" not in changes:
                claim_in["area"] = props["area"]
        new_relays = _relays(cid, relays, f"claim {cid}", problems)
        new = _build(
            ws,
            cid,
            claim_in,
            new_relays,
            f"claim {cid}",
            problems,
            now=utc_now(),
            created_at=props["created_at"],
        )
        if problems or new is None:
            raise ValidationError(problems, header="nothing was changed:")
        tx.put(new)
    return new


def retire_claim(
    ws: Workspace, cid: str, *, reason: str, user: str | None = None
) -> dict[str, Any]:
    """Retire claim *cid*: a tombstone with the reason, never a silent delete."""
    return CLAIM.retire(ws.claims, cid, reason=reason, user=user)


def undo_claims(ws: Workspace, *, user: str | None = None) -> HistoryEntry:
    """Revert the latest change to the claims layer (recorded as an ``undo``)."""
    return ws.claims.undo(user=user)


#: Columns of a claims CSV (the shape of the public record's ``claims.csv``) -> fields.
_CSV_CLAIM = {
    "claim_by": "claimed_by",
    "claimed_by": "claimed_by",
    "count": "count",
    "count_qualifier": "count_qualifier",
    "what_as_printed": "what_as_printed",
    "kinds": "kinds",
    "area_as_printed": "area_as_printed",
    "stated_length": "stated_length",
    "stated_unit": "stated_unit",
    "stated_length_as_printed": "stated_length_as_printed",
    "imagery": "imagery",
    "activity_period_as_printed": "activity_period_as_printed",
    "activity_start": "activity_start",
    "activity_end": "activity_end",
}
_CSV_RELAY = {
    "relay_id": "relay_id",
    "relay_publisher": "publisher",
    "publisher": "publisher",
    "published": "published",
    "published_precision": "published_precision",
    "url": "url",
    "language": "language",
    "quote": "quote",
    "count": "count",
    "count_qualifier": "count_qualifier",
    "what_as_printed": "what_as_printed",
    "kinds": "kinds",
    "area_as_printed": "area_as_printed",
    "counties": "counties",
    "between_places": "between_places",
    "stated_length": "stated_length",
    "stated_unit": "stated_unit",
    "stated_length_as_printed": "stated_length_as_printed",
    "imagery": "imagery",
    "activity_period_as_printed": "activity_period_as_printed",
    "notes": "notes",
}
_CSV_AREA = {
    "area_kind": "kind",
    "area_counties": "counties",
    "area_between": "between",
    "area_from_km": "from_km",
    "area_to_km": "to_km",
    "area_beyond": "beyond",
    "area_basis": "basis",
    "area_inferred": "inferred",
}
_CSV_COLUMNS = {"claim_id", "claim_notes", *_CSV_CLAIM, *_CSV_RELAY, *_CSV_AREA}


def claim_rows_to_records(
    rows: Sequence[Mapping[str, Any]], labels: Sequence[str]
) -> tuple[list[tuple[str | None, dict[str, Any], list[dict[str, Any]]]], list[str]]:
    """Group CSV rows shaped like ``claims.csv`` (one row per relay) into claims.

    Rows with the same ``claim_id`` are one claim; its own fields come from
    its first row, every row is a relay with the figures it printed.  The
    area is ``area_*`` columns when given, else the first row's ``counties``
    or ``between_places``.  ``claim_notes`` is the claim's note.

    Raises
    ------
    ValidationError
        Unknown columns (every one listed).

    Examples
    --------
    >>> recs, _ = claim_rows_to_records(
    ...     [{"claim_id": "C2", "claim_by": "ASIAPRESS", "relay_publisher": "ASIAPRESS",
    ...       "count": "24", "between_places": "Hyesan;Kimjongsuk"}], ["row 2"])
    >>> recs[0][1]["area"]
    {'kind': 'between', 'between': 'Hyesan;Kimjongsuk'}
    """
    unknown = sorted({k for r in rows for k in r} - _CSV_COLUMNS)
    if unknown:
        raise ValidationError(
            [
                Problem(
                    "column", k, f"is not a claims column: use {', '.join(sorted(_CSV_COLUMNS))}"
                )
                for k in unknown
            ]
        )
    groups: dict[Any, int] = {}
    out: list[tuple[str | None, dict[str, Any], list[dict[str, Any]]]] = []
    out_labels: list[str] = []
    for row, label in zip(rows, labels, strict=True):
        cid = row.get("claim_id") or None
        relay = {f: row[c] for c, f in _CSV_RELAY.items() if row.get(c) not in (None, "")}
        if cid is not None and cid in groups:
            out[groups[cid]][2].append(relay)
            continue
        claim = {f: row[c] for c, f in _CSV_CLAIM.items() if row.get(c) not in (None, "")}
        if row.get("claim_notes"):
            claim["notes"] = row["claim_notes"]
        area = {f: row[c] for c, f in _CSV_AREA.items() if row.get(c) not in (None, "")}
        if not area and row.get("counties"):
            area = {"kind": "counties", "counties": row["counties"]}
        elif not area and row.get("between_places"):
            area = {"kind": "between", "between": row["between_places"]}
        if area:
            claim["area"] = area
        if cid is not None:
            groups[cid] = len(out)
        out.append((cid, claim, [relay]))
        out_labels.append(f"{label} (claim {cid})" if cid else label)
    return out, out_labels


def validate_claims(ws: Workspace) -> list[Problem]:
    """Check the claims layer: every record valid, lines present, history replays to it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> validate_claims(init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w"))
    []
    """
    problems: list[Problem] = []
    ws.claims.recover_if_writable()
    try:
        feats = ws.claims.read()
    except Exception as exc:
        return [Problem("claims.geojson", None, str(exc))]
    seen = set()
    for f in feats:
        fid = f.get("id")
        row = f"claim {fid}"
        if not is_claim_id(fid) or fid in seen:
            problems.append(Problem("id", fid, "is not a claim id, or is a duplicate", row))
        seen.add(fid)
        geom = f.get("geometry") or {}
        if geom.get("type") != "LineString" or len(geom.get("coordinates") or []) < 2:
            problems.append(
                Problem("geometry", geom.get("type"), "must be a LineString of 2+ points", row)
            )
        props = f.get("properties") or {}
        claim_in = {k: props.get(k) for k in EDITABLE_CLAIM_FIELDS if k in props}
        normalize_claim(claim_in, row=row, problems=problems)
        relays = props.get("relays") or []
        if not relays:
            problems.append(Problem("relays", None, "a claim needs at least one relay", row))
        for r in relays:
            normalize_relay(r, row=f"{row} {r.get('relay_id')}", problems=problems)
    problems.extend(history_problems(ws.claims, feats))
    return problems
