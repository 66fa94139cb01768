"""Setting up the PostGIS store: migrations, a table per layer kind, roles and grants, QGIS styles.

Run by ``geotrack store migrate`` as the database owner (:meth:`geotrack.pgstore.PgStore.migrate`);
the SQL itself is in :mod:`geotrack.pgstore.schema`.
"""

from __future__ import annotations

__all__ = ["migrate"]

from collections.abc import Mapping
from typing import TYPE_CHECKING

from geotrack.errors import StorageError
from geotrack.pgstore.connection import _psycopg
from geotrack.pgstore.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    codes_sql,
    grant_sql,
    layer_sql,
    quote_ident,
)
from geotrack.storage import layer_kinds

if TYPE_CHECKING:
    import psycopg

    from geotrack.pgstore import PgStore


def migrate(store: PgStore, *, styles: Mapping[str, str] | None = None) -> list[str]:
    """Create or upgrade *store*'s schema (PostGIS, tables, roles, grants, QGIS styles).

    Parameters
    ----------
    styles : mapping of str to str, optional
        QGIS QML style per layer name, saved as the default in ``public.layer_styles``.

    Returns
    -------
    list of str
        What was done, one line per step.

    Examples
    --------
    Needs a server, so not run here: ``migrate(PgStore("postgresql://db.example/team"))``
    gives ``['added the PostGIS extension', 'migration 1: ...', ...]`` on a new database.
    """
    done: list[str] = []
    version = store.schema_version()
    if version is not None and version > SCHEMA_VERSION:
        store.check_version()
    with store.transaction(f"migrating {store.describe()}") as cur:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if cur.fetchone() is None:
            try:
                with cur.connection.transaction():
                    cur.execute("CREATE EXTENSION postgis")
            except _psycopg().Error as exc:
                raise StorageError(
                    f"{store.describe()}: the database has no PostGIS and it could not be "
                    f"added ({str(exc).strip().splitlines()[0]}): install PostGIS 3 on the "
                    "server (Debian: postgresql-15-postgis-3) and run CREATE EXTENSION postgis "
                    "as the database owner"
                ) from None
            done.append("added the PostGIS extension")
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {store.s}")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {store.s}.schema_migrations (version integer PRIMARY "
            "KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur.execute(f"LOCK TABLE {store.s}.schema_migrations IN EXCLUSIVE MODE")
        cur.execute(f"SELECT coalesce(max(version), 0) FROM {store.s}.schema_migrations")
        applied = int(cur.fetchone()[0])
        for number, (description, sql) in enumerate(MIGRATIONS, 1):
            if number > applied:
                cur.execute(sql.replace("{s}", store.s))
                cur.execute(
                    f"INSERT INTO {store.s}.schema_migrations (version, description) "
                    "VALUES (%s, %s)",
                    (number, description),
                )
                done.append(f"migration {number}: {description}")
        for kind in layer_kinds():
            cur.execute("SELECT to_regclass(%s)", (f"{store.schema}.{kind.name}",))
            if cur.fetchone()[0] is None:
                cur.execute(layer_sql(kind, store.schema))
                done.append(f"created layer table {store.schema}.{kind.name}")
            elif codes_sql(kind, store.schema):
                cur.execute(codes_sql(kind, store.schema))  # code lists grown since
        _ensure_layer_styles(cur)
        done.extend(_roles(store, cur))
        for name, qml in (styles or {}).items():
            _save_style(cur, store.schema, name, qml)
            done.append(f"saved the default QGIS style of {store.schema}.{name}")
    return done


def _roles(store: PgStore, cur: psycopg.Cursor) -> list[str]:
    done = []
    for role, what in (("editor", "read and edit"), ("reader", "read only")):
        name = f"{store.schema}_{role}"
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        if cur.fetchone() is None:
            try:
                with cur.connection.transaction():
                    cur.execute(f"CREATE ROLE {quote_ident(name)} NOLOGIN")
                done.append(f"created role {name} ({what}): GRANT {name} TO a user")
            except _psycopg().Error:
                done.append(f"could not create role {name} (needs CREATEROLE): ask a superuser")
                return done
    cur.execute(grant_sql(store.schema, layer_kinds()))
    return done


def _ensure_layer_styles(cur: psycopg.Cursor) -> None:
    """QGIS's own style table (the columns QGIS 3 creates, so QGIS reads and writes it)."""
    cur.execute(
        """CREATE TABLE IF NOT EXISTS public.layer_styles (
            id serial PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar,
            f_table_name varchar, f_geometry_column varchar, stylename text, styleqml xml,
            stylesld xml, useasdefault boolean, description text,
            owner varchar(63) DEFAULT CURRENT_USER, ui xml,
            update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)"""
    )


def _save_style(cur: psycopg.Cursor, schema: str, table: str, qml: str) -> None:
    cur.execute(
        "DELETE FROM public.layer_styles WHERE f_table_catalog = current_database() "
        "AND f_table_schema = %s AND f_table_name = %s AND stylename = %s",
        (schema, table, f"geotrack {table}"),
    )
    cur.execute(
        "UPDATE public.layer_styles SET useasdefault = false WHERE f_table_catalog = "
        "current_database() AND f_table_schema = %s AND f_table_name = %s",
        (schema, table),
    )
    cur.execute(
        "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, "
        "f_geometry_column, stylename, styleqml, useasdefault, description, type) VALUES "
        "(current_database(), %s, %s, 'geom', %s, XMLPARSE(DOCUMENT %s), true, %s, 'Point')",
        (schema, table, f"geotrack {table}", qml, "default style written by geotrack"),
    )
