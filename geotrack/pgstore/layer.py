"""One layer of the PostGIS store: a table (and a child table), its history rows, row versions.

A transaction reads rows as it needs them (:class:`PgTransaction`), then writes each change
checked against the row's ``version`` (a row changed since it was read is a
:class:`~geotrack.pgstore.connection.ConflictError` naming who changed it and when) and the
history entry, numbered under a per-layer advisory lock taken last.
"""

from __future__ import annotations

__all__ = ["PgLayer", "PgTransaction"]

import contextlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from geotrack import _txn
from geotrack.errors import DataError, Problem, StorageError
from geotrack.pgstore.connection import ConflictError, _psycopg
from geotrack.pgstore.schema import quote_ident
from geotrack.storage import HistoryEntry, LayerKind, Recovery

if TYPE_CHECKING:
    import psycopg

    from geotrack.pgstore import PgStore


class _Rows(_txn.StagedFeatures):
    """The layer's features as one transaction sees them, fetched row by row when asked."""

    def __init__(self, layer: PgLayer, cur: psycopg.Cursor) -> None:
        super().__init__()
        self.layer, self.cur = layer, cur
        self.read: dict[str, tuple[dict[str, Any], int] | None] = {}

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

    def _stored(self, fid: str) -> dict[str, Any] | None:
        got = self.fetch(fid)
        return got[0] if got else None

    def _has_stored(self, fid: str) -> bool:
        return self.fetch(fid) is not None

    def _stored_ids(self) -> Collection[str]:
        self.cur.execute(f"SELECT id FROM {self.layer.table} ORDER BY id")
        return dict.fromkeys(r[0] for r in self.cur.fetchall())


class PgTransaction(_txn.StagedTransaction):
    """Changes staged against one database transaction (see :class:`geotrack.storage.LayerTransaction`)."""

    features: _Rows

    def __init__(self, layer: PgLayer, cur: psycopg.Cursor) -> None:
        super().__init__(_Rows(layer, cur), order=layer.kind.order)
        self.layer, self.cur = layer, cur

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
        yield from _txn.readable_entries(rows, skip_damaged=skip_damaged)

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
        return _txn.replay(self.history(skip_damaged=True), self.kind.order)

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
        user = user or _txn.current_user()
        with self._tx("undo") as cur:
            fix = "; the history cannot be read reliably, so nothing was undone"
            entries = list(_txn.readable_entries(self._entries(cur, None), fix=fix))
            tx = PgTransaction(self, cur)
            ids = {c.id for e in entries for c in e.changes}
            current = {fid: tx.features[fid] for fid in ids if fid in tx.features}
            undoes, reason = _txn.stage_undo(
                tx, entries, current, user=user, op=op, reason=reason, layer=self.name
            )
            return self._commit(
                cur, tx, op="undo", reason=reason, user=user, changes=tx.changes, undoes=undoes
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
        user = user or _txn.current_user()
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
        entry = _txn.new_entry(
            seq, op=op, reason=reason, user=user, layer=self.name, changes=changes, undoes=undoes
        )
        self._insert_entries(cur, [entry])
        return entry

    def _insert_entries(self, cur, entries: Sequence[HistoryEntry]) -> None:
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
                _txn.encode(e.as_dict()["changes"]).decode(),
            )
            for e in entries
        ]
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
                cur, feats, {f["id"]: last_user.get(f["id"], _txn.current_user()) for f in feats}
            )
            self._insert_entries(
                cur, [HistoryEntry(**{**e.__dict__, "layer": self.name}) for e in entries]
            )
            ids = [c.id for e in entries for c in e.changes] + [f["id"] for f in features]
            top = max((self.kind.number_of(i) or 0 for i in ids), default=0)
            if top:
                self._reserve(cur, top)


def _geom(geometry: Mapping[str, Any] | None):
    """A geometry for an INSERT parameter (EWKT with SRID 4326, exact to the double)."""
    if not geometry:
        return None
    if geometry.get("type") == "Point":
        x, y = geometry["coordinates"][:2]
        return f"SRID=4326;POINT({float(x)!r} {float(y)!r})"
    import shapely

    return f"SRID=4326;{shapely.geometry.shape(geometry).wkt}"
