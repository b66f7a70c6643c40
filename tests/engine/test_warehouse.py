from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pytest

from salescope.engine.warehouse import Warehouse
from salescope.errors import ReadOnlyError, WorkspaceBusyError
from salescope.schema.migrations import WAREHOUSE_MIGRATIONS
from salescope.schema.tables import DATA_TABLES, TABLES_BY_NAME


def test_migrations_create_every_canonical_table_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        assert set(TABLES_BY_NAME) <= set(wh.tables())
        assert wh.schema_version() == WAREHOUSE_MIGRATIONS[-1].version
    with Warehouse(path) as wh:  # reopening applies nothing twice
        assert wh.rows("SELECT count(*) FROM schema_version")[0][0] == len(WAREHOUSE_MIGRATIONS)


def test_money_is_exact_decimal(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        types = dict(wh.rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name='sales'"))
        assert types["amount"] == "DECIMAL(18,4)"
        data = pa.table(
            {
                "order_id": ["a"] * 3,
                "line_no": [1, 2, 3],
                "order_date": pa.array([19000] * 3, pa.date32()),
                "product_id": ["p"] * 3,
                "amount": pa.array([decimal.Decimal("0.10")] * 3, pa.decimal128(18, 4)),
                "batch_id": ["b"] * 3,
                "source_row": [1, 2, 3],
            }
        )
        wh.insert_arrow("sales", data)
        # 0.1 three times is exactly 0.3 in DECIMAL; binary floats would give 0.30000000000000004
        assert wh.scalar("SELECT sum(amount) FROM sales") == decimal.Decimal("0.3000")


def test_every_data_table_has_a_key() -> None:
    for t in DATA_TABLES:
        assert t.key, t.name
        assert set(t.key) <= set(t.column_names)


def test_sql_is_read_only(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        assert wh.read_only_query("SELECT 1 AS x").to_pylist() == [{"x": 1}]
        with pytest.raises(ReadOnlyError, match="read-only"):
            wh.read_only_query("DELETE FROM sales")
        with pytest.raises(ReadOnlyError):
            wh.read_only_query("SELECT 1; DROP TABLE sales")


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        with pytest.raises(RuntimeError), wh.transaction():
            wh.execute("INSERT INTO targets VALUES ('2024-01','total','revenue',1,'b',1)")
            raise RuntimeError("interrupted")
        assert wh.scalar("SELECT count(*) FROM targets") == 0


def test_second_writer_gets_one_sentence(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(WorkspaceBusyError, match="in use by another Salescope process"):
            Warehouse(path)
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


def test_aggregates_after_a_join_to_an_empty_table_compare_correctly(tmp_path: Path) -> None:
    """DuckDB 2.0.0 answers False for 10.0 > 0 here when statistics propagation is on (found on ABC
    with no product master loaded); the warehouse must give the true answer."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.execute("CREATE TABLE s (product_id VARCHAR, amount DECIMAL(18,4))")
        wh.execute("INSERT INTO s VALUES ('a', 10), ('b', 5), ('b', -1)")
        wh.execute("CREATE TABLE p (product_id VARCHAR, unit_cost DECIMAL(18,4))")
        rows = wh.rows(
            "SELECT k, v, v > 0 FROM (SELECT product_id k, CAST(SUM(amount) AS DOUBLE) v FROM "
            "(SELECT s.product_id, s.amount FROM s LEFT JOIN p USING (product_id)) "
            "WHERE product_id <> 'UNKNOWN' GROUP BY 1) ORDER BY 1"
        )
        assert rows == [("a", 10.0, True), ("b", 4.0, True)]
        view = wh.cursor()
        assert view.rows("SELECT current_setting('disabled_optimizers')")[0][0] == "statistics_propagation"
