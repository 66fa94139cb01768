"""The public record's claims (``data/public_record/claims.csv``) imported into a test workspace.

The CSV is the project's copy of the shared public record (sources and URLs in each
row).  Two areas are resolved here as the record prints them: C2 "between Hyesan and
Kim Jong Suk County" (the town, and the county's riverfront) and C3, which names no
county or place, as the part of the Ryanggang border on the stretch, running past its
upstream end.
"""

from __future__ import annotations

from pathlib import Path

from geotrack.claims.records import claim_rows_to_records, import_claims
from geotrack.importers import read_table
from geotrack.workspace import Workspace

RECORD = Path(__file__).resolve().parents[1] / "data" / "public_record" / "claims.csv"


def record_claims(ws: Workspace) -> list[str]:
    """Import C1-C3 with every relay; return the ids."""
    table = read_table(RECORD)
    recs, rows = claim_rows_to_records(table.records, table.rows)
    for cid, claim, _relays in recs:
        if cid == "C2":
            claim["area"] = {"kind": "between", "between": ["Hyesan", "county:Kimjongsuk"]}
        if cid == "C3":
            claim["area"] = {"kind": "beyond", "beyond": "upstream"}
    return import_claims(ws, recs, rows=rows)
