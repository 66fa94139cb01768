"""``geotrack store``: set up a PostGIS store, copy layers and history between stores."""

from __future__ import annotations

from pathlib import Path

import click

from geotrack.cli._common import (
    emit_json,
    global_store,
    terminal_safe,
    workspace_option,
    workspace_path,
)
from geotrack.errors import StorageError, UsageError
from geotrack.storage import Layer, Store, layer_kinds


def pg_styles() -> dict[str, str]:
    """QGIS styles for the layer tables: the export's own, so QGIS shows both alike."""
    from geotrack.export._model import crossing_layers
    from geotrack.export.qml import layer_qml

    sites, _ = crossing_layers([], precision=7)
    return {"crossings": layer_qml(sites)}


def _store(spec: str, *, create: bool, role: str) -> Store:
    from geotrack.pgstore import is_store_url, open_store
    from geotrack.store import FolderStore
    from geotrack.workspace import Workspace, init_workspace

    if is_store_url(spec):
        return open_store(spec, create=create, styles=pg_styles() if create else None)
    folder = Path(spec)
    if role == "destination" and (not folder.exists() or not any(folder.iterdir())):
        init_workspace(folder, store="folder")
    return FolderStore(Workspace.open(folder, store="folder").path)


def _layers(store: Store) -> list[Layer]:
    return [store.layer(k.name) for k in layer_kinds()]


@click.group("store")
def store_cmd() -> None:
    """Where the layers live: a workspace folder (default) or a shared PostGIS database.

    \b
    Example:
        geotrack store copy layers backup-layers && geotrack store migrate -w backup-layers
    """


@store_cmd.command("copy")
@click.argument("src")
@click.argument("dst")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the layers and history of a non-empty destination folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was copied as JSON.")
def copy_cmd(src: str, dst: str, overwrite: bool, as_json: bool) -> None:
    """Copy every layer and its whole history from SRC to DST, ids and history kept.

    SRC and DST are each a workspace folder or a postgresql:// URL.  A destination
    that holds crossings or history is refused unless --overwrite (folders only:
    a database's history is append-only, so copy into a new schema instead).

    A database is named as postgresql://[user@]host[:port]/dbname[?schema=NAME]
    (e.g. 'postgresql://analyst@db.example/team?schema=yalu'; the password comes
    from ~/.pgpass or a service file).

    \b
    Example:
        geotrack store copy layers backup-layers
    """
    source = _store(src, create=False, role="source")
    target = _store(dst, create=True, role="destination")
    try:
        pairs = list(zip(_layers(source), _layers(target), strict=True))
        full = [t for _, t in pairs if not t.is_empty()]
        if full and not overwrite:
            raise UsageError(
                f"{full[0].describe()} is not empty: pass --overwrite to replace it "
                "(nothing was copied)"
            )
        if full and not hasattr(target, "folder"):
            raise StorageError(
                f"{full[0].describe()} is not empty and a database history is append-only: copy "
                "into a new schema (?schema=NAME) instead; nothing was copied"
            )
        for t in full:  # --overwrite of a folder: its layers and their history files go
            for p in (t.path, t.history_path):
                p.unlink(missing_ok=True)
        done = []
        for s, t in pairs:
            s.recover()
            features, entries = s.read(), list(s.history())
            t.load(features, entries)
            done.append(
                {"layer": s.name, "features": len(features), "history_entries": len(entries)}
            )
    finally:
        for st in (source, target):
            if hasattr(st, "close"):
                st.close()
    if as_json:
        emit_json({"from": source.describe(), "to": target.describe(), "layers": done})
    for d in done:
        click.echo(
            terminal_safe(
                f"copied {d['layer']}: {d['features']} feature(s), {d['history_entries']} history "
                f"entries, {source.describe()} -> {target.describe()}"
            ),
            err=True,
        )


@store_cmd.command("migrate")
@workspace_option
@click.option(
    "--store",
    "url",
    default=None,
    metavar="URL",
    help="postgresql:// URL of the store (default: the store the workspace uses).",
)
def migrate_cmd(workspace: str | None, url: str | None) -> None:
    """Create or upgrade a PostGIS store's schema, roles and default QGIS styles.

    Run it as the database owner; the editor and reader roles it creates are
    granted to team members with GRANT <schema>_editor TO <user>.  Without
    --store it migrates the store the workspace uses (a folder needs nothing).

    \b
    Example:
        geotrack store migrate
    """
    from geotrack.pgstore import PgStore, is_store_url
    from geotrack.workspace import resolve_store, resolve_workspace

    folder = resolve_workspace(workspace_path(workspace))
    spec = url or global_store() or resolve_store(folder)
    if not is_store_url(spec):
        click.echo(
            f"{terminal_safe(folder)} keeps its layers in the folder: no migration needed", err=True
        )
        return
    store = PgStore(spec)
    try:
        done = store.migrate(styles=pg_styles())
    finally:
        store.close()
    for line in done or ["already up to date"]:
        click.echo(terminal_safe(f"{store.describe()}: {line}"), err=True)
