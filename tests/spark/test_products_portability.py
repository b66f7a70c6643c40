"""Rules mining, ABC-XYZ and next best product run unchanged on Spark and agree with DuckDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from salescope.analytics import abc, recommend
from salescope.analytics.basket import RuleParams, basket_items, decode_rules, mine_itemsets, mine_rules

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.0 predates pandas 3, and py4j leaves gateway sockets to the garbage collector.
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

AS_OF = dt.date(2024, 7, 1)
BACKENDS = ("duckdb", "spark")


def _backend(both: dict[str, Any], name: str) -> Any:
    return both["warehouse"].backend if name == "duckdb" else both["spark_backend"]


def _rules(both: dict[str, Any], name: str) -> pd.DataFrame:
    sales = both[name]["sales"]
    run = _backend(both, name).to_pyarrow
    purchases = sales.filter(sales.amount > 0)
    params = RuleParams(0.004, 0.05, max_len=3)
    itemsets = mine_itemsets(basket_items(purchases, "order_id", "product_id"), params, run)
    return decode_rules(mine_rules(itemsets, params, run), itemsets.items)


def test_rules_agree(both: dict[str, Any]) -> None:
    d, s = (_rules(both, b) for b in BACKENDS)
    assert len(d) > 10 and (d["antecedent"].map(len) == 2).any()  # pairs and triples were mined
    key = ["antecedent", "consequent"]
    d, s = (f.sort_values(key).reset_index(drop=True) for f in (d, s))
    pd.testing.assert_frame_equal(d, s, check_dtype=False)


def _abc(both: dict[str, Any], name: str) -> pd.DataFrame:
    sales = both[name]["sales"]
    classes = abc.abc_classify(sales, "product_id", "amount")
    demand = abc.xyz_classify(sales, "product_id", "order_date", "quantity", dt.date(2022, 1, 1), dt.date(2024, 6, 30))
    j = classes.join(demand, "product_id")
    expr = j.select(
        "product_id",
        "rank",
        "cum_share",
        "abc_class",
        "demand_cv",
        "xyz_class",
        cell=abc.matrix_cell(j.abc_class, j.xyz_class),
    )
    return _backend(both, name).to_pyarrow(expr).to_pandas().sort_values("product_id").reset_index(drop=True)


def test_abc_xyz_agree(both: dict[str, Any]) -> None:
    d, s = (_abc(both, b) for b in BACKENDS)
    assert set(d["abc_class"]) == {"A", "B", "C"}
    pd.testing.assert_frame_equal(d, s, check_dtype=False)


def _next_best(both: dict[str, Any], name: str) -> pd.DataFrame:
    run = _backend(both, name).to_pyarrow
    rec = recommend.build(both[name]["sales"], AS_OF, recommend.NextBestParams(k=5), run)
    frame = run(rec.recommendations).to_pandas()
    return frame.sort_values(["customer_id", "rank"]).reset_index(drop=True)


def test_next_best_agrees(both: dict[str, Any]) -> None:
    d, s = (_next_best(both, b) for b in BACKENDS)
    assert len(d) > 0 and set(d["reason"]) <= {"rule", "co-occurrence", "popular"}
    pd.testing.assert_frame_equal(d, s, check_dtype=False)
