"""Add the public record's trade figures to the bundled ``trade.csv`` (layers/ and the package).

Run by a maintainer (``python scripts/build_trade_table.py``); ``--check`` rebuilds in a
temporary folder and fails if the shipped files differ (a test runs it).  geotrack never
runs it and never reads anything outside the repository.

The table is rebuilt from its first 128 rows (``T0001``-``T0128``: the compilation
``cn_kp_trade_monthly.csv``, see ``layers/README.md``) by importing, with
``geotrack.trade.import_trade`` (the same validation as ``geotrack trade import``):

1. ``data/public_record/trade_monthly_additions.csv``: December 2025 and a second source
   for December 2024 (``T0129``-``T0131``);
2. ``data/public_record/trade_annual.csv``: annual totals, period kind ``year``
   (``T0132``-``T0136``), ``approximate`` and ``quote`` read as the flag and the note,
   figures rescaled exactly to million (the note says so).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from geotrack.trade import import_trade, read_trade_csv, trade_csv_text, write_trade

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "data" / "public_record"
TARGETS = (ROOT / "layers" / "trade.csv", ROOT / "geotrack" / "data" / "workspace" / "trade.csv")
#: Rows of the compilation the table starts from.
BASE_ROWS = 128


def build() -> bytes:
    """The text of the table with the public record's rows added."""
    base = read_trade_csv(TARGETS[0])[:BASE_ROWS]
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        write_trade(ws, base, reason="the compilation cn_kp_trade_monthly.csv")
        import_trade(ws, RECORD / "trade_monthly_additions.csv")
        import_trade(ws, RECORD / "trade_annual.csv")
        return trade_csv_text(read_trade_csv(ws / "trade.csv")).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the shipped tables differ")
    args = ap.parse_args(argv)
    data = build()
    stale = [p for p in TARGETS if p.read_bytes() != data]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} differs from a rebuild", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_bytes(data)
        print(f"wrote {p.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
