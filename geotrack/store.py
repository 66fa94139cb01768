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
append always starts on a new line.  The file helpers here (:func:`atomic_write`,
:func:`append_line`, :func:`file_lock`) serve every other file geotrack writes.
"""

from __future__ import annotations

__all__ = [
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
import getpass
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import orjson

from geotrack.errors import DataError, LockError, NotFoundError, Problem, StorageError
from geotrack.geojson import dumps_feature, loads
from geotrack.storage import (
    Change,
    HistoryEntry,
    LayerKind,
    Recovery,
    entry_from_line,
    layer_kind,
    plan_undo,
)

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
    """Append history lines and fsync them; return the file's size before.

    The append always starts on a new line: when the file does not end with a
    newline (a torn or hand-edited last line), one is written first, so two
    entries never merge.  A failed append is taken back (the file is truncated
    to its previous size, or removed if this append created it), so the history
    never holds a torn line it reported.

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
    >>> _ = p.write_bytes(b"{}"); append_line(p, b"[]\\n"); p.read_bytes()
    2
    b'{}\\n[]\\n'
    """
    created = not path.exists()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise StorageError(
            f"could not append to {path}: {exc.strerror}; nothing was changed."
        ) from exc
    try:
        start = os.fstat(fd).st_size
        if start and os.pread(fd, 1, start - 1) != b"\n":
            line = b"\n" + line
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, start)
            raise
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise StorageError(
            f"could not append to {path}: {exc.strerror}; nothing was changed. "
            "Free disk space or fix permissions and try again."
        ) from exc
    finally:
        os.close(fd)
    return start


def set_aside_torn_tail(path: Path) -> bool:
    """Move an unfinished last append out of a history file into ``<name>.torn``.

    Call it under the history's lock.  A last line with no newline that is not a
    complete entry can only be an append its writer did not finish (killed, or the
    disk filled): it was never applied and never reported.  Its bytes are appended
    to ``<name>.torn`` (kept, for inspection) and cut from the history, with a
    warning.  A complete entry that only lacks its newline is left as it is.

    Returns
    -------
    bool
        Whether a torn tail was moved.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.jsonl"
    >>> _ = p.write_bytes(b'{"seq": 1, "ti')
    >>> set_aside_torn_tail(p), p.read_bytes(), (p.parent / "h.jsonl.torn").read_bytes()
    (True, b'', b'{"seq": 1, "ti\\n')
    """
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(size - 1, 0))
            if not size or fh.read(1) == b"\n":
                return False
            back = min(size, 1 << 20)
            while True:
                fh.seek(size - back)
                chunk = fh.read(back)
                cut = chunk.rfind(b"\n")
                if cut >= 0 or back == size:
                    break
                back = min(size, back * 4)
    except FileNotFoundError:
        return False
    tail = chunk[cut + 1 :]
    try:
        entry_from_line(tail, lineno=0, what=path.name)
        return False  # complete, only its newline is missing: the next append adds one
    except DataError:
        pass
    start = size - len(tail)
    append_line(path.with_name(path.name + ".torn"), tail + b"\n")
    with path.open("r+b") as fh:
        fh.truncate(start)
        os.fsync(fh.fileno())
    log.warning(
        "%s ended with an unfinished entry (%d bytes, a writer killed mid-append; never "
        "applied): moved it to %s.torn",
        path.name,
        len(tail),
        path.name,
    )
    return True


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

    def __init__(
        self,
        raw: dict[str, bytes],
        order: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        kind: LayerKind | None = None,
        last_id: int = 0,
    ):
        self.features = _Features(raw)
        self._order = order
        self._before: dict[str, dict[str, Any] | None] = {}
        self._kind = kind or LayerKind("layer")
        self.last_id = max([last_id, *(self._kind.number_of(k) or 0 for k in raw)])

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
        self.reserve_ids([fid])
        self.features.parsed[fid] = self._order(feature)

    def remove(self, fid: str) -> None:
        """Remove a feature (used by undo of an add; everything else retires)."""
        self._remember(fid)
        self.features.parsed[fid] = None

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


def scan_history(path: Path) -> Iterator[tuple[int, HistoryEntry | None, str | None]]:
    """Every line of a history file: ``(line number, entry or None, damage or None)``.

    A line that is not a complete history entry is yielded with what is wrong with
    it; nothing is skipped, so callers can report damage by line number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.jsonl"
    >>> _ = p.write_bytes(b'not json\\n')
    >>> [(n, e, d.split(":")[0]) for n, e, d in scan_history(p)]
    [(1, None, 'h.jsonl line 1')]
    """
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                yield lineno, None, f"{path.name} line {lineno}: an empty line"
                continue
            try:
                entry = entry_from_line(line, lineno=lineno, what=path.name)
            except DataError as exc:
                yield lineno, None, str(exc)
            else:
                yield lineno, entry, None


def history_problems(path: Path, *, field: str | None = None) -> list[Problem]:
    """Every damaged line and every out-of-order ``seq`` of a history file, by line number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> history_problems(pathlib.Path(tempfile.mkdtemp()) / "missing.jsonl")
    []
    """
    problems = []
    last: dict[str, int] = {}
    name = field or path.name
    for lineno, entry, damage in scan_history(path):
        if damage is not None:
            problems.append(
                Problem(
                    name,
                    f"line {lineno}",
                    f"{damage}: this entry cannot be read and was neither applied nor dropped; "
                    "restore the file from a backup (or move the line out by hand)",
                )
            )
        elif entry is not None:
            if entry.seq <= last.get(entry.layer, 0):
                problems.append(
                    Problem(
                        name,
                        f"line {lineno}",
                        f"seq={entry.seq} does not follow seq={last[entry.layer]} of layer "
                        f"{entry.layer!r}: entries were reordered or merged outside geotrack",
                    )
                )
            last[entry.layer] = max(entry.seq, last.get(entry.layer, 0))
    return problems


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
        for _, entry, damage in scan_history(self.history_path):
            if damage is not None:
                if skip_damaged:
                    continue
                raise DataError(
                    f"{damage}. The history cannot be read reliably; nothing was changed. "
                    "Restore the file from a backup; `geotrack validate` lists every damaged line"
                )
            assert entry is not None
            if entry.layer != self.name:
                continue
            if fid is None or any(c.id == fid for c in entry.changes):
                yield entry

    def check_history(self) -> list[Problem]:
        """Every damaged or out-of-order line of the history file, by line number."""
        return history_problems(self.history_path)

    def replay(self) -> dict[str, dict[str, Any]]:
        """Rebuild the layer from its history alone (for consistency checks)."""
        features: dict[str, dict[str, Any]] = {}
        for entry in self.history(skip_damaged=True):
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
            target, changes = plan_undo(
                list(self.history()), tx.features, user=user, op=op, layer=self.name
            )
            for c in changes:
                if c.after is None:
                    tx.remove(c.id)
                else:
                    tx.put(c.after)
            return self._commit(
                meta,
                tx,
                op="undo",
                reason=reason or f"undo of operation {target.seq} ({target.op} by {target.user})",
                user=user,
                changes=tx.changes,
                undoes=target.seq,
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
