"""The storage contract every store keeps: layers, transactions, history, undo, recovery.

Two stores implement it: the folder store (:mod:`geotrack.store`, GeoJSON files and
``history.jsonl`` in a workspace folder: the default for one investigator) and the
PostGIS store (:mod:`geotrack.pgstore`, one database shared by a team).  Every command
goes through :class:`Layer` only, so both stores behave the same:

* :meth:`Layer.transaction` validates and commits a set of changes and their one
  history entry atomically, or nothing;
* the history is append-only; an entry is never rewritten or dropped, and a damaged
  entry is reported (:meth:`Layer.check_history`), never skipped silently;
* :meth:`Layer.undo` writes a *compensating* entry (which can itself be undone); it
  reverts the caller's own most recent change that nobody changed since, or a named
  operation, and refuses, naming who changed what, when a later change depends on it;
* ids come from a counter that only grows (:meth:`LayerTransaction.new_ids`): an id is
  never given twice, even after the feature it named was undone.

Layer kinds plug in by name (:func:`register_kind`): a kind says how features are
ordered when written, which id prefix new features get and which properties the
database keeps as typed, checked columns.  The undo rule lives here once
(:func:`plan_undo`) and both stores call it.
"""

from __future__ import annotations

__all__ = [
    "CLAIMS",
    "CROSSINGS",
    "ID_DIGITS_MAX",
    "PLACES",
    "Change",
    "Column",
    "HistoryEntry",
    "Layer",
    "LayerKind",
    "LayerTransaction",
    "Recovery",
    "Store",
    "entry_from_line",
    "format_id",
    "id_number",
    "layer_kind",
    "layer_kinds",
    "plan_undo",
    "register_kind",
]

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from geotrack import claim_schema, places, schema
from geotrack.errors import DataError, NotFoundError, Problem

#: Ids look like ``YLU-0001``: 4 to 9 digits (see :func:`geotrack.schema.is_crossing_id`).
ID_DIGITS_MAX = 9


@dataclass(frozen=True)
class Change:
    """A feature before and after one operation (``None`` = absent)."""

    id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class HistoryEntry:
    """One history entry: who, when, what, why, every feature before and after."""

    seq: int
    time: str
    user: str
    op: str
    reason: str | None
    layer: str
    changes: list[Change]
    undoes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The entry as written to a history (one JSON object)."""
        return {
            "seq": self.seq,
            "time": self.time,
            "user": self.user,
            "op": self.op,
            "reason": self.reason,
            "layer": self.layer,
            "undoes": self.undoes,
            "changes": [{"id": c.id, "before": c.before, "after": c.after} for c in self.changes],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HistoryEntry:
        """Read an entry written by :meth:`as_dict`, checking its shape.

        Raises
        ------
        DataError
            A field is missing or of the wrong type (the message names it).

        Examples
        --------
        >>> HistoryEntry.from_dict({"seq": 1}).seq
        Traceback (most recent call last):
        ...
        geotrack.errors.DataError: history entry: 'time' is missing
        """
        if not isinstance(d, Mapping):
            raise DataError(f"history entry: must be a JSON object, not {type(d).__name__}")
        for key, types in _ENTRY_FIELDS.items():
            if key not in d:
                if key in ("reason", "undoes"):
                    continue
                raise DataError(f"history entry: {key!r} is missing")
            if not isinstance(d[key], types) or isinstance(d[key], bool):
                raise DataError(f"history entry: {key}={d[key]!r} has the wrong type")
        changes = []
        for i, c in enumerate(d["changes"], 1):
            if not isinstance(c, Mapping) or not isinstance(c.get("id"), str):
                raise DataError(f"history entry: change {i} has no string 'id'")
            for side in ("before", "after"):
                if side not in c or not isinstance(c[side], dict | None):
                    raise DataError(f"history entry: change {i} {side!r} must be a feature or null")
            changes.append(Change(c["id"], c["before"], c["after"]))
        return cls(
            seq=d["seq"],
            time=d["time"],
            user=d["user"],
            op=d["op"],
            reason=d.get("reason"),
            layer=d["layer"],
            undoes=d.get("undoes"),
            changes=changes,
        )


_ENTRY_FIELDS: dict[str, Any] = {
    "seq": int,
    "time": str,
    "user": str,
    "op": str,
    "reason": (str, type(None)),
    "layer": str,
    "undoes": (int, type(None)),
    "changes": list,
}


def entry_from_line(line: bytes, *, lineno: int, what: str) -> HistoryEntry:
    """Parse one history line, naming the file and line number when it is damaged.

    Raises
    ------
    DataError
        The line is not JSON or not a history entry.

    Examples
    --------
    >>> entry_from_line(b'{"seq": 1', lineno=3, what="history.jsonl")
    Traceback (most recent call last):
    ...
    geotrack.errors.DataError: history.jsonl line 3: not JSON (unexpected end of data: ...)
    """
    try:
        d = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DataError(f"{what} line {lineno}: not JSON ({exc})") from None
    try:
        return HistoryEntry.from_dict(d)
    except DataError as exc:
        raise DataError(
            f"{what} line {lineno}: {str(exc).removeprefix('history entry: ')}"
        ) from None


@dataclass(frozen=True)
class Recovery:
    """What :meth:`Layer.recover` did: entries rolled forward; whether the layer was rebuilt."""

    rolled_forward: int = 0
    rebuilt: bool = False
    message: str | None = None


# -- layer kinds -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A property a database keeps as a typed column (coded values enforced there).

    ``sql`` is the column type (``text``, ``double precision``, ``boolean``, ``integer``);
    ``values`` the coded values a CHECK constraint allows (empty: any).
    """

    name: str
    sql: str = "text"
    values: tuple[str, ...] = ()
    not_null: bool = False


@dataclass(frozen=True)
class LayerKind:
    """How one kind of layer is stored (crossings, claims, ...).

    Parameters
    ----------
    name : str
        The layer name: ``<name>.geojson`` in a folder, table ``<name>`` in a database.
    order : callable
        Feature -> the dict actually written (key order, rounding).
    id_prefix : str
        Prefix of the ids :meth:`LayerTransaction.new_ids` makes (``YLU`` -> ``YLU-0001``).
    history : str
        File name of the history in a folder workspace.
    geometry_type : str
        PostGIS geometry type of the table (``Point``, ``Geometry``).
    columns : tuple of Column
        Properties kept as typed, checked columns in a database (the rest in ``jsonb``).
    child : tuple of (str, tuple of Column) or None
        A list property kept as its own table (``("reports", columns)``), one row per item.
    id_check : str
        The regular expression every id matches (a CHECK constraint in a database).
    id_sep, id_width : str, int
        New ids are ``<id_prefix><id_sep><number>``, the number at least *id_width* digits.
    """

    name: str
    order: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda f: f)
    id_prefix: str = "ID"
    history: str = "history.jsonl"
    geometry_type: str = "Geometry"
    columns: tuple[Column, ...] = ()
    child: tuple[str, tuple[Column, ...]] | None = None
    id_check: str = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
    id_sep: str = "-"
    id_width: int = 4

    def number_of(self, fid: str) -> int | None:
        """The number in *fid* if it is one of this kind's generated ids, else None."""
        return id_number(fid, self.id_prefix, sep=self.id_sep)

    def make_id(self, number: int) -> str:
        """This kind's id for *number* (``YLU-0007``, ``C7``)."""
        return format_id(self.id_prefix, number, sep=self.id_sep, width=self.id_width)


_KINDS: dict[str, LayerKind] = {}


def register_kind(kind: LayerKind) -> LayerKind:
    """Make a layer kind known to every store by its name (a later call replaces it).

    Examples
    --------
    >>> register_kind(LayerKind("example_things", id_prefix="EX")).name
    'example_things'
    >>> layer_kind("example_things").id_prefix
    'EX'
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", kind.name):
        raise ValueError(f"layer kind name {kind.name!r}: use lower-case letters, digits and _")
    _KINDS[kind.name] = kind
    return kind


def layer_kind(name: str) -> LayerKind:
    """The registered kind *name*, or a plain kind of that name (ids ``ID-0001``).

    Examples
    --------
    >>> layer_kind("crossings").id_prefix
    'YLU'
    """
    return _KINDS.get(name) or LayerKind(name)


def layer_kinds() -> list[LayerKind]:
    """Every registered kind, by name."""
    return [_KINDS[k] for k in sorted(_KINDS)]


def _codes(values: Mapping[Any, str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


#: The crossings layer: sites with their reports (see :mod:`geotrack.schema`).
CROSSINGS = register_kind(
    LayerKind(
        "crossings",
        order=schema.order_crossing,
        id_prefix="YLU",
        history="history.jsonl",
        geometry_type="Point",
        id_check=r"^[A-Z]{2,8}-[0-9]{4,9}$",
        columns=(
            Column("name"),
            Column("kind", values=_codes(schema.KINDS), not_null=True),
            Column("status", values=_codes(schema.STATUSES)),
            Column("location_precision", values=_codes(schema.PRECISIONS)),
            Column("uncertainty_m", "double precision"),
            Column("datum", values=_codes(schema.DATUMS)),
            Column("synthetic", "boolean"),
            Column("retired", "boolean"),
            Column("retired_reason"),
            Column("first_seen"),
            Column("last_seen"),
        ),
        child=(
            "reports",
            (
                Column("report_id", not_null=True),
                Column("source_name"),
                Column("source_type", values=_codes(schema.SOURCE_TYPES)),
                Column("url"),
                Column("reported"),
                Column("event_start"),
                Column("event_end"),
                Column("date_precision", values=_codes(schema.DATE_PRECISIONS)),
                Column("reliability", values=_codes(schema.RELIABILITY)),
                Column("credibility", "integer"),
                Column("verification", values=_codes(schema.VERIFICATIONS)),
            ),
        ),
    )
)


def id_number(fid: str, prefix: str, *, sep: str = "-") -> int | None:
    """The number of *fid* if it is ``<prefix><sep><digits>``, else None.

    Examples
    --------
    >>> id_number("YLU-0012", "YLU"), id_number("ABC-0012", "YLU"), id_number("C7", "C", sep="")
    (12, None, 7)
    """
    if not isinstance(fid, str) or not fid.startswith(prefix + sep):
        return None
    digits = fid[len(prefix) + len(sep) :]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > ID_DIGITS_MAX:
        return None
    return int(digits)


def format_id(prefix: str, number: int, *, sep: str = "-", width: int = 4) -> str:
    """The id ``<prefix><sep><number>`` (at least *width* digits), refusing one past 9 digits.

    Raises
    ------
    DataError
        *number* needs more than 9 digits: the id space of *prefix* is used up.

    Examples
    --------
    >>> format_id("YLU", 7), format_id("C", 7, sep="", width=1)
    ('YLU-0007', 'C7')
    """
    if number >= 10**ID_DIGITS_MAX:
        raise DataError(
            f"id={prefix}{sep}{number}: ids have at most {ID_DIGITS_MAX} digits and {prefix} ids "
            "are used up; nothing was written. Renumber the layer into a new workspace."
        )
    return f"{prefix}{sep}{number:0{width}d}"


# -- the contract ------------------------------------------------------------------


@runtime_checkable
class LayerTransaction(Protocol):
    """The features of a layer as one transaction sees them; changes are staged here."""

    features: Mapping[str, dict[str, Any]]

    def get(self, fid: str) -> dict[str, Any]:
        """The current feature *fid*, or NotFoundError naming the fix."""
        ...

    def put(self, feature: dict[str, Any]) -> None:
        """Add or replace a feature (by its ``id``)."""
        ...

    def remove(self, fid: str) -> None:
        """Remove a feature (only undo does this; everything else retires)."""
        ...

    def new_ids(self, n: int) -> list[str]:
        """*n* fresh ids: never given before in this layer, within the id pattern."""
        ...

    def reserve_ids(self, ids: Iterable[str]) -> None:
        """Make the id counter pass the given ids (kept by an import), so none is reused."""
        ...

    @property
    def changes(self) -> list[Change]:
        """Staged changes, in the order first touched."""
        ...


@runtime_checkable
class Layer(Protocol):
    """One layer of a store (the crossings, the claims...)."""

    name: str
    kind: LayerKind

    def describe(self) -> str:
        """Where the layer lives, for messages (a path, or a table and a server)."""
        ...

    def read(self) -> list[dict[str, Any]]:
        """Every feature, sorted by id."""
        ...

    def read_one(self, fid: str) -> dict[str, Any] | None:
        """One feature by id, or None."""
        ...

    def ensure_exists(self) -> None:
        """Create the (empty) layer if it does not exist yet."""
        ...

    def transaction(
        self, *, op: str, reason: str | None = None, user: str | None = None
    ) -> AbstractContextManager[LayerTransaction]:
        """Stage changes in the ``with`` block; commit them and one history entry, or nothing."""
        ...

    def history(self, fid: str | None = None) -> Iterator[HistoryEntry]:
        """Entries oldest first (optionally for one id); DataError on a damaged entry."""
        ...

    def check_history(self) -> list[Problem]:
        """Every damaged or out-of-order history entry, with its line or sequence number."""
        ...

    def undo(
        self, *, op: int | None = None, user: str | None = None, reason: str | None = None
    ) -> HistoryEntry:
        """Revert the caller's latest change (or operation *op*) with a compensating entry."""
        ...

    def recover(self) -> Recovery:
        """Complete or drop what a killed writer left; say what was done."""
        ...

    def recover_if_writable(self) -> Recovery:
        """:meth:`recover`, or nothing where the store may only be read."""
        ...

    def replay(self) -> dict[str, dict[str, Any]]:
        """The layer rebuilt from its history alone (for consistency checks)."""
        ...

    def load(self, features: Sequence[dict[str, Any]], entries: Sequence[HistoryEntry]) -> None:
        """Fill an empty layer with *features* and its *entries* as they are (``store copy``)."""
        ...

    def is_empty(self) -> bool:
        """No feature and no history entry."""
        ...


@runtime_checkable
class Store(Protocol):
    """Where the layers of a workspace live: a folder, or a PostGIS database."""

    def describe(self) -> str:
        """The store for messages (never holds a password)."""
        ...

    def layer(self, name: str) -> Layer:
        """The layer of kind *name* (see :func:`layer_kind`)."""
        ...


# -- undo, once for every store ----------------------------------------------------


def _undone(entries: Sequence[HistoryEntry]) -> set[int]:
    """Seqs whose effect is currently reverted (an undo that was itself undone does not count)."""
    undoers: dict[int, list[int]] = {}
    for e in entries:
        if e.undoes is not None:
            undoers.setdefault(e.undoes, []).append(e.seq)
    memo: dict[int, bool] = {}

    def undone(seq: int) -> bool:
        if seq not in memo:
            memo[seq] = False  # guards against a hand-made cycle
            memo[seq] = any(not undone(u) for u in undoers.get(seq, ()))
        return memo[seq]

    return {e.seq for e in entries if undone(e.seq)}


def plan_undo(
    entries: Sequence[HistoryEntry],
    current: Mapping[str, dict[str, Any]],
    *,
    user: str,
    op: int | None = None,
    layer: str = "crossings",
) -> tuple[HistoryEntry, list[Change]]:
    """Choose the entry to undo and the changes that compensate it.

    Without *op*: the most recent entry by *user* that is not an undo and is not
    undone already.  With *op*: that entry (an undo too: undoing it brings its
    target back).  It is refused when a feature it touched changed since.

    Returns
    -------
    (HistoryEntry, list of Change)
        The target and the changes that revert it (``before`` = now, ``after`` = then).

    Raises
    ------
    NotFoundError
        Nothing of *user*'s to undo, or no operation *op*.
    DataError
        A later change depends on it; the message names who changed what, when.

    Examples
    --------
    >>> f = {"id": "A-0001", "properties": {"n": 1}}
    >>> add = HistoryEntry(1, "t1", "ana", "add", None, "x", [Change("A-0001", None, f)])
    >>> target, changes = plan_undo([add], {"A-0001": f}, user="ana")
    >>> target.seq, changes[0].after
    (1, None)
    """
    undone = _undone(entries)
    by_seq = {e.seq: e for e in entries}
    if op is None:
        target = next(
            (
                e
                for e in reversed(entries)
                if e.user == user and e.undoes is None and e.seq not in undone
            ),
            None,
        )
        if target is None:
            raise NotFoundError(
                f"{layer}: user {user!r} has no change left to undo; `geotrack {layer} "
                "history` lists every operation and who made it"
            )
    else:
        target = by_seq.get(op)
        if target is None:
            raise NotFoundError(
                f"--op={op}: no operation {op} in the {layer} history; "
                f"`geotrack {layer} history` lists them"
            )
        if op in undone:
            by = [e for e in entries if e.undoes == op and e.seq not in undone]
            raise DataError(
                f"--op={op}: operation {op} ({target.op}) was already undone by operation "
                f"{by[0].seq if by else '?'}; undo that one to bring it back"
            )
    later = [e for e in entries if e.seq > target.seq]
    blockers = []
    for c in target.changes:
        if current.get(c.id) != c.after:
            who = [e for e in later if any(x.id == c.id for x in e.changes)]
            if who:
                blockers.extend(
                    f"{c.id} by {e.user} at {e.time} (operation {e.seq}, {e.op})" for e in who
                )
            else:
                blockers.append(f"{c.id} outside geotrack (it differs from the history)")
    if blockers:
        raise DataError(
            f"operation {target.seq} ({target.op} by {target.user}) cannot be undone: changed "
            f"since: {'; '.join(blockers[:5])}{' …' if len(blockers) > 5 else ''}. Nothing was "
            "changed; undo those operations first or make the change with an edit instead"
        )
    changes = [Change(c.id, c.after, c.before) for c in target.changes]
    return target, changes


#: The claims layer: claims of a number of crossings, each with the relays that printed it
#: (see :mod:`geotrack.claim_schema`).  Claim ids (``C1``) are given by the claims records.
CLAIMS = register_kind(
    LayerKind(
        "claims",
        order=claim_schema.order_claim,
        id_prefix="C",
        history="claims-history.jsonl",
        geometry_type="Geometry",
        id_check=r"^[A-Z][A-Z0-9]{0,15}(-[A-Z0-9]{1,24}){0,3}$",
        id_sep="",
        id_width=1,
        columns=(
            Column("claimed_by"),
            Column("count", "integer"),
            Column("count_qualifier", values=_codes(claim_schema.QUALIFIERS)),
            Column("stated_unit", values=_codes(claim_schema.UNITS)),
            Column("retired", "boolean"),
        ),
    )
)

#: The gazetteer's user places (towns come from the reference layer): ``PL-0001``...
PLACES = register_kind(
    LayerKind(
        "places",
        id_prefix="PL",
        history="places-history.jsonl",
        geometry_type="Point",
        id_check=r"^PL-[0-9]{4,9}$",
        columns=(Column("name", not_null=True), Column("country", values=places._COUNTRIES)),
    )
)
