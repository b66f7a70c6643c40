"""The analytics expressions run unchanged on Spark and give the same rows as on DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from salescope.analytics.rfm import rfm_table

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
    return df.sort_values(key).reset_index(drop=True)


@pytest.mark.parametrize("threshold", ["mean", "quintile"])
def test_rfm_and_segments_match_row_for_row(both: dict[str, Any], threshold: str) -> None:
    d = _frame(rfm_table(both["duckdb"]["sales"], as_of=AS_OF, threshold=threshold), ["customer_id"])
    s = _frame(rfm_table(both["spark"]["sales"], as_of=AS_OF, threshold=threshold), ["customer_id"])
    assert len(d) == 300  # anonymous sales excluded
    pd.testing.assert_frame_equal(d, s, check_dtype=False)
