"""KPI, contribution and target expressions give the same rows on Spark as on DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from salescope.analytics.kpis import kpi_table, sales_lines
from salescope.analytics.trends import contribution

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.0 predates pandas 3, and py4j leaves gateway sockets to the garbage collector: not ours to change.
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def _frame(expr: Any, key: list[str]) -> pd.DataFrame:
    df = expr.to_pandas()
    for c in df.columns:
        if df[c].map(lambda v: isinstance(v, Decimal)).any():
            df[c] = df[c].map(lambda v: None if v is None else float(v))
        elif str(df[c].dtype).startswith("datetime"):
            df[c] = df[c].dt.date
        elif df[c].dtype == object and df[c].map(lambda v: isinstance(v, pd.Timestamp)).any():
            df[c] = df[c].map(lambda v: v.date() if isinstance(v, pd.Timestamp) else v)
    return df.sort_values(key).reset_index(drop=True)


def _same(build: Any, both: dict[str, Any], key: list[str]) -> pd.DataFrame:
    d = _frame(build("duckdb"), key)
    s = _frame(build("spark"), key)
    pd.testing.assert_frame_equal(d, s, check_dtype=False, check_exact=False, rtol=1e-9)
    return d


@pytest.mark.parametrize(("freq", "fiscal"), [("month", 1), ("quarter", 4), ("week", 1)])
def test_kpi_table_matches(both: dict[str, Any], freq: str, fiscal: int) -> None:
    def build(e: str) -> Any:
        t = both[e]
        by = (None, "region", "category") if freq != "week" else (None, "channel")
        return kpi_table(t["sales"], freq=freq, by=by, fiscal_start_month=fiscal, products=t["products"])

    rows = _same(build, both, ["dim", "slice", "period_idx"])
    total = rows[rows["dim"] == "total"]
    assert len(total) > 8 and total["customers_active"].sum() > 300


def test_contribution_matches(both: dict[str, Any]) -> None:
    a = (dt.date(2023, 1, 1), dt.date(2023, 6, 30))
    b = (dt.date(2023, 7, 1), dt.date(2023, 12, 31))

    def build(e: str) -> Any:
        lines = sales_lines(both[e]["sales"], products=both[e]["products"])
        return contribution(lines, a=a, b=b, dims=("region", "channel", "category"))

    rows = _same(build, both, ["dim", "rank"])
    for _, part in rows.groupby("dim"):
        assert part["share_of_change"].sum() == pytest.approx(1.0)
