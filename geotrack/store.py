"""The folder store: one layer on disk with lock, atomic write, append-only history, undo.

The folder implementation of the storage contract (:mod:`geotrack.storage`):
:class:`FolderStore` is a workspace folder, and a :class:`LayerStore` keeps a GeoJSON FeatureCollection (``<name>.geojson``)
and its history (``history.jsonl``).  The history is also the write-ahead log:

1. take an exclusive lock (``fcntl.flock`` through :mod:`filelock`: the
   kernel drops it when its process dies, so a dead writer never blocks and
   a live one is never broken);
2. roll forward any history entry a crashed writer appended but did not apply;
3. append the new entry (who, when, what, why, before/after of every feature)
   and ``fsync`` it;
4. write the layer to a temporary file, ``fsync``, ``rename`` over the old
   one, ``fsync`` the folder.  The layer records the history size it reflects.

Readers never lock: a rename is atomic, so they see the old or the new file,
never half of one.  No line of the history is ever rewritten or dropped: a line
that cannot be read is reported by line number (:func:`history_problems`) and an
append always starts on a new line.  The file helpers (:mod:`geotrack.files`) and the
history file (:mod:`geotrack.history_file`) live in their own modules; their names, and
those of :mod:`geotrack._txn` other modules import from here, are re-exported.
"""

from __future__ import annotations

__all__ = [
    "LOCK_TIMEOUT_S",
    "Change",
    "FolderStore",
    "HistoryEntry",
    "LayerStore",
    "Transaction",
    "append_line",
    "atomic_path",
    "atomic_write",
    "current_user",
    "file_lock",
    "history_problems",
    "remove_stray_temp_files",
    "scan_history",
    "set_aside_torn_tail",
    "stray_temp_files",
    "utc_now",
]

import contextlib
import gc
import logging
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from geotrack._txn import (
    LOCK_TIMEOUT_S,
    StagedFeatures,
    StagedTransaction,
    current_user,
    encode,
    new_entry,
    readable_entries,
    replay,
    stage_undo,
    utc_now,
)
from geotrack.errors import DataError, LockError, Problem, StorageError
from geotrack.files import (
    append_line,
    atomic_path,
    atomic_write,
    file_lock,
    remove_stray_temp_files,
    stray_temp_files,
)
from geotrack.geojson import dumps_feature, loads
from geotrack.history_file import history_problems, scan_history, set_aside_torn_tail
from geotrack.storage import Change, HistoryEntry, LayerKind, Recovery, entry_from_line, layer_kind

log = logging.getLogger(__name__)

_ID_PREFIX = re.compile(rb'^\{"type":"Feature","id":("(?:[^"\\]|\\.)*")')


class _Features(StagedFeatures):
    """Features by id, parsed from their stored line only when asked for."""

    def __init__(self, raw: dict[str, bytes]) -> None:
        super().__init__()
        self.raw = raw

    def _stored_ids(self) -> Collection[str]:
        return self.raw

    def _has_stored(self, fid: str) -> bool:
        return fid in self.raw

    def _stored(self, fid: str) -> dict[str, Any] | None:
        if fid not in self.raw:
            return None
        feat = orjson.loads(self.raw[fid])
        self.staged[fid] = feat
        return feat


class Transaction(StagedTransaction):
    """The features of a layer as seen under the lock; changes are staged here.

    Use :meth:`get`, :meth:`put` and :meth:`remove`; ``tx.features`` maps ids
    to features.  Nothing reaches the disk until the ``with`` block of
    :meth:`LayerStore.transaction` ends without an error.
    """

    features: _Features

    def __init__(
        self,
        raw: dict[str, bytes],
        order: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        kind: LayerKind | None = None,
        last_id: int = 0,
    ):
        super().__init__(_Features(raw), order=order)
        self._kind = kind or LayerKind("layer")
        self.last_id = max([last_id, *(self._kind.number_of(k) or 0 for k in raw)])

    def put(self, feature: dict[str, Any]) -> None:
        """Add or replace a feature (by its ``id``)."""
        super().put(feature)
        self.reserve_ids([feature["id"]])

    def new_ids(self, n: int) -> list[str]:
        """*n* ids never given before in this layer (the counter only grows).

        Raises
        ------
        DataError
            The ids would pass the id pattern's 9 digits.
        """
        ids = [self._kind.make_id(self.last_id + i) for i in range(1, n + 1)]
        self.last_id += n
        return ids

    def reserve_ids(self, ids: Iterable[str]) -> None:
        """Make the counter pass *ids* (ids an import keeps), so no later id repeats them."""
        self.last_id = max([self.last_id, *(self._kind.number_of(i) or 0 for i in ids)])

    def lines(self) -> dict[str, bytes]:
        """Every feature as its stored line: untouched ones as read, changed ones re-encoded."""
        out = dict(self.features.raw)
        for fid, feat in self.features.staged.items():
            if fid not in self._before:
                continue
            if feat is None:
                out.pop(fid, None)
            else:
                out[fid] = dumps_feature(feat)
        return out


class LayerStore:
    """A GeoJSON layer with a lock, atomic writes and an append-only history.

    The folder implementation of :class:`geotrack.storage.Layer`.

    Parameters
    ----------
    folder : Path
        The workspace folder.
    name : str
        The layer name; the file is ``<folder>/<name>.geojson``.
    history : str, optional
        File name of the layer's history in *folder* (default: the kind's).
    order : callable, optional
        Maps a feature to the dict actually written (default: the kind's).
    kind : LayerKind, optional
        Default: the kind registered as *name* (see :func:`geotrack.storage.layer_kind`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = LayerStore(pathlib.Path(tempfile.mkdtemp()), "things")
    >>> with store.transaction(op="add", reason="example") as tx:
    ...     tx.put({"type": "Feature", "id": "A-0001", "geometry": None, "properties": {}})
    >>> [f["id"] for f in store.read()]
    ['A-0001']
    >>> [e.op for e in store.history()]
    ['add']
    """

    def __init__(
        self,
        folder: Path,
        name: str,
        *,
        history: str | None = None,
        order: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        lock_timeout: float = LOCK_TIMEOUT_S,
        kind: LayerKind | None = None,
    ) -> None:
        self.kind = kind or layer_kind(name)
        self.folder = Path(folder)
        self.name = name
        self.path = self.folder / f"{name}.geojson"
        self.history_path = self.folder / (history or self.kind.history)
        self.lock_path = self.folder / f".{name}.lock"
        self._order = order or self.kind.order
        self._lock_timeout = lock_timeout

    def describe(self) -> str:
        """The layer's file, for messages."""
        return str(self.path)

    # -- reading ---------------------------------------------------------
    def _read_bytes(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"could not read {self.path}: {exc.strerror}") from exc

    def _parse(self, data: bytes) -> dict[str, Any]:
        # Parsing builds millions of small objects and none are cyclic garbage:
        # pausing the collector makes reading 100,000 crossings ~3x faster.
        enabled = gc.isenabled()
        gc.disable()
        try:
            doc = loads(data, what=str(self.path))
        finally:
            if enabled:
                gc.enable()
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise DataError(f"{self.path} is not a GeoJSON FeatureCollection")
        if not isinstance(doc.get("features"), list):
            raise DataError(f"{self.path}: the FeatureCollection has no 'features' list")
        return doc

    def _load(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The layer's metadata and each feature's stored line, by id.

        Files written by geotrack have one feature per line, each starting
        with its id, so a change to one feature parses only that feature.
        Anything else (a file edited by hand, a truncated file) is parsed whole.
        """
        data = self._read_bytes()
        if not data:
            return {}, {}
        head, _, body = data.partition(b"\n")
        if head.endswith(b'"features":[') and data.endswith(b"]}\n"):
            try:
                meta = orjson.loads(head + b"]}").get("geotrack") or {}
            except orjson.JSONDecodeError:
                meta = None
            if meta is not None:
                raw: dict[str, bytes] = {}
                for line in body.split(b"\n"):
                    line = line.rstrip(b",")
                    if line in (b"", b"]}"):
                        continue
                    m = _ID_PREFIX.match(line)
                    if m is None:
                        break
                    raw[orjson.loads(m.group(1))] = line
                else:
                    return meta, raw
        doc = self._parse(data)
        raw = {}
        for f in doc["features"]:
            fid = f.get("id") if isinstance(f, dict) else None
            if not isinstance(fid, str):
                raise DataError(f"{self.path}: every feature needs a string id; found {fid!r}")
            raw[fid] = dumps_feature(self._order(f))
        return doc.get("geotrack") or {}, raw

    def read(self) -> list[dict[str, Any]]:
        """All features as stored, sorted by id (no lock taken).

        Raises
        ------
        DataError
            The file is not a FeatureCollection.
        """
        data = self._read_bytes()
        return [] if not data else self._parse(data)["features"]

    def is_empty(self) -> bool:
        """No feature in the layer and no entry of it in the history."""
        return not self.read() and not any(
            e is not None and e.layer == self.name for _, e, _ in scan_history(self.history_path)
        )

    def read_one(self, fid: str) -> dict[str, Any] | None:
        """One feature by id, or None; parses only its line in a file geotrack wrote.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> store = LayerStore(pathlib.Path(tempfile.mkdtemp()), "things")
        >>> with store.transaction(op="add") as tx:
        ...     tx.put({"type": "Feature", "id": "A-0001", "geometry": None, "properties": {}})
        >>> store.read_one("A-0001")["id"], store.read_one("A-0002")
        ('A-0001', None)
        """
        data = self._read_bytes()
        if data is None:
            return None
        key = b'\n{"type":"Feature","id":' + orjson.dumps(fid) + b","
        at = data.find(key)
        if at >= 0 and data.startswith(b'"features":[', data.find(b"\n") - 12):
            end = data.find(b"\n", at + 1)
            return orjson.loads(data[at + 1 : end].rstrip(b","))
        line = self._load()[1].get(fid)  # a file written by hand: parse it all
        return None if line is None else orjson.loads(line)

    def ensure_exists(self) -> None:
        """Write an empty layer if the file does not exist yet."""
        with self.lock():
            if not self.path.exists():
                self._write_lines({}, seq=0, history_bytes=0, last_id=0)

    def history(self, fid: str | None = None, *, skip_damaged: bool = False):
        """History entries of this layer, oldest first, optionally for one id.

        Raises
        ------
        DataError
            A line is damaged (named by its number), unless *skip_damaged*: then
            damaged lines are passed over (report them with :meth:`check_history`).
        """
        fix = (
            ". The history cannot be read reliably; nothing was changed. "
            "Restore the file from a backup; `geotrack validate` lists every damaged line"
        )
        scanned = scan_history(self.history_path)
        for entry in readable_entries(scanned, skip_damaged=skip_damaged, fix=fix):
            if entry.layer != self.name:
                continue
            if fid is None or any(c.id == fid for c in entry.changes):
                yield entry

    def check_history(self) -> list[Problem]:
        """Every damaged or out-of-order line of the history file, by line number."""
        return history_problems(self.history_path)

    def replay(self) -> dict[str, dict[str, Any]]:
        """Rebuild the layer from its history alone (for consistency checks)."""
        return replay(self.history(skip_damaged=True))

    # -- writing ---------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the layer's exclusive lock (waits up to the lock timeout)."""
        with file_lock(self.lock_path, timeout=self._lock_timeout, what=str(self.path)):
            yield

    def _tx(self, meta: Mapping[str, Any], raw: dict[str, bytes]) -> Transaction:
        last = meta.get("last_id")
        if last is None:  # a layer written before ids were counted: count the history's ids
            last = max(
                (
                    self.kind.number_of(c.id) or 0
                    for e in self.history(skip_damaged=True)
                    for c in e.changes
                ),
                default=0,
            )
        return Transaction(raw, self._order, kind=self.kind, last_id=int(last))

    @contextlib.contextmanager
    def transaction(self, *, op: str, reason: str | None = None, user: str | None = None):
        """Lock, load, let the caller stage changes, then log and write them.

        If the ``with`` block raises, nothing is written.  An operation that
        changes nothing writes nothing.

        Yields
        ------
        Transaction
        """
        with self.lock():
            meta, raw, _ = self._recover()
            tx = self._tx(meta, raw)
            yield tx
            changes = tx.changes
            if changes:
                self._commit(meta, tx, op=op, reason=reason, user=user, changes=changes)

    def undo(
        self, *, op: int | None = None, user: str | None = None, reason: str | None = None
    ) -> HistoryEntry:
        """Revert *user*'s latest change, or operation *op*, with a compensating entry.

        See :func:`geotrack.storage.plan_undo` for the rule.

        Returns
        -------
        HistoryEntry
            The undo entry written (``op='undo'``, ``undoes`` = the reverted seq).
        """
        user = user or current_user()
        with self.lock():
            meta, raw, _ = self._recover()
            tx = self._tx(meta, raw)
            entries = list(self.history())
            undoes, reason = stage_undo(
                tx, entries, tx.features, user=user, op=op, reason=reason, layer=self.name
            )
            return self._commit(
                meta, tx, op="undo", reason=reason, user=user, changes=tx.changes, undoes=undoes
            )

    def recover(self) -> Recovery:
        """Apply history entries a crashed writer logged but did not write.

        Returns
        -------
        Recovery
            How many entries were rolled forward, and whether the layer file was
            missing or empty and was rebuilt from the history (then logged as a warning).
        """
        with self.lock():
            return self._recover()[2]

    def recover_if_writable(self) -> Recovery:
        """:meth:`recover`, or nothing on a folder we may only read (a read-only mount).

        A checker can then check such a layer as it is: a write that a killed process
        left unfinished shows as a layer that differs from the replay of its history.

        Returns
        -------
        Recovery
            What was done (nothing when read-only).
        """
        try:
            return self.recover()
        except LockError:
            raise
        except StorageError as exc:
            writable = os.access(self.path.parent, os.W_OK)
            if writable and not isinstance(exc.__cause__, PermissionError):
                raise
            log.info("%s is read-only: checked without completing unfinished writes", self.path)
            return Recovery()

    def _recover(self) -> tuple[dict[str, Any], dict[str, bytes], Recovery]:
        """Under the lock: roll forward logged-but-unwritten entries.

        An unfinished last append (no newline, not an entry) is moved to
        ``<history>.torn`` (see :func:`set_aside_torn_tail`); a damaged line before
        it is refused, never skipped.
        """
        data = self._read_bytes()
        missing = not data
        meta, raw = self._load()
        applied = int(meta.get("history_bytes", 0))
        remove_stray_temp_files(self.path)  # under the lock, so their writers are dead
        try:
            size = self.history_path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size <= applied:
            return meta, raw, Recovery()
        with self.history_path.open("rb") as fh:
            fh.seek(max(applied - 1, 0))
            tail = fh.read()
        if applied and not tail.startswith(b"\n"):
            raise self._mismatch(f"history_bytes={applied} is not the end of an entry")
        tail = tail[1:] if applied else tail
        good = 0
        pending: list[HistoryEntry] = []
        lines = tail.splitlines(keepends=True)
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            try:
                entry = entry_from_line(line, lineno=i + 1, what="history")
            except DataError:
                if last and not line.endswith(b"\n") and set_aside_torn_tail(self.history_path):
                    break  # an unfinished append, never applied: kept in <history>.torn
                raise self._mismatch(
                    f"entry {i + 1} after the last applied one is not a complete history entry"
                ) from None
            good += len(line)
            if entry.layer == self.name:
                pending.append(entry)
        if not pending:
            return meta, raw, Recovery()
        tx = self._tx(meta, raw)
        for entry in pending:
            for c in entry.changes:
                tx.reserve_ids([c.id])
                if c.after is None:
                    raw.pop(c.id, None)
                else:
                    raw[c.id] = dumps_feature(self._order(c.after))
        meta = {
            "seq": pending[-1].seq,
            "history_bytes": applied + good,
            "last_id": tx.last_id,
        }
        self._write_lines(raw, **meta)
        message = None
        if missing and applied == 0:
            message = (
                f"{self.path.name} was missing or empty: rebuilt it from {self.history_path.name} "
                f"({len(pending)} entries, {len(raw)} features); check it with `geotrack validate`"
            )
            log.warning("%s", message)
        return meta, raw, Recovery(len(pending), missing and applied == 0, message)

    def _mismatch(self, what: str) -> DataError:
        return DataError(
            f"{self.history_path.name} does not continue {self.path.name} ({what}): the files "
            "were edited, merged or restored outside geotrack. Nothing was changed; restore both "
            "files from the same commit or backup, then run `geotrack validate`."
        )

    def _commit(self, meta, tx, *, op, reason, user, changes, undoes=None) -> HistoryEntry:
        entry = new_entry(
            self._next_seq(meta),
            op=op,
            reason=reason,
            user=user,
            layer=self.name,
            changes=changes,
            undoes=undoes,
        )
        line = encode(entry.as_dict()) + b"\n"
        start = append_line(self.history_path, line)
        end = self.history_path.stat().st_size
        try:
            self._write_lines(tx.lines(), seq=entry.seq, history_bytes=end, last_id=tx.last_id)
        except StorageError:
            # The entry is logged but the layer was not replaced: take the entry back.
            with self.history_path.open("r+b") as fh:
                fh.truncate(start)
                os.fsync(fh.fileno())
            raise
        return entry

    def _next_seq(self, meta: Mapping[str, Any]) -> int:
        seq = int(meta.get("seq", 0))
        if seq == 0 and self.history_path.exists():
            # A layer file written by hand or an older version: continue the history.
            seq = max((e.seq for _, e, _ in scan_history(self.history_path) if e), default=0)
        return seq + 1

    def load(self, features: Sequence[dict[str, Any]], entries: Sequence[HistoryEntry]) -> None:
        """Fill this empty layer with *features* and *entries* as they are (``store copy``).

        Raises
        ------
        StorageError
            The layer already holds features or history.
        """
        with self.lock():
            if not self.is_empty():
                raise StorageError(f"{self.path} is not empty: nothing was copied into it")
            lines = b"".join(orjson.dumps(e.as_dict()) + b"\n" for e in entries)
            if lines:
                append_line(self.history_path, lines)
            end = self.history_path.stat().st_size if self.history_path.exists() else 0
            raw = {f["id"]: dumps_feature(self._order(f)) for f in features}
            tx = Transaction(raw, self._order, kind=self.kind)
            tx.reserve_ids(c.id for e in entries for c in e.changes)
            seq = max((e.seq for e in entries), default=0)
            self._write_lines(raw, seq=seq, history_bytes=end, last_id=tx.last_id)

    def _write_lines(
        self, lines: Mapping[str, bytes], *, seq: int, history_bytes: int, last_id: int
    ) -> None:
        head = orjson.dumps(
            {
                "type": "FeatureCollection",
                "name": self.name,
                "geotrack": {"seq": seq, "history_bytes": history_bytes, "last_id": last_id},
            }
        )
        body = b",\n".join(lines[k] for k in sorted(lines))
        data = head[:-1] + b',"features":[\n' + body + (b"\n]}\n" if body else b"]}\n")
        atomic_write(self.path, data)

    def stray_temp_files(self) -> list[Path]:
        """Temporary files left by killed writers (never read as layers)."""
        return stray_temp_files(self.path)


class FolderStore:
    """The folder implementation of :class:`geotrack.storage.Store`: one workspace folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> FolderStore(pathlib.Path(tempfile.mkdtemp())).layer("crossings").name
    'crossings'
    """

    def __init__(self, folder: Path, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.folder = Path(folder)
        self._lock_timeout = lock_timeout
        self._layers: dict[str, LayerStore] = {}

    def describe(self) -> str:
        """The folder, for messages."""
        return f"folder {self.folder}"

    def layer(self, name: str) -> LayerStore:
        """The layer *name* of this folder (one object per name)."""
        if name not in self._layers:
            self._layers[name] = LayerStore(self.folder, name, lock_timeout=self._lock_timeout)
        return self._layers[name]
