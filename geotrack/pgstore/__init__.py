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
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from geotrack.errors import DataError, NotFoundError, Problem, StorageError, UsageError
from geotrack.pgstore.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    codes_sql,
    grant_sql,
    layer_sql,
    quote_ident,
)
from geotrack.storage import (
    Change,
    HistoryEntry,
    LayerKind,
    Recovery,
    layer_kind,
    layer_kinds,
    plan_undo,
)
from geotrack.store import LOCK_TIMEOUT_S, current_user, utc_now

if TYPE_CHECKING:
    import psycopg


class ConflictError(DataError):
    """A row was changed by someone else since this transaction read it; nothing was written."""


def is_store_url(text: str | None) -> bool:
    """Tell whether *text* names a PostGIS store (``postgresql://`` or ``postgres://``).

    Examples
    --------
    >>> is_store_url("postgresql://db.example/geotrack"), is_store_url("layers")
    (True, False)
    """
    return bool(text) and re.match(r"^postgres(ql)?://", text or "") is not None


def _split(url: str) -> tuple[str, str]:
    """The libpq URL without geotrack's own ``schema=`` option, and the schema name."""
    if not is_store_url(url):
        raise UsageError(
            f"--store={url!r}: not a PostgreSQL URL; give postgresql://[user@]host[:port]/dbname"
            "[?schema=NAME] (the password goes in ~/.pgpass or a service file, never here)"
        )
    parts = urlsplit(url)
    if parts.password is not None:
        raise UsageError(
            "--store: the URL holds a password; geotrack never takes one on the command line or "
            "stores it. Put it in ~/.pgpass (or PGPASSFILE) or a service file, and give the URL "
            "without it"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "geotrack")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", schema):
        raise UsageError(f"--store: schema={schema!r}: use lower-case letters, digits and _")
    rest = [(k, v) for k, v in query if k not in ("schema", "password")]
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


def safe_url(url: str) -> str:
    """*url* as it may be shown and saved: no password, whatever else it says.

    Examples
    --------
    >>> safe_url("postgresql://ana:secret@db.example:5433/team?schema=yalu&password=x")
    'postgresql://ana@db.example:5433/team?schema=yalu'
    """
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/"), ""))


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        raise StorageError(
            "the PostGIS store needs psycopg: pip install 'psycopg[binary]'"
        ) from None
    return psycopg


def _connect_error(url: str, exc: Exception) -> StorageError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = safe_url(url)
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        fix = (
            "the server refused the credentials: put the password in ~/.pgpass (or the file "
            "PGPASSFILE names) or a service file (?service=NAME), or check the user name"
        )
    elif "does not exist" in low and "database" in low:
        fix = "the database does not exist: create it (createdb) or fix the name in the URL"
    elif "role" in low and "does not exist" in low:
        fix = "the user does not exist on the server: ask its owner to create your role"
    elif any(
        w in low
        for w in (
            "connection refused",
            "could not translate",
            "timeout",
            "no route",
            "no such file",
        )
    ):
        fix = "cannot reach the server: check the host and port in the URL and that it runs"
    else:
        fix = "check the URL, the server and your credentials"
    return StorageError(f"store={where}: {fix} ({text}). Nothing was changed.")


def _db_error(exc: Exception, what: str) -> GeotrackErrorLike:
    psycopg = _psycopg()
    errors = psycopg.errors
    diag = getattr(exc, "diag", None)
    detail = (getattr(diag, "message_primary", None) or str(exc)).strip()
    if isinstance(
        exc, errors.CheckViolation | errors.NotNullViolation | errors.InvalidTextRepresentation
    ):
        constraint = getattr(diag, "constraint_name", None)
        return DataError(
            f"{what}: the database refused a value ({detail}"
            f"{f'; constraint {constraint}' if constraint else ''}); use one of the coded values "
            "`geotrack crossings add --help` lists. Nothing was changed."
        )
    if isinstance(exc, errors.InsufficientPrivilege):
        return StorageError(
            f"{what}: {detail}. Your database role lacks the right: ask the store's owner to "
            "grant you the editor role (see README, 'A shared store'). Nothing was changed."
        )
    if isinstance(exc, errors.DeadlockDetected | errors.LockNotAvailable | errors.QueryCanceled):
        return StorageError(
            f"{what}: another writer held the rows too long ({detail}); nothing was changed: "
            "run the command again"
        )
    if isinstance(exc, errors.UndefinedTable | errors.InvalidSchemaName | errors.UndefinedFunction):
        return StorageError(
            f"{what}: {detail}: the store is not set up; run `geotrack store migrate --store URL` "
            "as the database owner"
        )
    return StorageError(f"{what}: the database failed ({detail}); nothing was changed")


GeotrackErrorLike = DataError | StorageError


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
        """Create or upgrade the schema (PostGIS, tables, roles, grants, QGIS styles).

        Parameters
        ----------
        styles : mapping of str to str, optional
            QGIS QML style per layer name, saved as the default in ``public.layer_styles``.

        Returns
        -------
        list of str
            What was done, one line per step.
        """
        done: list[str] = []
        version = self.schema_version()
        if version is not None and version > SCHEMA_VERSION:
            self.check_version()
        with self.transaction(f"migrating {self.describe()}") as cur:
            cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            if cur.fetchone() is None:
                try:
                    with cur.connection.transaction():
                        cur.execute("CREATE EXTENSION postgis")
                except _psycopg().Error as exc:
                    raise StorageError(
                        f"{self.describe()}: the database has no PostGIS and it could not be "
                        f"added ({str(exc).strip().splitlines()[0]}): install PostGIS 3 on the "
                        "server (Debian: postgresql-15-postgis-3) and run CREATE EXTENSION postgis "
                        "as the database owner"
                    ) from None
                done.append("added the PostGIS extension")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.s}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.s}.schema_migrations (version integer PRIMARY "
                "KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute(f"LOCK TABLE {self.s}.schema_migrations IN EXCLUSIVE MODE")
            cur.execute(f"SELECT coalesce(max(version), 0) FROM {self.s}.schema_migrations")
            applied = int(cur.fetchone()[0])
            for number, (description, sql) in enumerate(MIGRATIONS, 1):
                if number > applied:
                    cur.execute(sql.replace("{s}", self.s))
                    cur.execute(
                        f"INSERT INTO {self.s}.schema_migrations (version, description) "
                        "VALUES (%s, %s)",
                        (number, description),
                    )
                    done.append(f"migration {number}: {description}")
            for kind in layer_kinds():
                cur.execute("SELECT to_regclass(%s)", (f"{self.schema}.{kind.name}",))
                if cur.fetchone()[0] is None:
                    cur.execute(layer_sql(kind, self.schema))
                    done.append(f"created layer table {self.schema}.{kind.name}")
                elif codes_sql(kind, self.schema):
                    cur.execute(codes_sql(kind, self.schema))  # code lists grown since
            _ensure_layer_styles(cur)
            done.extend(self._roles(cur))
            for name, qml in (styles or {}).items():
                _save_style(cur, self.schema, name, qml)
                done.append(f"saved the default QGIS style of {self.schema}.{name}")
        return done

    def _roles(self, cur: psycopg.Cursor) -> list[str]:
        done = []
        for role, what in (("editor", "read and edit"), ("reader", "read only")):
            name = f"{self.schema}_{role}"
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
            if cur.fetchone() is None:
                try:
                    with cur.connection.transaction():
                        cur.execute(f"CREATE ROLE {quote_ident(name)} NOLOGIN")
                    done.append(f"created role {name} ({what}): GRANT {name} TO a user")
                except _psycopg().Error:
                    done.append(f"could not create role {name} (needs CREATEROLE): ask a superuser")
                    return done
        cur.execute(grant_sql(self.schema, layer_kinds()))
        return done

    def layer(self, name: str) -> PgLayer:
        """The layer *name* of this store."""
        if name not in self._layers:
            self._layers[name] = PgLayer(self, layer_kind(name))
        return self._layers[name]


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


# -- layers ------------------------------------------------------------------------------


class _Rows(Mapping[str, dict[str, Any]]):
    """The layer's features as one transaction sees them, fetched row by row when asked."""

    def __init__(self, layer: PgLayer, cur: psycopg.Cursor) -> None:
        self.layer, self.cur = layer, cur
        self.read: dict[str, tuple[dict[str, Any], int] | None] = {}
        self.staged: dict[str, dict[str, Any] | None] = {}

    def fetch(self, fid: str) -> tuple[dict[str, Any], int] | None:
        if fid not in self.read:
            self.cur.execute(
                f"SELECT {self.layer.feature_sql}, r.version FROM {self.layer.table} r "
                "WHERE r.id = %s",
                (fid,),
            )
            row = self.cur.fetchone()
            self.read[fid] = (self.layer.kind.order(row[0]), row[1]) if row else None
        return self.read[fid]

    def __getitem__(self, fid: str) -> dict[str, Any]:
        if fid in self.staged:
            feat = self.staged[fid]
        else:
            got = self.fetch(fid)
            feat = got[0] if got else None
        if feat is None:
            raise KeyError(fid)
        return feat

    def __contains__(self, fid: object) -> bool:
        return isinstance(fid, str) and self.get(fid) is not None

    def __iter__(self) -> Iterator[str]:
        self.cur.execute(f"SELECT id FROM {self.layer.table} ORDER BY id")
        ids = [r[0] for r in self.cur.fetchall()]
        known = set(ids)
        yield from (i for i in ids if self.staged.get(i, True) is not None)
        yield from (i for i, f in self.staged.items() if f is not None and i not in known)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class PgTransaction:
    """Changes staged against one database transaction (see :class:`geotrack.storage.LayerTransaction`)."""

    def __init__(self, layer: PgLayer, cur: psycopg.Cursor) -> None:
        self.layer, self.cur = layer, cur
        self.features = _Rows(layer, cur)
        self._before: dict[str, dict[str, Any] | None] = {}
        self._reserve = 0

    def get(self, fid: str) -> dict[str, Any]:
        """The current feature *fid*, or NotFoundError naming the fix."""
        try:
            return self.features[fid]
        except KeyError:
            raise NotFoundError(
                f"id={fid!r}: no such crossing; `geotrack crossings list` shows the ids"
            ) from None

    def _remember(self, fid: str) -> None:
        if fid not in self._before:
            self._before[fid] = self.features.get(fid)

    def put(self, feature: dict[str, Any]) -> None:
        """Add or replace a feature (by its ``id``)."""
        fid = feature["id"]
        self._remember(fid)
        self.features.staged[fid] = self.layer.kind.order(feature)

    def remove(self, fid: str) -> None:
        """Remove a feature (used by undo of an add; everything else retires)."""
        self._remember(fid)
        self.features.staged[fid] = None

    def new_ids(self, n: int) -> list[str]:
        """*n* ids from the layer's sequence (never given twice, within the id pattern)."""
        if n <= 0:
            return []
        self.cur.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (self.layer.seq, n)
        )
        return [self.layer.kind.make_id(int(r[0])) for r in self.cur.fetchall()]

    def reserve_ids(self, ids: Iterable[str]) -> None:
        """Move the sequence past *ids* (kept by an import) so none is given again."""
        top = max((self.layer.kind.number_of(i) or 0 for i in ids), default=0)
        if top:
            self.layer._reserve(self.cur, top)

    @property
    def changes(self) -> list[Change]:
        """Staged changes, in the order first touched."""
        out = []
        for fid, before in self._before.items():
            after = self.features.staged[fid]
            if before != after:
                out.append(Change(fid, before, after))
        return out


class PgLayer:
    """One layer of a :class:`PgStore`: a table, its child table, its history rows."""

    def __init__(self, store: PgStore, kind: LayerKind) -> None:
        self.store, self.kind, self.name = store, kind, kind.name
        s = store.s
        self.table = f"{s}.{quote_ident(kind.name)}"
        self.seq = f"{store.schema}.{kind.name}_id_seq"
        self.child = (
            (kind.child[0], f"{s}.{quote_ident(kind.name + '_' + kind.child[0])}", kind.child[1])
            if kind.child
            else None
        )
        self.feature_sql = f"{s}.{quote_ident(kind.name + '_feature')}(r)"

    def describe(self) -> str:
        """The table and the store, for messages."""
        return f"table {self.store.schema}.{self.name} in {self.store.describe()}"

    def _tx(self, what: str):
        return self.store.transaction(f"{self.name} ({what})")

    def ensure_exists(self) -> None:
        """Refuse a layer whose table is missing (``geotrack store migrate`` creates it)."""
        with self._tx("open") as cur:
            cur.execute("SELECT to_regclass(%s)", (f"{self.store.schema}.{self.name}",))
            if cur.fetchone()[0] is None:
                raise StorageError(
                    f"{self.describe()}: no table for layer {self.name!r}: run `geotrack store "
                    "migrate --store URL` as the database owner"
                )

    def read(self) -> list[dict[str, Any]]:
        """Every feature, sorted by id."""
        with self._tx("read") as cur:
            cur.execute(f"SELECT {self.feature_sql} FROM {self.table} r ORDER BY r.id")
            return [self.kind.order(r[0]) for r in cur.fetchall()]

    def read_one(self, fid: str) -> dict[str, Any] | None:
        """One feature by id, or None."""
        with self._tx("read") as cur:
            cur.execute(f"SELECT {self.feature_sql} FROM {self.table} r WHERE r.id = %s", (fid,))
            row = cur.fetchone()
        return self.kind.order(row[0]) if row else None

    def is_empty(self) -> bool:
        """No row and no history entry."""
        with self._tx("read") as cur:
            cur.execute(
                f"SELECT NOT EXISTS (SELECT 1 FROM {self.table}) AND NOT EXISTS "
                f"(SELECT 1 FROM {self.store.s}.history WHERE layer = %s)",
                (self.name,),
            )
            return bool(cur.fetchone()[0])

    # -- history -------------------------------------------------------------------
    def _entries(
        self, cur, fid: str | None
    ) -> Iterator[tuple[int, HistoryEntry | None, str | None]]:
        where = " AND %s = ANY(ids)" if fid else ""
        args = (self.name, fid) if fid else (self.name,)
        cur.execute(
            f'SELECT seq, time, "user", op, reason, layer, undoes, changes FROM '
            f"{self.store.s}.history WHERE layer = %s{where} ORDER BY seq",
            args,
        )
        for seq, time, user, op, reason, layer, undoes, changes in cur.fetchall():
            order = self.kind.order
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                # features in their written key order (jsonb sorts keys); odd rows stay as they are
                changes = [
                    {
                        k: order(v) if k in ("before", "after") and isinstance(v, dict) else v
                        for k, v in c.items()
                    }
                    if isinstance(c, dict)
                    else c
                    for c in changes
                ]
            d = {
                "seq": seq,
                "time": time,
                "user": user,
                "op": op,
                "reason": reason,
                "layer": layer,
                "undoes": undoes,
                "changes": changes,
            }
            try:
                yield seq, HistoryEntry.from_dict(d), None
            except DataError as exc:
                yield seq, None, f"history seq {seq}: {str(exc).removeprefix('history entry: ')}"

    def history(
        self, fid: str | None = None, *, skip_damaged: bool = False
    ) -> Iterator[HistoryEntry]:
        """History entries of this layer, oldest first, optionally for one id."""
        with self._tx("history") as cur:
            rows = list(self._entries(cur, fid))
        for _, entry, damage in rows:
            if damage is not None:
                if skip_damaged:
                    continue
                raise DataError(f"{damage}; the history cannot be read reliably")
            yield entry

    def check_history(self) -> list[Problem]:
        """Every history row that is not a readable entry, by its seq."""
        with self._tx("history") as cur:
            return [
                Problem("history", f"seq {seq}", f"{damage}: it was written outside geotrack")
                for seq, _, damage in self._entries(cur, None)
                if damage
            ]

    def replay(self) -> dict[str, dict[str, Any]]:
        """The layer rebuilt from its history alone."""
        features: dict[str, dict[str, Any]] = {}
        for entry in self.history(skip_damaged=True):
            for c in entry.changes:
                if c.after is None:
                    features.pop(c.id, None)
                else:
                    features[c.id] = self.kind.order(c.after)
        return features

    def recover(self) -> Recovery:
        """Nothing to do: a killed writer's transaction was rolled back by the server."""
        with self._tx("recover"):
            return Recovery()

    def recover_if_writable(self) -> Recovery:
        """The same as :meth:`recover` (it writes nothing, so a reader may call it)."""
        return self.recover()

    # -- writing -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self, *, op: str, reason: str | None = None, user: str | None = None):
        """One database transaction: stage changes, then commit them with one history entry."""
        with self._tx(op) as cur:
            tx = PgTransaction(self, cur)
            yield tx
            changes = tx.changes
            if changes:
                self._commit(cur, tx, op=op, reason=reason, user=user, changes=changes)

    def undo(
        self, *, op: int | None = None, user: str | None = None, reason: str | None = None
    ) -> HistoryEntry:
        """Revert *user*'s latest change, or operation *op* (see :func:`geotrack.storage.plan_undo`)."""
        user = user or current_user()
        with self._tx("undo") as cur:
            entries = [e for _, e, d in self._entries(cur, None) if e or _raise(d)]
            tx = PgTransaction(self, cur)
            ids = {c.id for e in entries for c in e.changes}
            current = {fid: tx.features[fid] for fid in ids if fid in tx.features}
            target, changes = plan_undo(entries, current, user=user, op=op, layer=self.name)
            for c in changes:
                if c.after is None:
                    tx.remove(c.id)
                else:
                    tx.put(c.after)
            return self._commit(
                cur,
                tx,
                op="undo",
                reason=reason or f"undo of operation {target.seq} ({target.op} by {target.user})",
                user=user,
                changes=tx.changes,
                undoes=target.seq,
            )

    def _reserve(self, cur, top: int) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.seq}.reserve",))
        cur.execute(
            f"SELECT setval(%s::regclass, greatest(%s, (SELECT CASE WHEN is_called THEN "
            f"last_value ELSE 0 END FROM {self.store.s}.{quote_ident(self.name + '_id_seq')})))",
            (self.seq, top),
        )

    def _row(self, feat: dict[str, Any]) -> tuple[list[str], list[Any]]:
        props = dict(feat["properties"])
        child_present = False
        if self.child and isinstance(props.get(self.child[0]), list):
            props.pop(self.child[0])
            child_present = True
        names = ["geom", *[c.name for c in self.kind.columns], "props", "child_present"]
        values: list[Any] = [_geom(feat.get("geometry"))]
        values += [props.get(c.name) for c in self.kind.columns]
        values += [orjson.dumps(props).decode(), child_present]
        return names, values

    def _child_rows(self, fid: str, feat: dict[str, Any] | None) -> list[list[Any]]:
        if not self.child:
            return []
        key, _, cols = self.child
        items = (feat or {}).get("properties", {}).get(key)
        if not isinstance(items, list):
            return []
        rows = []
        for i, item in enumerate(items):
            item = item if isinstance(item, dict) else {"value": item}
            rows.append([fid, i, *[item.get(c.name) for c in cols], orjson.dumps(item).decode()])
        return rows

    def _insert_children(self, cur, rows: list[list[Any]]) -> None:
        if not rows or not self.child:
            return
        _, table, cols = self.child
        names = ["parent_id", "position", *[c.name for c in cols], "data"]
        marks = ", ".join(["%s"] * len(names))
        cur.executemany(
            f"INSERT INTO {table} ({', '.join(map(quote_ident, names))}) VALUES ({marks})", rows
        )

    def _insert(self, cur, feats: Sequence[dict[str, Any]], users: Mapping[str, str]) -> None:
        """Insert new rows (and their child rows) in batches; an id taken already is a conflict."""
        if not feats:
            return
        cur.execute(
            f"SELECT id FROM {self.table} WHERE id = ANY(%s) LIMIT 1", ([f["id"] for f in feats],)
        )
        taken = cur.fetchone()
        if taken:
            self._conflict(cur, taken[0], "added")
        names = self._row(feats[0])[0]
        cols = ", ".join(map(quote_ident, ["id", *names, "updated_by"]))
        marks = ", ".join(["%s"] * (len(names) + 2))
        rows, children = [], []
        for f in feats:
            rows.append([f["id"], *self._row(f)[1], users[f["id"]]])
            children.extend(self._child_rows(f["id"], f))
        try:
            with cur.connection.transaction():
                cur.executemany(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", rows)
        except _psycopg().errors.UniqueViolation:
            raise ConflictError(
                "a crossing with one of these ids was added by someone else at the same moment; "
                "nothing was changed: run the command again"
            ) from None
        self._insert_children(cur, children)

    def _commit(
        self, cur, tx: PgTransaction, *, op, reason, user, changes, undoes=None
    ) -> HistoryEntry:
        user = user or current_user()
        for c in sorted(changes, key=lambda c: c.id):  # one order: writers never wait in a cycle
            if c.before is None:
                continue
            got = tx.features.fetch(c.id)
            version = got[1] if got else None
            if c.before is None:
                continue  # inserted below, in one batch
            elif c.after is None:
                cur.execute(
                    f"DELETE FROM {self.table} WHERE id = %s AND version = %s", (c.id, version)
                )
                if cur.rowcount == 0:
                    self._conflict(cur, c.id, "changed")
            else:
                names, values = self._row(c.after)
                sets = ", ".join(f"{quote_ident(n)} = %s" for n in names)
                cur.execute(
                    f"UPDATE {self.table} SET {sets}, version = version + 1, updated_by = %s, "
                    "updated_at = now() WHERE id = %s AND version = %s",
                    [*values, user, c.id, version],
                )
                if cur.rowcount == 0:
                    self._conflict(cur, c.id, "changed")
                key = self.child[0] if self.child else None
                if key and c.before["properties"].get(key) != c.after["properties"].get(key):
                    cur.execute(f"DELETE FROM {self.child[1]} WHERE parent_id = %s", (c.id,))
                    self._insert_children(cur, self._child_rows(c.id, c.after))
        new = [c.after for c in sorted(changes, key=lambda c: c.id) if c.before is None]
        self._insert(cur, new, {f["id"]: user for f in new})
        added = [c.id for c in changes if c.after is not None]
        top = max((self.kind.number_of(i) or 0 for i in added), default=0)
        if top:
            self._reserve(cur, top)
        cur.execute(f"SELECT {self.store.s}.next_seq(%s)", (self.name,))
        seq = int(cur.fetchone()[0])
        entry = HistoryEntry(
            seq=seq,
            time=utc_now(),
            user=user,
            op=op,
            reason=reason,
            layer=self.name,
            changes=changes,
            undoes=undoes,
        )
        self._insert_entries(cur, [entry])
        return entry

    def _insert_entries(self, cur, entries: Sequence[HistoryEntry]) -> None:
        try:
            rows = [
                (
                    e.layer,
                    e.seq,
                    e.time,
                    e.user,
                    e.op,
                    e.reason,
                    e.undoes,
                    sorted({c.id for c in e.changes}),
                    orjson.dumps(e.as_dict()["changes"]).decode(),
                )
                for e in entries
            ]
        except orjson.JSONEncodeError as exc:
            raise DataError(
                f"the change cannot be stored: {exc} (a text holds characters that are not valid "
                "Unicode); re-type it as UTF-8. Nothing was changed."
            ) from None
        cur.executemany(
            f'INSERT INTO {self.store.s}.history (layer, seq, time, "user", op, reason, undoes, '
            "ids, changes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            rows,
        )

    def _conflict(self, cur, fid: str, what: str) -> None:
        cur.execute(f"SELECT updated_by, updated_at FROM {self.table} WHERE id = %s", (fid,))
        row = cur.fetchone()
        if row is None:
            raise ConflictError(
                f"id={fid!r} was removed by someone else since you read it; nothing was changed: "
                "run the command again"
            )
        by, at = row
        raise ConflictError(
            f"id={fid!r} was {what} by {by} at {at.astimezone().isoformat(timespec='seconds')} "
            "since you read it; nothing was changed: look at it (`geotrack crossings show`) and "
            "run the command again"
        )

    def load(self, features: Sequence[dict[str, Any]], entries: Sequence[HistoryEntry]) -> None:
        """Fill this empty layer with *features* and *entries* as they are (``store copy``)."""
        with self._tx("copy") as cur:
            cur.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            cur.execute(
                f"SELECT EXISTS (SELECT 1 FROM {self.table}) OR EXISTS "
                f"(SELECT 1 FROM {self.store.s}.history WHERE layer = %s)",
                (self.name,),
            )
            if cur.fetchone()[0]:
                raise StorageError(f"{self.describe()} is not empty: nothing was copied into it")
            last_user = {c.id: e.user for e in entries for c in e.changes}
            feats = [self.kind.order(f) for f in features]
            self._insert(
                cur, feats, {f["id"]: last_user.get(f["id"], current_user()) for f in feats}
            )
            self._insert_entries(
                cur, [HistoryEntry(**{**e.__dict__, "layer": self.name}) for e in entries]
            )
            ids = [c.id for e in entries for c in e.changes] + [f["id"] for f in features]
            top = max((self.kind.number_of(i) or 0 for i in ids), default=0)
            if top:
                self._reserve(cur, top)


def _raise(damage: str | None) -> bool:
    raise DataError(f"{damage}; the history cannot be read reliably, so nothing was undone")


def _geom(geometry: Mapping[str, Any] | None):
    """A geometry for an INSERT parameter (EWKT with SRID 4326, exact to the double)."""
    if not geometry:
        return None
    if geometry.get("type") == "Point":
        x, y = geometry["coordinates"][:2]
        return f"SRID=4326;POINT({float(x)!r} {float(y)!r})"
    import shapely

    return f"SRID=4326;{shapely.geometry.shape(geometry).wkt}"
