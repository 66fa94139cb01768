"""The PostGIS store's database schema: versioned migrations and per-kind layer tables.

Everything lives in one schema (``geotrack`` unless the store URL says ``?schema=NAME``):

``schema_migrations``
    one row per applied migration; a database newer than the code is refused.
``history``
    the append-only history of every layer (one row per entry, ``changes`` as ``jsonb``);
    a trigger refuses UPDATE, DELETE and TRUNCATE, and the editor role is granted only
    INSERT and SELECT on it.
``<layer>`` (``crossings``...)
    one row per feature: ``id`` (the id pattern checked), ``geom geometry(<type>, 4326)``
    with a GiST index, the kind's coded properties as typed columns with CHECK constraints,
    ``props jsonb`` (every property as geotrack wrote it), and the row ``version`` checked
    on every update (optimistic locking).  Ids come from the sequence ``<layer>_id_seq``.
``<layer>_<child>`` (``crossings_reports``)
    one row per item of the kind's list property (a crossing's reports), coded values checked.

Edits made in QGIS (or any SQL client) to a layer's typed columns or geometry are
accepted: a trigger copies them into ``props``, bumps ``version`` and writes a history
entry naming the database user.  Adding or deleting rows, and editing the child table,
are refused outside geotrack (they need geotrack's validation).
"""

from __future__ import annotations

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "codes_sql",
    "grant_sql",
    "layer_sql",
    "quote_ident",
]

import re

from geotrack.storage import Column, LayerKind

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote_ident(name: str) -> str:
    """*name* as a double-quoted SQL identifier (only plain lower-case names are accepted).

    Examples
    --------
    >>> quote_ident("crossings")
    '"crossings"'
    """
    if not _IDENT.match(name):
        raise ValueError(f"identifier {name!r}: use lower-case letters, digits and _")
    return f'"{name}"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


#: Migrations in order; each is SQL with ``{s}`` for the quoted schema name.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "history table, append-only",
        """
CREATE TABLE {s}.history (
    layer text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    time text NOT NULL,
    "user" text NOT NULL,
    op text NOT NULL,
    reason text,
    undoes bigint,
    ids text[] NOT NULL,
    changes jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'array'),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, seq)
);
CREATE INDEX history_ids_idx ON {s}.history USING gin (ids);
CREATE FUNCTION {s}.history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the geotrack history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON {s}.history
    FOR EACH ROW EXECUTE FUNCTION {s}.history_is_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON {s}.history
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.history_is_append_only();
CREATE FUNCTION {s}.next_seq(p_layer text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{s}.history.' || p_layer));
    RETURN (SELECT coalesce(max(seq), 0) + 1 FROM {s}.history WHERE layer = p_layer);
END $$;
""",
    ),
)
#: The schema version this code writes and reads.
SCHEMA_VERSION = len(MIGRATIONS)


def _check(col: Column) -> str:
    if not col.values:
        return ""
    if col.sql == "text":
        return f" CHECK ({quote_ident(col.name)} IN ({', '.join(map(_literal, col.values))}))"
    return f" CHECK ({quote_ident(col.name)} IN ({', '.join(str(int(v)) for v in col.values)}))"


def codes_sql(kind: LayerKind, schema: str) -> str:
    """SQL that replaces the CHECK constraints of *kind*'s coded columns with the code's lists.

    Code lists only grow (a new kind of crossing), so rows already stored still pass.
    PostgreSQL names an inline column CHECK ``<table>_<column>_check``.

    Examples
    --------
    >>> from geotrack.storage import layer_kind
    >>> "crossings_kind_check" in codes_sql(layer_kind("crossings"), "geotrack")
    True
    """
    out = []
    tables = [(kind.name, kind.columns)]
    if kind.child:
        tables.append((f"{kind.name}_{kind.child[0]}", kind.child[1]))
    for table, cols in tables:
        for c in cols:
            if c.values:
                name = quote_ident(f"{table}_{c.name}_check")
                out.append(
                    f"ALTER TABLE {quote_ident(schema)}.{quote_ident(table)} DROP CONSTRAINT IF "
                    f"EXISTS {name}, ADD CONSTRAINT {name}{_check(c)};"
                )
    return "\n".join(out)


def _columns(cols: tuple[Column, ...]) -> str:
    return "".join(
        f"    {quote_ident(c.name)} {c.sql}{' NOT NULL' if c.not_null else ''}{_check(c)},\n"
        for c in cols
    )


def layer_sql(kind: LayerKind, schema: str) -> str:
    """SQL that creates the tables, sequence, index, functions and triggers of *kind*.

    Examples
    --------
    >>> from geotrack.storage import layer_kind
    >>> "geometry(Point, 4326)" in layer_sql(layer_kind("crossings"), "geotrack")
    True
    """
    s, t = quote_ident(schema), quote_ident(kind.name)
    name = kind.name
    cols = kind.columns
    sync = "".join(
        f"    IF NEW.{quote_ident(c.name)} IS DISTINCT FROM OLD.{quote_ident(c.name)} THEN\n"
        f"        NEW.props := jsonb_set(NEW.props, '{{{c.name}}}', "
        f"coalesce(to_jsonb(NEW.{quote_ident(c.name)}), 'null'::jsonb));\n    END IF;\n"
        for c in cols
    )
    if kind.geometry_type == "Point":
        geometry = (
            "CASE WHEN r.geom IS NULL THEN NULL ELSE jsonb_build_object('type', 'Point', "
            "'coordinates', jsonb_build_array(ST_X(r.geom), ST_Y(r.geom))) END"
        )
    else:
        geometry = "ST_AsGeoJSON(r.geom, 15)::jsonb"
    child_sql, child_props = "", "r.props"
    if kind.child:
        key, ccols = kind.child
        c = quote_ident(f"{name}_{key}")
        child_sql = f"""
CREATE TABLE {s}.{c} (
    parent_id text NOT NULL REFERENCES {s}.{t} (id) ON DELETE CASCADE,
    position integer NOT NULL,
{_columns(ccols)}    data jsonb NOT NULL,
    PRIMARY KEY (parent_id, position)
);
CREATE FUNCTION {s}.{quote_ident(f"{name}_{key}_guard")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('geotrack.writer', true) IS DISTINCT FROM 'geotrack' THEN
        RAISE EXCEPTION '{name} {key} are changed only through geotrack (it validates them): use geotrack crossings edit --report or add-report'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON {s}.{c}
    FOR EACH ROW EXECUTE FUNCTION {s}.{quote_ident(f"{name}_{key}_guard")}();
"""
        child_props = (
            f"r.props || CASE WHEN r.child_present THEN jsonb_build_object({_literal(key)}, "
            f"coalesce((SELECT jsonb_agg(c.data ORDER BY c.position) FROM {s}.{c} c "
            "WHERE c.parent_id = r.id), '[]'::jsonb)) ELSE '{}'::jsonb END"
        )
    feature = quote_ident(f"{name}_feature")
    return f"""
CREATE SEQUENCE {s}.{quote_ident(f"{name}_id_seq")};
CREATE TABLE {s}.{t} (
    id text PRIMARY KEY CHECK (id ~ {_literal(kind.id_check)}),
    geom geometry({kind.geometry_type}, 4326),
{_columns(cols)}    props jsonb NOT NULL CHECK (jsonb_typeof(props) = 'object'),
    child_present boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    updated_by text NOT NULL DEFAULT session_user,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX {quote_ident(f"{name}_geom_idx")} ON {s}.{t} USING gist (geom);
{child_sql}
CREATE FUNCTION {s}.{feature}(r {s}.{t}) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('type', 'Feature', 'id', r.id, 'geometry', {geometry},
                              'properties', {child_props})
$$;
CREATE FUNCTION {s}.{quote_ident(f"{name}_outside_edit")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('geotrack.writer', true) = 'geotrack' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION '{name}: rows are added and removed only through geotrack (add validates, retire keeps a tombstone); % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION '{name}: an id never changes' USING ERRCODE = 'check_violation';
    END IF;
{sync}    IF NEW.props ? 'updated_at' THEN
        NEW.props := jsonb_set(NEW.props, '{{updated_at}}',
            to_jsonb(to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));
    END IF;
    NEW.version := OLD.version + 1;
    NEW.updated_by := session_user;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER outside_edit BEFORE INSERT OR UPDATE OR DELETE ON {s}.{t}
    FOR EACH ROW EXECUTE FUNCTION {s}.{quote_ident(f"{name}_outside_edit")}();
CREATE FUNCTION {s}.{quote_ident(f"{name}_outside_history")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('geotrack.writer', true) IS DISTINCT FROM 'geotrack'
       AND {s}.{feature}(OLD) IS DISTINCT FROM {s}.{feature}(NEW) THEN
        INSERT INTO {s}.history (layer, seq, time, "user", op, reason, ids, changes)
        VALUES ({_literal(name)}, {s}.next_seq({_literal(name)}),
                to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                session_user, 'edit', 'edited outside geotrack (QGIS or SQL)', ARRAY[NEW.id],
                jsonb_build_array(jsonb_build_object('id', NEW.id, 'before', {s}.{feature}(OLD),
                                                     'after', {s}.{feature}(NEW))));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER outside_history AFTER UPDATE ON {s}.{t}
    FOR EACH ROW EXECUTE FUNCTION {s}.{quote_ident(f"{name}_outside_history")}();
"""


def grant_sql(schema: str, layers: list[LayerKind]) -> str:
    """Grants for the schema's editor and read-only roles (``<schema>_editor``, ``_reader``).

    The editor may read everything, change the layer tables and use their sequences,
    and only INSERT and SELECT the history; the reader may only SELECT.

    Examples
    --------
    >>> "GRANT SELECT, INSERT ON" in grant_sql("geotrack", [])
    True
    """
    s = quote_ident(schema)
    editor, reader = quote_ident(f"{schema}_editor"), quote_ident(f"{schema}_reader")
    out = [
        f"GRANT USAGE ON SCHEMA {s} TO {editor}, {reader};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {editor}, {reader};",
        f"GRANT SELECT, INSERT ON {s}.history TO {editor};",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {editor}, {reader};",
    ]
    for kind in layers:
        t = quote_ident(kind.name)
        out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {s}.{t} TO {editor};")
        out.append(
            f"GRANT USAGE, SELECT, UPDATE ON {s}.{quote_ident(kind.name + '_id_seq')} TO {editor};"
        )
        if kind.child:
            c = quote_ident(f"{kind.name}_{kind.child[0]}")
            out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {s}.{c} TO {editor};")
    out.append(f"GRANT SELECT ON public.layer_styles TO {editor}, {reader};")
    return "\n".join(out)
