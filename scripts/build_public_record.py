"""Build the bundled public record from ``data/public_record/`` into ``layers/``.

Run by a maintainer (``python scripts/build_public_record.py``) after the record
or geotrack's record format changes; ``--check`` rebuilds in a temporary folder
and fails if the shipped files differ (a test runs it).  geotrack never runs it
and never reads anything outside the repository.

It makes, through geotrack's own library (the same validation, history and
atomic writes as the CLI), with the clock fixed at the record's compilation
date so that a rebuild is byte-identical:

* ``claims.geojson`` + ``claims-history.jsonl``: the three claims of
  ``claims.csv`` with every relay (one row per relay);
* ``crossings.geojson`` + ``history.jsonl``: the site reports of
  ``site_reports.csv`` that a crossing record can hold;
* ``official_crossings.geojson``: the official crossings of
  ``official_crossings.csv`` (a reference layer, CC BY-SA 4.0 coordinate).

and copies them into ``geotrack/data/workspace/`` (what ``geotrack init`` ships).
What geotrack adds to the record — the coded kinds, how an area or a site was
read — is in the tables below, each with its reason; readings the sources do
not print are marked ``inferred``.  ``layers/README.md`` says which rows are
left out and why.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geotrack.claims.records as claim_records
import geotrack.records as records
import geotrack.store as store
from geotrack.importers import read_table
from geotrack.workspace import REFERENCE_FILES, Workspace

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "data" / "public_record"
LAYERS = ROOT / "layers"
PACKAGED = ROOT / "geotrack" / "data" / "workspace"
#: The record's compilation date (data/public_record/README.md): every stored time.
BUILT_AT = "2026-12-02T00:00:00.000Z"
BUILDER = "scripts/build_public_record.py"
OUTPUTS = (
    "claims.geojson",
    "claims-history.jsonl",
    "crossings.geojson",
    "history.jsonl",
    "official_crossings.geojson",
)

#: Kinds coded from what each relay printed, where it is clear (empty: not clear).
RELAY_KINDS: dict[str, str] = {
    # "temporary structures of earth piled on the riverbed"
    "C1-SBS": "earth_causeway",
    # "temporary crossing points": no kind named
    "C1-NEWS1G": "",
    # "temporary crossings; temporary bridges across the Yalu River"
    "C1-JOONGANG": "temporary_bridge",
    # "임시 도강로" (temporary river crossings): no kind named
    "C1-NEWS1TV": "",
    "C1-CATCHUP24": "",
    # "shallow fords cleared by excavators, ..., temporary bridges"
    "C2-AP-EN": "ford;temporary_bridge",
    # "여울목" (shallow fords)
    "C2-AP-KO": "ford",
    # "paths created with excavators at shallow fords; temporary bridges"
    "C2-AP-VIDEO": "ford;temporary_bridge",
    # "makeshift fording sites"
    "C3-ACCESSDPRK": "ford",
}
#: How geotrack reads each claim's area, and the activity period's start as printed.
CLAIM_AREAS: dict[str, dict[str, str]] = {
    "C1": {
        # the five counties the relays name (the counties column)
        "area_kind": "counties",
        "area_counties": "Kimhyongjik;Kimjongsuk;Samsu;Hyesan;Pochon",
        "activity_start": "2024-04",  # "first four in April–June 2024"
    },
    "C2": {
        # "between Hyesan and Kim Jong Suk County": the city and the county as printed;
        # `geotrack claims check C2` also tries town to town and ranks the readings
        "area_kind": "between",
        "area_between": "Hyesan;county:Kimjongsuk",
    },
    "C3": {
        # "the 400-km-long border between ... Ryanggang Province and China": Ryanggang's
        # border with Baishan is the whole stretch; its border with Yanbian runs on past
        # the stretch's upstream end, where the bundled layers have no line
        "area_kind": "beyond",
        "area_beyond": "upstream",
        "area_basis": "Ryanggang's whole riverfront on the stretch (km 0–305.6, Kimhyongjik to "
        "the Yalu source); the rest of the Ryanggang–China border lies past the upstream end",
        "area_inferred": "true",
        "activity_start": "2023-08",  # "as early as August 2023"
    },
}
#: Site reports that a crossing record holds at their printed coordinate.
SITES_AT_COORDINATE: dict[str, dict[str, str]] = {
    "S1": {
        "kind": "ford",  # "makeshift fording site (river crossing)"
        "location_precision": "exact",
        "event_start": "2023-08",  # "as early as August 2023"
    },
}


#: Site reports with no coordinate, placed from their words (geotrack.placement): how each is
#: read, with the phrase it is placed from as ``place_as_printed``.  A reading that puts a word
#: the report did not print (a radius, a town for a village) is marked inferred by placement.
SITES_FROM_WORDS: dict[str, dict[str, Any]] = {
    "S2": {
        # "신파는 ... 혜산에서 10Km 하류에 위치한다" (10 km downstream of Hyesan); the report's
        # place name, Sinpa, is the town Kimjongsuk-up far down the river: `geotrack claims
        # check` shows the disagreement
        "km_from": "Hyesan",
        "km": 10,
        "direction": "downstream",
        "place_as_printed": "혜산에서 10Km 하류 (10 km downstream of Hyesan)",
        "kind": "ice_road",  # "winter ice crossing of large trucks"
    },
    "S3": {
        # "혜산시에서 조금 하류" (a little downstream of Hyesan): no distance printed, so near
        # Hyesan within the default radius (an inference)
        "near": "Hyesan",
        "place_as_printed": "혜산시에서 조금 하류 (a little downstream of Hyesan)",
        "kind": "other",  # "river crossing (unspecified)"
    },
    "S4": {
        # Songjon-ri is not in the bundled towns: its county's riverfront
        "county": "Kimjongsuk",
        "place_as_printed": "양강도 김정숙군 송전리 (Songjon-ri, Kim Jong Suk County)",
        "kind": "raft",  # "뗏목" (raft)
    },
    "S5": {
        # Hwajeon Village is not in the bundled towns: its county's riverfront
        "county": "Pochon",
        "place_as_printed": "Hwajeon Village, in Ryanggang Province's Bocheon County",
        "kind": "other",  # people crossing, not a built crossing
        "event_start": "2020-02-04",  # "February 4" in a February 2020 article
    },
    "S6": {
        # "between Hwajeon-ri in Hyesan and Bocheon": the riverfront of the two counties
        "county": "Hyesan;Pochon",
        "place_as_printed": "between Hwajeon-ri in Hyesan and Bocheon",
        "kind": "other",
    },
    "S7": {
        # "a section of the Yalu between Hyesan and Changbai": the towns face each other
        "reach": "Hyesan..Changbai",
        "place_as_printed": "a section of the Yalu between Hyesan and Changbai",
        "kind": "wading",  # chest-deep wading
    },
    "S8": {
        # "삼지연시와 보천군 국경 지역" (the border areas of Samjiyon and Pochon)
        "county": "Samjiyon;Pochon",
        "place_as_printed": "삼지연시와 보천군 국경 지역 (the border areas of Samjiyon and Pochon)",
        "kind": "other",
        "event_start": "2022-07",  # "early and mid July 2022"
        "event_end": "2022-07",
    },
}


@contextlib.contextmanager
def fixed_clock(stamp: str) -> Iterator[None]:
    """Every geotrack module's ``utc_now`` returns *stamp* inside the block."""
    real = store.utc_now
    patched = [m for n, m in list(sys.modules.items()) if n.startswith("geotrack")]
    patched = [m for m in patched if getattr(m, "utc_now", None) is real]
    for m in patched:
        m.utc_now = lambda: stamp
    try:
        yield
    finally:
        for m in patched:
            m.utc_now = real


def _claims(ws: Workspace) -> None:
    table = read_table(SRC / "claims.csv")
    rows = []
    for row in table.records:
        row = dict(row)
        kinds = RELAY_KINDS[row["relay_id"]]
        if kinds:
            row["kinds"] = kinds
        rows.append(row)
    first = {}
    for row in rows:
        first.setdefault(row["claim_id"], row)
    for cid, extra in CLAIM_AREAS.items():
        first[cid].update(extra)
    recs, labels = claim_records.claim_rows_to_records(rows, table.rows)
    claim_records.import_claims(
        ws, recs, rows=labels, reason="public record: data/public_record/claims.csv"
    )


def _sites(ws: Workspace) -> None:
    with (SRC / "site_reports.csv").open(newline="", encoding="utf-8") as fh:
        reports = {r["report_id"]: r for r in csv.DictReader(fh)}
    out = []
    for rid, extra in {**SITES_AT_COORDINATE, **SITES_FROM_WORDS}.items():
        r = reports[rid]
        notes = f"{r['report_id']}: {r['quote']} — {r['notes']}".strip(" —")
        where = (
            {"lon": r["lon_as_printed"], "lat": r["lat_as_printed"]}
            if rid in SITES_AT_COORDINATE
            else {}
        )
        out.append(
            {
                **where,
                "name": r["place_as_printed"],
                "source_name": r["publisher"],
                "url": r["url"],
                "reported": r["published"] or None,
                "notes": notes,
                **extra,
            }
        )
    records.import_crossings(
        ws, out, reason="public record: data/public_record/site_reports.csv (S1-S8)"
    )


def _official(path: Path) -> None:
    with (SRC / "official_crossings.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    feats = []
    for i, r in enumerate(rows, 1):
        props = {k: v for k, v in r.items() if k not in ("lat", "lon")}
        props["id"] = f"OFF-{i:02d}"
        props["official"] = True
        feats.append(
            {
                "type": "Feature",
                "id": props["id"],
                "geometry": {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
                "properties": props,
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "official_crossings",
        "attribution": "Coordinate: Wikipedia contributors, 'Changbai–Hyesan International "
        "Bridge', English Wikipedia, CC BY-SA 4.0",
        "features": feats,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def build(folder: Path) -> None:
    """Build the record's layers in *folder*, a new workspace with the reference layers."""
    folder.mkdir(parents=True)
    for name in REFERENCE_FILES:
        shutil.copyfile(LAYERS / name, folder / name)
    ws = Workspace.open(folder)
    os.environ["GEOTRACK_USER"] = BUILDER
    with fixed_clock(BUILT_AT):
        _claims(ws)
        _sites(ws)
    _official(folder / "official_crossings.geojson")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="Fail if the shipped files differ.")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "ws"
        build(built)
        if args.check:
            bad = [
                f"{dest.relative_to(ROOT)}/{name}"
                for dest in (LAYERS, PACKAGED)
                for name in OUTPUTS
                if not (dest / name).exists()
                or (dest / name).read_bytes() != (built / name).read_bytes()
            ]
            for b in bad:
                print(f"differs from a rebuild: {b}", file=sys.stderr)
            if bad:
                print("run: python scripts/build_public_record.py", file=sys.stderr)
            return 1 if bad else 0
        for dest in (LAYERS, PACKAGED):
            for name in OUTPUTS:
                shutil.copyfile(built / name, dest / name)
    print(f"wrote {', '.join(OUTPUTS)} to layers/ and geotrack/data/workspace/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
