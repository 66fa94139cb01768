"""The workspace folder: where the layers are, the reference geography, named windows.

A workspace is a folder (``./layers`` by default) holding the bundled reference
layers, the crossings layer and its history, named windows and the trade table.
:func:`init_workspace` makes a new one from the copies shipped inside the
package; :meth:`Workspace.open` opens an existing one.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_WORKSPACE",
    "FOLDER_STORE",
    "RECORD_FILES",
    "REFERENCE_FILES",
    "SEED_FILES",
    "SETTINGS_FILE",
    "Workspace",
    "init_workspace",
    "resolve_store",
    "resolve_workspace",
]

import os
from collections.abc import Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from geotrack.crs import to_measure
from geotrack.errors import (
    DataError,
    NotFoundError,
    OutputExistsError,
    StorageError,
    UsageError,
    WindowError,
)
from geotrack.geojson import loads
from geotrack.places import Gazetteer, Place, match_key, normalize_place
from geotrack.reference import Stretch, Town, Window, check_name, check_window, parse_window
from geotrack.storage import Layer, Store
from geotrack.store import FolderStore, LayerStore, atomic_write, remove_stray_temp_files, utc_now

if TYPE_CHECKING:
    from geotrack.placement import County, Placer

#: Used when neither ``--workspace`` nor ``GEOTRACK_WORKSPACE`` is given.
DEFAULT_WORKSPACE = Path("layers")
#: Files every workspace has, copied from the package by :func:`init_workspace`.
REFERENCE_FILES = (
    "stretch.geojson",
    "county_segments.geojson",
    "border.geojson",
    "towns.geojson",
    "windows.json",
)
#: Optional files a new workspace also gets when the package ships them.
SEED_FILES = ("trade.csv", "events.csv", "official_crossings.geojson", "README.md")
#: The bundled public record (claims and site reports with their histories), built by
#: ``scripts/build_public_record.py``; a new workspace gets it unless asked not to.
RECORD_FILES = (
    "claims.geojson",
    "claims-history.jsonl",
    "crossings.geojson",
    "history.jsonl",
)
#: Workspace settings saved by ``geotrack init --store``: ``{"store": "postgresql://..."}``.
SETTINGS_FILE = "geotrack.json"
#: The ``--store`` value that names the workspace folder itself (the default).
FOLDER_STORE = "folder"


def resolve_store(folder: str | os.PathLike[str], store: str | None = None) -> str:
    """Which store holds the layers: *store*, else ``$GEOTRACK_STORE``, else the saved setting.

    Returns ``"folder"`` (the workspace folder, the default) or a ``postgresql://`` URL.

    Examples
    --------
    >>> import tempfile
    >>> resolve_store(tempfile.mkdtemp(), "folder")
    'folder'
    """
    if store:
        return store
    env = os.environ.get("GEOTRACK_STORE")
    if env:
        return env
    try:
        saved = orjson.loads((Path(folder) / SETTINGS_FILE).read_bytes())
    except FileNotFoundError:
        return FOLDER_STORE
    except orjson.JSONDecodeError as exc:
        raise DataError(f"{SETTINGS_FILE} is not valid JSON ({exc}): fix it or remove it") from None
    value = saved.get("store") if isinstance(saved, dict) else None
    return value if isinstance(value, str) and value else FOLDER_STORE


def _open_store(
    folder: Path, spec: str, *, create: bool = False, styles: Mapping[str, str] | None = None
) -> Store:
    if spec == FOLDER_STORE:
        return FolderStore(folder)
    from geotrack.pgstore import is_store_url, open_store

    if not is_store_url(spec):
        raise UsageError(
            f"--store={spec!r}: give 'folder' (the workspace folder) or a PostgreSQL URL "
            "postgresql://[user@]host[:port]/dbname[?schema=NAME]"
        )
    return open_store(spec, create=create, styles=styles)


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: *path*, else ``$GEOTRACK_WORKSPACE``, else ``./layers``.

    Examples
    --------
    >>> resolve_workspace("somewhere").name
    'somewhere'
    """
    if path:
        return Path(path)
    env = os.environ.get("GEOTRACK_WORKSPACE")
    return Path(env) if env else DEFAULT_WORKSPACE


def _package_files() -> Path:
    return Path(str(resources.files("geotrack") / "data" / "workspace"))


def init_workspace(
    path: str | os.PathLike[str],
    *,
    exist_ok: bool = False,
    public_record: bool = False,
    store: str | None = None,
    styles: Mapping[str, str] | None = None,
) -> Workspace:
    """Create a workspace at *path* with the bundled reference layers.

    Parameters
    ----------
    path : path-like
        A new or empty folder.
    exist_ok : bool
        Accept a folder that is already a workspace (its files are kept).
    public_record : bool
        Also copy the bundled public record (:data:`RECORD_FILES`: the claims
        and site reports, with their histories); else the crossings and claims
        layers start empty.
    store : str, optional
        A ``postgresql://`` URL: the layers live in that PostGIS database (its schema
        is created or migrated now) and the URL is saved in ``geotrack.json``.
        Default: the folder itself.
    styles : mapping of str to str, optional
        With *store*: the QGIS (QML) style of each layer table, saved as its default.

    Raises
    ------
    StorageError
        The folder holds files already (and is not a workspace), or cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> ws.read_crossings()
    []
    """
    folder = Path(path)
    spec = store or FOLDER_STORE
    if folder.exists() and any(folder.iterdir()):
        if exist_ok and (folder / "stretch.geojson").exists():
            return Workspace.open(folder, store=spec)
        raise OutputExistsError(
            f"workspace={str(folder)!r} exists and is not empty: choose a new folder "
            "(nothing was changed)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        src = _package_files()
        # in a database store the record goes into its tables, not into the folder
        record = RECORD_FILES if public_record and spec == FOLDER_STORE else ()
        for name in REFERENCE_FILES + SEED_FILES + record:
            if (src / name).exists():
                atomic_write(folder / name, (src / name).read_bytes())
    except OSError as exc:
        raise StorageError(f"could not create workspace {folder}: {exc.strerror}") from exc
    ws = Workspace(folder, store=spec)
    if spec != FOLDER_STORE:
        ws.store = _open_store(folder, spec, create=True, styles=styles)
        atomic_write(folder / SETTINGS_FILE, orjson.dumps({"store": spec}) + b"\n")
        if public_record:
            _load_record(ws.store, FolderStore(src))
    ws.crossings.ensure_exists()
    return ws


def _load_record(store: Store, record: FolderStore) -> None:
    """Put the bundled public record's layers and histories into an empty *store*."""
    for name in ("crossings", "claims"):
        layer = store.layer(name)
        if layer.is_empty():
            source = record.layer(name)
            layer.load(source.read(), list(source.history()))


class Workspace:
    """An open workspace folder.

    Use :meth:`open`; properties load each reference layer once.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> round(ws.stretch.length_km, 1), ws.window("reported").to_km
    (305.6, 238.7)
    """

    def __init__(self, path: Path, *, store: str | None = None) -> None:
        self.path = Path(path)
        self._store_spec = store

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None = None, *, store: str | None = None
    ) -> Workspace:
        """Open the workspace at *path* (see :func:`resolve_workspace`).

        Its layers live in *store* (see :func:`resolve_store`): the folder, or a
        PostGIS database shared by a team.

        Raises
        ------
        NotFoundError
            The folder is missing or is not a workspace.
        DataError
            A workspace file is a link (it could point outside the workspace).
        """
        folder = resolve_workspace(path)
        if not (folder / "stretch.geojson").is_file():
            raise NotFoundError(
                f"workspace={str(folder)!r} is not a geotrack workspace (no stretch.geojson): "
                "create one with `geotrack init DIR` or pass --workspace"
            )
        for entry in folder.iterdir():
            if entry.is_symlink():
                raise DataError(
                    f"workspace file {entry.name!r} is a symbolic link: geotrack refuses links "
                    "inside a workspace (they could point outside it); replace it with the file"
                )
        return cls(folder, store=store)

    # -- files -----------------------------------------------------------
    def file(self, name: str) -> Path:
        """Path of a workspace file, refusing names that would leave the folder.

        Examples
        --------
        >>> Workspace(Path("ws")).file("../etc/passwd")
        Traceback (most recent call last):
        ...
        geotrack.errors.DataError: file name '../etc/passwd' would leave the workspace: ...
        """
        if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise DataError(f"file name {name!r} would leave the workspace: use a plain file name")
        return self.path / name

    def _geojson(self, name: str) -> dict[str, Any]:
        path = self.file(name)
        try:
            doc = loads(path.read_bytes(), what=str(path))
        except FileNotFoundError:
            raise NotFoundError(
                f"{path} is missing: restore it from git or make a new workspace with `geotrack init`"
            ) from None
        return doc

    @cached_property
    def store(self) -> Store:
        """Where the layers live (see :mod:`geotrack.storage`): this folder or a PostGIS store."""
        return _open_store(self.path, resolve_store(self.path, self._store_spec))

    def close(self) -> None:
        """Close the store's connection, if it has one."""
        store = self.__dict__.get("store")
        if store is not None and hasattr(store, "close"):
            store.close()

    def layer(self, name: str) -> Layer:
        """The layer *name* (``crossings``, ``claims``...) in the workspace's store."""
        return self.store.layer(name)

    @cached_property
    def crossings(self) -> Layer:
        """The crossings layer (``crossings.geojson`` + ``history.jsonl`` in a folder)."""
        return self.layer("crossings")

    @cached_property
    def claims(self) -> Layer:
        """The claims layer (``claims.geojson`` + ``claims-history.jsonl`` in a folder)."""
        return self.layer("claims")

    def read_claims(self, *, include_retired: bool = False) -> list[dict[str, Any]]:
        """Claim features (LineStrings), sorted by id; retired ones only when asked.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w").read_claims()
        []
        """
        feats = self.claims.read()
        if include_retired:
            return feats
        return [f for f in feats if not f["properties"].get("retired")]

    def read_crossings(self, *, include_retired: bool = False) -> list[dict[str, Any]]:
        """Crossing features, sorted by id; retired ones only when asked.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w").read_crossings()
        []
        """
        feats = self.crossings.read()
        if include_retired:
            return feats
        return [f for f in feats if not f["properties"].get("retired")]

    # -- reference geography --------------------------------------------
    @cached_property
    def stretch(self) -> Stretch:
        """The directed stretch line (first feature of ``stretch.geojson``)."""
        from shapely.geometry import shape

        from geotrack.linear import as_single_line

        doc = self._geojson("stretch.geojson")
        feats = doc.get("features") or []
        if len(feats) != 1:
            raise DataError(
                f"stretch.geojson has {len(feats)} features: it must hold exactly one LineString"
            )
        return Stretch.from_wgs84(
            as_single_line(shape(feats[0]["geometry"]), what="stretch.geojson")
        )

    @cached_property
    def stretch_properties(self) -> dict[str, Any]:
        """Attributes of the stretch feature (name, source, licence)."""
        return dict(self._geojson("stretch.geojson")["features"][0]["properties"])

    @cached_property
    def border_wgs84(self):
        """The China–DPRK border line (WGS 84)."""
        import shapely
        from shapely.geometry import shape

        doc = self._geojson("border.geojson")
        return shapely.union_all([shape(f["geometry"]) for f in doc["features"]])

    @cached_property
    def border_m(self):
        """The border line in EPSG:32652, prepared for fast distance queries."""
        import shapely

        coords = shapely.get_coordinates(self.border_wgs84)
        x, y = to_measure(coords[:, 0], coords[:, 1])
        geom = shapely.set_coordinates(self.border_wgs84, list(zip(x, y, strict=True)))
        shapely.prepare(geom)
        return geom

    @cached_property
    def towns(self) -> dict[str, Town]:
        """Towns by name."""
        out = {}
        for f in self._geojson("towns.geojson")["features"]:
            p = f["properties"]
            lon, lat = f["geometry"]["coordinates"][:2]
            out[p["name"]] = Town(p["name"], p.get("name_local"), p.get("country", ""), lon, lat)
        return out

    @cached_property
    def official_crossings(self) -> list[dict[str, Any]]:
        """Official crossings (bridges, ports of entry): a reference layer, not crossing records.

        Empty when the workspace has no ``official_crossings.geojson``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
        >>> [f["properties"]["kind"] for f in ws.official_crossings]
        ['road bridge; official port of entry']
        """
        if not self.file("official_crossings.geojson").exists():
            return []
        return self._geojson("official_crossings.geojson")["features"]

    @cached_property
    def county_segments(self) -> list[dict[str, Any]]:
        """County segments of the stretch: features with chainage_start_km/chainage_end_km."""
        return self._geojson("county_segments.geojson")["features"]

    # -- gazetteer and placement ----------------------------------------
    @cached_property
    def places(self) -> Layer:
        """The user places layer (``places.geojson`` + ``places-history.jsonl`` in a folder)."""
        return self.layer("places")

    def gazetteer(self) -> Gazetteer:
        """The towns layer plus the places users added (read afresh each call).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
        >>> ws.gazetteer().find("혜산").name
        'Hyesan (Ryanggang capital)'
        """
        towns = [
            Place(
                f"town:{t.name}",
                t.name,
                t.lon,
                t.lat,
                t.name_local,
                t.country or None,
                "towns layer (GeoNames, CC BY 4.0)",
            )
            for t in self.towns.values()
        ]
        users = []
        for f in self.places.read():
            p = f["properties"]
            lon, lat = f["geometry"]["coordinates"][:2]
            users.append(
                Place(
                    f["id"],
                    p["name"],
                    lon,
                    lat,
                    p.get("name_local"),
                    p.get("country"),
                    p.get("source"),
                )
            )
        return Gazetteer(towns + users)

    @cached_property
    def counties(self) -> list[County]:
        """Riverfront of each county of the county segments layer."""
        from geotrack.placement import County

        return [
            County(
                str(f["properties"]["county"]),
                float(f["properties"]["chainage_start_km"]),
                float(f["properties"]["chainage_end_km"]),
            )
            for f in self.county_segments
        ]

    def placer(self) -> Placer:
        """A :class:`~geotrack.placement.Placer` over this workspace's line, places and counties."""
        from geotrack.placement import Placer

        return Placer(self.stretch, self.gazetteer(), self.counties)

    def add_place(
        self, record: dict[str, Any], *, reason: str | None = None, user: str | None = None
    ) -> dict[str, Any]:
        """Add a named place to the gazetteer; return its feature (id ``PL-0001``, ...).

        Validated first, then written under the places layer's lock, atomically,
        with a history entry.  A place farther than
        :data:`~geotrack.placement.MAX_PLACE_KM` from the river line is refused
        (it could not anchor a position along the river).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
        >>> ws.add_place({"name": "Example-ri", "lon": 128.1, "lat": 41.38,
        ...               "source": "synthetic example"})["id"]
        'PL-0001'
        """
        from geotrack.placement import MAX_PLACE_KM, Placer

        props = normalize_place(record)
        lon, lat = props.pop("lon"), props.pop("lat")
        placer = Placer(self.stretch, Gazetteer([]))
        _, off, _ = placer.locate([lon], [lat])
        if abs(float(off[0])) > MAX_PLACE_KM * 1000.0:
            raise DataError(
                f"lon/lat={lon:.6f},{lat:.6f}: is {abs(float(off[0])) / 1000:.1f} km from the river "
                f"line (limit {MAX_PLACE_KM:g} km): check the coordinate (lon first); a place that "
                "far cannot anchor a position along the river. Nothing was written."
            )
        with self.places.transaction(op="add-place", reason=reason, user=user) as tx:
            (fid,) = tx.new_ids(1)
            clash = [
                f["properties"]["name"]
                for f in tx.features.values()
                if match_key(f["properties"]["name"]) == match_key(props["name"])
            ] + [t for t in self.towns if match_key(t) == match_key(props["name"])]
            now = utc_now()
            feat = {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {"id": fid, **props, "created_at": now},
            }
            tx.put(feat)
        if clash:
            feat = {**feat, "same_name_as": clash}
        return feat

    # -- windows ---------------------------------------------------------
    def _read_windows(self) -> dict[str, dict[str, Any]]:
        try:
            raw = orjson.loads(self.file("windows.json").read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError as exc:
            raise DataError(f"windows.json is not valid JSON: {exc}") from None
        return raw

    @property
    def windows(self) -> dict[str, Window]:
        """Named windows saved in the workspace."""
        out = {}
        for name, d in self._read_windows().items():
            out[name] = Window(
                name, float(d["from_km"]), float(d["to_km"]), d.get("description", "")
            )
        return out

    def window(self, spec: str = "reported") -> Window:
        """Resolve a window spec (see :func:`geotrack.reference.parse_window`)."""
        return parse_window(spec, self.stretch, named=self.windows, towns=self.towns)

    def describe_window(self, window: Window) -> dict[str, Any]:
        """The window with its lengths along the river and in a straight line."""
        d = self.stretch.describe(window)
        src = self._read_windows().get(window.name, {}).get("source")
        if src:
            d["source"] = src
        return d

    def save_window(self, name: str, spec: str, *, description: str = "") -> Window:
        """Save *spec* as the named window *name* (replacing one of that name).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
        >>> ws.save_window("upper", "200:300").length_km
        100.0
        """
        check_name(name, what="window name")
        if name == "all":
            raise WindowError("window name 'all' is reserved for the whole line: choose another")
        window = self.window(spec)
        window = check_window(
            Window(name, window.from_km, window.to_km, description or window.description),
            length_km=self.stretch.length_km,
        )
        self._update_windows(
            lambda w: w.update(
                {
                    name: {  # plain floats: a spec may measure with numpy
                        "from_km": float(window.from_km),
                        "to_km": float(window.to_km),
                        "description": window.description,
                    }
                }
            )
        )
        return window

    def remove_window(self, name: str) -> None:
        """Remove a saved window."""
        if name not in self.windows:
            raise NotFoundError(f"window={name!r} is not saved; `geotrack windows list` shows them")
        self._update_windows(lambda w: w.pop(name))

    def _update_windows(self, change) -> None:
        store = LayerStore(self.path, "windows")
        with store.lock():
            remove_stray_temp_files(self.file("windows.json"))
            current = self._read_windows()
            change(current)
            atomic_write(
                self.file("windows.json"),
                orjson.dumps(current, option=orjson.OPT_INDENT_2) + b"\n",
            )

    def attribution(self) -> list[str]:
        """Attribution lines for every bundled source used by outputs."""
        return list(ATTRIBUTION)


#: What every map and export credits.
ATTRIBUTION: tuple[str, ...] = (
    "Border and river line © OpenStreetMap contributors, ODbL 1.0",
    "County names and towns: Who's On First (whosonfirst.org, CC0/CC BY), GeoNames (CC BY 4.0)",
    "Trade: China's customs (GACC) figures as cited by news reports, each row with its source",
)
