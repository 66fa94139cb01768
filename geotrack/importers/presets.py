"""Named column mappings: built-in presets for the formats the field uses, and the user's own.

A preset is what ``--map``, ``--set`` and ``--extra`` would say, under a name:

- ``map``: column -> field (any case, aliases allowed);
- ``values``: per field, codes translated to geotrack's (the code as given is
  kept in the report's ``extra`` under its column name);
- ``set``: field values for rows that have none;
- ``date_formats``: :func:`datetime.strptime` formats tried on date fields;
- ``description``: what it is for.

Built-in presets (see ``docs/import.md`` for the full mapping and why):

``acled``
    An ACLED event export (CSV).  ``event_id_cnty`` -> ``source_ref``;
    ``event_date`` -> ``event_start``; ``source`` -> ``source_name``;
    ``notes`` -> ``notes``; ``geo_precision`` -> ``location_precision`` with
    ACLED's meanings: 1 (the source names a particular town; the coordinates are
    that town's) -> ``near_place``; 2 (a small part of a region or near a town;
    coded to a town nearby) -> ``reach``; 3 (only a larger region is named; its
    capital or centre) -> ``county``.  ``time_precision`` -> ``date_precision``:
    1 -> ``day``, 2 -> ``week``, 3 -> ``month``.  Every other column
    (``source_scale``, ``location``, ``admin1``, ``fatalities``...) is kept in
    ``extra``.  ACLED has no crossing kind: give one with ``--set kind=...``.
``ushahidi``
    An Ushahidi deployment's CSV export of reports (posts): the v2 columns
    (``#``, ``INCIDENT TITLE``, ``INCIDENT DATE``, ``LOCATION``, ``DESCRIPTION``,
    ``CATEGORY``, ``LATITUDE``, ``LONGITUDE``, ``APPROVED``, ``VERIFIED``) and the
    v3+ platform's (``Post ID``, ``Title``, ``Description``, ``Post Date``,
    ``Location.lat``, ``Location.lon``).  The id -> ``source_ref``, the title ->
    ``name``, the description -> ``notes``, the incident/post date -> ``event_start``;
    ``VERIFIED`` is kept in ``extra`` (Ushahidi's "verified" is not an analyst's
    verification).  ``source_type`` is set to ``informant`` and ``source_name``
    to ``Ushahidi`` where a row has none.

User presets live in the workspace (``import_presets.json``), written under
the workspace lock and atomically, like saved windows.
"""

from __future__ import annotations

__all__ = [
    "BUILTIN_PRESETS",
    "Preset",
    "get_preset",
    "list_presets",
    "save_preset",
]

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from geotrack.errors import DataError, NotFoundError, UsageError
from geotrack.importers.fields import EXTRA_POLICIES
from geotrack.importers.prepare import CROSSING_FIELDS
from geotrack.store import LayerStore, atomic_write, remove_stray_temp_files
from geotrack.workspace import Workspace

_FILE = "import_presets.json"


@dataclass(frozen=True)
class Preset:
    """A named mapping for ``geotrack crossings import --preset NAME``.

    Examples
    --------
    >>> get_preset(None, "acled").values["location_precision"]["3"]
    'county'
    """

    name: str
    map: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    set: Mapping[str, Any] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    extra: str | None = None
    description: str = ""
    builtin: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The preset as JSON would carry it."""
        return {
            "name": self.name,
            "description": self.description,
            "map": dict(self.map),
            "values": {k: dict(v) for k, v in self.values.items()},
            "set": dict(self.set),
            "date_formats": list(self.date_formats),
            "extra": self.extra,
            "builtin": self.builtin,
        }


BUILTIN_PRESETS: dict[str, Preset] = {
    "acled": Preset(
        "acled",
        map={
            "event_id_cnty": "source_ref",
            "event_date": "event_start",
            "time_precision": "date_precision",
            "geo_precision": "location_precision",
            "source": "source_name",
            "notes": "notes",
            "latitude": "lat",
            "longitude": "lon",
        },
        values={
            "location_precision": {"1": "near_place", "2": "reach", "3": "county"},
            "date_precision": {"1": "day", "2": "week", "3": "month"},
        },
        set={"source_type": "media"},
        date_formats=("%Y-%m-%d", "%d-%m-%Y", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y"),
        description="ACLED event export (CSV); geo_precision 1/2/3 -> near_place/reach/county",
        builtin=True,
    ),
    "ushahidi": Preset(
        "ushahidi",
        map={
            "#": "source_ref",
            "incident title": "name",
            "incident date": "event_start",
            "description": "notes",
            "latitude": "lat",
            "longitude": "lon",
            "post id": "source_ref",
            "title": "name",
            "post date": "event_start",
            "post date (utc)": "event_start",
            "location.lat": "lat",
            "location.lon": "lon",
        },
        set={"source_type": "informant", "source_name": "Ushahidi"},
        date_formats=("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y"),
        description="Ushahidi CSV export of reports (v2 and v3+ column names)",
        builtin=True,
    ),
}


def _read(ws: Workspace) -> dict[str, Any]:
    try:
        raw = orjson.loads(ws.file(_FILE).read_bytes())
    except FileNotFoundError:
        return {}
    except orjson.JSONDecodeError as exc:
        raise DataError(f"{_FILE} is not valid JSON: {exc}; restore it from a backup") from None
    if not isinstance(raw, dict):
        raise DataError(f"{_FILE} must hold an object of presets by name")
    return raw


def _from_dict(name: str, d: Mapping[str, Any]) -> Preset:
    return Preset(
        name,
        map=dict(d.get("map") or {}),
        values={k: dict(v) for k, v in (d.get("values") or {}).items()},
        set=dict(d.get("set") or {}),
        date_formats=tuple(d.get("date_formats") or ()),
        extra=d.get("extra"),
        description=str(d.get("description") or ""),
    )


def get_preset(ws: Workspace | None, name: str) -> Preset:
    """The built-in or saved preset *name*; NotFoundError listing the others.

    Examples
    --------
    >>> get_preset(None, "ushahidi").set["source_type"]
    'informant'
    """
    if name in BUILTIN_PRESETS:
        return BUILTIN_PRESETS[name]
    saved = _read(ws) if ws is not None else {}
    if name in saved:
        return _from_dict(name, saved[name])
    known = [*BUILTIN_PRESETS, *saved]
    raise NotFoundError(
        f"preset={name!r} does not exist: use one of {', '.join(known)}, or save one with "
        "`geotrack crossings import FILE --map ... --save-preset NAME`"
    )


def list_presets(ws: Workspace) -> list[Preset]:
    """Built-in presets, then the workspace's saved ones."""
    return [*BUILTIN_PRESETS.values(), *(_from_dict(n, d) for n, d in sorted(_read(ws).items()))]


def save_preset(
    ws: Workspace,
    name: str,
    *,
    mapping: Mapping[str, str],
    defaults: Mapping[str, Any] | None = None,
    extra: str | None = None,
    description: str = "",
) -> Preset:
    """Save a mapping as the workspace preset *name* (replacing one of that name).

    The mapping is checked first (every target a field); the file is written
    under the workspace lock, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> save_preset(ws, "nkdb", mapping={"Lieu": "name"}).map
    {'Lieu': 'name'}
    >>> get_preset(ws, "nkdb").name
    'nkdb'
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name or ""):
        raise UsageError(
            f"preset name={name!r}: use 1-64 letters, digits, '_' or '-' (no spaces or dots)"
        )
    if name in BUILTIN_PRESETS:
        raise UsageError(f"preset name {name!r} is built in: choose another name")
    CROSSING_FIELDS.check_mapping(mapping)
    for key in defaults or {}:
        if CROSSING_FIELDS.lookup(key) is None:
            raise UsageError(f"--set {key}=...: {key!r} is not a crossing or report field")
    if extra is not None and extra not in EXTRA_POLICIES:
        raise UsageError(f"--extra {extra!r}: use one of {', '.join(EXTRA_POLICIES)}")
    preset = Preset(
        name, map=dict(mapping), set=dict(defaults or {}), extra=extra, description=description
    )
    entry = {k: v for k, v in preset.as_dict().items() if k not in ("name", "builtin")}
    path = ws.file(_FILE)
    with LayerStore(ws.path, "import_presets").lock():
        remove_stray_temp_files(path)
        current = _read(ws)
        current[name] = entry
        atomic_write(path, orjson.dumps(current, option=orjson.OPT_INDENT_2) + b"\n")
    return preset
