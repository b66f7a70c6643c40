"""The CLV expressions (BTYD summary, tracking counts, heuristic CLV) give the same rows on Spark as on DuckDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from salescope.analytics.clv import heuristic_clv, repeat_purchases_by_period, transaction_summary

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.0 predates pandas 3 and leaves py4j sockets to the garbage collector; not ours to change.
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CAL_END = dt.date(2023, 12, 31)
HOLD_END = dt.date(2024, 6, 30)


def _frame(expr: Any, key: list[str]) -> pd.DataFrame:
    df = expr.to_pyarrow().to_pandas()
    return df.sort_values(key).reset_index(drop=True)


def test_transaction_summary_matches_row_for_row(both: dict[str, Any]) -> None:
    def build(sales: Any) -> Any:
        return transaction_summary(sales, calibration_end=CAL_END, period="week", holdout_end=HOLD_END)

    d = _frame(build(both["duckdb"]["sales"]), ["customer_id"])
    s = _frame(build(both["spark"]["sales"]), ["customer_id"])
    assert len(d) > 100
    pd.testing.assert_frame_equal(d, s, check_dtype=False, rtol=1e-12)


def test_tracking_counts_and_heuristic_match(both: dict[str, Any]) -> None:
    def counts(sales: Any) -> Any:
        return repeat_purchases_by_period(
            sales, start=dt.date(2022, 1, 1), calibration_end=CAL_END, end=HOLD_END, period="week"
        )

    pd.testing.assert_frame_equal(
        _frame(counts(both["duckdb"]["sales"]), ["period_index"]),
        _frame(counts(both["spark"]["sales"]), ["period_index"]),
        check_dtype=False,
    )
    d = _frame(heuristic_clv(both["duckdb"]["sales"], as_of=CAL_END), ["customer_id"])
    s = _frame(heuristic_clv(both["spark"]["sales"], as_of=CAL_END), ["customer_id"])
    pd.testing.assert_frame_equal(d, s, check_dtype=False, rtol=1e-12)
