"""Files written safely: atomic replace, stray temporary files, an exclusive lock, fsynced appends.

Every file geotrack writes goes through here (layers, histories, maps, exports, the trade
table): a write goes to a temporary file beside the target, is fsynced and renamed over it
(readers see the old or the new file, never half of one); a lock is an ``flock`` the kernel
drops when its holder dies; an append always starts on a new line and is taken back if it
fails.
"""

from __future__ import annotations

__all__ = [
    "append_line",
    "atomic_path",
    "atomic_write",
    "file_lock",
    "remove_stray_temp_files",
    "stray_temp_files",
]

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import filelock

from geotrack.errors import LockError, StorageError

_TMP_PREFIX = ".tmp-"


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
