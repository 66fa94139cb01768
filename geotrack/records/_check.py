"""Checking a workspace: every layer loads, every record is valid, every history replays."""

from __future__ import annotations

from geotrack.errors import GeotrackError, Problem, ValidationError
from geotrack.lifecycle import history_problems
from geotrack.places import normalize_place
from geotrack.records._build import SITE_INPUT
from geotrack.reference import check_window
from geotrack.schema import check_lonlat, is_crossing_id, normalize_report, normalize_site
from geotrack.store import history_problems as history_file_problems
from geotrack.workspace import Workspace


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
        site_in = {k: props.get(k) for k in SITE_INPUT if k in props}
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
