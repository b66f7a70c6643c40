"""RFM on hand-computed cases, the NTILE and threshold boundaries, and against pandas on real data."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sales_rows import d, load, online_retail, online_retail_sales

from salescope.analytics.rfm import rfm, rfm_table
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError
from salescope.settings import RfmSettings

AS_OF = d("2024-07-01")

# Five customers whose RFM is worked out by hand below the table.
HAND = [
    ("A", "O1", d("2024-06-21"), "100"),
    ("A", "O2", d("2024-06-01"), "200"),
    ("A", "O3", d("2024-05-01"), "300"),
    ("B", "O4", d("2024-06-11"), "20"),  # one order, two lines
    ("B", "O4", d("2024-06-11"), "30"),
    ("B", "O5", d("2024-03-01"), "150"),
    ("C", "O6", d("2024-06-01"), "1000"),
    ("D", "O7", d("2024-01-02"), "40"),
    ("D", "O8", d("2024-02-01"), "-10"),  # a return is an order; it lowers monetary
    ("E", "O9", d("2023-07-01"), "200"),
    (None, "O10", d("2024-06-30"), "5000"),  # anonymous: not a customer
    ("A", "O11", d("2024-07-02"), "999"),  # after as_of: not yet happened
]
# recency (days to 2024-07-01): A 10, B 20, C 30, D 151 (Feb 1 -> Jul 1, leap year), E 366
# frequency: A 3, B 2, C 1, D 2, E 1;  monetary: A 600, B 200, C 1000, D 30, E 200
# means: recency 577/5 = 115.4, frequency 9/5 = 1.8, monetary 2030/5 = 406
HAND_EXPECTED = {
    "A": (10, 3, Decimal("600"), Decimal("200"), "111", "important_value"),
    "B": (20, 2, Decimal("200"), Decimal("100"), "110", "general_value"),
    "C": (30, 1, Decimal("1000"), Decimal("1000"), "101", "important_development"),
    "D": (151, 2, Decimal("30"), Decimal("15"), "010", "general_retention"),
    "E": (366, 1, Decimal("200"), Decimal("200"), "000", "general_win_back"),
}


@pytest.fixture
def wh(tmp_path: Path) -> Any:
    with Warehouse(tmp_path / "w.duckdb") as w:
        yield w


def _rows(wh: Warehouse, **kw: Any) -> dict[str, dict[str, Any]]:
    table = wh.to_arrow(rfm_table(wh.table("sales"), **kw))
    return {r["customer_id"]: r for r in table.to_pylist()}


def test_hand_computed_mean_threshold(wh: Warehouse) -> None:
    load(wh, HAND)
    got = _rows(wh, as_of=AS_OF)
    assert set(got) == set(HAND_EXPECTED)
    for cid, (recency, frequency, monetary, aov, code, segment) in HAND_EXPECTED.items():
        r = got[cid]
        assert (r["recency_days"], r["frequency"], r["monetary"], r["avg_order_value"]) == (
            recency,
            frequency,
            monetary,
            aov,
        ), cid
        assert (r["rfm_code"], r["segment"]) == (code, segment), cid
        assert r["as_of"] == AS_OF
    assert got["A"]["first_order"] == d("2024-05-01") and got["A"]["last_order"] == d("2024-06-21")
    assert got["C"]["segment_zh"] == "重要发展客户" and got["C"]["segment_en"] == "Important development"


def test_hand_computed_quintile_scores_and_threshold(wh: Warehouse) -> None:
    load(wh, HAND)
    got = _rows(wh, as_of=AS_OF, threshold="quintile")
    # Five customers, one per quintile. r: by recency descending E D C B A -> 1..5;
    # f: by frequency then id C(1) E(1) B(2) D(2) A(3); m: D(30) B(200) E(200) A(600) C(1000).
    scores = {c: (r["r_score"], r["f_score"], r["m_score"]) for c, r in got.items()}
    assert scores == {"A": (5, 5, 4), "B": (4, 3, 2), "C": (3, 1, 5), "D": (2, 4, 1), "E": (1, 2, 3)}
    # quintile threshold: high = score >= 4
    assert {c: r["rfm_code"] for c, r in got.items()} == {"A": "111", "B": "100", "C": "001", "D": "010", "E": "000"}
    # the scores do not depend on the threshold
    mean_scores = {c: (r["r_score"], r["f_score"], r["m_score"]) for c, r in _rows(wh, as_of=AS_OF).items()}
    assert mean_scores == scores


def test_mean_boundary_is_strict_and_exact(wh: Warehouse) -> None:
    # X, Y, Z: recency 0/1/2, frequency 3/2/1, monetary 0.7/0.4/0.1. Each mean (1, 2, 0.4) equals
    # Y's value, and Y is low on all three. In binary floating point the mean of 0.7, 0.4, 0.1 is
    # 0.39999999999999997, which would wrongly make Y "above the mean".
    lines = [
        ("X", "x1", d("2024-07-01"), "0.5"),  # an order on as_of itself: recency 0
        ("X", "x2", d("2024-06-01"), "0.1"),
        ("X", "x3", d("2024-05-01"), "0.1"),
        ("Y", "y1", d("2024-06-30"), "0.2"),
        ("Y", "y2", d("2024-05-01"), "0.2"),
        ("Z", "z1", d("2024-06-29"), "0.1"),
    ]
    load(wh, lines)
    got = _rows(wh, as_of=AS_OF)
    assert [got[c]["recency_days"] for c in "XYZ"] == [0, 1, 2]
    assert [got[c]["monetary"] for c in "XYZ"] == [Decimal("0.7"), Decimal("0.4"), Decimal("0.1")]
    assert {c: got[c]["rfm_code"] for c in "XYZ"} == {"X": "111", "Y": "000", "Z": "000"}


def test_fixed_threshold_is_at_least(wh: Warehouse) -> None:
    fixed = RfmSettings(fixed_recency_days=90, fixed_frequency=2, fixed_monetary=1000)
    lines = [
        ("ON", "a1", AS_OF - dt.timedelta(days=90), "600"),  # exactly on every threshold: high
        ("ON", "a2", AS_OF - dt.timedelta(days=200), "400"),
        ("OFF", "b1", AS_OF - dt.timedelta(days=91), "999.9999"),  # just outside each: low
    ]
    load(wh, lines)
    got = _rows(wh, as_of=AS_OF, threshold="fixed", fixed=fixed)
    assert got["ON"]["rfm_code"] == "111"
    assert got["OFF"]["rfm_code"] == "000"


def test_quintiles_follow_sql_ntile_not_pandas_qcut(wh: Warehouse) -> None:
    # Seven customers with 1..7 orders. SQL NTILE(5) puts the 7 % 5 = 2 extra rows in the first
    # buckets: sizes 2, 2, 1, 1, 1.
    lines = [(f"c{k}", f"c{k}-{i}", d("2024-06-01"), "10") for k in range(1, 8) for i in range(k)]
    load(wh, lines)
    got = _rows(wh, as_of=AS_OF)
    ntile = [got[f"c{k}"]["f_score"] for k in range(1, 8)]
    assert ntile == [1, 1, 2, 2, 3, 4, 5]
    # The pandas idiom bins differently when n % 5 != 0 — the pitfall this test pins.
    qcut = pd.qcut(pd.Series(range(1, 8)).rank(method="first"), 5, labels=False) + 1
    assert list(qcut) == [1, 1, 2, 3, 4, 5, 5] != ntile
    # Ties (all bought on the same day, so equal recency) are broken by customer_id.
    assert [got[f"c{k}"]["r_score"] for k in range(1, 8)] == [1, 1, 2, 2, 3, 4, 5]


def test_without_order_id_each_customer_day_is_one_order() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-03"]),
            "amount": [1.25, 2.5, 4.0, 8.0],
        }
    )
    out = rfm(df).set_index("customer_id")
    assert out.loc["a", "frequency"] == 2 and out.loc["b", "frequency"] == 1
    assert out.loc["a", "monetary"] == 7.75
    # default as_of: the day after the last order
    assert out.loc["a", "recency_days"] == 1 and out.loc["b", "recency_days"] == 3


def test_bad_input_is_one_clear_sentence() -> None:
    with pytest.raises(InputError, match="customer_id"):
        rfm(pd.DataFrame({"order_date": ["2024-01-01"], "amount": [1.0]}))
    with pytest.raises(InputError, match=r"threshold.*median"):
        rfm(pd.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-01"], "amount": [1.0]}), threshold="median")
    with pytest.raises(InputError, match="as_of"):
        rfm(pd.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-01"], "amount": [1.0]}), as_of="soon")


def test_dataframe_api_equals_warehouse_expression(shared_data: Path, wh: Warehouse) -> None:
    raw = online_retail(shared_data)
    wh.insert_arrow("sales", online_retail_sales(raw))
    last = max(raw["order_date"])
    from_warehouse = wh.to_pandas(rfm_table(wh.table("sales"), as_of=last + dt.timedelta(days=1)))
    frame = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_id": raw["InvoiceNo"],
            "order_date": raw["order_date"],
            "amount": [float(a) for a in raw["amount"]],
        }
    )
    from_frame = rfm(frame)  # default as_of: the same day after the last order
    assert len(from_frame) == len(from_warehouse) > 900
    a = from_warehouse.sort_values("customer_id").reset_index(drop=True)
    for col in ("monetary", "avg_order_value"):
        a[col] = a[col].astype("float64")
    pd.testing.assert_frame_equal(a, from_frame, check_dtype=False)


def test_online_retail_agrees_with_pandas_customer_by_customer(shared_data: Path, wh: Warehouse) -> None:
    raw = online_retail(shared_data)
    wh.insert_arrow("sales", online_retail_sales(raw))
    as_of = max(raw["order_date"]) + dt.timedelta(days=1)
    ours = wh.to_pandas(rfm_table(wh.table("sales"), as_of=as_of)).set_index("customer_id")

    # The plain pandas computation a notebook would do: known customers, InvoiceNo as the order.
    known = raw.dropna(subset=["customer_id"]).assign(amount=lambda f: f["amount"].astype(float))
    g = known.groupby("customer_id").agg(
        last=("order_date", "max"), frequency=("InvoiceNo", "nunique"), monetary=("amount", "sum")
    )
    g["recency"] = [(as_of - x).days for x in g["last"]]

    assert set(ours.index) == set(g.index)
    assert len(g) > 900  # December 2010 has about a thousand identified customers
    g = g.loc[ours.index]
    assert (ours["recency_days"] == g["recency"]).all()
    assert (ours["frequency"] == g["frequency"]).all()
    cents = (ours["monetary"].astype(float) - g["monetary"]).abs()
    assert cents.max() < 0.005
    # and the segment rule recomputed from the pandas columns agrees
    code = (
        (g["recency"] * len(g) < g["recency"].sum()).astype(int).astype(str)
        + (g["frequency"] * len(g) > g["frequency"].sum()).astype(int).astype(str)
        + (g["monetary"] > g["monetary"].mean()).astype(int).astype(str)
    )
    assert (ours["rfm_code"] == code).all()


def test_threshold_names_are_validated(wh: Warehouse) -> None:
    with pytest.raises(InputError, match=re.escape("expected mean | quintile | fixed")):
        rfm_table(wh.table("sales"), as_of=AS_OF, threshold="top")
