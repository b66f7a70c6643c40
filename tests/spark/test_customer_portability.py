"""Lifecycle, cohort, repurchase and migration expressions give the same rows on Spark as on DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from salescope.analytics.cohorts import cohort_retention, repurchase_intervals
from salescope.analytics.lifecycle import customer_lifecycle, lifecycle_history
from salescope.analytics.migration import monthly_snapshots, segment_history, transition_matrix
from salescope.analytics.rfm import customer_orders
from salescope.engine import spark as spark_engine

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.0 predates pandas 3: its toPandas uses options and keywords pandas 3 deprecates, and py4j
    # leaves gateway sockets to the garbage collector. Neither is ours to change.
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

AS_OF = dt.date(2024, 7, 1)


def _frame(expr: Any, key: list[str]) -> pd.DataFrame:
    df = expr.to_pandas()
    for c in df.columns:
        if df[c].map(lambda v: isinstance(v, Decimal)).any():
            df[c] = df[c].map(lambda v: None if v is None else Decimal(v).quantize(Decimal("0.0001")))
        elif str(df[c].dtype).startswith("datetime"):
            df[c] = df[c].dt.date
        elif df[c].dtype == object and df[c].map(lambda v: isinstance(v, pd.Timestamp)).any():
            df[c] = df[c].map(lambda v: v.date() if isinstance(v, pd.Timestamp) else v)
    return df.sort_values(key).reset_index(drop=True)


def _orders(tables: dict[str, Any]) -> Any:
    return customer_orders(tables["sales"], as_of=AS_OF)


@pytest.fixture(scope="module")
def snapshots(both: dict[str, Any]) -> dict[str, Any]:
    dates = pa.table({"snapshot_date": pa.array(monthly_snapshots(dt.date(2022, 1, 1), AS_OF), pa.date32())})
    wh = both["warehouse"]
    wh.con.register("portability_snapshots", dates)
    return {
        "duckdb": wh.table("portability_snapshots"),
        "spark": spark_engine.register_arrow(both["spark_backend"], "portability_snapshots", dates),
    }


def _same(build: Any, both: dict[str, Any], key: list[str]) -> pd.DataFrame:
    d = _frame(build("duckdb"), key)
    s = _frame(build("spark"), key)
    pd.testing.assert_frame_equal(d, s, check_dtype=False)
    return d


def test_lifecycle_matches(both: dict[str, Any], snapshots: dict[str, Any]) -> None:
    current = _same(lambda e: customer_lifecycle(_orders(both[e]), as_of=AS_OF), both, ["customer_id"])
    assert len(current) == 300 and set(current["stage"]) >= {"active", "churned"}
    history = _same(lambda e: lifecycle_history(_orders(both[e]), snapshots[e]), both, ["snapshot_date", "stage"])
    assert history["customers"].sum() > 300


def test_segment_history_and_transitions_match(both: dict[str, Any], snapshots: dict[str, Any]) -> None:
    history = _same(lambda e: segment_history(_orders(both[e]), snapshots[e]), both, ["snapshot_date", "customer_id"])
    assert history["snapshot_date"].nunique() == 30
    _same(
        lambda e: transition_matrix(
            segment_history(_orders(both[e]), snapshots[e]), dt.date(2023, 6, 30), dt.date(2024, 6, 30)
        ),
        both,
        ["from_segment", "to_segment"],
    )


def test_cohorts_match(both: dict[str, Any]) -> None:
    rows = _same(lambda e: cohort_retention(_orders(both[e])), both, ["cohort_month", "period"])
    assert rows["period"].max() > 12


def test_repurchase_counts_match(both: dict[str, Any]) -> None:
    # Interval quantiles are exact on DuckDB and approximate (percentile_approx) on Spark, so only
    # the counts and means are compared here.
    def build(e: str) -> Any:
        sales = both[e]["sales"]
        lines = sales.filter(sales.customer_id.notnull() & (sales.order_date <= AS_OF))
        out = repurchase_intervals(lines, both[e]["products"])
        return out.select("scope", "key", "buyers", "repeat_buyers", "repeat_rate", "intervals", "mean_days")

    rows = _same(build, both, ["scope", "key"])
    assert set(rows["scope"]) == {"all", "customer", "product", "category"}
