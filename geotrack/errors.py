"""Errors and warnings raised by geotrack.

Every error derives from :class:`GeotrackError`; some also derive from a
builtin (``ValueError``, ``OSError``) so that generic handlers still work.
Messages name the field, the value and the fix.  This module imports only
the standard library.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "GeotrackError",
    "ImportFileError",
    "LockError",
    "NearDuplicateError",
    "NotFoundError",
    "OutputExistsError",
    "Problem",
    "ProblemList",
    "StorageError",
    "UsageError",
    "ValidationError",
    "WindowError",
]

from dataclasses import dataclass


class GeotrackError(Exception):
    """Root of every error geotrack raises on purpose.

    The CLI maps it to exit status 1 (a failed check or bad data);
    :class:`UsageError` maps to 2.
    """


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input value.

    Parameters
    ----------
    field : str
        The field (or column, or option) that holds the value.
    value : object
        The offending value, as given.
    message : str
        What is wrong and how to fix it.
    row : str or None
        Where the value came from (``"row 3"``, ``"feature YLU-0002"``).

    Examples
    --------
    >>> str(Problem("lat", 95.0, "must be within [-90, 90]", row="row 2"))
    'row 2: lat=95.0: must be within [-90, 90]'
    >>> str(Problem("source_name", None, "is required"))
    'source_name: is required'
    """

    field: str
    value: object
    message: str
    row: str | None = None

    def __str__(self) -> str:
        where = f"{self.row}: " if self.row else ""
        if self.value is None:  # never "field=None": no value was given
            return f"{where}{self.field}: {self.message}"
        return f"{where}{self.field}={self.value!r}: {self.message}"


class ProblemList(list):
    """A list of problems that keeps the first *cap* of each kind and counts the rest.

    A kind is a field with a message: 10,000 rows with the same unknown code
    keep five examples and a count, so that memory and output stay bounded
    whatever the input.

    Examples
    --------
    >>> probs = ProblemList(cap=2)
    >>> for i in range(5):
    ...     probs.append(Problem("kind", "raft", "unknown code", f"row {i + 2}"))
    >>> len(probs), probs.total, probs.more()
    (2, 5, [('kind', 'unknown code', 3)])
    """

    #: Most kinds told apart; problems of further kinds are counted together.
    MAX_KINDS = 1000

    def __init__(self, *, cap: int = 5) -> None:
        super().__init__()
        self.cap = cap
        self.total = 0
        self._seen: dict[tuple[str, str], int] = {}

    def append(self, problem: Problem) -> None:  # type: ignore[override]
        """Keep *problem* unless *cap* of its kind are kept already; count it either way."""
        self.total += 1
        key = (str(problem.field), problem.message)
        if key not in self._seen and len(self._seen) >= self.MAX_KINDS:
            key = ("…", "problems of other kinds")
        n = self._seen[key] = self._seen.get(key, 0) + 1
        if n <= self.cap:
            super().append(problem)

    def extend(self, problems) -> None:  # type: ignore[override]
        """Append each of *problems*."""
        for p in problems:
            self.append(p)

    def absorb(self, error: ValidationError) -> None:
        """Add the problems of *error*, kept and counted alike."""
        self.extend(error.problems)
        for fld, message, n in error.more:
            self._seen[(fld, message)] = self._seen.get((fld, message), 0) + n
            self.total += n

    def more(self) -> list[tuple[str, str, int]]:
        """``(field, message, count)`` of the problems not kept, by kind."""
        return [(f, m, n - self.cap) for (f, m), n in self._seen.items() if n > self.cap]


class ValidationError(GeotrackError, ValueError):
    """One or more values are invalid; nothing was written.

    Parameters
    ----------
    problems : list of Problem
        Every problem found, not just the first.

    Examples
    --------
    >>> err = ValidationError([Problem("kind", "bridge", "use one of: ford, pontoon")])
    >>> print(err)
    kind='bridge': use one of: ford, pontoon
    """

    def __init__(self, problems: list[Problem], *, header: str | None = None) -> None:
        self.problems = list(problems)
        self.header = header
        self.total = getattr(problems, "total", len(self.problems))
        #: ``(field, message, count)`` of problems counted but not listed.
        self.more = problems.more() if isinstance(problems, ProblemList) else []
        lines = [str(p) for p in self.problems]
        for fld, message, n in self.more:
            lines.append(f"… and {n:,} more: {fld}: {message}")
        if header:
            lines.insert(0, header)
        super().__init__("\n".join(lines))


class DataError(GeotrackError, ValueError):
    """A file or layer holds data geotrack cannot use as it is."""


class ImportFileError(DataError):
    """An input file cannot be read: wrong format, too large, hostile or malformed."""


class NearDuplicateError(DataError):
    """A new site lies within the uncertainty of an existing one (maybe the same site)."""


class NotFoundError(GeotrackError, KeyError):
    """A named thing (crossing id, window, layer) does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class WindowError(GeotrackError, ValueError):
    """A window of the river is outside the line, reversed or empty."""


class StorageError(GeotrackError, OSError):
    """Reading or writing the workspace failed; the previous state is intact."""


class LockError(StorageError):
    """The workspace lock could not be taken in time."""


class UsageError(GeotrackError):
    """The call itself is wrong (bad option combination); the CLI exits 2."""


class OutputExistsError(UsageError, StorageError):
    """An output (file, folder, workspace) exists and the call did not allow replacing it.

    A usage error (the CLI exits 2: pass ``--overwrite`` or choose another path)
    that is also a :class:`StorageError` for callers of the library.

    Examples
    --------
    >>> isinstance(OutputExistsError("out.html exists"), UsageError | StorageError)
    True
    """
