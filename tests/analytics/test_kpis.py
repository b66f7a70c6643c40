"""KPI expressions on a small hand-computed case; every expected number is worked out in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from salescope.analytics.kpis import assign_period, kpi_table, period_bounds, target_progress
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError
from salescope.services.workspace import Workspace

MONEY = pa.decimal128(18, 4)

# order, date, customer, product, qty, amount, cost, discount, region
LINES: list[tuple[Any, ...]] = [
    ("o0", date(2023, 3, 15), "A", "p1", 1, "80", "50", None, "N"),
    ("o1", date(2024, 2, 10), "A", "p1", 1, "100", "60", "0.2", "N"),
    ("o2", date(2024, 2, 20), "B", "p2", 1, "50", None, None, "N"),
    ("o3", date(2024, 3, 1), "A", "p1", 2, "120", None, None, "N"),  # cost from p1's unit cost: 2 x 40
    ("o4", date(2024, 3, 5), "A", "p2", 1, "30", "10", None, "N"),
    ("o5", date(2024, 3, 9), "C", "p1", 1, "200", "150", None, "S"),
    ("o6", date(2024, 3, 12), "C", "p1", -1, "-40", "-30", None, "S"),  # a return: its own order nets < 0
    ("o7", date(2024, 3, 20), None, "p2", 1, "10", None, None, "N"),  # anonymous sale, p2 has no unit cost
]


def _dec(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def load(wh: Warehouse, lines: list[tuple[Any, ...]] = LINES) -> None:
    wh.insert_arrow(
        "sales",
        pa.table(
            {
                "order_id": [r[0] for r in lines],
                "line_no": [1] * len(lines),
                "order_date": pa.array([r[1] for r in lines], pa.date32()),
                "customer_id": [r[2] for r in lines],
                "product_id": [r[3] for r in lines],
                "quantity": pa.array([Decimal(r[4]) for r in lines], MONEY),
                "amount": pa.array([_dec(r[5]) for r in lines], MONEY),
                "cost": pa.array([_dec(r[6]) for r in lines], MONEY),
                "discount": pa.array([_dec(r[7]) for r in lines], MONEY),
                "region": [r[8] for r in lines],
                "batch_id": ["b"] * len(lines),
                "source_row": list(range(1, len(lines) + 1)),
            }
        ),
    )
    wh.insert_arrow(
        "products",
        pa.table(
            {
                "product_id": ["p1", "p2"],
                "category": ["X", "Y"],
                "unit_cost": pa.array([Decimal(40), None], MONEY),
            }
        ),
    )
    wh.insert_arrow(
        "inventory",
        pa.table(
            {
                "snapshot_date": pa.array([date(2024, 3, 1), date(2024, 3, 31)], pa.date32()),
                "product_id": ["p1", "p1"],
                "warehouse": ["w", "w"],
                "on_hand_qty": pa.array([Decimal(10), Decimal(30)], MONEY),
                "value": pa.array([Decimal(100), Decimal(300)], MONEY),
                "batch_id": ["b", "b"],
                "source_row": [1, 2],
            }
        ),
    )
    wh.insert_arrow(
        "purchases",
        pa.table(
            {
                "po_id": ["q1", "q2", "q3"],
                "line_no": [1, 1, 1],
                "order_date": pa.array([date(2024, 3, 2)] * 3, pa.date32()),
                "product_id": ["p1", "p2", "p1"],
                "quantity": pa.array([Decimal(10), Decimal(5), Decimal(7)], MONEY),
                "amount": pa.array([Decimal(1)] * 3, MONEY),
                "received_qty": pa.array([Decimal(8), Decimal(6), None], MONEY),  # q2 over-delivers; q3 not in
                "batch_id": ["b"] * 3,
                "source_row": [1, 2, 3],
            }
        ),
    )


def monthly(wh: Warehouse, by: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    expr = kpi_table(
        wh.table("sales"),
        freq="month",
        by=by,
        products=wh.table("products"),
        inventory=wh.table("inventory"),
        purchases=wh.table("purchases"),
    )
    return {(r["period"], r["slice"]): r for r in wh.to_arrow(expr).to_pylist()}


def test_monthly_kpis_match_the_hand_computation(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh)
    rows = monthly(wh)
    m = rows[("2024-03", "total")]
    assert m["revenue"] == Decimal("320")  # 120 + 30 + 200 - 40 + 10
    assert m["gross_sales"] == Decimal("360") and m["returns"] == Decimal("40")
    assert m["return_rate"] == pytest.approx(40 / 360)
    assert m["orders"] == 4  # o3 o4 o5 o7; o6 nets to -40
    assert m["aov"] == pytest.approx(80.0)  # 320 / 4
    assert m["cost"] == Decimal("210")  # 80 (unit cost) + 10 + 150 - 30; o7 has no cost
    assert m["revenue_with_cost"] == Decimal("310")
    assert m["gross_margin"] == pytest.approx(100 / 310)
    assert m["cost_coverage"] == pytest.approx(310 / 320)
    assert m["customers_active"] == 2  # A and C; anonymous o7 is nobody
    assert m["customers_repeat"] == 1 and m["repurchase_rate"] == pytest.approx(0.5)  # A: o3 and o4
    assert m["customers_new"] == 1  # C; A first bought in 2023
    assert m["customers_churned"] == 1 and m["churn_rate"] == pytest.approx(0.5)  # B bought in Feb, not March
    assert m["revenue_per_customer"] == pytest.approx(155.0)  # (320 - 10 anonymous) / 2
    assert m["revenue_prev"] == Decimal("150") and m["pop_growth"] == pytest.approx(320 / 150 - 1)
    assert m["revenue_last_year"] == Decimal("80") and m["yoy_growth"] == pytest.approx(3.0)
    assert m["discount_rate"] is None  # no March line records a discount
    assert m["inventory_value"] == Decimal("200")  # mean of the 100 and 300 snapshots
    assert m["inventory_turnover"] == pytest.approx(210 / 200)
    assert m["inventory_days"] == pytest.approx(31 / (210 / 200))
    assert m["fill_rate"] == pytest.approx((8 + 5) / (10 + 5))  # q2's over-delivery counts as 5; q3 not received
    f = rows[("2024-02", "total")]
    assert f["discount_rate"] == pytest.approx(0.2)  # o1 lists at 125 and sells at 100; o2 records none
    assert f["yoy_growth"] is None  # no February 2023
    assert f["customers_new"] == 1  # B
    assert f["returns"] == Decimal("0") and f["return_rate"] == 0.0  # no returns is a rate of zero, not unknown


def test_slices_partition_the_total(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh)
    regions = monthly(wh, "region")
    assert regions[("2024-03", "N")]["revenue"] == Decimal("160")  # 120 + 30 + 10
    assert regions[("2024-03", "S")]["revenue"] == Decimal("160")  # 200 - 40
    assert regions[("2024-03", "S")]["inventory_value"] is None  # stock knows no regions
    cats = monthly(wh, "category")
    assert cats[("2024-03", "X")]["revenue"] + cats[("2024-03", "Y")]["revenue"] == Decimal("320")
    assert cats[("2024-03", "X")]["inventory_value"] == Decimal("200")
    assert cats[("2024-03", "Y")]["fill_rate"] == pytest.approx(1.0)  # q2: 5 of 5 (capped)


def test_fiscal_calendar_boundary(workspace: Workspace) -> None:
    wh = workspace.warehouse
    days = [date(2024, 3, 31), date(2024, 4, 1), date(2023, 12, 31)]
    with wh.registered("d", pa.table({"d": pa.array(days, pa.date32())})):
        t = wh.table("d")
        q, y, w = (wh.to_arrow(assign_period(t, "d", f, 4)).to_pylist() for f in ("quarter", "year", "week"))
    assert [r["period"] for r in q] == ["2023-Q4", "2024-Q1", "2023-Q3"]
    assert [(r["period_start"], r["period_end"]) for r in q][:2] == [
        (date(2024, 1, 1), date(2024, 3, 31)),
        (date(2024, 4, 1), date(2024, 6, 30)),
    ]
    assert [r["period"] for r in y] == ["2023", "2024", "2023"]
    assert y[1]["period_end"] == date(2025, 3, 31)
    assert [r["period"] for r in w] == ["2024-W13", "2024-W14", "2023-W52"]
    assert w[0]["period_start"] == date(2024, 3, 25) and w[1]["period_idx"] == w[0]["period_idx"] + 1
    # the same boundary in the label parser used for targets and contribution periods
    assert period_bounds("2024-Q1", 4)[:2] == (date(2024, 4, 1), date(2024, 6, 30))
    assert period_bounds("2023", 4)[:2] == (date(2023, 4, 1), date(2024, 3, 31))
    assert period_bounds("2024-02")[:2] == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(InputError, match="not understood"):
        period_bounds("March")


def test_targets_progress_and_variance(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh)
    wh.insert_arrow(
        "targets",
        pa.table(
            {
                "period": ["2024-03", "2024-03", "2024-03"],
                "scope": ["total", "region=N", "region=Mars"],
                "metric": ["revenue", "revenue", "revenue"],
                "value": pa.array([Decimal(400), Decimal(200), Decimal(5)], MONEY),
                "batch_id": ["b"] * 3,
                "source_row": [1, 2, 3],
            }
        ),
    )
    parts = [kpi_table(wh.table("sales"), freq="month", by=b) for b in (None, "region")]
    kpis = parts[0].union(parts[1])
    got = {r["scope"]: r for r in wh.to_arrow(target_progress(kpis, wh.table("targets"))).to_pylist()}
    assert got["total"]["actual"] == pytest.approx(320) and got["total"]["progress"] == pytest.approx(0.8)
    assert got["total"]["variance"] == pytest.approx(-80)
    assert got["region=N"]["progress"] == pytest.approx(0.8)  # 160 / 200
    assert got["region=Mars"]["actual"] is None  # a scope without sales has no actual, not zero progress
