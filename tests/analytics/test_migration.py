"""Monthly segment snapshots, transitions between two dates and the Sankey data."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sales_rows import d, load, online_retail, online_retail_sales

from salescope.analytics.migration import monthly_snapshots, sankey, segment_history, transition_matrix
from salescope.analytics.rfm import customer_orders, rfm_table
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError


@pytest.fixture
def wh(tmp_path: Path) -> Any:
    with Warehouse(tmp_path / "w.duckdb") as w:
        yield w


def test_monthly_snapshots() -> None:
    # month ends through the month of the day before as_of; the open month ends at as_of
    assert monthly_snapshots(d("2024-01-15"), d("2024-03-01")) == [d("2024-01-31"), d("2024-02-29")]
    assert monthly_snapshots(d("2024-01-15"), d("2024-03-02")) == [d("2024-01-31"), d("2024-02-29"), d("2024-03-02")]
    assert monthly_snapshots(d("2023-12-31"), d("2024-01-01")) == [d("2023-12-31")]
    assert monthly_snapshots(None, d("2024-01-01")) == []


def _history(wh: Warehouse, dates: list[dt.date], as_of: dt.date) -> list[dict[str, Any]]:
    with wh.registered("snaps", pa.table({"snapshot_date": pa.array(dates, pa.date32())})):
        expr = segment_history(customer_orders(wh.table("sales"), as_of=as_of), wh.table("snaps"))
        return wh.to_arrow(expr).to_pylist()


def test_each_snapshot_is_the_rfm_of_that_date(shared_data: Path, wh: Warehouse) -> None:
    # The one-pass history must give, at every snapshot, exactly the segments RFM gives when run
    # with as_of = that date on the orders up to it.
    wh.insert_arrow("sales", online_retail_sales(online_retail(shared_data)))
    dates = [d("2010-12-03"), d("2010-12-09"), d("2010-12-16"), d("2010-12-23")]
    history = _history(wh, dates, d("2010-12-23"))
    for snap in dates:
        expected = {
            r["customer_id"]: (r["segment"], r["rfm_code"])
            for r in wh.to_arrow(rfm_table(wh.table("sales"), as_of=snap)).to_pylist()
        }
        got = {r["customer_id"]: (r["segment"], r["rfm_code"]) for r in history if r["snapshot_date"] == snap}
        assert got == expected, snap
        assert len(got) > 100


TWO_MONTHS = [
    # January: a recent, frequent and large; b one small old order. February: c arrives big and
    # recent, a goes quiet, b comes back with more orders.
    ("a", "a1", d("2024-01-20"), "500"),
    ("a", "a2", d("2024-01-25"), "500"),
    ("b", "b1", d("2024-01-02"), "10"),
    ("c", "c1", d("2024-02-28"), "5000"),
    ("b", "b2", d("2024-02-20"), "10"),
    ("b", "b3", d("2024-02-21"), "10"),
    ("b", "b4", d("2024-02-22"), "10"),
]


def test_transition_matrix_between_two_snapshots(wh: Warehouse) -> None:
    load(wh, TWO_MONTHS)
    jan, feb = d("2024-01-31"), d("2024-02-29")
    history = _history(wh, [jan, feb], feb)
    assert {(r["snapshot_date"], r["customer_id"]): r["rfm_code"] for r in history} == {
        # Jan: recency a 6, b 29 (mean 17.5); orders 2, 1 (mean 1.5); money 1000, 10 (mean 505)
        (jan, "a"): "111",
        (jan, "b"): "000",
        # Feb: recency a 35, b 7, c 1 (mean 14.3); orders 2, 4, 1 (mean 2.33); money 1000, 40, 5000 (mean 2013)
        (feb, "a"): "000",
        (feb, "b"): "110",
        (feb, "c"): "101",
    }
    with wh.registered("h", pa.Table.from_pylist(history)):
        rows = wh.to_arrow(transition_matrix(wh.table("h"), jan, feb)).to_pylist()
    moves = {(r["from_segment"], r["to_segment"]): r["customers"] for r in rows}
    assert moves == {
        ("important_value", "general_win_back"): 1,
        ("general_win_back", "general_value"): 1,
        ("new", "important_development"): 1,
    }
    with pytest.raises(InputError, match="after its end"):
        transition_matrix(wh.table("sales"), feb, jan)


def test_sankey_nodes_are_unique_per_side_and_links_carry_every_customer() -> None:
    rows = [
        {"from_segment": "important_value", "to_segment": "important_value", "customers": 5},
        {"from_segment": "important_value", "to_segment": "general_win_back", "customers": 2},
        {"from_segment": "new", "to_segment": "important_value", "customers": 3},
        {"from_segment": "general_win_back", "to_segment": "general_win_back", "customers": 0},
    ]
    data = sankey(rows, from_label="2024-01", to_label="2024-02", locale="en")
    names = [n["name"] for n in data["nodes"]]
    assert len(names) == len(set(names))  # the same segment on both sides must be two nodes
    assert names[:2] == ["Important value (2024-01)", "General win-back (2024-01)"]
    assert "New customers (2024-01)" in names
    assert all(link["source"] in names and link["target"] in names for link in data["links"])
    assert sum(link["value"] for link in data["links"]) == 10  # zero flows are dropped, the rest all kept
    inflow = Counter[str]()
    for link in data["links"]:
        inflow[link["target"]] += link["value"]
    assert inflow["Important value (2024-02)"] == 8
    zh = sankey(rows, from_label="1月", to_label="2月", locale="zh-CN")
    assert {n["label"] for n in zh["nodes"]} == {"重要价值客户", "一般挽留客户", "新客户"}
