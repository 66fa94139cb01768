"""Fresh schemas in the PostgreSQL test server (scripts/test.sh exports GEOTRACK_TEST_PG)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_query(url: str, **params: str) -> str:
    """*url* with query parameters set (``schema=...``, ``user=...``)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    query = {k: v for k, v in query.items() if v != ""}
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


def as_user(url: str, user: str) -> str:
    """*url* connecting as *user*."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@contextlib.contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A store URL naming a new, empty schema; the schema and its roles are dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield with_query(url, schema=name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            # end sessions still open in that schema's tests (killed writers' are gone already)
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                "AND application_name = 'geotrack' AND state <> 'idle'"
            )
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            if conn.execute("SELECT to_regclass('public.layer_styles')").fetchone()[0]:
                conn.execute("DELETE FROM public.layer_styles WHERE f_table_schema = %s", (name,))
            for role in (f"{name}_editor", f"{name}_reader"):
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(f'DROP OWNED BY "{role}"')
                    conn.execute(f'DROP ROLE "{role}"')
