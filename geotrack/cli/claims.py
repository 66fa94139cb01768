"""``geotrack claims``: add, add-relay, import, list, show, edit, retire, history, undo, check."""

from __future__ import annotations

from typing import Any

import click

from geotrack.cli._common import (
    echo_table,
    emit_json,
    open_workspace,
    terminal_safe,
    workspace_option,
)
from geotrack.cli._options import apply_options, given, reason_option, text_options
from geotrack.errors import NotFoundError, UsageError

#: Figures a claim and each relay print (option, field, help).
_FIGURES = [
    ("--count", "count", "The count printed (a positive whole number)."),
    ("--qualifier", "count_qualifier", "exact, at_least, more_than or about."),
    ("--what", "what_as_printed", "What is claimed, as printed (kinds, activity)."),
    ("--kinds", "kinds", "Kinds coded from it, ';'-separated (earth_causeway;ford)."),
    ("--area-as-printed", "area_as_printed", "The area in the words printed."),
    ("--stated-length", "stated_length", "The stated length of the area (a number)."),
    ("--unit", "stated_unit", "Unit of the stated length: km or mi."),
    ("--stated-as-printed", "stated_length_as_printed", "The stated length as printed."),
    ("--imagery", "imagery", "Imagery named (provider, dates)."),
    ("--activity-period", "activity_period_as_printed", "The activity period as printed."),
]
_CLAIM_ONLY = [
    ("--activity-start", "activity_start", "Start of the claimed activity (YYYY[-MM[-DD]])."),
    ("--activity-end", "activity_end", "End of the claimed activity."),
    ("--notes", "notes", "Notes on the claim (stored exactly as given)."),
]
_RELAY = [
    ("--relay-id", "relay_id", "Relay id (default CLAIM-R1, CLAIM-R2, ...)."),
    ("--publisher", "publisher", "The outlet that printed it."),
    ("--published", "published", "Publication date: YYYY-MM-DD, YYYY-MM or YYYY."),
    ("--published-precision", "published_precision", "day, month, year or unknown."),
    ("--url", "url", "URL of the relay."),
    ("--language", "language", "Language of the relay (en, ko, zh, ...)."),
    ("--quote", "quote", "A short quote as printed."),
]
_AREA = [
    click.option("--counties", default=None, help="Area: counties, ';'-separated."),
    click.option(
        "--between",
        multiple=True,
        help="Area: one of two places (repeat); town:NAME, county:NAME or NAME.",
    ),
    click.option("--chainage", default=None, help="Area: FROM_KM:TO_KM of the stretch."),
    click.option(
        "--beyond",
        default=None,
        help="The area runs past the stretch's upstream, downstream or both ends.",
    ),
    click.option("--area-basis", default=None, help="How the area was resolved, in words."),
    click.option(
        "--inferred/--not-inferred",
        default=None,
        help="The resolution is an inference (not printed by the source).",
    ),
]


def _area(kw: dict[str, Any]) -> dict[str, Any] | None:
    counties, between, chainage, beyond = (
        kw.get("counties"),
        kw.get("between") or (),
        kw.get("chainage"),
        kw.get("beyond"),
    )
    kinds = [k for k, v in (("counties", counties), ("between", between)) if v]
    if chainage and not beyond:
        kinds.append("chainage")
    if beyond:
        kinds.append("beyond")
    if len(kinds) > 1:
        raise UsageError(
            f"give one area: --counties, --between A --between B, --chainage, or --beyond "
            f"(with --chainage for the part on the stretch); got {', '.join(kinds)}"
        )
    if not kinds:
        if kw.get("area_basis") is not None or kw.get("inferred") is not None:
            raise UsageError("--area-basis and --inferred describe an area: give the area too")
        return None
    area: dict[str, Any] = {"kind": kinds[0]}
    if counties:
        area["counties"] = counties
    if between:
        area["between"] = list(between) if len(between) > 1 else between[0]
    if chainage:
        lo, sep, hi = chainage.partition(":")
        if not sep:
            raise UsageError(f"--chainage {chainage!r}: write FROM_KM:TO_KM (e.g. 207.1:238.7)")
        area["from_km"], area["to_km"] = lo, hi
    if beyond:
        area["beyond"] = beyond
    if kw.get("area_basis") is not None:
        area["basis"] = kw["area_basis"]
    if kw.get("inferred") is not None:
        area["inferred"] = kw["inferred"]
    return area


@click.group("claims")
def claims() -> None:
    """Claims about stretches ("at least 32 crossings along about 95 km"), with their relays.

    \b
    Example:
        geotrack claims list
        geotrack claims check C1
    """


@claims.command("add")
@workspace_option
@click.option("--id", "claim_id", default=None, help="Claim id (default C1, C2, ...).")
@click.option("--claimed-by", required=True, help="Who made the claim (NK Pro, ASIAPRESS).")
@text_options(_FIGURES)
@text_options(_CLAIM_ONLY)
@apply_options(_AREA)
@text_options(_RELAY)
@click.option("--relay-notes", default=None, help="Notes on the first relay.")
@reason_option
@click.option("--json", "as_json", is_flag=True, help="Print the new feature as GeoJSON.")
def add_cmd(workspace, claim_id, claimed_by, relay_notes, reason, as_json, **kw):
    """Record one claim with its first relay (the outlet that printed it); print its id.

    The first relay printed the claim's figures; add other outlets with
    `geotrack claims add-relay`, with the figures each printed.

    \b
    Example:
        geotrack claims add --claimed-by "NK Pro" --count 32 --qualifier at_least \\
            --counties "Kimhyongjik;Kimjongsuk;Samsu;Hyesan;Pochon" \\
            --stated-length 95 --unit km --publisher "SBS News" --published 2025-12-09 \\
            --url https://news.sbs.co.kr/news/endPage.do?news_id=N1008362405 --language ko
    """
    from geotrack.claims.records import add_claim

    ws = open_workspace(workspace)
    claim = {"claimed_by": claimed_by, **given(kw, _FIGURES), **given(kw, _CLAIM_ONLY)}
    area = _area(kw)
    if area is not None:
        claim["area"] = area
    relay = given(kw, _RELAY)
    if relay_notes is not None:
        relay["notes"] = relay_notes
    cid = add_claim(ws, claim, relay, claim_id=claim_id, reason=reason)
    if as_json:
        emit_json(_find(ws, cid))
    else:
        click.echo(cid)


@claims.command("add-relay")
@workspace_option
@click.argument("cid", metavar="CLAIM")
@text_options(_RELAY)
@text_options(_FIGURES)
@click.option("--counties", default=None, help="Counties this relay names, ';'-separated.")
@click.option("--between-places", default=None, help="The two places this relay names, A;B.")
@click.option("--notes", default=None, help="Notes on this relay.")
@reason_option
def add_relay_cmd(workspace, cid, reason, **kw):
    """Add a relay of CLAIM: another outlet, with the figures it printed; print its id.

    Its figures are kept as printed, never merged: differences from the other
    relays are listed as conflicts by `geotrack claims show`.

    \b
    Example:
        geotrack claims add-relay C1 --publisher "Korea JoongAng Daily" \\
            --published 2025-12-19 --url https://koreajoongangdaily.joins.com/... \\
            --language en --count 32 --qualifier at_least --stated-length 98 --unit km
    """
    from geotrack.claims.records import add_relay

    ws = open_workspace(workspace)
    relay = {**given(kw, _RELAY), **given(kw, _FIGURES)}
    for key in ("counties", "between_places", "notes"):
        if kw.get(key) is not None:
            relay[key] = kw[key]
    click.echo(add_relay(ws, cid, relay, reason=reason))


@claims.command("import")
@workspace_option
@click.argument("source", type=click.File("rb"))
@click.option("--encoding", default=None, help="Text encoding of a CSV that is not UTF-8.")
@reason_option
@click.option("--json", "as_json", is_flag=True, help="Print the new ids as JSON.")
def import_cmd(workspace, source, encoding, reason, as_json):
    """Import claims from a CSV shaped like the public record's claims.csv (or - for stdin).

    One row per relay; rows with the same claim_id are one claim, whose own
    fields come from its first row.  All or nothing: every problem is listed.

    \b
    Example:
        geotrack claims import claims.csv --json
    """
    from geotrack.claims.records import claim_rows_to_records, import_claims
    from geotrack.importers import read_table

    ws = open_workspace(workspace)
    table = read_table(source, encoding=encoding)
    records, rows = claim_rows_to_records(table.records, table.rows)
    name = click.format_filename(getattr(source, "name", None) or "<stdin>")
    ids = import_claims(ws, records, rows=rows, reason=reason or f"import of {name}")
    if as_json:
        emit_json({"imported": len(ids), "ids": ids})
    else:
        click.echo(f"imported {len(ids)} claim(s) from {terminal_safe(name)}", err=True)
        click.echo("\n".join(ids))


def _find(ws, cid: str) -> dict[str, Any]:
    feat = next((f for f in ws.read_claims(include_retired=True) if f["id"] == cid), None)
    if feat is None:
        raise NotFoundError(f"claim={cid!r}: no such claim; `geotrack claims list` shows the ids")
    return feat


@claims.command("list")
@workspace_option
@click.option("--all", "include_retired", is_flag=True, help="Include retired claims.")
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection.")
def list_cmd(workspace, include_retired, as_json):
    """List claims: count, who, area, stated length, relays and conflicts.

    \b
    Example:
        geotrack claims list --json | ogr2ogr claims.gpkg /vsistdin/
    """
    from geotrack.claim_schema import claim_label

    ws = open_workspace(workspace)
    feats = ws.read_claims(include_retired=include_retired)
    if as_json:
        emit_json({"type": "FeatureCollection", "features": feats})
        return
    rows = []
    for f in feats:
        p = f["properties"]
        a = p["area"]
        stated = f"{p['stated_length']:g} {p['stated_unit']}" if p.get("stated_length") else ""
        rows.append(
            [
                f["id"],
                claim_label(p),
                f"{a['kind']} {a['from_km']:.1f}–{a['to_km']:.1f} km",
                stated,
                len(p["relays"]),
                len(p.get("conflicts") or []),
                "retired" if p.get("retired") else "",
            ]
        )
    echo_table(rows, ["id", "claim", "area (chainage)", "stated", "relays", "conflicts", ""])
    click.echo(f"{len(feats)} claim(s) in {terminal_safe(ws.path)}", err=True)


@claims.command("show")
@workspace_option
@click.argument("cid", metavar="CLAIM")
@click.option("--json", "as_json", is_flag=True, help="Print the GeoJSON feature.")
def show_cmd(workspace, cid, as_json):
    """Show one claim with every relay and the conflicts between relays.

    \b
    Example:
        geotrack claims show C1
    """
    from geotrack.claim_schema import claim_label

    ws = open_workspace(workspace)
    feat = _find(ws, cid)
    if as_json:
        emit_json(feat)
        return
    p = feat["properties"]
    a = p["area"]
    t = terminal_safe
    lines = [
        f"{cid}  {t(claim_label(p))}"
        + ("  RETIRED: " + t(p["retired_reason"]) if p.get("retired") else "")
    ]
    for key in ("what_as_printed", "kinds", "area_as_printed"):
        if p.get(key):
            value = ";".join(p[key]) if isinstance(p[key], list) else p[key]
            lines.append(f"  {key}: {t(value)}")
    lines.append(
        f"  area: {a['kind']}, resolved to chainage {a['from_km']:.3f}–{a['to_km']:.3f} km: "
        f"{t(a['basis'])}" + ("  (an inference)" if a.get("inferred") else "")
    )
    for key in (
        "stated_length_as_printed",
        "imagery",
        "activity_period_as_printed",
        "activity_start",
        "activity_end",
        "notes",
    ):
        if p.get(key):
            lines.append(f"  {key}: {t(p[key])}")
    lines.append(f"  relays ({len(p['relays'])}):")
    for r in p["relays"]:
        head = f"    [{t(r['relay_id'])}] {t(r['publisher'])}, {r['published'] or 'undated'} ({r['published_precision']})"
        lines.append(head + (f", {r['language']}" if r.get("language") else ""))
        for key in (
            "url",
            "quote",
            "count",
            "count_qualifier",
            "stated_length_as_printed",
            "notes",
        ):
            if r.get(key) is not None:
                lines.append(f"        {key}: {t(r[key])}")
    for c in p.get("conflicts") or []:
        values = "; ".join(
            f"{t(v['value'])} ({', '.join(map(t, v['relays']))})" for v in c["values"]
        )
        lines.append(f"  conflict in {c['field']}: {values}")
    click.echo("\n".join(lines))


@claims.command("edit")
@workspace_option
@click.argument("cid", metavar="CLAIM")
@click.option("--relay", "relay_id", default=None, help="Edit this relay instead of the claim.")
@click.option("--claimed-by", default=None, help="Who made the claim.")
@text_options(_FIGURES)
@text_options(_CLAIM_ONLY)
@apply_options(_AREA)
@text_options(_RELAY[1:])
@click.option("--relay-counties", default=None, help="With --relay: counties it names.")
@click.option("--between-places", default=None, help="With --relay: the two places it names.")
@reason_option
def edit_cmd(workspace, cid, relay_id, claimed_by, relay_counties, between_places, reason, **kw):
    """Change fields of CLAIM (or of one of its relays with --relay); a new area is re-resolved.

    \b
    Example:
        geotrack claims edit C2 --between Hyesan --between county:Kimjongsuk
        geotrack claims edit C1 --relay C1-SBS --quote "..."
    """
    from geotrack.claims.records import edit_claim

    ws = open_workspace(workspace)
    if relay_id:
        changes = {**given(kw, _FIGURES), **given(kw, _RELAY[1:])}
        if relay_counties is not None:
            changes["counties"] = relay_counties
        if between_places is not None:
            changes["between_places"] = between_places
        claim_only = given(kw, _CLAIM_ONLY)
        if "notes" in claim_only:
            changes["notes"] = claim_only.pop("notes")
        if _area(kw) or claim_only or claimed_by:
            raise UsageError("with --relay, give relay fields only (claim fields edit the claim)")
    else:
        if given(kw, _RELAY[1:]) or relay_counties or between_places:
            raise UsageError("relay fields need --relay ID (see `geotrack claims show CLAIM`)")
        changes = {**given(kw, _FIGURES), **given(kw, _CLAIM_ONLY)}
        if claimed_by is not None:
            changes["claimed_by"] = claimed_by
        area = _area(kw)
        if area is not None:
            changes["area"] = area
    edit_claim(ws, cid, changes, relay_id=relay_id, reason=reason)
    click.echo(f"edited {cid}" + (f" relay {relay_id}" if relay_id else ""), err=True)


@claims.command("retire")
@workspace_option
@click.argument("cid", metavar="CLAIM")
@click.option("--reason", required=True, help="Why it is retired (duplicate, retracted, ...).")
def retire_cmd(workspace, cid, reason):
    """Retire CLAIM: a tombstone with the reason, never a silent delete.

    \b
    Example:
        geotrack claims retire C3 --reason "duplicate of C1"
    """
    from geotrack.claims.records import retire_claim

    retire_claim(open_workspace(workspace), cid, reason=reason)
    click.echo(f"retired {cid}", err=True)


@claims.command("history")
@workspace_option
@click.argument("cid", metavar="[CLAIM]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def history_cmd(workspace, cid, as_json):
    """Show the history of the claims layer, or of one claim.

    \b
    Example:
        geotrack claims history C1 --json
    """
    ws = open_workspace(workspace)
    entries = list(ws.claims.history(cid))
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return
    rows = [
        [
            e.seq,
            e.time,
            e.user,
            e.op + (f" of {e.undoes}" if e.undoes else ""),
            ", ".join(c.id for c in e.changes),
            e.reason or "",
        ]
        for e in entries
    ]
    echo_table(rows, ["seq", "time (UTC)", "user", "op", "ids", "reason"])


@claims.command("undo")
@workspace_option
def undo_cmd(workspace):
    """Revert the latest change to the claims layer (recorded in its history as an undo).

    \b
    Example:
        geotrack claims retire C3 --reason "example" && geotrack claims undo
    """
    from geotrack.claims.records import undo_claims

    entry = undo_claims(open_workspace(workspace))
    click.echo(f"undid operation {entry.undoes}: {terminal_safe(entry.reason)}", err=True)


_MEASURE_NAMES = {"river_km": "river", "straight_km": "straight", "max_extent_km": "max extent"}


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.0f}%".replace("-", "−")


def _check_lines(doc: dict[str, Any]) -> list[str]:
    t = terminal_safe
    out: list[str] = []
    for c in doc["claims"]:
        out.append(f"{c['claim']}  {t(c['label'])}")
        if c.get("area_as_printed"):
            out.append(f"  area as printed: {t(c['area_as_printed'])}")
        for m in sorted(c["readings"], key=lambda m: m.get("fit_rank", 0)):
            tag = "as resolved" if m["as_resolved"] else "alternative reading"
            rank = (
                f"fit rank {m['fit_rank']}, " if "fit_rank" in m and len(c["readings"]) > 1 else ""
            )
            out.append(f"  {rank}{tag}: {t(m['reading'])}")
            out.append(
                f"    window km {m['from_km']:.1f}–{m['to_km']:.1f}: river {m['river_km']:.1f} km, "
                f"straight {m['straight_km']:.1f} km, max extent {m['max_extent_km']:.1f} km"
            )
            for s in m["stated"]:
                unit = f"{s['stated_length']:g} {s['stated_unit']}"
                if s["stated_unit"] != "km":
                    unit += f" = {s['stated_km']:.1f} km"
                diffs = "; ".join(
                    f"{_MEASURE_NAMES[k]} {m[k]:.1f} km ({_pct(v)})"
                    for k, v in sorted(
                        s["difference_pct"].items(), key=lambda kv: abs(kv[1] or 1e9)
                    )
                )
                out.append(
                    f"    stated {t(s['as_printed'] or unit)} [{unit}] by {', '.join(map(t, s['printed_by']))}: "
                    f"{diffs}; closest: {_MEASURE_NAMES.get(s['closest'], '-')}"
                )
        silent = next(
            (s["no_length_printed"] for s in c["stated"] if "no_length_printed" in s), None
        )
        if silent:
            out.append(f"    no length printed by {', '.join(map(t, silent))}")
        b = c.get("beyond_stretch")
        if b:
            out.append(f"  beyond the stretch: {t(b['statement'])}")
        s = c["sites"]
        out.append(
            f"  sites: {s['statement']} inside km {s['window_km'][0]:.1f}–{s['window_km'][1]:.1f} "
            f"({len(s['point_located'])} point-located, {len(s['spread_wholly_inside'])} spread wholly "
            f"inside, {len(s['spread_partly_inside'])} spread partly inside; "
            f"{len(s['excluded_far_from_line'])} not counted: farther than "
            f"{doc['method']['max_offset_km']:g} km from the line or not placeable)"
        )
        d = c["density"]
        out.append(
            f"  claimed count over the window: {d['count']} / {d['river_km']:.1f} river km = "
            f"{d['per_river_km']:.3f} per km; {d['count']} / {d['straight_km']:.1f} straight km = "
            f"{d['per_straight_km']:.3f} per km" + (f" ({t(d['note'])})" if d.get("note") else "")
        )
        for o in c["overlaps"]:
            od = o["other"]
            out.append(
                f"  overlaps {o['claim']} ({t(o['label'])}) over km {o['overlap_km'][0]:.1f}–"
                f"{o['overlap_km'][1]:.1f}: {o['claim']} claims {od['per_river_km']:.3f} per river km, "
                f"{od['per_straight_km']:.3f} per straight km over its window"
            )
        for k in c["conflicts"]:
            values = "; ".join(
                f"{t(v['value'])} ({', '.join(map(t, v['relays']))})" for v in k["values"]
            )
            out.append(f"  relays differ on {k['field']}: {values}")
        out.append("")
    for d in doc.get("sites_whose_words_disagree") or []:
        out.append(f"Site words disagree: {t(d['statement'])}")
    if doc.get("sites_whose_words_disagree"):
        out.append("")
    m = doc["method"]
    out.append(
        f"Measured in {m['crs']} on {m['line']} ({doc['stretch_length_km']:.1f} km). river = "
        f"{m['river_km']}; straight = {m['straight_km']}; max extent = {m['max_extent_km']}. "
        f"Difference = {m['difference']}. {doc['sites_in_workspace']} site(s) in the workspace."
    )
    return out


@claims.command("check")
@workspace_option
@click.argument("cid", metavar="[CLAIM]", required=False)
@click.option(
    "--max-offset-km",
    type=float,
    default=2.0,
    show_default=True,
    help="Sites farther than this from the line are listed as excluded.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the measures as JSON.")
def check_cmd(workspace, cid, max_offset_km, as_json):
    """Measure each claim's window on the river and set its stated lengths and count beside it.

    For each reading of the area: the window's length along the river, the
    straight line between its ends and its maximum extent (EPSG:32652), each
    stated length (the claim's and every relay's) with its difference from
    each measure and the closest one; readings ranked by fit; the part
    beyond the stretch; the sites located inside; overlapping claims as
    counts per river km and per straight km.  States what was measured.

    \b
    Example:
        geotrack claims check C1
        geotrack claims check --json | jq '.claims[].readings[0].stated'
    """
    from geotrack.claims.check import check_claims

    doc = check_claims(open_workspace(workspace), cid, max_offset_km=max_offset_km)
    if as_json:
        emit_json(doc)
        return
    click.echo("\n".join(_check_lines(doc)))
