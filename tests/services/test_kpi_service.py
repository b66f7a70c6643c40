"""KPI, contribution, trend and anomaly services on real workspaces (named so, not test_kpis.py, because
tests/analytics/test_kpis.py holds the expression tests and the test folders are not packages)."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from salescope.analytics.kpis import kpi_table
from salescope.services.access import Principal
from salescope.services.kpis import anomalies, contribution, kpi_step, kpis, trends
from salescope.services.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analytics"))
from test_kpis import LINES, load

MONEY = pa.decimal128(18, 4)


def _sales(rows: list[tuple[str, date, str, str, str, str]]) -> pa.Table:
    """(order, date, customer, salesperson, region, amount)"""
    return pa.table(
        {
            "order_id": [r[0] for r in rows],
            "line_no": [1] * len(rows),
            "order_date": pa.array([r[1] for r in rows], pa.date32()),
            "customer_id": [r[2] for r in rows],
            "product_id": ["p"] * len(rows),
            "amount": pa.array([Decimal(r[5]) for r in rows], MONEY),
            "salesperson": [r[3] for r in rows],
            "region": [r[4] for r in rows],
            "batch_id": ["b"] * len(rows),
            "source_row": list(range(1, len(rows) + 1)),
        }
    )


@pytest.mark.slow
def test_materialised_kpis_equal_the_live_expression(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh)
    kpi_step(workspace, None)
    got = kpis(workspace, freq="month")
    assert got["source"] == "materialised"
    live = wh.to_arrow(kpi_table(wh.table("sales"), freq="month", products=wh.table("products"))).to_pylist()
    assert [i["revenue"] for i in got["items"]] == [float(r["revenue"]) for r in live]
    march = next(i for i in got["items"] if i["period"] == "2024-03")
    assert march["revenue"] == 320.0 and march["inventory_value"] == 200.0  # as in tests/analytics/test_kpis.py
    assert kpis(workspace, freq="quarter", by="region")["source"] == "materialised"
    json.dumps(got)


@pytest.mark.slow
def test_kpi_step_stores_the_unusual_day(workspace: Workspace) -> None:
    # 140 days of about 100 a day (weekends 50, noise SD 5) and one day of 300 on 2024-06-12. (A series that
    # repeats itself exactly, with no noise at all, is a known weak spot: the spike's spill-over is flagged too.)
    rng = np.random.default_rng(11)
    start = date(2024, 4, 1)
    rows = []
    for i in range(140):
        d = start + timedelta(days=i)
        amount = 300.0 if d == date(2024, 6, 12) else (50.0 if d.weekday() >= 5 else 100.0) + rng.normal(0, 5)
        rows.append((f"d{i}", d, "D", "王芳", "E", f"{amount:.2f}"))
    workspace.warehouse.insert_arrow("sales", _sales(rows))
    kpi_step(workspace, None)
    found = anomalies(workspace, freq="day", metric="revenue")
    days = sorted(found["items"], key=lambda i: -abs(i["z"]))
    spike = days[0]
    assert spike["period"] == "2024-06-12"
    # the quiet weekends are the season, not anomalies; at 3.5 robust SDs a stray noise day may pass (one does)
    assert len(days) <= 2 and all(date.fromisoformat(i["period"]).weekday() < 5 for i in days)
    assert spike["direction"] == "high" and spike["value"] == 300.0 and spike["as_of"] == "2024-08-18"
    # company-wide findings are not for a user restricted to their own customers
    assert anomalies(workspace, Principal("wf", "sales", "王芳"))["total"] == 0


def test_a_sales_user_sees_kpis_of_their_own_customers_only(workspace: Workspace) -> None:
    wh = workspace.warehouse
    wh.insert_arrow(
        "sales",
        _sales(
            [
                ("o1", date(2024, 3, 1), "A", "王芳", "N", "100"),
                ("o2", date(2024, 3, 2), "B", "李雷", "N", "40"),
                ("o3", date(2024, 3, 3), "A", "王芳", "S", "60"),
            ]
        ),
    )
    everyone = kpis(workspace, freq="month")
    assert everyone["items"][0]["revenue"] == 200.0 and everyone["source"] == "live"
    mine = kpis(workspace, Principal("wf", "sales", "王芳"), freq="month", by="region")
    assert {i["slice"]: i["revenue"] for i in mine["items"]} == {"N": 100.0, "S": 60.0}
    assert all(i["inventory_value"] is None for i in mine["items"])
    nobody = kpis(workspace, Principal("x", "sales", None), freq="month")
    assert nobody["items"] == []


def test_contribution_explains_the_whole_change(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh, LINES)
    out = contribution(workspace, period_a="2024-02", period_b="2024-03", dims=("region", "category"))
    assert out["revenue_a"] == 150.0 and out["revenue_b"] == 320.0 and out["change"] == 170.0
    for dim, items in out["dimensions"].items():
        assert sum(i["change"] for i in items) == pytest.approx(170.0), dim
    assert out["dimensions"]["region"][0]["slice"] == "S"  # +160 of the +170
    d = out["drivers"]
    assert d is not None and d["orders_effect"] + d["aov_effect"] == pytest.approx(170.0)
    assert out["orders_a"] == 2 and out["orders_b"] == 4
    json.dumps(out)


@pytest.mark.slow
def test_trends_report_moving_average_and_calendar(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh, LINES)
    out = trends(workspace, freq="month", window=2)
    s = out["series"][0]
    feb = s["periods"].index("2024-02")
    assert s["ma2"][feb + 1] == pytest.approx((150 + 320) / 2)
    assert out["calendar"]["weekday_index"]
    json.dumps(out)
