"""Contribution analysis sums to the total change; drivers, moving averages and calendar effects by hand."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from test_kpis import load

from salescope.analytics.kpis import kpi_table, sales_lines
from salescope.analytics.trends import (
    SPRING_FESTIVAL,
    calendar_effects,
    contribution,
    event_windows,
    lmdi_drivers,
    moving_average,
    seasonality,
)
from salescope.services.workspace import Workspace


def test_contribution_sums_to_the_total_change(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh)
    lines = sales_lines(wh.table("sales"), products=wh.table("products"))
    feb = (date(2024, 2, 1), date(2024, 2, 29))
    mar = (date(2024, 3, 1), date(2024, 3, 31))
    rows = wh.to_arrow(contribution(lines, a=feb, b=mar, dims=("region", "category"))).to_pylist()
    # February 150 (N: 100 + 50), March 320 (N: 160, S: 160): +170
    region = {r["slice"]: r for r in rows if r["dim"] == "region"}
    assert region["S"]["change"] == Decimal("160") and region["N"]["change"] == Decimal("10")
    assert region["S"]["rank"] == 1 and region["S"]["share_of_change"] == pytest.approx(160 / 170)
    for dim in ("region", "category"):
        part = [r for r in rows if r["dim"] == dim]
        assert sum(r["change"] for r in part) == Decimal("170")  # exact: money stays DECIMAL
        assert sum(r["share_of_change"] for r in part) == pytest.approx(1.0)


def test_lmdi_drivers_add_up_exactly() -> None:
    d = lmdi_drivers(100.0, 150.0, 4, 5)
    assert d is not None
    assert d["orders_effect"] + d["aov_effect"] == pytest.approx(50.0)
    weight = 50 / math.log(1.5)
    assert d["orders_effect"] == pytest.approx(weight * math.log(5 / 4))
    assert lmdi_drivers(0.0, 10.0, 0, 1) is None


def test_moving_average_spans_periods_not_rows(workspace: Workspace) -> None:
    wh = workspace.warehouse
    load(wh)
    expr = moving_average(kpi_table(wh.table("sales"), freq="month"), "revenue", 3)
    got = {r["period"]: r["revenue_ma3"] for r in wh.to_arrow(expr).to_pylist()}
    # 2023-03 (80) is a year before 2024-02 (150): the window of 2024-03 holds Jan (no row), Feb and Mar
    assert got["2024-03"] == pytest.approx((150 + 320) / 2)
    assert got["2024-02"] == pytest.approx(150.0)


def test_calendar_effects_find_the_double11_uplift() -> None:
    days = pd.date_range("2023-01-01", "2023-12-31", freq="D")
    revenue = np.where(days.day_of_week >= 5, 50.0, 100.0)  # weekends at half
    d11 = (days >= "2023-11-01") & (days <= "2023-11-11")
    revenue = np.where(d11, revenue * 3, revenue)
    out = calendar_effects(pd.DataFrame({"day": days, "revenue": revenue}))
    assert out["weekday_index"]["sat"] < 0.7 < 1.0 < out["weekday_index"]["mon"]
    # inside and before the window the weekday mix differs a little; the uplift is close to x3
    assert out["events"]["double11"]["uplift"][0] == pytest.approx(2.0, abs=0.15)
    assert out["events"]["618"]["uplift"][0] == pytest.approx(0.0, abs=0.05)
    assert "spring_festival" not in out["events"]  # 2023-01-22 minus 35 days is before the data
    assert event_windows(2024)["spring_festival"] == (date(2024, 2, 3), date(2024, 2, 17))
    assert SPRING_FESTIVAL[2025] == date(2025, 1, 29)


def test_seasonality_strength_separates_seasonal_from_noise() -> None:
    t = np.arange(156)
    rng = np.random.default_rng(0)
    seasonal = seasonality(100 + 30 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 2, 156), 52)
    noise = seasonality(100 + rng.normal(0, 10, 156), 52)
    assert seasonal["period"] == 52 and seasonal["strength"] > 0.8
    assert noise["strength"] < seasonal["strength"]
    assert seasonality(np.arange(20.0), 52)["period"] is None  # shorter than two seasons
    assert len(seasonal["trend"]) == 156
