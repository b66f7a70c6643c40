"""Lifecycle stages on customers whose stage is obvious from their purchase days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sales_rows import Line, d, load

from salescope.analytics.lifecycle import LifecycleWindows, customer_lifecycle, lifecycle_history
from salescope.analytics.migration import monthly_snapshots
from salescope.analytics.rfm import customer_orders
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError

AS_OF = d("2024-07-01")

PURCHASE_DAYS = {
    # gaps 31, 30, 31 -> interval 31, active <= 62 days, churned > 124; 30 days since the last: active
    "monthly": ["2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"],
    # gap 30 -> churned after 120 days; the last purchase was 152 days ago
    "lapsed": ["2024-01-01", "2024-01-31"],
    # gap 20 -> active 40, churn 80; 41 days since the last purchase: dormant
    "dormant": ["2024-05-01", "2024-05-21"],
    # gaps 10, 10, then 516 days > 4 x 10: churned and came back 11 days ago (interval still 10)
    "back": ["2023-01-01", "2023-01-11", "2023-01-21", "2024-06-20"],
    # a yearly buyer 366 days after the last order is still within 2 x 365: active, where a
    # global 90-day rule would call it churned
    "yearly": ["2020-07-01", "2021-07-01", "2022-07-01", "2023-07-01"],
    # a one-off buyer back after 166 days, beyond 4 x the population's 30: came back from churn
    "second": ["2024-01-01", "2024-06-15"],
    # gap 1 day, raised to the 7-day floor: active 14, churn 28; 27 days since the last: dormant
    "daily": ["2024-06-01", "2024-06-02", "2024-06-03", "2024-06-04"],
    # one purchase, 6 days ago: new, judged by the population interval
    "newbie": ["2024-06-25"],
}
# All 15 gaps: 31 30 31 | 30 | 20 | 10 10 516 | 365 365 365 | 166 | 1 1 1 -> the 8th smallest, 30, is the median


def _lines(days: dict[str, list[str]]) -> list[Line]:
    return [(c, f"{c}-{i}", d(day), "10") for c, ds in days.items() for i, day in enumerate(ds)]


@pytest.fixture
def wh(tmp_path: Path) -> Any:
    with Warehouse(tmp_path / "w.duckdb") as w:
        load(w, _lines(PURCHASE_DAYS))
        yield w


def _stages(wh: Warehouse, as_of: dt.date = AS_OF, **kw: Any) -> dict[str, dict[str, Any]]:
    orders = customer_orders(wh.table("sales"), as_of=as_of)
    rows = wh.to_arrow(customer_lifecycle(orders, as_of=as_of, **kw)).to_pylist()
    return {r["customer_id"]: r for r in rows}


def test_stages_follow_each_customers_own_rhythm(wh: Warehouse) -> None:
    got = _stages(wh)
    assert {c: r["stage"] for c, r in got.items()} == {
        "monthly": "active",
        "lapsed": "churned",
        "dormant": "dormant",
        "back": "reactivated",
        "yearly": "active",
        "second": "reactivated",
        "daily": "dormant",
        "newbie": "new",
    }
    assert got["back"]["stage_zh"] == "回流客户" and got["back"]["stage_en"] == "Reactivated"
    assert got["monthly"]["typical_interval_days"] == 31 and got["monthly"]["interval_source"] == "own"
    assert got["back"]["typical_interval_days"] == 10  # the median is not moved by the one long gap
    assert got["daily"]["typical_interval_days"] == 7  # the floor
    assert got["newbie"]["typical_interval_days"] == 30 and got["newbie"]["interval_source"] == "population"
    assert (got["dormant"]["active_window_days"], got["dormant"]["churn_window_days"]) == (40, 80)
    assert got["monthly"]["purchase_days"] == 4


def test_next_purchase_due_and_overdue_days(wh: Warehouse) -> None:
    got = _stages(wh)
    assert got["monthly"]["next_purchase_due"] == d("2024-07-02") and got["monthly"]["days_overdue"] == 0
    assert got["lapsed"]["next_purchase_due"] == d("2024-03-01")  # Jan 31 + 30 days
    assert got["lapsed"]["days_overdue"] == (AS_OF - d("2024-03-01")).days == 122
    assert got["newbie"]["next_purchase_due"] == d("2024-07-25")  # Jun 25 + the population's 30 days


def test_fixed_windows_replace_the_derived_ones(wh: Warehouse) -> None:
    got = _stages(wh, windows=LifecycleWindows(active_days=30, churn_days=90))
    # yearly: 366 days > 90; monthly: 30 <= 30; dormant: 41 in (30, 90]; back: its 516-day gap > 90
    assert got["yearly"]["stage"] == "churned"
    assert got["monthly"]["stage"] == "active"
    assert got["dormant"]["stage"] == "dormant"
    assert got["back"]["stage"] == "reactivated"
    with pytest.raises(InputError, match="both"):
        LifecycleWindows(active_days=30)
    with pytest.raises(InputError, match="shorter"):
        LifecycleWindows(active_multiple=3, churn_multiple=2)


def test_history_equals_the_stages_computed_at_each_snapshot(wh: Warehouse) -> None:
    # With fixed windows nothing depends on the population, so the history at each month end
    # must be exactly what the current-stage computation gives with as_of = that month end.
    windows = LifecycleWindows(active_days=30, churn_days=90)
    snaps = monthly_snapshots(d("2020-07-01"), AS_OF)
    assert len(snaps) == 48 and snaps[-1] == d("2024-06-30")
    with wh.registered("snaps", pa.table({"snapshot_date": pa.array(snaps, pa.date32())})):
        orders = customer_orders(wh.table("sales"), as_of=AS_OF)
        rows = wh.to_arrow(lifecycle_history(orders, wh.table("snaps"), windows=windows)).to_pylist()
    history: dict[dt.date, dict[str, int]] = {}
    for r in rows:
        history.setdefault(r["snapshot_date"], {})[r["stage"]] = r["customers"]
    # every month is in the history; a sample of them is recomputed (each is a separate query)
    assert set(history) == set(snaps)
    for snap in (d("2020-07-31"), d("2021-07-31"), d("2023-01-31"), d("2024-01-31"), d("2024-05-31"), snaps[-1]):
        expected: dict[str, int] = {}
        for r in _stages(wh, as_of=snap, windows=windows).values():
            expected[r["stage"]] = expected.get(r["stage"], 0) + 1
        assert history.get(snap, {}) == expected, snap
    assert history[d("2023-01-31")] == {"new": 1, "churned": 1}  # back bought Jan 1-21; yearly 214 days ago
