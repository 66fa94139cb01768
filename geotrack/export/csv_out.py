"""CSV export for spreadsheets: one row per report with its site's attributes (and per relay
with its claim's).

UTF-8 (with a byte-order mark when asked, so that Excel detects the encoding),
RFC 4180 quoting and CRLF line ends.  A site with no report still gets one
row, with the report columns empty.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and some also after a leading tab or carriage return): every text cell
that starts with one of these is prefixed with ``'``, which spreadsheets show
as text and hide.  Numbers are written as numbers.  NUL characters become
U+FFFD.
"""

from __future__ import annotations

__all__ = ["csv_rows", "write_csv"]

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from geotrack.escape import csv_cell
from geotrack.export._model import Layer, iso

_SITE_COLUMNS_FIRST = ("id", "lon", "lat")


def _cell(value: Any) -> Any:
    return csv_cell(iso(value))


def csv_rows(
    sites: Layer, reports: Layer, *, link: str = "site_id", prefix: str = "report_"
) -> Iterator[list[Any]]:
    """The header and the rows: site columns, then report columns (``report_*`` if clashing).

    *link* is the report column naming its site; a site layer of points also
    gets ``lon`` and ``lat`` columns (claims along the river get none).

    Examples
    --------
    >>> from geotrack.export._model import crossing_layers
    >>> f = {"type": "Feature", "id": "YLU-0001", "geometry": {"type": "Point",
    ...      "coordinates": [128.1, 41.4]}, "properties": {"kind": "ford",
    ...      "reports": [{"report_id": "R1", "source_name": "=1+1"}]}}
    >>> header, row = list(csv_rows(*crossing_layers([f], precision=7)))
    >>> row[header.index("source_name")]
    "'=1+1"
    """
    point = sites.geometry_type == "Point"
    site_cols = [n for n in sites.field_names if n != "id"]
    report_cols = [n for n in reports.field_names if n != link]
    header = list(_SITE_COLUMNS_FIRST if point else ("id",)) + site_cols
    header += [f"{prefix}{n}" if n in header else n for n in report_cols]
    yield header
    by_site: dict[str, list[Any]] = {}
    for rep in sorted(reports.features, key=lambda f: f.fid):
        by_site.setdefault(rep.properties[link], []).append(rep)
    for site in sorted(sites.features, key=lambda f: f.fid):
        head = [_cell(site.key)]
        if point:
            lon, lat = site.geometry["coordinates"][:2] if site.geometry else (None, None)
            head += [_cell(lon), _cell(lat)]
        head += [_cell(site.properties.get(n)) for n in site_cols]
        reps = by_site.get(site.key) or [None]
        for rep in reps:
            tail = [_cell(rep.properties.get(n)) if rep else "" for n in report_cols]
            yield head + tail


def write_csv(
    path: str | os.PathLike[str],
    sites: Layer,
    reports: Layer,
    *,
    bom: bool = False,
    link: str = "site_id",
    prefix: str = "report_",
) -> Path:
    """Write the reports with their sites' attributes as CSV.

    Parameters
    ----------
    path : path-like
        The file to write (the caller's temporary folder).
    sites, reports : Layer
        From :func:`geotrack.export._model.crossing_layers` (or the claims and
        relays of :func:`~geotrack.export._model.claim_layers`, with
        ``link="claim_id"``, ``prefix="relay_"``).
    bom : bool
        Start with a UTF-8 byte-order mark (for Excel).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.export._model import crossing_layers
    >>> p = write_csv(pathlib.Path(tempfile.mkdtemp()) / "r.csv", *crossing_layers([],
    ...               precision=7), bom=True)
    >>> p.read_bytes()[:6]
    b'\\xef\\xbb\\xbfid,'
    """
    path = Path(path)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(csv_rows(sites, reports, link=link, prefix=prefix))
    path.write_bytes(buf.getvalue().encode("utf-8-sig" if bom else "utf-8"))
    return path
