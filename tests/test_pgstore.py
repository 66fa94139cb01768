"""The PostGIS store beyond the shared contract: conflicts, roles, checks, outside edits, faults.

Runs against the throwaway server scripts/test.sh starts (GEOTRACK_TEST_PG); each test gets
a fresh schema.  Under CI=true these tests must not be skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid

import psycopg
import pytest
from _pg import as_user, with_query

from geotrack.errors import DataError, StorageError, UsageError
from geotrack.pgstore import ConflictError, PgStore, open_store, safe_url
from geotrack.records import add_crossing, edit_crossing, validate_workspace
from geotrack.workspace import Workspace, init_workspace


def feat(fid: str, **props) -> dict:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [127.2696, 41.5195]},
        "properties": {"id": fid, "kind": "ford", **props},
    }


@pytest.fixture
def store(pg_schema):
    s = open_store(pg_schema, create=True)
    yield s
    s.close()


@pytest.fixture
def admin(pg_schema):
    with psycopg.connect(with_query(pg_schema, schema=""), autocommit=True) as conn:
        yield conn


def schema_of(url: str) -> str:
    return PgStore(url).schema


def test_a_row_changed_since_it_was_read_is_a_conflict_naming_who_and_when(store, pg_schema):
    layer = store.layer("crossings")
    with layer.transaction(op="add", user="ana") as tx:
        tx.put(feat("YLU-0001"))
    other = open_store(pg_schema)
    try:
        with (
            pytest.raises(ConflictError, match=r"YLU-0001'? was changed by ben at .* since you"),
            layer.transaction(op="edit", user="ana") as tx,
        ):
            f = tx.get("YLU-0001")  # ana reads ...
            with other.layer("crossings").transaction(op="edit", user="ben") as tx2:
                g = tx2.get("YLU-0001")  # ... ben edits and commits meanwhile
                tx2.put({**g, "properties": {**g["properties"], "name": "ben's"}})
            tx.put({**f, "properties": {**f["properties"], "name": "ana's"}})
    finally:
        other.close()
    (now,) = layer.read()
    assert now["properties"]["name"] == "ben's"
    assert [e.user for e in layer.history()] == ["ana", "ben"]


def test_history_is_append_only_and_the_roles_have_least_privilege(store, pg_schema, admin):
    schema = schema_of(pg_schema)
    layer = store.layer("crossings")
    with layer.transaction(op="add") as tx:
        tx.put(feat("YLU-0001"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        admin.execute(f'UPDATE "{schema}".history SET "user" = \'x\'')
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        admin.execute(f'DELETE FROM "{schema}".history')
    ana, rea = f"ana_{uuid.uuid4().hex[:8]}", f"rea_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE ROLE "{ana}" LOGIN IN ROLE "{schema}_editor"')
    admin.execute(f'CREATE ROLE "{rea}" LOGIN IN ROLE "{schema}_reader"')
    try:
        editor = open_store(as_user(pg_schema, ana))
        try:
            with editor.layer("crossings").transaction(op="add") as tx:
                (fid,) = tx.new_ids(1)
                tx.put(feat(fid))
            assert [e.user for e in editor.layer("crossings").history()][-1]
            with (
                pytest.raises(StorageError, match="lacks the right"),
                editor.transaction("tamper") as cur,
            ):
                cur.execute(f"UPDATE \"{schema}\".history SET reason = 'x'")
        finally:
            editor.close()
        reader = open_store(as_user(pg_schema, rea))
        try:
            assert len(reader.layer("crossings").read()) == 2
            with (
                pytest.raises(StorageError, match="lacks the right"),
                reader.layer("crossings").transaction(op="add") as tx,
            ):
                tx.put(feat("YLU-0009"))
        finally:
            reader.close()
    finally:
        for role in (ana, rea):
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_coded_values_are_enforced_by_the_database(store, pg_schema, admin):
    layer = store.layer("crossings")
    with (
        pytest.raises(DataError, match=r"the database refused a value.*kind"),
        layer.transaction(op="add") as tx,
    ):
        tx.put(feat("YLU-0001", kind="bridge"))
    with pytest.raises(DataError, match="refused a value"), layer.transaction(op="add") as tx:
        tx.put(feat("YLU-0001", reports=[{"report_id": "R1", "reliability": "Z"}]))
    assert layer.read() == [] and list(layer.history()) == []
    with layer.transaction(op="add") as tx:
        tx.put(feat("YLU-0001"))
    with pytest.raises(psycopg.errors.CheckViolation):
        admin.execute(f"UPDATE \"{schema_of(pg_schema)}\".crossings SET kind = 'bridge'")


def test_migrate_brings_the_coded_value_checks_up_to_the_code(store, pg_schema, admin):
    """A database set up before a code list grew (a new kind) takes the new code after migrate."""
    table = f'"{schema_of(pg_schema)}".crossings'
    admin.execute(
        f"ALTER TABLE {table} DROP CONSTRAINT crossings_kind_check, "
        "ADD CONSTRAINT crossings_kind_check CHECK (kind IN ('ford'))"
    )
    layer = store.layer("crossings")
    with pytest.raises(DataError, match="crossings_kind_check"), layer.transaction(op="add") as tx:
        tx.put(feat("YLU-0001", kind="pontoon"))
    store.migrate()
    with layer.transaction(op="add") as tx:
        tx.put(feat("YLU-0001", kind="pontoon"))
    assert [f["properties"]["kind"] for f in layer.read()] == ["pontoon"]


def test_an_edit_in_qgis_or_sql_is_kept_in_the_history(store, pg_schema, admin):
    layer = store.layer("crossings")
    with layer.transaction(op="add", user="ana") as tx:
        tx.put(
            feat(
                "YLU-0001",
                status="active",
                updated_at="2026-01-01T00:00:00.000Z",
                reports=[{"report_id": "R1", "source_type": "media"}],
            )
        )
    schema = schema_of(pg_schema)
    admin.execute(
        f"UPDATE \"{schema}\".crossings SET status = 'destroyed', "
        "geom = ST_SetSRID(ST_MakePoint(127.3, 41.52), 4326)"
    )
    (now,) = layer.read()
    assert now["properties"]["status"] == "destroyed"
    assert now["geometry"]["coordinates"] == [127.3, 41.52]
    assert now["properties"]["updated_at"] != "2026-01-01T00:00:00.000Z"
    last = list(layer.history())[-1]
    assert (last.op, last.user) == ("edit", "geotrack")  # the database user who edited
    assert last.reason == "edited outside geotrack (QGIS or SQL)"
    assert last.changes[0].before["properties"]["status"] == "active"
    assert layer.replay() == {f["id"]: f for f in layer.read()}
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only through geotrack"):
        admin.execute(f'DELETE FROM "{schema}".crossings')
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only through geotrack"):
        admin.execute(f'DELETE FROM "{schema}".crossings_reports')


def test_a_schema_newer_than_the_code_is_refused(store, pg_schema, admin):
    admin.execute(
        f"INSERT INTO \"{schema_of(pg_schema)}\".schema_migrations VALUES (99, 'future', now())"
    )
    with pytest.raises(StorageError, match="schema version 99 is newer than this geotrack"):
        open_store(pg_schema)
    with pytest.raises(StorageError, match="newer"):
        open_store(pg_schema, create=True)


def test_a_schema_not_set_up_asks_for_migrate(pg_schema):
    with pytest.raises(StorageError, match="run `geotrack store migrate"):
        open_store(pg_schema)


@pytest.mark.parametrize(
    ("url", "error", "match"),
    [
        ("mysql://db/x", UsageError, "not a PostgreSQL URL"),
        ("postgresql://ana:secret@db/x", UsageError, "holds a password"),
        ("postgresql://localhost:1/x", StorageError, "cannot reach the server"),
        (
            "postgresql://geotrack@/no_such_db?host={host}&port={port}",
            StorageError,
            "database does not exist",
        ),
        (
            "postgresql://no_such_role@/geotrack_test?host={host}&port={port}",
            StorageError,
            "user does not exist",
        ),
    ],
)
def test_bad_urls_and_unreachable_servers_are_clear_errors(pg_schema, url, error, match):
    q = dict(p.split("=") for p in pg_schema.split("?")[1].split("&"))
    url = url.format(host=q.get("host", ""), port=q.get("port", ""))
    with pytest.raises(error, match=match) as exc:
        open_store(url)
    assert "secret" not in str(exc.value)


def test_credentials_come_from_libpq_and_bad_ones_are_a_clear_error(
    pg_schema, admin, tmp_path, monkeypatch
):
    role = f"pw_{uuid.uuid4().hex[:8]}"
    admin.execute(
        f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'right-one' IN ROLE geotrack_password_auth"
    )
    try:
        url = as_user(pg_schema, role)
        monkeypatch.setenv("PGPASSWORD", "wrong-one")
        with pytest.raises(StorageError, match=r"refused the credentials.*pgpass") as exc:
            open_store(url, create=False)
        assert "wrong-one" not in str(exc.value)
        monkeypatch.delenv("PGPASSWORD")
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"*:*:*:{role}:right-one\n")
        passfile.chmod(0o600)
        monkeypatch.setenv("PGPASSFILE", str(passfile))
        with pytest.raises(StorageError, match="schema version 0"):  # connected: not set up yet
            open_store(url)
    finally:
        admin.execute(f'DROP ROLE "{role}"')


def test_no_postgis_in_the_database_is_a_clear_error(pg_schema, admin):
    db, role = f"nogis_{uuid.uuid4().hex[:8]}", f"np_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE ROLE "{role}" LOGIN')
    admin.execute(f'CREATE DATABASE "{db}" OWNER "{role}"')
    try:
        url = pg_schema.split("?")[0].rsplit("/", 1)[0] + f"/{db}?" + pg_schema.split("?")[1]
        with pytest.raises(StorageError, match=r"has no PostGIS.*postgresql-15-postgis-3"):
            open_store(as_user(url, role), create=True)
    finally:
        admin.execute(f'DROP DATABASE "{db}"')
        admin.execute(f'DROP ROLE "{role}"')


def test_workspace_on_postgis_through_init_and_records(tmp_path, pg_schema):
    ws = init_workspace(tmp_path / "ws", store=pg_schema)
    assert (tmp_path / "ws" / "geotrack.json").read_text().strip() == f'{{"store":"{pg_schema}"}}'
    record = {"lon": 127.2696, "lat": 41.5195, "kind": "ford", "source_name": "unit test"}
    fid = add_crossing(ws, record, user="ana")
    ws.close()
    again = Workspace.open(tmp_path / "ws")  # the saved setting names the store
    edit_crossing(again, fid, {"status": "destroyed"}, user="ben")
    assert again.store.describe().startswith("PostGIS")
    assert [e.user for e in again.crossings.history(fid)] == ["ana", "ben"]
    assert validate_workspace(again) == []
    assert not (tmp_path / "ws" / "crossings.geojson").exists()
    again.close()
    assert safe_url(pg_schema) == pg_schema


_HOLDER = textwrap.dedent(
    """
    import sys
    from geotrack.pgstore import open_store
    store = open_store(sys.argv[1])
    layer = store.layer("crossings")
    with layer.transaction(op="edit", user="killed") as tx:
        f = tx.get("YLU-0001")
        tx.put({**f, "properties": {**f["properties"], "name": "never"}})
        layer._commit(tx.cur, tx, op="edit", reason=None, user="killed", changes=tx.changes)
        print("written, not committed", flush=True)
        sys.stdin.read()  # killed here, inside the transaction, holding the row
    """
)


def test_a_writer_killed_mid_transaction_leaves_the_database_as_it_was(store, pg_schema):
    layer = store.layer("crossings")
    with layer.transaction(op="add") as tx:
        tx.put(feat("YLU-0001"))
    before = (layer.read(), [e.as_dict() for e in layer.history()])
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_schema],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout.readline() == b"written, not committed\n"  # the event, not a sleep
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdin.close()
    proc.stdout.close()
    # the next writer gets the row (the server ended the dead session's transaction)
    with layer.transaction(op="edit", user="next") as tx:
        f = tx.get("YLU-0001")
        assert f == before[0][0]
        tx.put({**f, "properties": {**f["properties"], "name": "after"}})
    assert [e.user for e in layer.history()][-1] == "next"
    assert [e.seq for e in layer.history()] == [1, 2]
    assert layer.replay() == {f["id"]: f for f in layer.read()}
