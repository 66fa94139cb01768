"""A clearly labelled synthetic workspace, so a new user sees a full map at once.

:func:`create_demo` makes a workspace with the bundled reference layers (and
the bundled, cited trade table when the workspace template ships one) and
records ``n`` (32 by default, as in the NK News report) **invented** crossings
placed along the ``reported`` window (the five-county riverfront, chainage
0–238.7 km) from a seed.  Every invented crossing has ``synthetic: true`` and
every report's ``source_name`` starts with ``SYNTHETIC — invented for the
demo``; the map made from it carries a "SYNTHETIC DEMO DATA" banner.  No trade
figure is invented: the chart uses the real, cited table.

The crossings go in through :func:`geotrack.records.import_crossings`, the same
validated, locked, history-keeping path as any import.
"""

from __future__ import annotations

__all__ = ["DEMO_SOURCE", "create_demo", "demo_records"]

import math
import os
import random
from pathlib import Path
from typing import Any

from geotrack.crs import to_wire
from geotrack.errors import OutputExistsError, StorageError
from geotrack.workspace import Workspace, init_workspace

#: Prefix of every invented report's source name.
DEMO_SOURCE = "SYNTHETIC — invented for the demo"

_KINDS = (
    ("temporary_bridge", 9),
    ("pontoon", 6),
    ("ford", 6),
    ("ferry_boat", 5),
    ("ice_road", 3),
    ("cable", 2),
    ("other", 1),
)
_STATUSES = (("active", 12), ("inactive", 4), ("destroyed", 2), ("unknown", 3))
_SOURCES = (
    ("satellite_imagery", "commercial satellite imagery (invented)", "B", 2, "day"),
    ("media", "news report (invented)", "B", 3, "month"),
    ("social_media", "social media post (invented)", "D", 4, "week"),
    ("informant", "informant account (invented)", "C", 3, "month"),
)
_NOTES = {
    "temporary_bridge": "Invented: a narrow span of timber and steel sections across the channel.",
    "pontoon": "Invented: a line of floating sections with vehicles on the far bank.",
    "ford": "Invented: vehicle tracks entering and leaving the water at a shallow reach.",
    "ferry_boat": "Invented: a flat boat moored at a cleared landing on each bank.",
    "ice_road": "Invented: a marked track across the frozen river.",
    "cable": "Invented: a cable strung between posts on both banks.",
    "other": "Invented: an unidentified structure at the water's edge.",
}
_VERIFICATIONS = (("unverified", 5), ("in_review", 2), ("verified", 3), ("disputed", 1))
# Reaches where the invented crossings bunch (km along the stretch, spread km, weight):
# invented to give the density something to show, not taken from any report.
_REACHES = ((20.0, 12.0, 3), (118.0, 10.0, 2), (205.0, 9.0, 4), (60.0, 40.0, 2), (170.0, 30.0, 2))


def _pick(rng: random.Random, table: tuple[tuple[Any, ...], ...]) -> Any:
    return rng.choices([t[0] for t in table], weights=[t[-1] for t in table])[0]


def demo_records(
    ws: Workspace, *, n: int = 32, seed: int = 20251216, window: str = "reported"
) -> list[dict[str, Any]]:
    """Invented crossing records placed along *window* of *ws*'s stretch.

    Parameters
    ----------
    ws : Workspace
        Supplies the stretch line and the window.
    n : int
        Number of crossings (32, as reported by NK News for the five counties).
    seed : int
        Random seed: the same seed gives the same records.
    window : str
        Window spec; the crossings' chainages fall inside it.

    Returns
    -------
    list of dict
        Records for :func:`geotrack.records.import_crossings`, each with
        ``synthetic: True`` and 1–3 reports whose source names start with
        :data:`DEMO_SOURCE`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> recs = demo_records(ws, n=3, seed=1)
    >>> len(recs), all(r["synthetic"] for r in recs)
    (3, True)
    >>> recs[0]["reports"][0]["source_name"].startswith("SYNTHETIC")
    True
    """
    if not isinstance(n, int) or n < 1 or n > 100_000:
        raise ValueError(f"n={n!r}: give a whole number of crossings from 1 to 100000")
    rng = random.Random(seed)
    win = ws.window(window)
    line = ws.stretch.line_m
    lo, hi = win.from_km, win.to_km
    records = []
    for i in range(n):
        centre, spread, _ = rng.choices(_REACHES, weights=[r[2] for r in _REACHES])[0]
        km = min(hi - 0.2, max(lo + 0.2, rng.gauss(centre, spread / 2.0)))
        d = km * 1000.0
        p = line.interpolate(d)
        q = line.interpolate(min(d + 25.0, line.length))
        r0 = line.interpolate(max(d - 25.0, 0.0))
        tx, ty = q.x - r0.x, q.y - r0.y
        norm = math.hypot(tx, ty) or 1.0
        offset = rng.choice((-1.0, 1.0)) * rng.uniform(15.0, 180.0)
        lon, lat = to_wire(p.x - ty / norm * offset, p.y + tx / norm * offset)
        kind = _pick(rng, _KINDS)
        precision = rng.choices(["exact", "near_place", "reach"], weights=[5, 3, 1])[0]
        uncertainty = {"exact": 60.0, "near_place": 500.0, "reach": 2000.0}[precision]
        reports = []
        month = rng.randint(5, 11)
        for j in range(rng.choices([1, 2, 3], weights=[5, 3, 1])[0]):
            stype, what, rel, cred, dprec = rng.choice(_SOURCES)
            m = min(11, month + j)
            start = (
                f"2025-{m:02d}-{rng.randint(1, 28):02d}" if dprec != "month" else f"2025-{m:02d}"
            )
            reports.append(
                {
                    "source_name": f"{DEMO_SOURCE}: {what}",
                    "source_type": stype,
                    "url": f"https://example.invalid/geotrack-demo/{i + 1:04d}/{j + 1}",
                    "accessed": "2025-12-20",
                    "reported": f"2025-12-{rng.randint(10, 19):02d}",
                    "event_start": start,
                    "event_end": None,
                    "date_precision": dprec,
                    "reliability": rel,
                    "credibility": cred,
                    "verification": _pick(rng, _VERIFICATIONS),
                    "notes": f"SYNTHETIC. {_NOTES[kind]} Not a real report.",
                }
            )
        records.append(
            {
                "lon": round(float(lon), 6),
                "lat": round(float(lat), 6),
                "kind": kind,
                "status": _pick(rng, _STATUSES),
                "location_precision": precision,
                "uncertainty_m": uncertainty,
                "datum": "wgs84",
                "synthetic": True,
                "name": f"Demo crossing {i + 1} (synthetic)",
                "reports": reports,
            }
        )
    return records


def create_demo(
    path: str | os.PathLike[str], *, n: int = 32, seed: int = 20251216, overwrite: bool = False
) -> Workspace:
    """Create the synthetic demo workspace at *path*.

    Parameters
    ----------
    path : path-like
        A new (or empty) folder; with *overwrite*, an existing demo workspace
        there is replaced.
    n, seed : int
        See :func:`demo_records`.
    overwrite : bool
        Replace the crossings of an existing demo workspace at *path*.

    Returns
    -------
    Workspace

    Raises
    ------
    StorageError
        *path* holds files and *overwrite* is false, or it holds a workspace
        with crossings that are not all synthetic (never overwritten).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ws = create_demo(pathlib.Path(tempfile.mkdtemp()) / "demo", n=4)
    >>> len(ws.read_crossings())
    4
    """
    from geotrack.records import import_crossings

    folder = Path(path)
    if folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise OutputExistsError(
                f"demo={str(folder)!r} exists and is not empty: pass --overwrite to replace "
                "the demo there, or choose a new folder (nothing was changed)"
            )
        ws = init_workspace(folder, exist_ok=True)
        # The "all synthetic?" check and the removal see the same state, under one lock.
        with ws.crossings.transaction(op="demo-reset", reason="geotrack demo --overwrite") as tx:
            real = [fid for fid in tx.features if not tx.get(fid)["properties"].get("synthetic")]
            if real:
                raise StorageError(
                    f"demo={str(folder)!r} holds {len(real)} crossing(s) that are not synthetic "
                    f"(first: {sorted(real)[0]}): geotrack demo never overwrites real records; "
                    "choose a new folder (nothing was changed)"
                )
            for fid in list(tx.features):
                tx.remove(fid)
    else:
        ws = init_workspace(folder)
    import_crossings(
        ws,
        demo_records(ws, n=n, seed=seed),
        reason=f"geotrack demo: {n} SYNTHETIC crossings (seed {seed}), invented for the demo",
        op="demo",
    )
    return ws
