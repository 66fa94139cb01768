"""Columns to fields: ``--map``, aliases, case-insensitive names and the policy for the rest.

A small API any layer's import uses (crossings, claims, placement columns):

- a :class:`FieldSet` names the fields a layer accepts, their aliases and the
  derived fields an import ignores (an export's ``n_reports``...);
- a :class:`ColumnMapper` maps each record's columns to those fields, matching
  names case-insensitively (``Event-Start`` is ``event_start``), applying the
  user's ``--map COLUMN=FIELD`` first, and deals with every other column by
  policy: ``keep`` (into the record's ``extra`` object: nothing is lost),
  ``drop`` (counted in the summary) or ``refuse`` (one problem per column, with
  its row count);
- what it did is told once per column (:meth:`ColumnMapper.summary`), never
  once per cell, and every list it keeps is capped, so that memory and output
  stay bounded whatever the input.

Examples
--------
>>> fs = FieldSet(("lon", "lat", "kind", "source_name"), aliases={"source": "source_name"})
>>> m = ColumnMapper(fs, {"Type of crossing": "kind"})
>>> m.map({"lon": 127.2, "lat": 41.5, "Type of crossing": "ford", "Source": "NK News",
...        "fatalities": "0"}, "row 2")
{'lon': 127.2, 'lat': 41.5, 'kind': 'ford', 'source_name': 'NK News', 'extra': {'fatalities': '0'}}
>>> m.summary()["extra"]
{'fatalities': 1}
"""

from __future__ import annotations

__all__ = [
    "EXTRA_POLICIES",
    "MAX_COLUMNS",
    "MAX_EXTRA_KEYS",
    "ColumnMapper",
    "FieldSet",
    "parse_mapping",
]

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from geotrack.errors import Problem, ProblemList, UsageError

#: What happens to columns that are no field: kept in ``extra``, dropped, or refused.
EXTRA_POLICIES = ("keep", "drop", "refuse")
#: Most columns one record may keep in ``extra`` (a real export has a few dozen).
MAX_EXTRA_KEYS = 1000
#: Most distinct column names told apart in the summary; more are counted together.
MAX_COLUMNS = 10_000
#: Rows named per column in messages.
_ROWS_SHOWN = 3


_SEPARATORS = re.compile(r"[\s\-]+")


def _norm(name: str) -> str:
    text = str(name).strip().lower()
    return _SEPARATORS.sub("_", text) if not text.isidentifier() else text


@dataclass(frozen=True)
class FieldSet:
    """The fields a layer's import accepts.

    Parameters
    ----------
    fields : tuple of str
        Field names, as stored.
    aliases : mapping of str to str
        Other names of a field (the CLI's option names, common spellings), any case.
    ignored : mapping of str to str
        Columns an import leaves out on purpose, with why (derived fields of an export).
    what : str
        What the fields belong to, for messages (``"crossing or report"``).

    Examples
    --------
    >>> fs = FieldSet(("reported",), aliases={"date": "reported"})
    >>> fs.lookup("Date"), fs.lookup("REPORTED"), fs.lookup("when")
    ('reported', 'reported', None)
    """

    fields: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    ignored: Mapping[str, str] = field(default_factory=dict)
    what: str = "crossing or report"

    def lookup(self, column: str) -> str | None:
        """The field *column* names (case-insensitively, or by an alias), else None."""
        return self._lookup(_norm(column))

    def _lookup(self, name: str) -> str | None:
        return self._names.get(name) or self._aliases.get(name)

    @cached_property
    def _names(self) -> dict[str, str]:
        return {_norm(f): f for f in self.fields}

    @cached_property
    def _aliases(self) -> dict[str, str]:
        return {_norm(a): f for a, f in self.aliases.items()}

    @cached_property
    def _ignored(self) -> frozenset[str]:
        return frozenset(_norm(c) for c in self.ignored)

    def is_ignored(self, column: str) -> bool:
        """Whether *column* is a derived field the import leaves out."""
        return _norm(column) in self._ignored

    def check_mapping(self, mapping: Mapping[str, str]) -> dict[str, str]:
        """*mapping* (column to field) with each target resolved; UsageError for an unknown field.

        Examples
        --------
        >>> FieldSet(("kind",), aliases={"type": "kind"}).check_mapping({"Typ": "type"})
        {'Typ': 'kind'}
        >>> FieldSet(("kind",)).check_mapping({"Typ": "sort"})
        Traceback (most recent call last):
        ...
        geotrack.errors.UsageError: --map Typ=sort: 'sort' is not a crossing or report field: ...
        """
        out = {}
        for column, target in mapping.items():
            resolved = self.lookup(target)
            if resolved is None:
                raise UsageError(
                    f"--map {column}={target}: {target!r} is not a {self.what} field: use one of "
                    f"{', '.join(self.fields)} (or an alias: {', '.join(sorted(self.aliases))})"
                )
            out[column] = resolved
        return out


def parse_mapping(items: Iterable[str], *, option: str = "--map") -> dict[str, str]:
    """``COLUMN=FIELD`` strings as a mapping; UsageError for one without ``=``.

    Examples
    --------
    >>> parse_mapping(["Event Date=event_start", "geo_precision = location_precision"])
    {'Event Date': 'event_start', 'geo_precision': 'location_precision'}
    """
    out: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            example = "Date=reported" if option == "--map" else "kind=ford"
            raise UsageError(f"{option} {item!r}: write NAME=VALUE, e.g. {option} {example}")
        if column.strip() in out and out[column.strip()] != target.strip():
            raise UsageError(
                f"{option} {item!r}: column {column.strip()!r} is mapped twice "
                f"({out[column.strip()]} and {target.strip()}): keep one"
            )
        out[column.strip()] = target.strip()
    return out


class _Column:
    __slots__ = ("action", "count", "rows", "target")

    def __init__(self, action: str, target: str | None) -> None:
        self.action, self.target, self.count, self.rows = action, target, 0, []


class ColumnMapper:
    """Map records' columns to a :class:`FieldSet`'s fields, by policy for the rest.

    Parameters
    ----------
    fields : FieldSet
        The fields accepted.
    mapping : mapping of str to str, optional
        The user's ``COLUMN=FIELD`` choices (checked with :meth:`FieldSet.check_mapping`);
        a column named here is matched exactly, then case-insensitively.
    extra : {'keep', 'drop', 'refuse'}
        What to do with columns that are no field.
    reserved : iterable of str
        Keys passed through untouched (``reports`` of a geotrack layer).
    """

    def __init__(
        self,
        fields: FieldSet,
        mapping: Mapping[str, str] | None = None,
        *,
        extra: str = "keep",
        reserved: Iterable[str] = (),
    ) -> None:
        if extra not in EXTRA_POLICIES:
            raise UsageError(f"--extra {extra!r}: use one of {', '.join(EXTRA_POLICIES)}")
        self.fields = fields
        self.mapping = fields.check_mapping(mapping or {})
        self._user = {_norm(c): f for c, f in self.mapping.items()}
        self.extra = extra
        self.reserved = frozenset(reserved)
        self._columns: dict[str, _Column] = {}
        self._other_cells = 0  # cells of columns beyond MAX_COLUMNS, counted together
        self.problems = ProblemList()
        self._clashes: set[tuple[str, str]] = set()

    def _plan(self, column: str) -> _Column:
        col = self._columns.get(column)
        if col is not None:
            return col
        if column in self.reserved:
            col = _Column("reserved", column)
        elif column in self.mapping:
            col = _Column("mapped", self.mapping[column])
        elif (name := _norm(column)) in self._user:
            col = _Column("mapped", self._user[name])
        elif (target := self.fields._lookup(name)) is not None:
            col = _Column("mapped", target)
        elif name in self.fields._ignored:
            col = _Column("ignored", None)
        else:
            col = _Column(
                {"keep": "extra", "drop": "dropped", "refuse": "unknown"}[self.extra], None
            )
        if len(self._columns) < MAX_COLUMNS:
            self._columns[column] = col
        return col

    def map(self, record: Mapping[str, Any], row: str) -> dict[str, Any]:
        """The record with its columns renamed to fields, and the rest in ``extra`` if kept.

        An ``extra`` object already in the record (a geotrack export's) is merged.
        """
        out: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        given = record.get("extra")
        n_extra = 0
        for column, value in record.items():
            if column == "extra" and isinstance(given, Mapping):
                continue
            col = self._plan(column)
            if self._columns.get(column) is not col:
                self._other_cells += 1
            col.count += 1
            if len(col.rows) < _ROWS_SHOWN:
                col.rows.append(row)
            if col.action in ("mapped", "reserved"):
                target = col.target
                if target in out and out[target] != value:
                    clash = (str(target), column)
                    if clash not in self._clashes and len(self._clashes) < 100:
                        self._clashes.add(clash)
                        self.problems.append(
                            Problem(
                                column,
                                value,
                                f"gives {target} a second time (another column gives it "
                                f"{out[target]!r}): map one of them elsewhere with --map",
                                row,
                            )
                        )
                    continue
                out[target] = value
            elif col.action == "extra":
                n_extra += 1
                if n_extra <= MAX_EXTRA_KEYS:
                    extra[column] = value
        if n_extra > MAX_EXTRA_KEYS:
            self.problems.append(
                Problem(
                    "extra",
                    f"{n_extra:,} columns",
                    f"more than the {MAX_EXTRA_KEYS:,} other columns a report keeps: map the "
                    "ones that matter with --map COLUMN=FIELD and pass --extra drop",
                    row,
                )
            )
            extra = {}
        if isinstance(given, Mapping):
            extra = {**given, **extra}
        if extra:
            out["extra"] = extra
        return out

    def summary(self) -> dict[str, Any]:
        """What was done with each column: ``mapped`` (column: field), then counts per column.

        Keys: ``mapped``, ``extra`` (kept), ``dropped``, ``ignored``, ``unknown``
        (refused) and, past :data:`MAX_COLUMNS` distinct names, ``other_cells``: the
        cells of the columns not listed (dealt with by the same policy).
        """
        out: dict[str, Any] = {k: {} for k in ("mapped", "extra", "dropped", "ignored", "unknown")}
        for name, col in self._columns.items():
            if col.action == "mapped":
                out["mapped"][name] = col.target
            elif col.action != "reserved":
                out[col.action][name] = col.count
        if self._other_cells:
            out["other_cells"] = self._other_cells
        return out

    def refusals(self, shown: int = 20) -> list[Problem]:
        """One problem per refused column (the first *shown*), with its row count and first rows.

        Columns past *shown* are counted in one more problem (``--extra refuse``).
        """
        refused = [(n, c) for n, c in self._columns.items() if c.action == "unknown"]
        out = []
        for name, col in refused[:shown]:
            rows = ", ".join(col.rows) + (" …" if col.count > len(col.rows) else "")
            out.append(
                Problem(
                    name,
                    None,
                    f"is not a {self.fields.what} field ({col.count:,} row(s): {rows}): map it "
                    f"with --map '{name}=FIELD', or pass --extra keep (kept with each report) "
                    "or --extra drop",
                )
            )
        more = len(refused) - shown
        if (more > 0 or self._other_cells) and self.extra == "refuse":
            count = f"{max(more, 0):,} more column(s)" + (
                f" and {self._other_cells:,} cell(s) of columns not counted"
                if self._other_cells
                else ""
            )
            out.append(
                Problem(
                    "columns",
                    count,
                    f"are not {self.fields.what} fields either: map them with --map, or pass "
                    "--extra keep or --extra drop",
                )
            )
        return out
