"""Recording crossings: add, import, edit, add reports, retire, undo, validate.

Each operation validates everything first (collecting every problem), then
changes the crossings layer in one :class:`geotrack.store.LayerStore`
transaction: one lock, one history entry, one atomic write.  A batch import
of 100,000 crossings is one validation pass, one entry and one write.

Where a site is (a coordinate or words) is ``_site``; records become features
in ``_build``; ``_merge`` adds and updates them, ``_edit`` changes recorded
ones and ``_check`` checks a workspace.  The rules every record layer shares
(live records, tombstones, sub-records, history replay) are
:mod:`geotrack.lifecycle`'s.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_BORDER_KM",
    "add_crossing",
    "add_report",
    "build_features",
    "edit_crossing",
    "history_problems",
    "import_crossings",
    "merge_crossings",
    "retire_crossing",
    "undo",
    "validate_workspace",
]

from geotrack.lifecycle import history_problems
from geotrack.records._build import build_features
from geotrack.records._check import validate_workspace
from geotrack.records._edit import add_report, edit_crossing, retire_crossing, undo
from geotrack.records._merge import add_crossing, import_crossings, merge_crossings
from geotrack.records._site import DEFAULT_MAX_BORDER_KM
