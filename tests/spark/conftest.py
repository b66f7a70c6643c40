"""One local Spark session for all `spark` tests (its JVM start costs ~30 s)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from salescope.engine import spark as spark_engine
from salescope.engine.warehouse import Warehouse
from salescope.settings import EngineSettings

TABLES = ["sales", "products", "customers"]


def _sales(seed: int = 7, n: int = 6000) -> pa.Table:
    rng = np.random.default_rng(seed)
    customers = np.array([f"C{i:04d}" for i in range(300)] + [None] * 20, dtype=object)
    start = dt.date(2022, 1, 1)
    orders = rng.integers(0, n // 3, n)
    order_day = {o: start + dt.timedelta(days=int(rng.integers(0, 900))) for o in np.unique(orders)}
    order_customer = {o: customers[int(rng.integers(0, len(customers)))] for o in np.unique(orders)}
    cents = (rng.lognormal(5, 1, n) * 100).astype(np.int64) * np.where(rng.random(n) < 0.03, -1, 1)
    line_no: dict[int, int] = {}
    lines = []
    for o in orders:
        line_no[o] = line_no.get(o, 0) + 1
        lines.append(line_no[o])
    return pa.table(
        {
            "order_id": [f"O{o:06d}" for o in orders],
            "line_no": lines,
            "order_date": pa.array([order_day[o] for o in orders], pa.date32()),
            "customer_id": [order_customer[o] for o in orders],
            "product_id": [f"P{int(p):03d}" for p in rng.zipf(1.6, n) % 200],
            "quantity": pa.array([Decimal(int(q)) for q in rng.integers(1, 9, n)], pa.decimal128(18, 4)),
            "amount": pa.array([Decimal(int(c)) / 100 for c in cents], pa.decimal128(18, 4)),
            "salesperson": [f"S{int(s)}" for s in rng.integers(0, 6, n)],
            "region": [["华东", "华南", "华北", "西南"][int(r)] for r in rng.integers(0, 4, n)],
            "channel": [["直销", "电商", "经销商"][int(c)] for c in rng.integers(0, 3, n)],
            "batch_id": ["b1"] * n,
            "source_row": list(range(1, n + 1)),
        }
    )


def _products() -> pa.Table:
    return pa.table(
        {
            "product_id": [f"P{i:03d}" for i in range(200)],
            "name": [f"产品{i}" for i in range(200)],
            "category": [["办公", "家电", "食品", "服装"][i % 4] for i in range(200)],
        }
    )


@pytest.fixture(scope="session")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The same canonical tables on DuckDB and on Spark (via Parquet, as a cluster would read them)."""
    root: Path = tmp_path_factory.mktemp("spark")
    wh = Warehouse(root / "warehouse.duckdb")
    wh.insert_arrow("sales", _sales())
    wh.insert_arrow("products", _products())
    spark_engine.export_tables(wh, root / "parquet", TABLES)
    sb = spark_engine.backend(EngineSettings(spark_master="local[2]"))
    views = spark_engine.register_parquet(sb, root / "parquet", TABLES)
    yield {"duckdb": {t: wh.table(t) for t in TABLES}, "spark": views, "warehouse": wh, "spark_backend": sb}
    wh.close()
