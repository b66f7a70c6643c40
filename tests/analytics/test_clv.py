"""The BTYD transaction summary and the heuristic CLV as Ibis expressions over a real DuckDB warehouse.

Expected values are worked out by hand in the comments from the rows below; the CDNOW
check compares with a summary computed in plain Python from the raw file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sales_rows import d, load

from fixtures.cdnow import CALIBRATION_END, HOLDOUT_END, OBSERVATION_START, paper_summary, transactions
from salescope.analytics.clv import heuristic_clv, repeat_purchases_by_period, transaction_summary
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError

CAL_END = d("2024-03-31")
HOLD_END = d("2024-06-30")
START = d("2024-01-01")

LINES = [
    # A: two orders on Jan 1 are one purchase worth 150; Jan 15 nets 40 - 10 = 30; Feb 12 60; Apr 10 in the holdout.
    ("A", "O1", d("2024-01-01"), "100"),
    ("A", "O2", d("2024-01-01"), "50"),
    ("A", "O3", d("2024-01-15"), "40"),
    ("A", "O3", d("2024-01-15"), "-10"),
    ("A", "O4", d("2024-02-12"), "60"),
    ("A", "O5", d("2024-04-10"), "70"),
    # B: a purchase, then a day of returns only (not a purchase).
    ("B", "O6", d("2024-02-01"), "80"),
    ("B", "R1", d("2024-02-20"), "-80"),
    # C: first seen before the observation start.
    ("C", "O7", d("2023-12-20"), "10"),
    ("C", "O8", d("2024-01-05"), "20"),
    # D: first purchase after the calibration period.
    ("D", "O9", d("2024-04-02"), "30"),
    # E: a free first order, then a purchase on the last day of calibration.
    ("E", "O10", d("2024-01-10"), "0"),
    ("E", "O11", d("2024-03-31"), "25"),
    # anonymous
    (None, "O12", d("2024-01-03"), "999"),
]


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    w = Warehouse(tmp_path / "warehouse.duckdb")
    load(w, LINES)
    return w


def _rows(wh: Warehouse, expr) -> dict[str, dict]:
    return {r["customer_id"]: r for r in wh.to_arrow(expr).to_pylist()}


def test_summary_follows_the_btyd_conventions(wh: Warehouse) -> None:
    expr = transaction_summary(
        wh.table("sales"), calibration_end=CAL_END, observation_start=START, period="week", holdout_end=HOLD_END
    )
    rows = _rows(wh, expr)
    assert set(rows) == {"A", "B", "E"}  # C born before the start, D after calibration, anonymous excluded
    a = rows["A"]
    assert a["frequency"] == 2  # Jan 15 and Feb 12; the two Jan 1 orders are one purchase
    assert a["recency"] == pytest.approx(42 / 7)  # Jan 1 -> Feb 12
    assert a["T"] == pytest.approx(90 / 7)  # Jan 1 -> Mar 31
    assert a["monetary"] == pytest.approx((30 + 60) / 2)  # mean of the repeat days, first purchase left out
    assert (a["holdout_frequency"], a["holdout_value"]) == (1, pytest.approx(70.0))
    b = rows["B"]
    assert (b["frequency"], b["recency"], b["monetary"]) == (0, 0.0, None)  # a returns-only day is no purchase
    assert b["T"] == pytest.approx(59 / 7)
    assert (b["holdout_frequency"], b["holdout_value"]) == (0, 0.0)
    e = rows["E"]
    assert (e["frequency"], e["monetary"]) == (1, pytest.approx(25.0))  # the free order is the first purchase
    assert e["recency"] == pytest.approx(e["T"]) == pytest.approx(81 / 7)


def test_summary_in_days_and_without_observation_start(wh: Warehouse) -> None:
    rows = _rows(wh, transaction_summary(wh.table("sales"), calibration_end=CAL_END, period="day"))
    assert set(rows) == {"A", "B", "C", "E"}
    assert (rows["A"]["recency"], rows["A"]["T"]) == (42.0, 90.0)
    assert (rows["C"]["frequency"], rows["C"]["recency"], rows["C"]["T"]) == (1, 16.0, 102.0)
    assert (
        "holdout_frequency"
        not in wh.to_arrow(transaction_summary(wh.table("sales"), calibration_end=CAL_END)).column_names
    )


def test_repeat_purchases_by_period_counts_the_cohorts_repeats(wh: Warehouse) -> None:
    expr = repeat_purchases_by_period(
        wh.table("sales"), start=START, calibration_end=CAL_END, end=HOLD_END, observation_start=START
    )
    got = {r["period_index"]: r["repeat_purchases"] for r in wh.to_arrow(expr).to_pylist()}
    # A: Jan 15 (day 14, week 2), Feb 12 (day 42, week 6), Apr 10 (day 100, week 14); E: Mar 31 (day 90, week 12)
    assert got == {2: 1, 6: 1, 12: 1, 14: 1}


def test_heuristic_clv_is_aov_times_rate_times_lifetime_minus_cac(wh: Warehouse) -> None:
    rows = _rows(
        wh, heuristic_clv(wh.table("sales"), as_of=CAL_END, lifetime_years=3, margin=0.5, acquisition_cost=100)
    )
    a = rows["A"]
    # three purchase days worth 150 + 30 + 60 = 240 -> 80 each; tenure 91 days is floored to one year -> 3 a year
    assert (a["purchases"], a["revenue"], a["avg_order_value"]) == (3, 240.0, 80.0)
    assert a["purchases_per_year"] == pytest.approx(3.0)
    assert a["heuristic_clv"] == pytest.approx(80 * 3 * 3 * 0.5 - 100)
    # B's return cancels its purchase: nothing earned, so its value is minus the acquisition cost
    assert rows["B"]["revenue"] == 0.0
    assert rows["B"]["heuristic_clv"] == pytest.approx(-100.0)
    long = _rows(wh, heuristic_clv(wh.table("sales"), as_of=CAL_END, min_tenure_years=0.1))
    # without the one-year floor A's 91 days give 3 / (91 / 365.25) purchases a year
    assert long["A"]["purchases_per_year"] == pytest.approx(3 / (91 / 365.25))


def test_bad_arguments_are_input_errors(wh: Warehouse) -> None:
    sales = wh.table("sales")
    with pytest.raises(InputError, match="unknown CLV period"):
        transaction_summary(sales, calibration_end=CAL_END, period="month")
    with pytest.raises(InputError, match="holdout must end after"):
        transaction_summary(sales, calibration_end=CAL_END, holdout_end=CAL_END)
    with pytest.raises(InputError, match="observation start is after"):
        transaction_summary(sales, calibration_end=CAL_END, observation_start=HOLD_END)
    with pytest.raises(InputError, match="column 'lifetime_years'"):
        heuristic_clv(sales, as_of=CAL_END, lifetime_years=0)


def test_cdnow_summary_matches_plain_python(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    load(wh, [(t.customer, f"T{i}", t.day, t.amount) for i, t in enumerate(transactions())])
    expr = transaction_summary(
        wh.table("sales"),
        calibration_end=CALIBRATION_END,
        observation_start=OBSERVATION_START,
        period="week",
        holdout_end=HOLDOUT_END,
    )
    rows = _rows(wh, expr)
    ref = paper_summary()
    assert len(rows) == len(ref.customers) == 2357
    for i, c in enumerate(ref.customers):
        r = rows[c]
        assert r["frequency"] == ref.frequency[i]
        assert r["recency"] == pytest.approx(ref.recency[i], abs=1e-12)
        assert r["T"] == pytest.approx(ref.T[i], abs=1e-12)
        assert r["holdout_frequency"] == ref.holdout[i]
        if ref.monetary[i] is None:
            assert r["monetary"] is None
        else:
            assert r["monetary"] == pytest.approx(ref.monetary[i], rel=1e-12)
