"""Writes to the workspace's trade files: locked, atomic, recorded in the history.

Every write takes ``<workspace>/.trade.lock``, removes temporary files left by killed
writers, appends one entry to ``trade_history.jsonl`` (the entry shape of
:class:`geotrack.store.HistoryEntry`) and then replaces the file atomically.
"""

from __future__ import annotations

__all__ = [
    "HISTORY_FILE",
    "LOCK_FILE",
    "LOCK_TIMEOUT_S",
    "add_event",
    "remove_event",
    "write_trade",
]

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import orjson

from geotrack._txn import new_entry
from geotrack.errors import (
    NotFoundError,
    StorageError,
)
from geotrack.store import (
    Change,
    append_line,
    atomic_write,
    file_lock,
    remove_stray_temp_files,
    set_aside_torn_tail,
)
from geotrack.trade.events import (
    _EVENT_ID_RE,
    EVENTS_FILE,
    Event,
    _events_text,
    _make_event,
    load_events,
)
from geotrack.trade.model import TradeRow
from geotrack.trade.table import TRADE_FILE, _assign_ids, load_trade, trade_csv_text

HISTORY_FILE = "trade_history.jsonl"
LOCK_FILE = ".trade.lock"
LOCK_TIMEOUT_S = 120.0


@contextlib.contextmanager
def _locked(ws: Path) -> Iterator[None]:
    with file_lock(ws / LOCK_FILE, timeout=LOCK_TIMEOUT_S, what=f"{ws} (trade table)"):
        for name in (TRADE_FILE, EVENTS_FILE):  # left by killed writers: never read as data
            remove_stray_temp_files(ws / name)
        yield


def _append_history(
    ws: Path, *, op: str, layer: str, changes: list[Change], reason: str | None, user: str | None
) -> int:
    """Append one entry to ``trade_history.jsonl``; return the file size before it."""
    path = ws / HISTORY_FILE
    seq = 1
    if path.exists():
        with path.open("rb") as fh:
            for line in fh:
                with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                    seq = max(seq, int(orjson.loads(line)["seq"]) + 1)
    entry = new_entry(seq, op=op, reason=reason, user=user, layer=layer, changes=changes)
    return append_line(path, orjson.dumps(entry.as_dict()) + b"\n")


def _commit(
    ws: Path,
    filename: str,
    data: bytes,
    *,
    op: str,
    layer: str,
    changes: list[Change],
    reason: str | None,
    user: str | None,
) -> None:
    """Log then write atomically; if the write fails, take the log entry back."""
    if not ws.is_dir():
        raise NotFoundError(f"{ws}: no such workspace folder; create it or pass --workspace")
    _drop_unapplied(ws)
    start = _append_history(ws, op=op, layer=layer, changes=changes, reason=reason, user=user)
    try:
        atomic_write(ws / filename, data)
    except StorageError:
        if start == 0:
            (ws / HISTORY_FILE).unlink()
        else:
            with (ws / HISTORY_FILE).open("r+b") as fh:
                fh.truncate(start)
                os.fsync(fh.fileno())
        raise


def _drop_unapplied(ws: Path) -> None:
    """Under the lock: take back a last history entry whose writer was killed before writing.

    A writer logs its change, then replaces the file.  Killed in between, it leaves an entry
    for a change that never happened: the file still holds every row as the entry's
    ``before`` has it.  Such an entry is cut off (the command never reported success), so
    the history lists only what the files hold.  An entry the files do not match either way
    (files edited by hand) is left alone; an unfinished last append is moved to
    ``trade_history.jsonl.torn`` (:func:`geotrack.store.set_aside_torn_tail`).
    """
    path = ws / HISTORY_FILE
    if set_aside_torn_tail(path):
        return
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    start = data.rfind(b"\n", 0, len(data) - 1 if data.endswith(b"\n") else len(data)) + 1
    try:
        entry = orjson.loads(data[start:])
        layer, changes = entry["layer"], entry["changes"]
        if layer == "trade":
            held = {r.row_id: r.to_record() for r in load_trade(ws)}
        elif layer == "events":
            held = {e.event_id: e.as_dict() for e in load_events(ws)}
        else:
            return
        applied = all(held.get(c["id"]) == c["after"] for c in changes)
        never = all(held.get(c["id"]) == c["before"] for c in changes)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return
    if applied or not never:
        return
    with path.open("r+b") as fh:
        fh.truncate(start)
        os.fsync(fh.fileno())


def write_trade(
    ws_path: str | os.PathLike[str],
    rows: Sequence[TradeRow],
    *,
    op: str = "trade.write",
    reason: str | None = None,
    user: str | None = None,
) -> None:
    """Replace the workspace's trade table with *rows* (locked, atomic, logged).

    The history entry lists every row added, changed or removed.  Prefer
    :func:`import_trade`, which never removes a row.

    Examples
    --------
    >>> import tempfile
    >>> ws = tempfile.mkdtemp()
    >>> from decimal import Decimal
    >>> write_trade(ws, [TradeRow("2025-11", Decimal("281"), source="X")], reason="example")
    >>> [r.row_id for r in load_trade(ws)]
    ['T0001']
    """
    ws = Path(ws_path)
    rows = _assign_ids(list(rows))
    with _locked(ws):
        old = {r.row_id: r for r in load_trade(ws)}
        _write_rows_locked(ws, old, rows, op=op, reason=reason, user=user)


def _write_rows_locked(
    ws: Path,
    old: Mapping[str, TradeRow],
    rows: Sequence[TradeRow],
    *,
    op: str,
    reason: str | None,
    user: str | None,
) -> None:
    new = {r.row_id: r for r in rows}
    changes = []
    for rid in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(rid), new.get(rid)
        if before != after:
            changes.append(
                Change(
                    rid,
                    before.to_record() if before else None,
                    after.to_record() if after else None,
                )
            )
    if not changes and (ws / TRADE_FILE).exists():
        return
    data = trade_csv_text(rows).encode("utf-8")
    _commit(ws, TRADE_FILE, data, op=op, layer="trade", changes=changes, reason=reason, user=user)


def add_event(
    ws_path: str | os.PathLike[str],
    *,
    date: str,
    label: str,
    source: str,
    source_url: str = "",
    note: str = "",
    reason: str | None = None,
    user: str | None = None,
) -> Event:
    """Add an event (``date`` as ``YYYY-MM-DD``, or ``YYYY-MM`` when no day is cited).

    Examples
    --------
    >>> import tempfile
    >>> ws = tempfile.mkdtemp()
    >>> add_event(ws, date="2025-09", label="Summit", source="Paper, 2025-12-19").event_id
    'E1'
    """
    ws = Path(ws_path)
    with _locked(ws):
        events = load_events(ws)
        nums = [int(m.group(1)) for e in events if (m := _EVENT_ID_RE.match(e.event_id))]
        ev = _make_event(
            event_id=f"E{max(nums, default=0) + 1}",
            date_text=date,
            label=label,
            source=source,
            source_url=source_url,
            note=note,
            where=None,
        )
        _commit(
            ws,
            EVENTS_FILE,
            _events_text([*events, ev]).encode("utf-8"),
            op="events.add",
            layer="events",
            changes=[Change(ev.event_id, None, ev.as_dict())],
            reason=reason,
            user=user,
        )
    return ev


def remove_event(
    ws_path: str | os.PathLike[str],
    event_id: str,
    *,
    reason: str | None = None,
    user: str | None = None,
) -> Event:
    """Remove event *event_id*; the history keeps what it was.

    Raises
    ------
    NotFoundError
        No such event.

    Examples
    --------
    >>> import tempfile
    >>> ws = tempfile.mkdtemp()
    >>> ev = add_event(ws, date="2025-09", label="Summit", source="Paper")
    >>> remove_event(ws, ev.event_id).label, load_events(ws)
    ('Summit', [])
    """
    ws = Path(ws_path)
    with _locked(ws):
        events = load_events(ws)
        gone = next((e for e in events if e.event_id == event_id), None)
        if gone is None:
            ids = ", ".join(e.event_id for e in events) or "none"
            raise NotFoundError(
                f"event_id={event_id!r}: no such event (events: {ids}); "
                "`geotrack trade events list` shows them"
            )
        _commit(
            ws,
            EVENTS_FILE,
            _events_text([e for e in events if e is not gone]).encode("utf-8"),
            op="events.remove",
            layer="events",
            changes=[Change(gone.event_id, gone.as_dict(), None)],
            reason=reason,
            user=user,
        )
    return gone
