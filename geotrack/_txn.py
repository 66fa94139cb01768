"""Transaction bookkeeping both stores share: staged changes, the history entry, undo, replay.

The folder store (:mod:`geotrack.store`) and the PostGIS store (:mod:`geotrack.pgstore`)
keep features differently (lines of a file, rows of a table) but stage and record changes
the same way: a transaction remembers each feature as it was when first touched
(:class:`StagedTransaction`), its changes become one :class:`~geotrack.storage.HistoryEntry`
(:func:`new_entry`, :func:`encode`), an undo stages what :func:`geotrack.storage.plan_undo`
chose (:func:`stage_undo`), and a layer is rebuilt from its history by :func:`replay`.
"""

from __future__ import annotations

__all__ = [
    "LOCK_TIMEOUT_S",
    "StagedFeatures",
    "StagedTransaction",
    "current_user",
    "encode",
    "new_entry",
    "readable_entries",
    "replay",
    "stage_undo",
    "utc_now",
]

import getpass
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from geotrack.errors import DataError, NotFoundError
from geotrack.storage import Change, HistoryEntry, plan_undo

#: Seconds a writer waits for the lock before giving up with a LockError.
LOCK_TIMEOUT_S = 120.0


def current_user() -> str:
    """The name recorded in the history: ``GEOTRACK_USER``, else the login name.

    Examples
    --------
    >>> isinstance(current_user(), str)
    True
    """
    name = os.environ.get("GEOTRACK_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid-{os.getuid()}"


def utc_now() -> str:
    """The current UTC time as ISO 8601 with a ``Z``, to the millisecond.

    Examples
    --------
    >>> utc_now().endswith("Z")
    True
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StagedFeatures(Mapping[str, dict[str, Any]]):
    """Features by id as a transaction sees them: staged ones over stored ones.

    ``staged`` maps an id to its feature (``None``: removed); a store adds what is
    stored by :meth:`_stored_ids`, :meth:`_has_stored` and :meth:`_stored`.
    """

    def __init__(self) -> None:
        self.staged: dict[str, dict[str, Any] | None] = {}

    def _stored_ids(self) -> Collection[str]:
        raise NotImplementedError

    def _has_stored(self, fid: str) -> bool:
        raise NotImplementedError

    def _stored(self, fid: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def __getitem__(self, fid: str) -> dict[str, Any]:
        feat = self.staged[fid] if fid in self.staged else self._stored(fid)
        if feat is None:
            raise KeyError(fid)
        return feat

    def __contains__(self, fid: object) -> bool:
        if not isinstance(fid, str):
            return False
        if fid in self.staged:
            return self.staged[fid] is not None
        return self._has_stored(fid)

    def __iter__(self) -> Iterator[str]:
        stored = self._stored_ids()
        yield from (k for k in stored if self.staged.get(k, True) is not None)
        yield from (k for k, v in self.staged.items() if v is not None and k not in stored)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class StagedTransaction:
    """Changes staged over :class:`StagedFeatures` (see :class:`geotrack.storage.LayerTransaction`).

    Examples
    --------
    >>> class Empty(StagedFeatures):
    ...     def _stored_ids(self): return ()
    ...     def _has_stored(self, fid): return False
    ...     def _stored(self, fid): return None
    >>> tx = StagedTransaction(Empty(), order=dict)
    >>> tx.put({"id": "A-0001", "properties": {}})
    >>> [c.id for c in tx.changes], list(tx.features)
    (['A-0001'], ['A-0001'])
    """

    def __init__(
        self, features: StagedFeatures, *, order: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        self.features = features
        self._order = order
        self._before: dict[str, dict[str, Any] | None] = {}

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
        self.features.staged[fid] = self._order(feature)

    def remove(self, fid: str) -> None:
        """Remove a feature (used by undo of an add; everything else retires)."""
        self._remember(fid)
        self.features.staged[fid] = None

    @property
    def changes(self) -> list[Change]:
        """Staged changes, in the order first touched."""
        out = []
        for fid, before in self._before.items():
            after = self.features.staged[fid]
            if before != after:
                out.append(Change(fid, before, after))
        return out


def new_entry(
    seq: int,
    *,
    op: str,
    reason: str | None,
    user: str | None,
    layer: str,
    changes: list[Change],
    undoes: int | None = None,
) -> HistoryEntry:
    """The history entry *seq* of *changes*, made now by *user* (default :func:`current_user`).

    Examples
    --------
    >>> e = new_entry(3, op="edit", reason=None, user="ana", layer="crossings", changes=[])
    >>> e.seq, e.user, e.time.endswith("Z")
    (3, 'ana', True)
    """
    return HistoryEntry(
        seq=seq,
        time=utc_now(),
        user=user or current_user(),
        op=op,
        reason=reason,
        layer=layer,
        changes=changes,
        undoes=undoes,
    )


def encode(value: Any) -> bytes:
    """*value* (an entry or its changes) as JSON, refusing text that is not valid Unicode.

    Raises
    ------
    DataError
        A text holds a lone surrogate (e.g. from undecodable command-line bytes).

    Examples
    --------
    >>> encode({"reason": "\\ud800"})
    Traceback (most recent call last):
    ...
    geotrack.errors.DataError: the change cannot be stored: ...
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise DataError(
            f"the change cannot be stored: {exc} (a text such as --reason holds characters "
            "that are not valid Unicode); re-type it as UTF-8. Nothing was changed."
        ) from None


def readable_entries(
    scanned: Iterable[tuple[Any, HistoryEntry | None, str | None]],
    *,
    skip_damaged: bool = False,
    fix: str = "; the history cannot be read reliably",
) -> Iterator[HistoryEntry]:
    """The entries of ``(where, entry, damage)`` rows; a damaged one raises (``damage + fix``).

    Examples
    --------
    >>> list(readable_entries([(1, None, "line 1: not JSON")], skip_damaged=True))
    []
    """
    for _, entry, damage in scanned:
        if damage is not None:
            if skip_damaged:
                continue
            raise DataError(f"{damage}{fix}")
        assert entry is not None
        yield entry


def stage_undo(
    tx: StagedTransaction,
    entries: Sequence[HistoryEntry],
    current: Mapping[str, dict[str, Any]],
    *,
    user: str,
    op: int | None,
    reason: str | None,
    layer: str,
) -> tuple[int, str]:
    """Stage in *tx* the changes that undo what :func:`~geotrack.storage.plan_undo` chose.

    Returns
    -------
    (int, str)
        The seq undone and the reason for the undo entry (*reason*, or one naming the target).
    """
    target, changes = plan_undo(entries, current, user=user, op=op, layer=layer)
    for c in changes:
        if c.after is None:
            tx.remove(c.id)
        else:
            tx.put(c.after)
    return target.seq, reason or f"undo of operation {target.seq} ({target.op} by {target.user})"


def replay(
    entries: Iterable[HistoryEntry],
    order: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The features that *entries* leave, applied oldest first (each through *order*).

    Examples
    --------
    >>> f = {"id": "A-0001"}
    >>> replay([HistoryEntry(1, "t", "ana", "add", None, "x", [Change("A-0001", None, f)])])
    {'A-0001': {'id': 'A-0001'}}
    """
    features: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for c in entry.changes:
            if c.after is None:
                features.pop(c.id, None)
            else:
                features[c.id] = c.after if order is None else order(c.after)
    return features
