"""The life of a record in its layer, the same for every kind of record.

A record (a crossing, a claim) is written live, looked up, changed, given
sub-records (a crossing's reports, a claim's relays), and retired as a
tombstone: it stays in the layer with the reason, never silently deleted, and
takes no more changes.  A layer must equal the replay of its history.
:mod:`geotrack.records` (crossings) and :mod:`geotrack.claims.records` keep
their records by these rules; each rule is written here once.
"""

from __future__ import annotations

__all__ = ["RecordKind", "history_problems", "new_record_fields", "not_editable"]

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geotrack.errors import DataError, NotFoundError, Problem
from geotrack.storage import Layer, LayerTransaction
from geotrack.store import utc_now


def _tx_get(tx: LayerTransaction, fid: str) -> dict[str, Any]:
    return tx.get(fid)


@dataclass(frozen=True)
class RecordKind:
    """One kind of record: how messages name it and its sub-records, and how it is found.

    Parameters
    ----------
    noun : str
        What one record is called (``crossing``, ``claim``).
    key : str
        How messages name its id (``id='YLU-0001'``, ``claim='C1'``).
    child : str
        What its sub-records are called (``report``, ``relay``): they are the
        property ``<child>s``, each with its id in ``<child>_id``.
    get : callable
        ``(transaction, id) -> feature``, raising
        :class:`~geotrack.errors.NotFoundError` naming the fix; by default the
        transaction's own ``get``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from geotrack.records import add_crossing
    >>> from geotrack.workspace import init_workspace
    >>> kind = RecordKind("crossing", "id", "report")
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> fid = add_crossing(ws, {"lon": 127.27, "lat": 41.51, "kind": "ford", "source_name": "X"})
    >>> kind.add_child(ws.crossings, fid, lambda old: {"report_id": f"R{len(old) + 1}"},
    ...                derive=lambda reports: {}, refusal="")
    'R2'
    >>> kind.retire(ws.crossings, fid, reason="a duplicate")["properties"]["retired"]
    True
    >>> kind.add_child(ws.crossings, fid, dict, derive=dict, refusal=": it takes no reports")
    Traceback (most recent call last):
    ...
    geotrack.errors.DataError: id='YLU-0001' is retired (a duplicate): it takes no reports
    """

    noun: str
    key: str
    child: str
    get: Callable[[LayerTransaction, str], dict[str, Any]] = field(default=_tx_get)

    def live(
        self, tx: LayerTransaction, fid: str, *, refusal: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The feature *fid* and a copy of its properties, refused when it is retired.

        Parameters
        ----------
        refusal : str
            The end of the message when it is retired: what a tombstone cannot
            do and what to do instead (``"; it cannot be edited"``).

        Raises
        ------
        NotFoundError
            No such record.
        DataError
            The record is retired.

        Examples
        --------
        >>> class Tx:
        ...     features = {"C1": {"id": "C1", "properties": {"retired": True,
        ...                                                   "retired_reason": "a duplicate"}}}
        ...     def get(self, fid): return self.features[fid]
        >>> RecordKind("claim", "claim", "relay").live(Tx(), "C1", refusal=": it cannot change")
        Traceback (most recent call last):
        ...
        geotrack.errors.DataError: claim='C1' is retired (a duplicate): it cannot change
        """
        feat = self.get(tx, fid)
        props = dict(feat["properties"])
        if props.get("retired"):
            raise DataError(
                f"{self.key}={fid!r} is retired ({props.get('retired_reason')}){refusal}"
            )
        return feat, props

    def child_index(self, children: Sequence[Mapping[str, Any]], fid: str, child_id: str) -> int:
        """Where sub-record *child_id* is in *children* (the sub-records of record *fid*).

        Raises
        ------
        NotFoundError
            No such sub-record; the message lists the ones there are.

        Examples
        --------
        >>> RecordKind("claim", "claim", "relay").child_index([{"relay_id": "C1-R1"}], "C1", "X")
        Traceback (most recent call last):
        ...
        geotrack.errors.NotFoundError: relay='X': claim C1 has relays C1-R1
        """
        id_key = f"{self.child}_id"
        idx = next((i for i, c in enumerate(children) if c[id_key] == child_id), None)
        if idx is None:
            raise NotFoundError(
                f"{self.child}={child_id!r}: {self.noun} {fid} has {self.child}s "
                f"{', '.join(c[id_key] for c in children)}"
            )
        return idx

    def add_child(
        self,
        layer: Layer,
        fid: str,
        make: Callable[[list[dict[str, Any]]], dict[str, Any]],
        *,
        derive: Callable[[list[dict[str, Any]]], Mapping[str, Any]],
        refusal: str,
        reason: str | None = None,
        user: str | None = None,
    ) -> str:
        """Add a sub-record to live record *fid* in one transaction; return the new one's id.

        Parameters
        ----------
        make : callable
            The record's current sub-records -> the new one, with its id
            (raising :class:`~geotrack.errors.ValidationError` when it is bad).
        derive : callable
            All sub-records -> the record's fields derived from them (dates, conflicts).
        refusal : str
            As in :meth:`live`.

        See the class's example.
        """
        with layer.transaction(op=f"add-{self.child}", reason=reason, user=user) as tx:
            feat, props = self.live(tx, fid, refusal=refusal)
            children = props[f"{self.child}s"]
            new = make(children)
            props[f"{self.child}s"] = [*children, new]
            props.update(derive(props[f"{self.child}s"]))
            props["updated_at"] = utc_now()
            tx.put({**feat, "properties": props})
        return new[f"{self.child}_id"]

    def retire(
        self, layer: Layer, fid: str, *, reason: str, user: str | None = None
    ) -> dict[str, Any]:
        """Retire record *fid*: a tombstone with the reason, never a silent delete.

        Raises
        ------
        DataError
            No reason given, or the record is retired already.

        See the class's example.
        """
        if not reason or not reason.strip():
            raise DataError(f"reason='': say why the {self.noun} is retired (--reason TEXT)")
        with layer.transaction(op="retire", reason=reason, user=user) as tx:
            feat = self.get(tx, fid)
            props = dict(feat["properties"])
            if props.get("retired"):
                raise DataError(
                    f"{self.key}={fid!r} is already retired ({props.get('retired_reason')})"
                )
            now = utc_now()
            props.update(retired=True, retired_reason=reason, retired_at=now, updated_at=now)
            new = {**feat, "properties": props}
            tx.put(new)
        return new


def new_record_fields(now: str, *, created_at: str | None = None) -> dict[str, Any]:
    """The life fields of a record being written: live, created (*created_at*) and updated *now*.

    Examples
    --------
    >>> new_record_fields("2026-01-02T03:04:05.000Z")["retired"]
    False
    """
    return {
        "retired": False,
        "retired_reason": None,
        "retired_at": None,
        "created_at": created_at or now,
        "updated_at": now,
    }


def not_editable(
    changes: Mapping[str, Any], allowed: Collection[str], *, row: str | None = None
) -> list[Problem]:
    """A problem for each field of *changes* that is not in *allowed*, naming the editable ones.

    Examples
    --------
    >>> [str(p) for p in not_editable({"id": "C9", "count": 3}, {"count", "notes"})]
    ["id='C9': cannot be edited: editable fields are count, notes"]
    """
    return [
        Problem(
            key,
            changes[key],
            f"cannot be edited: editable fields are {', '.join(sorted(allowed))}",
            row,
        )
        for key in sorted(set(changes) - set(allowed))
    ]


def history_problems(store: Layer, feats: list[dict[str, Any]]) -> list[Problem]:
    """A problem when the layer *feats* differs from the replay of *store*'s history.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geotrack.workspace import init_workspace
    >>> ws = init_workspace(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> history_problems(ws.crossings, ws.crossings.read())
    []
    """
    replayed = store.replay()
    current = {f["id"]: f for f in feats}
    has_history = next(store.history(skip_damaged=True), None) is not None
    if replayed == current or not (replayed or has_history):
        return []
    diff = sorted(set(replayed) ^ set(current)) or sorted(
        k for k in current if replayed.get(k) != current[k]
    )
    return [
        Problem(
            "history",
            ", ".join(diff[:5]),
            f"the {store.name} layer differs from the replay of its history for these ids: "
            "the layer was edited outside geotrack; record the edit with geotrack commands",
        )
    ]
