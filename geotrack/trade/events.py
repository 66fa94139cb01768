"""Dated events drawn on the timeline (a summit, a border closure): ``events.csv``.

The :class:`Event` value, reading and checking the file, and its text.  Adding and
removing events are writes (:mod:`geotrack.trade.storage`).
"""

from __future__ import annotations

__all__ = ["EVENTS_FILE", "Event", "load_events", "read_events_csv"]

import csv
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geotrack.errors import (
    DataError,
    Problem,
    ValidationError,
)
from geotrack.trade.model import EVENT_COLUMNS
from geotrack.trade.parsing import _ISO_DAY_RE, _ISO_MONTH_RE, parse_month

EVENTS_FILE = "events.csv"
_EVENT_ID_RE = re.compile(r"^E(\d+)$")


@dataclass(frozen=True)
class Event:
    """A dated event drawn on the timeline (a summit, a border closure).

    Examples
    --------
    >>> Event("E1", "2025-09", "month", "Summit", "Paper, 2025-12-19").period
    '2025-09'
    """

    event_id: str
    date: str
    date_precision: str
    label: str
    source: str
    source_url: str = ""
    note: str = ""

    @property
    def period(self) -> str:
        """The month the event falls in (``YYYY-MM``)."""
        return self.date[:7]

    def as_dict(self) -> dict[str, str]:
        """The event as the strings written to ``events.csv``."""
        return {c: getattr(self, c) for c in EVENT_COLUMNS}


# -- events ------------------------------------------------------------------------------


def read_events_csv(path: str | os.PathLike[str]) -> list[Event]:
    """Read and check an ``events.csv``.

    Raises
    ------
    ValidationError
        Listing each bad cell by row and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = p.write_text("event_id,date,date_precision,label,source\\nE1,2025-09,month,Summit,Paper\\n")
    >>> read_events_csv(p)[0].label
    'Summit'
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # no newline translation: "\r" in a cell
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [
        c for c in ("event_id", "date", "label", "source") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise DataError(
            f"{path}: columns {', '.join(missing)} missing; an events table has the columns "
            f"{', '.join(EVENT_COLUMNS)}"
        )
    problems: list[Problem] = []
    out: list[Event] = []
    seen: set[str] = set()
    for n, rec in enumerate(reader, start=2):
        where = f"row {n}"
        try:
            ev = _make_event(
                event_id=(rec.get("event_id") or "").strip(),
                date_text=rec.get("date") or "",
                label=rec.get("label") or "",
                source=rec.get("source") or "",
                source_url=rec.get("source_url") or "",
                note=rec.get("note") or "",
                where=where,
            )
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if ev.event_id in seen:
            problems.append(
                Problem("event_id", ev.event_id, "is used twice; give each event its own id", where)
            )
        seen.add(ev.event_id)
        prec = (rec.get("date_precision") or "").strip()
        if prec and prec != ev.date_precision:
            problems.append(
                Problem(
                    "date_precision",
                    prec,
                    f"does not match the date; it is {ev.date_precision}",
                    where,
                )
            )
        out.append(ev)
    if problems:
        raise ValidationError(problems, header=f"{path}: the events table has errors; fix them:")
    return out


def _make_event(
    *,
    event_id: str,
    date_text: str,
    label: str,
    source: str,
    source_url: str,
    note: str,
    where: str | None,
) -> Event:
    probs = []
    if not _EVENT_ID_RE.match(event_id):
        probs.append(Problem("event_id", event_id, "write event ids as E1, E2, ...", where))
    d = date_text.strip()
    prec = ""
    try:
        if _ISO_DAY_RE.match(d):
            date.fromisoformat(d)
            prec = "day"
        elif _ISO_MONTH_RE.match(d):
            parse_month(d)
            prec = "month"
        else:
            raise ValueError("write the date as YYYY-MM-DD, or YYYY-MM when no day is cited")
    except ValueError as exc:
        probs.append(Problem("date", date_text, str(exc), where))
    if not label.strip():
        probs.append(
            Problem("label", label, "an event needs a label (it is drawn on the chart)", where)
        )
    if not source.strip():
        probs.append(
            Problem("source", source, "an event needs its source (publisher, date)", where)
        )
    if probs:
        raise ValidationError(probs)
    return Event(event_id, d, prec, label.strip(), source.strip(), source_url.strip(), note)


def load_events(ws_path: str | os.PathLike[str]) -> list[Event]:
    """The events of the workspace (``<ws>/events.csv``); none if there is no file.

    Examples
    --------
    >>> import tempfile
    >>> load_events(tempfile.mkdtemp())
    []
    """
    path = Path(ws_path) / EVENTS_FILE
    return read_events_csv(path) if path.exists() else []


def _events_text(events: Iterable[Event]) -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(EVENT_COLUMNS))
    w.writeheader()
    for e in events:
        w.writerow(e.as_dict())
    return buf.getvalue()
