"""Cohort retention and repurchase intervals on obvious cases and against pandas on real data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from sales_rows import d, load, online_retail, online_retail_sales, superstore, superstore_tables

from salescope.analytics.cohorts import cohort_retention, repurchase_intervals
from salescope.analytics.rfm import customer_orders
from salescope.engine.warehouse import Warehouse

SMALL = [
    ("a", "1", d("2024-01-01"), "10", "p1"),
    ("a", "2", d("2024-01-11"), "10", "p2"),
    ("a", "3", d("2024-03-21"), "10", "p1"),
    ("b", "4", d("2024-01-25"), "5", "p1"),
    ("b", "4", d("2024-01-25"), "7", "p2"),  # two lines, one order
    ("c", "5", d("2024-02-01"), "5", "p2"),
    ("c", "6", d("2024-02-03"), "5", "p2"),
    (None, "7", d("2024-02-10"), "99", "p1"),  # anonymous: no cohort
]


@pytest.fixture
def wh(tmp_path: Path) -> Any:
    with Warehouse(tmp_path / "w.duckdb") as w:
        yield w


def _retention(wh: Warehouse) -> list[dict[str, Any]]:
    expr = cohort_retention(customer_orders(wh.table("sales"))).order_by(["cohort_month", "period"])
    return wh.to_arrow(expr).to_pylist()


def test_small_cohorts_with_empty_months_filled(wh: Warehouse) -> None:
    load(wh, SMALL)
    rows = [
        (r["cohort_month"], r["period"], r["cohort_customers"], r["active_customers"], r["revenue"])
        for r in _retention(wh)
    ]
    # January cohort: a and b; February: c. Nobody from January bought in February; a came back in March.
    assert rows == [
        (d("2024-01-01"), 0, 2, 2, Decimal("32")),
        (d("2024-01-01"), 1, 2, 0, Decimal("0")),
        (d("2024-01-01"), 2, 2, 1, Decimal("10")),
        (d("2024-02-01"), 0, 1, 1, Decimal("10")),
        (d("2024-02-01"), 1, 1, 0, Decimal("0")),
    ]
    by_key = {(r["cohort_month"], r["period"]): r for r in _retention(wh)}
    assert by_key[(d("2024-01-01"), 2)]["retention"] == 0.5
    assert by_key[(d("2024-01-01"), 2)]["revenue_retention"] == 10 / 32
    assert by_key[(d("2024-01-01"), 2)]["activity_month"] == d("2024-03-01")


def test_small_repurchase_intervals(wh: Warehouse) -> None:
    load(wh, SMALL)
    wh.insert_arrow(
        "products",
        pa.table({"product_id": ["p1", "p2"], "category": ["X", None], "batch_id": ["b", "b"]}),
    )
    sales = wh.table("sales")
    lines = sales.filter(sales.customer_id.notnull())
    result = wh.to_arrow(repurchase_intervals(lines, wh.table("products")))
    got = {(r["scope"], r["key"]): r for r in result.to_pylist()}
    # purchase days: a Jan 1, Jan 11, Mar 21 (gaps 10, 70); b Jan 25; c Feb 1, Feb 3 (gap 2)
    everyone = got[("all", "all")]
    assert (everyone["buyers"], everyone["repeat_buyers"], everyone["intervals"]) == (3, 2, 3)
    assert everyone["repeat_rate"] == pytest.approx(2 / 3)
    assert everyone["median_days"] == 10 and everyone["mean_days"] == pytest.approx(82 / 3)
    assert got[("customer", "a")]["median_days"] == 40 and got[("customer", "a")]["intervals"] == 2
    assert got[("customer", "b")]["intervals"] == 0 and got[("customer", "b")]["median_days"] is None
    # p1: a on Jan 1 and Mar 21 (80 days), b once; p2: a once, b once, c Feb 1 and 3
    assert (got[("product", "p1")]["buyers"], got[("product", "p1")]["median_days"]) == (2, 80)
    assert (got[("product", "p2")]["buyers"], got[("product", "p2")]["repeat_buyers"]) == (3, 1)
    assert got[("category", "X")]["median_days"] == 80
    assert ("category", "None") not in got and len([k for k in got if k[0] == "category"]) == 1


def _pandas_cohorts(lines: pd.DataFrame) -> dict[tuple[Any, Any], tuple[int, float]]:
    """(cohort month, activity month) -> (active customers, revenue), computed the pandas way."""
    df = lines.assign(month=pd.to_datetime(lines["order_date"]).dt.to_period("M"))
    df["cohort"] = df.groupby("customer_id")["month"].transform("min")
    cells = df.groupby(["cohort", "month"]).agg(active=("customer_id", "nunique"), revenue=("amount", "sum"))
    return {
        (c.to_timestamp().date(), m.to_timestamp().date()): (int(r.active), float(r.revenue))
        for (c, m), r in cells.iterrows()
    }


def _compare_cohorts(wh: Warehouse, lines: pd.DataFrame) -> int:
    expected = _pandas_cohorts(lines)
    rows = _retention(wh)
    got = {(r["cohort_month"], r["activity_month"]): (r["active_customers"], float(r["revenue"])) for r in rows}
    assert {k for k, v in got.items() if v[0] > 0} == expected.keys()
    for key, (active, revenue) in expected.items():
        assert got[key][0] == active, key
        assert got[key][1] == pytest.approx(revenue, abs=0.005), key
    sizes = lines.groupby("customer_id")["order_date"].min().map(lambda x: x.replace(day=1)).value_counts()
    for r in rows:
        assert r["cohort_customers"] == sizes[r["cohort_month"]]
    return len(rows)


def test_online_retail_cohort_matches_pandas(shared_data: Path, wh: Warehouse) -> None:
    raw = online_retail(shared_data)
    wh.insert_arrow("sales", online_retail_sales(raw))
    known = raw.dropna(subset=["customer_id"]).assign(amount=lambda f: f["amount"].astype(float))
    # December 2010 alone: one cohort, one month, every identified customer active in it
    assert _compare_cohorts(wh, known) == 1


def test_superstore_cohorts_match_pandas(shared_data: Path, wh: Warehouse) -> None:
    raw = superstore(shared_data)
    sales, _ = superstore_tables(raw)
    wh.insert_arrow("sales", sales)
    lines = raw.rename(columns={"Customer ID": "customer_id"}).assign(amount=lambda f: f["amount"].astype(float))
    n = _compare_cohorts(wh, lines)
    assert n > 500  # four years of monthly cohorts, each followed to December 2019


def test_repurchase_intervals_match_pandas(shared_data: Path, wh: Warehouse) -> None:
    raw = superstore(shared_data)
    sales, products = superstore_tables(raw)
    wh.insert_arrow("sales", sales)
    wh.insert_arrow("products", products)
    s = wh.table("sales")
    got = {
        (r["scope"], r["key"]): r
        for r in wh.to_arrow(repurchase_intervals(s.filter(s.customer_id.notnull()), wh.table("products"))).to_pylist()
    }

    def gaps(frame: pd.DataFrame, key: str) -> pd.DataFrame:
        days = frame[["Customer ID", key, "order_date"]].drop_duplicates().sort_values("order_date")
        days["order_date"] = pd.to_datetime(days["order_date"])
        days["gap"] = days.groupby(["Customer ID", key])["order_date"].diff().dt.days
        return days

    everyone = gaps(raw.assign(all="all"), "all")
    g = everyone["gap"].dropna()
    row = got[("all", "all")]
    assert row["intervals"] == len(g) and row["median_days"] == g.median()
    assert row["p25_days"] == pytest.approx(g.quantile(0.25)) and row["p90_days"] == pytest.approx(g.quantile(0.9))
    per_customer = everyone.groupby("Customer ID")["order_date"].nunique()
    assert row["buyers"] == len(per_customer) and row["repeat_buyers"] == int((per_customer >= 2).sum())

    by_category = gaps(raw, "Category")
    # a product's category is taken from its first line, as superstore_tables does
    for category, frame in by_category.groupby("Category"):
        cat = got[("category", category)]
        assert cat["intervals"] == frame["gap"].notna().sum()
        assert cat["mean_days"] == pytest.approx(frame["gap"].mean())
        assert cat["buyers"] == frame["Customer ID"].nunique()

    customer = gaps(raw.assign(all="all"), "all").groupby("Customer ID")["gap"].median().dropna()
    for cid, median in customer.items():
        assert got[("customer", cid)]["median_days"] == median
