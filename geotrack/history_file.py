"""The history file: append-only JSON lines (the folder store's write-ahead log), read back line by line.

A line that cannot be read is reported by its number (:func:`history_problems`), never
skipped silently; an unfinished last append (a writer killed mid-write) is set aside into
``<name>.torn`` (:func:`set_aside_torn_tail`).  Appending is :func:`geotrack.files.append_line`.
"""

from __future__ import annotations

__all__ = ["history_problems", "scan_history", "set_aside_torn_tail"]

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from geotrack.errors import DataError, Problem
from geotrack.files import append_line
from geotrack.storage import HistoryEntry, entry_from_line

log = logging.getLogger(__name__)


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
