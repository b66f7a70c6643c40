"""Set-based loading for imports: staging, duplicate and conflict checks, inserts, undo; database sources.

The importer parses a file into a staging table inside one warehouse transaction;
everything after that — line numbers, duplicates against the warehouse and within
the file, the final inserts and the quarantine — is a handful of SQL statements,
so a million rows cost the same few statements as ten.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from salescope.engine.warehouse import Warehouse
from salescope.errors import SalescopeError
from salescope.schema.tables import TABLES_BY_NAME

_names = itertools.count()

REVISIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS import_revisions (batch_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL, "
    "key VARCHAR NOT NULL, before VARCHAR, after VARCHAR)"
)


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """A SQL literal for a string or None (values are only ever headers, ids and reasons we produced)."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


# -- staging --------------------------------------------------------------------------------------


class Staging:
    """A temporary table holding one file's parsed rows until the import commits."""

    def __init__(self, wh: Warehouse, prefix: str = "stage") -> None:
        self.wh = wh
        self.name = f"_{prefix}_{next(_names)}"
        self.created = False
        self.rows = 0

    def append(self, data: pa.Table) -> None:
        view = f"{self.name}_in"
        with self.wh.registered(view, data):
            if not self.created:
                self.wh.execute(f"CREATE TEMP TABLE {q(self.name)} AS SELECT * FROM {q(view)}")
                self.created = True
            else:
                self.wh.execute(f"INSERT INTO {q(self.name)} BY NAME SELECT * FROM {q(view)}")
        self.rows += data.num_rows

    def drop(self) -> None:
        if self.created:
            self.wh.execute(f"DROP TABLE IF EXISTS {q(self.name)}")
            self.created = False
            self.rows = 0

    @staticmethod
    def columns_of(wh: Warehouse, table: str) -> list[str]:
        rows = wh.rows(f"SELECT column_name FROM (DESCRIBE {q(table)})")
        return [r[0] for r in rows]


def temp_table(wh: Warehouse, data: pa.Table, prefix: str = "tmp") -> str:
    """Copy an Arrow table into a temporary table (so it can be joined inside the transaction)."""
    name = f"_{prefix}_{next(_names)}"
    view = f"{name}_in"
    with wh.registered(view, data):
        wh.execute(f"CREATE TEMP TABLE {q(name)} AS SELECT * FROM {q(view)}")
    return name


def drop_temp(wh: Warehouse, *names: str) -> None:
    for name in names:
        wh.execute(f"DROP TABLE IF EXISTS {q(name)}")


# -- classification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactLoad:
    """How one staged file becomes rows of a fact table.

    ``exprs`` give each target column as SQL over the staged row ``s`` (and the ``joins``);
    ``line_of`` names the order column within which missing line numbers are assigned;
    ``raw_fields`` pair source headers with staged fields, to show a row that parsed but
    conflicts (its original cells are kept only for rows the parser already rejected).
    """

    table: str
    key: tuple[str, ...]
    exprs: dict[str, str]
    joins: str = ""
    line_of: str | None = None
    raw_fields: tuple[tuple[str, str], ...] = ()
    raw_extra: tuple[str, ...] = ()
    """classified columns added to a rebuilt raw row (an assigned line number makes a corrected row re-importable)"""


# Rows without a bucket after classification are the ones that load.
LOADED = "_bucket IS NULL"


def _content(spec: FactLoad) -> list[str]:
    table = TABLES_BY_NAME[spec.table]
    return [c for c in table.column_names if c not in spec.key and c not in ("batch_id", "source_row")]


def _struct(columns: Sequence[str], alias: str) -> str:
    return "struct_pack(" + ", ".join(f"{q(c)} := {alias}.{q(c)}" for c in columns) + ")"


def classify(wh: Warehouse, stage: str, spec: FactLoad) -> str:
    """Give every staged row its final bucket; returns the name of the classified temp table.

    A row already bucketed by the parser keeps its bucket. Otherwise: the same key and
    content as a warehouse row is a duplicate, the same key with other content a conflict
    (quarantined); within the file, a later row repeating an earlier key is a duplicate if
    its content matches and a conflict if not; everything else loads (bucket stays NULL).
    Only keys that repeat or already exist are compared, so a clean file costs one pass.
    """
    target = TABLES_BY_NAME[spec.table]
    content = _content(spec)
    exprs = ", ".join(f"{expr} AS {q(col)}" for col, expr in spec.exprs.items())
    select = f"SELECT s.source_row, s._bucket, s._column, s._value, s._reason, s._raw, {exprs} FROM {q(stage)} s"
    name = f"{stage}_c"
    needs_numbers = spec.line_of is not None
    if spec.line_of and "line_no" in Staging.columns_of(wh, stage):
        # Explicit line numbers everywhere: nothing to assign, skip the window.
        missing = wh.scalar(
            f"SELECT count(*) FROM {q(stage)} WHERE line_no IS NULL AND _bucket IS DISTINCT FROM 'skipped'"
        )
        needs_numbers = int(missing) > 0
    if needs_numbers and spec.line_of:
        # Numbered on a narrow table (order, row): windows over the full staged rows sort every column.
        oid = q(spec.line_of)
        explicit = "line_no" if "line_no" in Staging.columns_of(wh, stage) else "CAST(NULL AS BIGINT)"
        wh.execute(
            f"CREATE OR REPLACE TEMP TABLE _lines AS SELECT source_row, coalesce({explicit}, "
            f"coalesce(max({explicit}) OVER (PARTITION BY {oid}), 0) "
            f"+ row_number() OVER (PARTITION BY {oid}, {explicit} IS NULL ORDER BY source_row)) AS line_no "
            f"FROM {q(stage)} WHERE _bucket IS DISTINCT FROM 'skipped' AND {oid} IS NOT NULL"
        )
        wh.execute(
            f"CREATE TEMP TABLE {q(name)} AS SELECT * REPLACE (_ln.line_no AS line_no) FROM ({select} {spec.joins}) "
            "LEFT JOIN _lines _ln USING (source_row)"
        )
        wh.execute("DROP TABLE IF EXISTS _lines")
    else:
        wh.execute(f"CREATE TEMP TABLE {q(name)} AS {select} {spec.joins}")
    keys = ", ".join(q(k) for k in spec.key)
    key_text = " || '/' || ".join(f"coalesce(CAST(c.{q(k)} AS VARCHAR), '')" for k in spec.key)
    # Within the file: later rows repeating a key. Line numbers the importer assigned are unique by
    # construction, so only files that give their own keys need the check.
    assigned_only = needs_numbers and "line_no" not in Staging.columns_of(wh, stage)
    if not assigned_only:
        wh.execute(
            f"""CREATE OR REPLACE TEMP TABLE _repeats AS
    SELECT source_row, first_row, same FROM (
      SELECT c.source_row,
             row_number() OVER w AS rank,
             first_value(c.source_row) OVER w AS first_row,
             {_struct(content, "c")} IS NOT DISTINCT FROM first_value({_struct(content, "c")}) OVER w AS same
      FROM {q(name)} c SEMI JOIN (
        SELECT {keys} FROM {q(name)} WHERE {LOADED} GROUP BY {keys} HAVING count(*) > 1
      ) d USING ({keys})
      WHERE c.{LOADED}
      WINDOW w AS (PARTITION BY {", ".join("c." + q(k) for k in spec.key)} ORDER BY c.source_row)
    ) WHERE rank > 1"""
        )
        wh.execute(
            f"UPDATE {q(name)} c SET _bucket = CASE WHEN r.same THEN 'duplicate' ELSE 'quarantined' END, "
            f"_value = {key_text}, _reason = CASE WHEN r.same THEN NULL ELSE 'key ' || {key_text} || "
            "' repeats row ' || CAST(r.first_row AS VARCHAR) || ' of this file with different values' END "
            "FROM _repeats r WHERE c.source_row = r.source_row"
        )
    # Against the warehouse: rows whose key is already stored.
    on = " AND ".join(f"t.{q(k)} = c.{q(k)}" for k in spec.key)
    wh.execute(
        f"""CREATE OR REPLACE TEMP TABLE _hits AS
SELECT c.source_row, any_value(t.batch_id) AS t_batch,
       bool_and({_struct(content, "t")} IS NOT DISTINCT FROM {_struct(content, "c")}) AS same
FROM {q(name)} c JOIN {q(target.name)} t ON {on}
WHERE c.{LOADED}
GROUP BY c.source_row"""
    )
    wh.execute(
        f"UPDATE {q(name)} c SET _bucket = CASE WHEN h.same THEN 'duplicate' ELSE 'quarantined' END, "
        f"_value = {key_text}, _reason = CASE WHEN h.same THEN NULL ELSE 'key ' || {key_text} || "
        "' was already loaded by batch ' || h.t_batch || ' with different values; undo that batch or correct this row' "
        "END FROM _hits h WHERE c.source_row = h.source_row"
    )
    wh.execute("DROP TABLE IF EXISTS _repeats")
    wh.execute("DROP TABLE IF EXISTS _hits")
    return name


def counts(wh: Warehouse, classified: str) -> dict[str, int]:
    rows = wh.rows(f"SELECT coalesce(_bucket, 'loaded'), count(*) FROM {q(classified)} GROUP BY 1")
    out = {"loaded": 0, "duplicate": 0, "quarantined": 0, "skipped": 0}
    for bucket, n in rows:
        out[str(bucket)] = int(n)
    return out


def insert_loaded(wh: Warehouse, classified: str, table: str, columns: Sequence[str], batch_id: str) -> int:
    target = TABLES_BY_NAME[table]
    cols = [c for c in target.column_names if (c in columns or c == "source_row") and c != "batch_id"]
    col_sql = ", ".join(q(c) for c in cols)
    wh.execute(
        f"INSERT INTO {q(table)} ({col_sql}, batch_id) SELECT {col_sql}, {lit(batch_id)} "
        f"FROM {q(classified)} WHERE {LOADED}"
    )
    return int(wh.scalar(f"SELECT count(*) FROM {q(classified)} WHERE {LOADED}"))


def rebuilt_raw_sql(
    fields: Sequence[tuple[str, str]], extra: Sequence[str] = (), alias: str = "s", extra_alias: str = "c"
) -> str:
    """A row that parsed, as JSON under its source headers (parsed values: they re-import unchanged)."""
    pairs = [f"{lit(h)}, {alias}.{q(f)}" for h, f in fields]
    pairs += [f"{lit(e)}, {extra_alias}.{q(e)}" for e in extra]
    return f"CAST(json_object({', '.join(pairs)}) AS VARCHAR)" if pairs else "'{}'"


def insert_quarantine(
    wh: Warehouse,
    classified: str,
    stage: str,
    batch_id: str,
    fields: Sequence[tuple[str, str]],
    extra: Sequence[str] = (),
) -> int:
    """Quarantined and skipped rows with their reason; rows that parsed get their raw row rebuilt from the stage."""
    rebuilt = rebuilt_raw_sql(fields, extra)
    kept = "c._raw"
    if extra:
        # The line number the importer gave the row travels with it, so the corrected row lands on the same line.
        patch = "json_object(" + ", ".join(f"{lit(e)}, c.{q(e)}" for e in extra) + ")"
        present = " AND ".join(f"c.{q(e)} IS NOT NULL" for e in extra)
        kept = f"CASE WHEN {present} THEN CAST(json_merge_patch(c._raw, {patch}) AS VARCHAR) ELSE c._raw END"
    wh.execute(
        "INSERT INTO quarantine (batch_id, source_row, bucket, column_name, value, reason, raw) "
        f"SELECT {lit(batch_id)}, c.source_row, c._bucket, c._column, c._value, coalesce(c._reason, 'unreadable row'), "
        f"CASE WHEN c._raw IS NOT NULL THEN {kept} ELSE {rebuilt} END FROM {q(classified)} c LEFT JOIN {q(stage)} s "
        "ON s.source_row = c.source_row AND c._raw IS NULL "
        "WHERE c._bucket IN ('quarantined', 'skipped')"
    )
    return int(wh.scalar(f"SELECT count(*) FROM quarantine WHERE batch_id = {lit(batch_id)}"))


# -- master data: upserts with a before-image for undo -----------------------------------------------


def ensure_revisions(wh: Warehouse) -> None:
    wh.execute(REVISIONS_DDL)


def upsert_master(
    wh: Warehouse, data: str, table: str, key: str, columns: Sequence[str], batch_id: str
) -> tuple[int, int, int]:
    """Insert new entities and fill/replace provided fields of existing ones; returns (inserted, updated, same).

    ``data`` is a temp table with one row per entity (``key`` plus ``columns``, NULL where the
    file says nothing). An existing entity whose provided fields already hold those values is
    unchanged; otherwise its before-image is kept in ``import_revisions`` so undo can restore it.
    """
    ensure_revisions(wh)
    cols = [c for c in columns if c != key]
    k = q(key)
    differs = " OR ".join(f"(d.{q(c)} IS NOT NULL AND d.{q(c)} IS DISTINCT FROM t.{q(c)})" for c in cols) or "FALSE"
    wh.execute(
        f"CREATE OR REPLACE TEMP TABLE _upd AS SELECT d.* FROM {q(data)} d JOIN {q(table)} t ON t.{k} = d.{k} "
        f"WHERE {differs}"
    )
    same = int(wh.scalar(f"SELECT count(*) FROM {q(data)} d JOIN {q(table)} t ON t.{k} = d.{k}")) - int(
        wh.scalar("SELECT count(*) FROM _upd")
    )
    all_cols = TABLES_BY_NAME[table].column_names
    before = "to_json(struct_pack(" + ", ".join(f"{q(c)} := t.{q(c)}" for c in all_cols) + "))"
    wh.execute(
        f"INSERT INTO import_revisions SELECT {lit(batch_id)}, {lit(table)}, t.{k}, CAST({before} AS VARCHAR), NULL "
        f"FROM {q(table)} t JOIN _upd d ON t.{k} = d.{k}"
    )
    sets = ", ".join(f"{q(c)} = coalesce(d.{q(c)}, t.{q(c)})" for c in cols)
    if sets:
        wh.execute(f"UPDATE {q(table)} t SET {sets} FROM _upd d WHERE t.{k} = d.{k}")
    after = "to_json(struct_pack(" + ", ".join(f"{q(c)} := t.{q(c)}" for c in all_cols) + "))"
    wh.execute(
        f"UPDATE import_revisions r SET after = CAST({after} AS VARCHAR) FROM {q(table)} t "
        f"WHERE r.batch_id = {lit(batch_id)} AND r.table_name = {lit(table)} AND r.key = t.{k}"
    )
    updated = int(wh.scalar("SELECT count(*) FROM _upd"))
    present = [c for c in all_cols if c in (key, *cols)]
    col_sql = ", ".join(q(c) for c in present)
    wh.execute(
        f"INSERT INTO {q(table)} ({col_sql}, batch_id) SELECT {', '.join('d.' + q(c) for c in present)}, "
        f"{lit(batch_id)} FROM {q(data)} d WHERE NOT EXISTS (SELECT 1 FROM {q(table)} t WHERE t.{k} = d.{k})"
    )
    inserted = int(wh.scalar(f"SELECT count(*) FROM {q(table)} WHERE batch_id = {lit(batch_id)}"))
    wh.execute("DROP TABLE IF EXISTS _upd")
    return inserted, updated, same


def restore_revisions(wh: Warehouse, batch_id: str) -> int:
    """Put back the fields a batch changed on existing entities, where no later batch changed them again."""
    if not wh.has_table("import_revisions"):
        return 0
    revs = wh.rows(
        "SELECT table_name, key, before, after FROM import_revisions WHERE batch_id = ? ORDER BY rowid DESC", [batch_id]
    )
    restored = 0
    for table, key, before, after in revs:
        spec = TABLES_BY_NAME[table]
        pk = spec.key[0]
        cols = [c for c in spec.column_names if c != pk]
        # Only fields still holding this batch's value go back: a later import's change stands.
        sets = ", ".join(
            f"{q(c)} = CASE WHEN CAST(t.{q(c)} AS VARCHAR) IS NOT DISTINCT FROM json_extract_string(?::JSON, '{c}') "
            f"THEN TRY_CAST(json_extract_string(?::JSON, '{c}') AS {_sql_type(spec.name, c)}) ELSE t.{q(c)} END"
            for c in cols
        )
        params: list[Any] = []
        for _ in cols:
            params += [after, before]
        wh.execute(f"UPDATE {q(table)} t SET {sets} WHERE t.{q(pk)} = ?", [*params, key])
        restored += 1
    wh.execute("DELETE FROM import_revisions WHERE batch_id = ?", [batch_id])
    return restored


def _sql_type(table: str, column: str) -> str:
    from salescope.schema.tables import SQL_TYPES

    return SQL_TYPES[TABLES_BY_NAME[table].column(column).type]


# -- database sources ------------------------------------------------------------------------------


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].lower()


def _sqlite_path(url: str) -> str:
    return url[len("sqlite:///") :] if url.startswith("sqlite:///") else url.split(":", 1)[1].lstrip("/")


def _attach(url: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a PostgreSQL/MySQL database attached read-only as ``src``."""
    scheme = _scheme(url)
    ext = "postgres" if scheme.startswith("postgres") else "mysql"
    con = duckdb.connect()
    try:
        con.execute(f"LOAD {ext}")
    except duckdb.Error:
        try:
            con.execute(f"INSTALL {ext}")
            con.execute(f"LOAD {ext}")
        except duckdb.Error as exc:
            con.close()
            raise SalescopeError(
                f"Reading from {scheme} needs DuckDB's {ext} extension, which could not be installed here "
                f"(offline?); export the table to CSV or Parquet and import that file."
            ) from exc
    try:
        con.execute(f"ATTACH {lit(url)} AS src (TYPE {ext}, READ_ONLY)")
    except duckdb.Error as exc:
        con.close()
        secret = urlsplit(url).password
        detail = str(exc).replace(secret, "***") if secret else str(exc)
        raise SalescopeError(f"Cannot connect to the {scheme} database: {detail}") from exc
    return con


def database_tables(url: str) -> list[str]:
    if _scheme(url) == "sqlite":
        path = _sqlite_path(url)
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name").fetchall()
        except sqlite3.DatabaseError as exc:
            raise SalescopeError(f"{path} is not a readable SQLite database: {exc}") from exc
        finally:
            con.close()
        return [r[0] for r in rows if not str(r[0]).startswith("sqlite_")]
    dcon = _attach(url)
    try:
        rows = dcon.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'src' "
            "ORDER BY table_schema, table_name"
        ).fetchall()
    finally:
        dcon.close()
    return [name if schema in ("public", "main", None) else f"{schema}.{name}" for schema, name in rows]


def _qualified(name: str) -> str:
    return ".".join(q(part) for part in name.split("."))


def database_columns(url: str, table: str) -> tuple[list[str], int]:
    """Column names and the row count (for the progress bar)."""
    if _scheme(url) == "sqlite":
        con = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        try:
            cur = con.execute(f"SELECT * FROM {q(table)} LIMIT 0")
            names = [d[0] for d in cur.description]
            total = int(con.execute(f"SELECT count(*) FROM {q(table)}").fetchone()[0])
        finally:
            con.close()
        return names, total
    dcon = _attach(url)
    try:
        rel = dcon.sql(f"SELECT * FROM src.{_qualified(table)} LIMIT 0")
        names = list(rel.columns)
        total = int(dcon.execute(f"SELECT count(*) FROM src.{_qualified(table)}").fetchall()[0][0])
    finally:
        dcon.close()
    return names, total


def database_rows(url: str, table: str, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    if _scheme(url) == "sqlite":
        con = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        try:
            cur = con.execute(f"SELECT * FROM {q(table)}")
            while rows := cur.fetchmany(batch):
                yield rows
        finally:
            con.close()
        return
    dcon = _attach(url)
    try:
        res = dcon.execute(f"SELECT * FROM src.{_qualified(table)}")
        while rows := res.fetchmany(batch):
            yield rows
    finally:
        dcon.close()
