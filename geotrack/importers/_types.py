"""What a reader returns: candidate records with labels, and what it skipped or noticed."""

from __future__ import annotations

__all__ = ["Candidates"]

from dataclasses import dataclass, field
from typing import Any

from geotrack.errors import Problem


@dataclass
class Candidates:
    """Records read from a file, each with a label for messages.

    Attributes
    ----------
    records : list of dict
        One per feature, row or placemark: ``lon``/``lat`` from the geometry,
        the other keys as the file names them.
    rows : list of str
        A label per record (``row 3``, ``feature 2 (YLU-0042)``, ``placemark 1``).
    format : str
        ``geojson``, ``csv``, ``kml`` or ``gpkg``.
    problems : list of Problem
        Problems the reader found in single records (validated with the rest).
    skipped : dict
        Features left out by ``points_only``, counted by geometry type.
    notes : list of str
        Things said about the file as a whole (links not followed, ...).
    decimal_comma : bool
        Numbers in this file may use a decimal comma (a CSV separated by ``;``).
    """

    records: list[dict[str, Any]]
    rows: list[str]
    format: str
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    decimal_comma: bool = False
