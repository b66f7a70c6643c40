"""The warehouse: one DuckDB file per workspace, the only place SQL is executed.

Builders elsewhere produce SQL strings or Ibis expressions; they run here so a
failing query is attached to its error (the Splink pattern) and locking, memory
limits and transactions are handled in one place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
from ibis.backends.duckdb import Backend as DuckDBBackend

from salescope.errors import ReadOnlyError, SalescopeError, WorkspaceBusyError
from salescope.schema.migrations import WAREHOUSE_MIGRATIONS
from salescope.schema.tables import TABLES_BY_NAME

_LOCK_PATTERN = re.compile(r"Could not set lock|Conflicting lock", re.IGNORECASE)


class QueryError(SalescopeError):
    """A query failed; the SQL is kept for ``--debug`` and bug reports."""

    def __init__(self, message: str, sql: str) -> None:
        super().__init__(message, details=[sql])
        self.sql = sql


class Warehouse:
    """A DuckDB connection with Salescope's schema, limits and error translation."""

    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        memory_limit: str = "8GB",
        threads: int = 0,
        temp_directory: Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        config: dict[str, Any] = {"memory_limit": memory_limit}
        if threads:
            config["threads"] = threads
        if temp_directory is not None and not read_only:
            temp_directory.mkdir(parents=True, exist_ok=True)
            config["temp_directory"] = str(temp_directory)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise SalescopeError(f"No warehouse at {self.path}; run `salescope import` or `salescope demo` first.")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if _LOCK_PATTERN.search(str(exc)):
                raise WorkspaceBusyError(
                    f"The workspace {self.path.parent} is in use by another Salescope process "
                    "(usually `salescope serve`); stop it, or do this through the web app."
                ) from exc
            raise SalescopeError(f"Cannot open the warehouse {self.path}: {exc}") from exc
        _configure(self.con)
        self._ibis: DuckDBBackend | None = None
        if not read_only:
            self.migrate()

    # -- schema -----------------------------------------------------------------
    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version now in force."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, description VARCHAR, "
            "applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        row = self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
        current = int(row[0][0])
        for m in WAREHOUSE_MIGRATIONS:
            if m.version <= current:
                continue
            with self.transaction():
                for stmt in m.statements:
                    self.con.execute(stmt)
                self.con.execute(
                    "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                    [m.version, m.description],
                )
            current = m.version
        return current

    def schema_version(self) -> int:
        rows = self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
        return int(rows[0][0])

    def tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    # -- execution --------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        try:
            self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise QueryError(f"Query failed: {exc}", sql) from exc

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        try:
            rel = self.con.sql(sql, params=list(params) if params else None)
            if rel is None:
                raise QueryError("The statement returns no rows.", sql)
            return rel.to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"Query failed: {exc}", sql) from exc

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.arrow(sql, params).to_pandas()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise QueryError(f"Query failed: {exc}", sql) from exc

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def read_only_query(self, sql: str) -> pa.Table:
        """Run user SQL that may only read; anything else is refused in one sentence."""
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise QueryError(f"The SQL does not parse: {exc}", sql) from exc
        if len(statements) != 1:
            raise ReadOnlyError("Give exactly one SELECT statement.")
        allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
        if statements[0].type not in allowed:
            raise ReadOnlyError(
                f"`salescope sql` is read-only: a {statements[0].type.name} statement was refused; "
                "use `salescope import` to change data."
            )
        return self.arrow(sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: an exception (or a killed process) leaves the previous state."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def insert_arrow(self, table: str, data: pa.Table) -> int:
        """Append rows by column name; canonical columns missing from ``data`` become NULL."""
        if data.num_rows == 0:
            return 0
        spec = TABLES_BY_NAME.get(table)
        names = list(spec.column_names) if spec else data.column_names
        present = [n for n in names if n in data.column_names]
        cols = ", ".join(f'"{n}"' for n in present)
        view = f"_ins_{os.getpid()}_{id(data)}"
        self.con.register(view, data)
        try:
            self.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{view}"')
        finally:
            self.con.unregister(view)
        return data.num_rows

    @contextmanager
    def registered(self, name: str, data: pa.Table | pd.DataFrame) -> Iterator[str]:
        """Expose an in-memory table to SQL for the duration of a block."""
        self.con.register(name, data)
        try:
            yield name
        finally:
            self.con.unregister(name)

    # -- Ibis -------------------------------------------------------------------
    @property
    def backend(self) -> DuckDBBackend:
        """The Ibis backend over this same connection (no second lock on the file)."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str) -> ibis.Table:
        return self.backend.table(name)

    def to_arrow(self, expr: ibis.Expr) -> pa.Table:
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        try:
            return expr.to_pyarrow()
        except Exception as exc:
            raise QueryError(f"Query failed: {exc}", sql) from exc

    def to_pandas(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.to_arrow(expr).to_pandas()

    def materialise(self, name: str, expr: ibis.Table) -> int:
        """Replace a result table with the rows of ``expr``, keeping the canonical column order."""
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        spec = TABLES_BY_NAME.get(name)
        if spec is not None:
            cols = ", ".join(f'"{c}"' for c in spec.column_names if c in expr.columns)
            self.execute(f'DELETE FROM "{name}"')
            self.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM ({sql})')
        else:
            self.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}')
        return int(self.scalar(f'SELECT count(*) FROM "{name}"'))

    def cursor(self) -> Warehouse:
        """A view on the same database for another thread (DuckDB connections are not shared)."""
        view = object.__new__(Warehouse)
        view.path = self.path
        view.read_only = self.read_only
        view.con = self.con.cursor()
        view._ibis = None
        return view

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _configure(con: duckdb.DuckDBPyConnection) -> None:
    # Progress is drawn by the adapters (Rich), not by DuckDB on stderr.
    con.execute("SET enable_progress_bar = false")
    # DuckDB 2.0.0 returns wrong comparisons after a LEFT JOIN to an empty table, a filter and an
    # aggregate (`SUM(x) > 0` false for positive sums) unless statistics propagation is off; a sales
    # import without a product master is exactly that shape. Pinned by tests/engine/test_warehouse.py.
    con.execute("SET disabled_optimizers = 'statistics_propagation'")


def memory_backend() -> DuckDBBackend:
    """An in-memory engine for analytics handed a DataFrame (``ss.rfm(df)``) and for tests."""
    con = duckdb.connect()
    _configure(con)
    return ibis.duckdb.from_connection(con)
