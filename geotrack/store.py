"""One layer on disk: lock, atomic write, append-only history, undo.

A :class:`LayerStore` keeps a GeoJSON FeatureCollection (``<name>.geojson``)
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
never half of one.  This is the one storage interface; a shared PostGIS store
would implement the same methods.
"""

from __future__ import annotations

__all__ = [
    "Change",
    "HistoryEntry",
    "LayerStore",
    "Transaction",
    "append_line",
    "atomic_path",
    "atomic_write",
    "current_user",
    "file_lock",
    "remove_stray_temp_files",
    "stray_temp_files",
    "utc_now",
]

import contextlib
import gc
import getpass
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import orjson

from geotrack.errors import DataError, LockError, NotFoundError, StorageError
from geotrack.geojson import dumps_feature, loads

log = logging.getLogger(__name__)

#: Seconds a writer waits for the lock before giving up with a LockError.
LOCK_TIMEOUT_S = 120.0
_TMP_PREFIX = ".tmp-"
_ID_PREFIX = re.compile(rb'^\{"type":"Feature","id":("(?:[^"\\]|\\.)*")')


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside *path* that replaces it when the block succeeds.

    For writers that need a file name (rasterio, fiona): write to the yielded
    path; on success it is fsynced, given the mode a plain write would give
    (``mkstemp`` makes files private), renamed over *path*, and the folder is
    fsynced.  On any error the temporary file is removed and *path* is untouched.

    Raises
    ------
    StorageError
        The write or the rename failed; the message names the path and the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(p) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> p.read_text()
    'hello'
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(
            prefix=f"{_TMP_PREFIX}{path.name}.", suffix=suffix, dir=path.parent
        )
        os.close(fd)
        tmp = Path(name)
        yield tmp
        os.chmod(tmp, _file_mode(path))
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(
            f"could not write {path}: {exc.strerror or exc}; the previous file is unchanged. "
            "Free disk space or fix permissions and try again."
        ) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write *data* to *path* through a temporary file, fsync and rename.

    On any failure (disk full, permission) the previous file is untouched and
    the temporary file is removed (see :func:`atomic_path`).

    Raises
    ------
    StorageError
        The write failed; the message names the path and the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(p, b"hello"); p.read_bytes()
    b'hello'
    """
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        fh.write(data)


def stray_temp_files(path: Path) -> list[Path]:
    """Temporary files that :func:`atomic_path` made for *path* and a killed writer left.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> stray_temp_files(pathlib.Path(tempfile.mkdtemp()) / "a.csv")
    []
    """
    path = Path(path)
    return sorted(path.parent.glob(f"{_TMP_PREFIX}{path.name}.*"))


def remove_stray_temp_files(path: Path) -> None:
    """Remove :func:`stray_temp_files` of *path*; call it only while holding *path*'s lock."""
    for tmp in stray_temp_files(path):
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on *path*: released by the kernel if this process dies.

    Raises
    ------
    LockError
        Another live process held it for *timeout* seconds (it is never broken).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with file_lock(pathlib.Path(tempfile.mkdtemp()) / ".x.lock", timeout=1, what="x"):
    ...     pass
    """
    lock = filelock.FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockError(
            f"{what}: another geotrack process has held the lock for {timeout:.0f} s; "
            "wait for it to finish and try again"
        ) from None
    except OSError as exc:
        raise StorageError(f"could not lock {path}: {exc.strerror}") from exc
    try:
        yield
    finally:
        lock.release()


def append_line(path: Path, line: bytes) -> int:
    """Append one history line and fsync it; return the file's size before it.

    A failed append is taken back (the file is truncated, or removed if this
    append created it), so the history never holds a torn line it reported.

    Raises
    ------
    StorageError
        The append failed; nothing was changed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.jsonl"
    >>> append_line(p, b"{}\\n"), append_line(p, b"{}\\n")
    (0, 3)
    """
    created = not path.exists()
    try:
        with path.open("ab") as fh:
            start = fh.tell()
            try:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError:
                fh.truncate(start)
                raise
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise StorageError(
            f"could not append to {path}: {exc.strerror}; nothing was changed. "
            "Free disk space or fix permissions and try again."
        ) from exc
    return start


@dataclass(frozen=True)
class Change:
    """A feature before and after one operation (``None`` = absent)."""

    id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``history.jsonl``."""

    seq: int
    time: str
    user: str
    op: str
    reason: str | None
    layer: str
    changes: list[Change]
    undoes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The entry as written to the history file."""
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
        """Read an entry written by :meth:`as_dict`."""
        return cls(
            seq=d["seq"],
            time=d["time"],
            user=d["user"],
            op=d["op"],
            reason=d.get("reason"),
            layer=d["layer"],
            undoes=d.get("undoes"),
            changes=[Change(c["id"], c["before"], c["after"]) for c in d["changes"]],
        )


class _Features(Mapping[str, dict[str, Any]]):
    """Features by id, parsed from their stored line only when asked for."""

    def __init__(self, raw: dict[str, bytes]) -> None:
        self.raw = raw
        self.parsed: dict[str, dict[str, Any] | None] = {}

    def __getitem__(self, fid: str) -> dict[str, Any]:
        if fid in self.parsed:
            feat = self.parsed[fid]
            if feat is None:
                raise KeyError(fid)
            return feat
        feat = orjson.loads(self.raw[fid])
        self.parsed[fid] = feat
        return feat

    def __contains__(self, fid: object) -> bool:
        if fid in self.parsed:
            return self.parsed[fid] is not None
        return fid in self.raw

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self.raw if self.parsed.get(k, True) is not None)
        yield from (k for k, v in self.parsed.items() if v is not None and k not in self.raw)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Transaction:
    """The features of a layer as seen under the lock; changes are staged here.

    Use :meth:`get`, :meth:`put` and :meth:`remove`; ``tx.features`` maps ids
    to features.  Nothing reaches the disk until the ``with`` block of
    :meth:`LayerStore.transaction` ends without an error.
    """

    def __init__(self, raw: dict[str, bytes], order: Callable[[dict[str, Any]], dict[str, Any]]):
        self.features = _Features(raw)
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
        self.features.parsed[fid] = self._order(feature)

    def remove(self, fid: str) -> None:
        """Remove a feature (used by undo of an add; everything else retires)."""
        self._remember(fid)
        self.features.parsed[fid] = None

    @property
    def changes(self) -> list[Change]:
        """Staged changes, in the order first touched."""
        out = []
        for fid, before in self._before.items():
            after = self.features.parsed[fid]
            if before != after:
                out.append(Change(fid, before, after))
        return out

    def lines(self) -> dict[str, bytes]:
        """Every feature as its stored line: untouched ones as read, changed ones re-encoded."""
        out = dict(self.features.raw)
        for fid, feat in self.features.parsed.items():
            if fid not in self._before:
                continue
            if feat is None:
                out.pop(fid, None)
            else:
                out[fid] = dumps_feature(feat)
        return out


class LayerStore:
    """A GeoJSON layer with a lock, atomic writes and an append-only history.

    Parameters
    ----------
    folder : Path
        The workspace folder.
    name : str
        The layer name; the file is ``<folder>/<name>.geojson``.
    history : str
        File name of the layer's own history in *folder* (one history per layer).
    order : callable, optional
        Maps a feature to the dict actually written (fixes key order, rounding).

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
        history: str = "history.jsonl",
        order: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        lock_timeout: float = LOCK_TIMEOUT_S,
    ) -> None:
        self.folder = Path(folder)
        self.name = name
        self.path = self.folder / f"{name}.geojson"
        self.history_path = self.folder / history
        self.lock_path = self.folder / f".{name}.lock"
        self._order = order or (lambda f: f)
        self._lock_timeout = lock_timeout

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
        Anything else (a file edited by hand) is parsed whole.
        """
        data = self._read_bytes()
        if data is None:
            return {}, {}
        head, _, body = data.partition(b"\n")
        if head.endswith(b'"features":['):
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
        return [] if data is None else self._parse(data)["features"]

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
                self._write_lines({}, seq=0, history_bytes=0)

    def history(self, fid: str | None = None) -> Iterator[HistoryEntry]:
        """History entries of this layer, oldest first, optionally for one id.

        A torn last line (a writer killed mid-append, never applied) is skipped.
        """
        try:
            fh = self.history_path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break
                try:
                    d = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if d.get("layer") != self.name:
                    continue
                entry = HistoryEntry.from_dict(d)
                if fid is None or any(c.id == fid for c in entry.changes):
                    yield entry

    def replay(self) -> dict[str, dict[str, Any]]:
        """Rebuild the layer from its history alone (for consistency checks)."""
        features: dict[str, dict[str, Any]] = {}
        for entry in self.history():
            for c in entry.changes:
                if c.after is None:
                    features.pop(c.id, None)
                else:
                    features[c.id] = c.after
        return features

    # -- writing ---------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the layer's exclusive lock (waits up to the lock timeout)."""
        with file_lock(self.lock_path, timeout=self._lock_timeout, what=str(self.path)):
            yield

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
            tx = Transaction(raw, self._order)
            yield tx
            changes = tx.changes
            if changes:
                self._commit(meta, tx, op=op, reason=reason, user=user, changes=changes)

    def undo(self, *, user: str | None = None, reason: str | None = None) -> HistoryEntry:
        """Revert the latest operation that is not an undo and not already undone.

        Returns
        -------
        HistoryEntry
            The undo entry written (``op='undo'``, ``undoes`` = the reverted seq).
        """
        with self.lock():
            meta, raw, _ = self._recover()
            entries = list(self.history())
            undone = {e.undoes for e in entries if e.op == "undo"}
            target = next(
                (e for e in reversed(entries) if e.op != "undo" and e.seq not in undone), None
            )
            if target is None:
                raise NotFoundError(f"{self.name}: nothing to undo")
            tx = Transaction(raw, self._order)
            for c in target.changes:
                now = tx.features.get(c.id)
                if now != c.after:
                    raise DataError(
                        f"id={c.id!r} changed again after operation {target.seq} ({target.op}); "
                        "undo the later operations first"
                    )
                if c.before is None:
                    tx.remove(c.id)
                else:
                    tx.put(c.before)
            return self._commit(
                meta,
                tx,
                op="undo",
                reason=reason or f"undo of operation {target.seq} ({target.op})",
                user=user,
                changes=tx.changes,
                undoes=target.seq,
            )

    def recover(self) -> int:
        """Apply history entries a crashed writer logged but did not write.

        Returns
        -------
        int
            The number of entries rolled forward.
        """
        with self.lock():
            return self._recover()[2]

    def recover_if_writable(self) -> int:
        """:meth:`recover`, or nothing on a folder we may only read (a read-only mount).

        A checker can then check such a layer as it is: a write that a killed process
        left unfinished shows as a layer that differs from the replay of its history.

        Returns
        -------
        int
            The number of entries rolled forward (0 when read-only).
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
            return 0

    def _recover(self) -> tuple[dict[str, Any], dict[str, bytes], int]:
        """Under the lock: roll forward logged-but-unwritten entries, drop a torn tail."""
        meta, raw = self._load()
        applied = int(meta.get("history_bytes", 0))
        remove_stray_temp_files(self.path)  # under the lock, so their writers are dead
        try:
            size = self.history_path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size <= applied:
            return meta, raw, 0
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
            try:
                if not line.endswith(b"\n"):
                    raise ValueError("torn")
                d = orjson.loads(line)
                entry = HistoryEntry.from_dict(d) if d.get("layer") == self.name else None
            except (ValueError, KeyError, TypeError, AttributeError):
                if i == len(lines) - 1 and not line.endswith(b"\n"):
                    break  # a torn last append (its writer was killed): cut it off below
                raise self._mismatch(
                    f"entry {i + 1} after the last applied one is not a complete history entry"
                ) from None
            good += len(line)
            if entry is not None:
                pending.append(entry)
        if good < len(tail):  # a torn append that was never applied: cut it off
            with self.history_path.open("r+b") as fh:
                fh.truncate(applied + good)
                os.fsync(fh.fileno())
        for entry in pending:
            for c in entry.changes:
                if c.after is None:
                    raw.pop(c.id, None)
                else:
                    raw[c.id] = dumps_feature(self._order(c.after))
        meta = {
            "seq": pending[-1].seq if pending else meta.get("seq", 0),
            "history_bytes": applied + good,
        }
        self._write_lines(raw, **meta)
        return meta, raw, len(pending)

    def _mismatch(self, what: str) -> DataError:
        return DataError(
            f"{self.history_path.name} does not continue {self.path.name} ({what}): the files "
            "were edited, merged or restored outside geotrack. Nothing was changed; restore both "
            "files from the same commit or backup, then run `geotrack validate`."
        )

    def _commit(self, meta, tx, *, op, reason, user, changes, undoes=None) -> HistoryEntry:
        entry = HistoryEntry(
            seq=self._next_seq(meta),
            time=utc_now(),
            user=user or current_user(),
            op=op,
            reason=reason,
            layer=self.name,
            changes=changes,
            undoes=undoes,
        )
        try:
            line = orjson.dumps(entry.as_dict()) + b"\n"
        except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate from undecodable argv bytes
            raise DataError(
                f"the change cannot be stored: {exc} (a text such as --reason holds characters "
                "that are not valid Unicode); re-type it as UTF-8. Nothing was changed."
            ) from None
        end = append_line(self.history_path, line) + len(line)
        try:
            self._write_lines(tx.lines(), seq=entry.seq, history_bytes=end)
        except StorageError:
            # The entry is logged but the layer was not replaced: take the entry back.
            with self.history_path.open("r+b") as fh:
                fh.truncate(end - len(line))
                os.fsync(fh.fileno())
            raise
        return entry

    def _next_seq(self, meta: Mapping[str, Any]) -> int:
        seq = int(meta.get("seq", 0))
        if seq == 0 and self.history_path.exists():
            # A layer file written by hand or an older version: continue the history.
            seq = max((e.seq for e in self.history()), default=0)
        return seq + 1

    def _write_lines(self, lines: Mapping[str, bytes], *, seq: int, history_bytes: int) -> None:
        head = orjson.dumps(
            {
                "type": "FeatureCollection",
                "name": self.name,
                "geotrack": {"seq": seq, "history_bytes": history_bytes},
            }
        )
        body = b",\n".join(lines[k] for k in sorted(lines))
        data = head[:-1] + b',"features":[\n' + body + (b"\n]}\n" if body else b"]}\n")
        atomic_write(self.path, data)

    def stray_temp_files(self) -> list[Path]:
        """Temporary files left by killed writers (never read as layers)."""
        return stray_temp_files(self.path)
