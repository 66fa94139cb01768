"""Shared by the benchmark scripts: their sections of ``benchmarks/RESULTS.md``."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, text: str) -> None:
    """Replace this benchmark's section of RESULTS.md (between markers), keeping the others."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    doc = (
        RESULTS.read_text(encoding="utf-8")
        if RESULTS.exists()
        else "# Benchmark results\n\nWritten by the scripts in `benchmarks/`; rerun them to update.\n\n"
    )
    block = f"{start}\n{text}{end}\n"
    if start in doc and end in doc:
        doc = doc[: doc.index(start)] + block + doc[doc.index(end) + len(end) + 1 :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(doc, encoding="utf-8")
