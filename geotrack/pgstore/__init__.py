"""The PostGIS store: every layer and its history in one PostgreSQL database, for a team.

The shared implementation of the storage contract (:mod:`geotrack.storage`).  Open it with
:func:`open_store` from a ``postgresql://`` URL; the password never goes in the URL: libpq
finds it in its usual places (``~/.pgpass`` or ``PGPASSFILE``, a service file named by
``?service=`` or ``PGSERVICE``, ``PGPASSWORD``), and nothing of the URL but host, port,
database and user is ever shown or stored.

A transaction is one database transaction: the changes, checked against each row's
``version`` (a row changed since this transaction read it is a :class:`ConflictError`
naming who changed it and when), and the history entry, numbered under a per-layer
advisory lock taken last (so writers never wait on each other in a cycle).  A writer
killed at any moment leaves the database as it was: PostgreSQL rolls its transaction
back.  ``psycopg`` is imported only when a store is opened.
"""

from __future__ import annotations

__all__ = ["ConflictError", "PgLayer", "PgStore", "is_store_url", "open_store", "safe_url"]

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from geotrack._txn import LOCK_TIMEOUT_S
from geotrack.errors import StorageError
from geotrack.pgstore.connection import (
    ConflictError,
    _connect_error,
    _db_error,
    _psycopg,
    _split,
    is_store_url,
    safe_url,
)
from geotrack.pgstore.layer import PgLayer
from geotrack.pgstore.migrate import migrate
from geotrack.pgstore.schema import SCHEMA_VERSION, quote_ident
from geotrack.storage import layer_kind

if TYPE_CHECKING:
    import psycopg


class PgStore:
    """A PostGIS database holding the layers (the shared store of :mod:`geotrack.storage`).

    Use :func:`open_store`.
    """

    def __init__(self, url: str, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.url = url
        self.libpq_url, self.schema = _split(url)
        self.s = quote_ident(self.schema)
        self.lock_timeout = lock_timeout
        self._conn: psycopg.Connection | None = None
        self._layers: dict[str, PgLayer] = {}

    def describe(self) -> str:
        """The store for messages (never holds a password)."""
        return f"PostGIS {safe_url(self.url)} (schema {self.schema})"

    # -- connection ----------------------------------------------------------
    @property
    def conn(self) -> psycopg.Connection:
        """The store's connection (opened on first use, reopened if it was lost)."""
        if self._conn is None or self._conn.closed:
            psycopg = _psycopg()
            try:
                self._conn = psycopg.connect(
                    self.libpq_url,
                    connect_timeout=10,
                    autocommit=True,
                    application_name="geotrack",
                    options=(
                        f"-c lock_timeout={int(self.lock_timeout * 1000)} "
                        "-c idle_in_transaction_session_timeout=300000"
                    ),
                )
            except psycopg.Error as exc:
                raise _connect_error(self.url, exc) from None
        return self._conn

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextlib.contextmanager
    def transaction(self, what: str) -> Iterator[psycopg.Cursor]:
        """A database transaction marked as geotrack's own (outside-edit triggers stand aside)."""
        psycopg = _psycopg()
        conn = self.conn
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT set_config('geotrack.writer', 'geotrack', true)")
                yield cur
        except psycopg.OperationalError as exc:
            if conn.closed or conn.broken:
                self._conn = None
                raise _connect_error(self.url, exc) from None
            raise _db_error(exc, what) from None
        except psycopg.Error as exc:
            raise _db_error(exc, what) from None

    # -- schema ----------------------------------------------------------------
    def schema_version(self) -> int | None:
        """The applied schema version, or None when geotrack's schema is not there."""
        with self.transaction(self.describe()) as cur:
            cur.execute("SELECT to_regclass(%s)", (f"{self.schema}.schema_migrations",))
            if cur.fetchone()[0] is None:
                return None
            cur.execute(f"SELECT coalesce(max(version), 0) FROM {self.s}.schema_migrations")
            return int(cur.fetchone()[0])

    def check_version(self) -> None:
        """Refuse a schema newer than this code, or one not (fully) migrated."""
        version = self.schema_version()
        if version is None or version < SCHEMA_VERSION:
            raise StorageError(
                f"{self.describe()}: schema version {version or 0}, this geotrack needs "
                f"{SCHEMA_VERSION}: run `geotrack store migrate --store {safe_url(self.url)}` as "
                "the database owner (nothing was changed)"
            )
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.describe()}: schema version {version} is newer than this geotrack "
                f"understands ({SCHEMA_VERSION}): upgrade geotrack; nothing was changed"
            )

    def migrate(self, *, styles: Mapping[str, str] | None = None) -> list[str]:
        """Create or upgrade the schema: see :func:`geotrack.pgstore.migrate.migrate`."""
        return migrate(self, styles=styles)

    def layer(self, name: str) -> PgLayer:
        """The layer *name* of this store."""
        if name not in self._layers:
            self._layers[name] = PgLayer(self, layer_kind(name))
        return self._layers[name]


def open_store(
    url: str, *, create: bool = False, styles: Mapping[str, str] | None = None
) -> PgStore:
    """Open the PostGIS store at *url*; with *create*, set up or migrate its schema first.

    Raises
    ------
    UsageError
        *url* is not a PostgreSQL URL, or holds a password.
    StorageError
        The server cannot be reached, refuses the credentials, has no PostGIS, or its
        schema is missing, older (run ``geotrack store migrate``) or newer than this code.
    """
    store = PgStore(url)
    try:
        if create:
            store.migrate(styles=styles)
        store.check_version()
    except BaseException:
        store.close()
        raise
    return store
