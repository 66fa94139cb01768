"""Reaching the PostGIS store: its URL (never a password), psycopg, and errors that say what to do.

A store URL is ``postgresql://[user@]host[:port]/dbname[?schema=NAME]``; libpq finds the
password in its usual places.  Database errors become :class:`~geotrack.errors.DataError`
or :class:`~geotrack.errors.StorageError` naming the fix; ``psycopg`` is imported only
when a store is opened.
"""

from __future__ import annotations

__all__ = ["ConflictError", "is_store_url", "safe_url"]

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from geotrack.errors import DataError, StorageError, UsageError


class ConflictError(DataError):
    """A row was changed by someone else since this transaction read it; nothing was written."""


def is_store_url(text: str | None) -> bool:
    """Tell whether *text* names a PostGIS store (``postgresql://`` or ``postgres://``).

    Examples
    --------
    >>> is_store_url("postgresql://db.example/geotrack"), is_store_url("layers")
    (True, False)
    """
    return bool(text) and re.match(r"^postgres(ql)?://", text or "") is not None


def _split(url: str) -> tuple[str, str]:
    """The libpq URL without geotrack's own ``schema=`` option, and the schema name."""
    if not is_store_url(url):
        raise UsageError(
            f"--store={url!r}: not a PostgreSQL URL; give postgresql://[user@]host[:port]/dbname"
            "[?schema=NAME] (the password goes in ~/.pgpass or a service file, never here)"
        )
    parts = urlsplit(url)
    if parts.password is not None:
        raise UsageError(
            "--store: the URL holds a password; geotrack never takes one on the command line or "
            "stores it. Put it in ~/.pgpass (or PGPASSFILE) or a service file, and give the URL "
            "without it"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "geotrack")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", schema):
        raise UsageError(f"--store: schema={schema!r}: use lower-case letters, digits and _")
    rest = [(k, v) for k, v in query if k not in ("schema", "password")]
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


def safe_url(url: str) -> str:
    """*url* as it may be shown and saved: no password, whatever else it says.

    Examples
    --------
    >>> safe_url("postgresql://ana:secret@db.example:5433/team?schema=yalu&password=x")
    'postgresql://ana@db.example:5433/team?schema=yalu'
    """
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/"), ""))


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        raise StorageError(
            "the PostGIS store needs psycopg: pip install 'psycopg[binary]'"
        ) from None
    return psycopg


def _connect_error(url: str, exc: Exception) -> StorageError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = safe_url(url)
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        fix = (
            "the server refused the credentials: put the password in ~/.pgpass (or the file "
            "PGPASSFILE names) or a service file (?service=NAME), or check the user name"
        )
    elif "does not exist" in low and "database" in low:
        fix = "the database does not exist: create it (createdb) or fix the name in the URL"
    elif "role" in low and "does not exist" in low:
        fix = "the user does not exist on the server: ask its owner to create your role"
    elif any(
        w in low
        for w in (
            "connection refused",
            "could not translate",
            "timeout",
            "no route",
            "no such file",
        )
    ):
        fix = "cannot reach the server: check the host and port in the URL and that it runs"
    else:
        fix = "check the URL, the server and your credentials"
    return StorageError(f"store={where}: {fix} ({text}). Nothing was changed.")


def _db_error(exc: Exception, what: str) -> GeotrackErrorLike:
    psycopg = _psycopg()
    errors = psycopg.errors
    diag = getattr(exc, "diag", None)
    detail = (getattr(diag, "message_primary", None) or str(exc)).strip()
    if isinstance(
        exc, errors.CheckViolation | errors.NotNullViolation | errors.InvalidTextRepresentation
    ):
        constraint = getattr(diag, "constraint_name", None)
        return DataError(
            f"{what}: the database refused a value ({detail}"
            f"{f'; constraint {constraint}' if constraint else ''}); use one of the coded values "
            "`geotrack crossings add --help` lists. Nothing was changed."
        )
    if isinstance(exc, errors.InsufficientPrivilege):
        return StorageError(
            f"{what}: {detail}. Your database role lacks the right: ask the store's owner to "
            "grant you the editor role (see README, 'A shared store'). Nothing was changed."
        )
    if isinstance(exc, errors.DeadlockDetected | errors.LockNotAvailable | errors.QueryCanceled):
        return StorageError(
            f"{what}: another writer held the rows too long ({detail}); nothing was changed: "
            "run the command again"
        )
    if isinstance(exc, errors.UndefinedTable | errors.InvalidSchemaName | errors.UndefinedFunction):
        return StorageError(
            f"{what}: {detail}: the store is not set up; run `geotrack store migrate --store URL` "
            "as the database owner"
        )
    return StorageError(f"{what}: the database failed ({detail}); nothing was changed")


GeotrackErrorLike = DataError | StorageError
