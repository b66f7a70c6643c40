"""Trends and "why did it change": moving averages, seasonality, calendar effects, contribution analysis.

Contribution analysis answers the question a sales director asks first: revenue moved
by X between two periods — which regions, channels, categories or salespeople did
that? For each dimension the slices' changes add up exactly to the total change
(money stays DECIMAL), so the ranked list is an accounting of the difference, not
an estimate. The total change is also split into an orders effect and an order-value
effect by the additive log-mean Divisia index (LMDI-I), which has no residual term.

Set-based parts are Ibis expressions; the seasonal and calendar parts work on the
per-period series those expressions produce (one row per day or week, not per line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from salescope.analytics.kpis import DIMENSIONS, NONE_LABEL, check_dim
from salescope.models.forecasting import decompose

CONTRIBUTION_DIMS: tuple[str, ...] = ("region", "channel", "category", "salesperson")

# 春节 (Lunar New Year's Day). Business in China slows for about two weeks around it.
SPRING_FESTIVAL: dict[int, date] = {
    y: date.fromisoformat(d)
    for y, d in {
        2010: "2010-02-14",
        2011: "2011-02-03",
        2012: "2012-01-23",
        2013: "2013-02-10",
        2014: "2014-01-31",
        2015: "2015-02-19",
        2016: "2016-02-08",
        2017: "2017-01-28",
        2018: "2018-02-16",
        2019: "2019-02-05",
        2020: "2020-01-25",
        2021: "2021-02-12",
        2022: "2022-02-01",
        2023: "2023-01-22",
        2024: "2024-02-10",
        2025: "2025-01-29",
        2026: "2026-02-17",
        2027: "2027-02-06",
        2028: "2028-01-26",
        2029: "2029-02-13",
        2030: "2030-02-03",
        2031: "2031-01-23",
        2032: "2032-02-11",
        2033: "2033-01-31",
        2034: "2034-02-19",
        2035: "2035-02-08",
    }.items()
}


def event_windows(year: int) -> dict[str, tuple[date, date]]:
    """The shopping-calendar windows of one year: Spring Festival ±7 days, 618 (1-18 June), Double 11 (1-11 Nov)."""
    out = {"618": (date(year, 6, 1), date(year, 6, 18)), "double11": (date(year, 11, 1), date(year, 11, 11))}
    if year in SPRING_FESTIVAL:
        cny = SPRING_FESTIVAL[year]
        out["spring_festival"] = (cny - timedelta(days=7), cny + timedelta(days=7))
    return out


def moving_average(kpis: ir.Table, column: str = "revenue", window: int = 3) -> ir.Table:
    """``{column}_ma{window}``: mean over the last ``window`` periods per slice.

    The window is a range over ``period_idx``, so a period without sales (no row)
    still takes its place in the window rather than pulling older periods in.
    """
    w = ibis.range_window(preceding=window - 1, following=0, group_by=["dim", "slice"], order_by="period_idx")
    return kpis.mutate(**{f"{column}_ma{window}": kpis[column].cast("float64").mean().over(w)})


def contribution(
    lines: ir.Table,
    *,
    a: tuple[date, date],
    b: tuple[date, date],
    dims: Sequence[str] = CONTRIBUTION_DIMS,
) -> ir.Table:
    """Per dimension and slice: revenue in period ``a`` and ``b``, the change, its share of the total change, rank.

    ``lines`` are order lines with the dimension columns (``kpis.sales_lines`` adds category and segment).
    """
    in_a = lines.order_date.between(a[0], a[1])
    in_b = lines.order_date.between(b[0], b[1])
    t = lines.filter(in_a | in_b).mutate(in_a=in_a, in_b=in_b)
    zero = ibis.literal(0).cast("decimal(18,4)")
    parts = []
    for dim in dims:
        check_dim(dim)
        s = t.mutate(slice=ibis.coalesce(t[DIMENSIONS[dim]].cast("string"), ibis.literal(NONE_LABEL)))
        g = s.group_by("slice").aggregate(
            revenue_a=ibis.coalesce(s.amount.sum(where=s.in_a), zero),
            revenue_b=ibis.coalesce(s.amount.sum(where=s.in_b), zero),
        )
        parts.append(g.mutate(dim=ibis.literal(dim)).select("dim", "slice", "revenue_a", "revenue_b"))
    u = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    u = u.mutate(change=u.revenue_b - u.revenue_a)
    total = u.change.sum().over(group_by="dim")
    rank = ibis.row_number().over(group_by="dim", order_by=[ibis.desc(u.change.abs()), u.slice])
    return u.mutate(
        share_of_change=u.change.cast("float64") / total.cast("float64").nullif(0.0),
        rank=(rank + 1).cast("int64"),
    ).order_by(["dim", "rank"])


def lmdi_drivers(revenue_a: float, revenue_b: float, orders_a: int, orders_b: int) -> dict[str, float] | None:
    """Split the revenue change into an orders effect and an average-order-value effect (additive LMDI-I).

    The two effects sum exactly to the change; undefined (None) when either period has
    no positive revenue or no orders, since the index works on logarithms.
    """
    if min(revenue_a, revenue_b) <= 0 or min(orders_a, orders_b) <= 0:
        return None
    if math.isclose(revenue_a, revenue_b):
        weight = revenue_a
    else:
        weight = (revenue_b - revenue_a) / (math.log(revenue_b) - math.log(revenue_a))
    aov_a, aov_b = revenue_a / orders_a, revenue_b / orders_b
    return {
        "orders_effect": weight * math.log(orders_b / orders_a),
        "aov_effect": weight * math.log(aov_b / aov_a),
    }


def seasonality(values: np.ndarray, period: int) -> dict[str, Any]:
    """Robust STL of a regular series: trend, seasonal and remainder, and how strong the season is.

    Strength of seasonality is Wang, Smith & Hyndman's 1 - Var(R) / Var(S + R), in [0, 1].
    """
    y = np.asarray(values, dtype="float64")
    parts = decompose(y, period)
    sr = parts.seasonal + parts.remainder
    var_sr = float(np.var(sr))
    strength = max(0.0, 1.0 - float(np.var(parts.remainder)) / var_sr) if var_sr > 0 else 0.0
    seasonal = bool(period >= 2 and len(y) >= 2 * period + 1)
    return {
        "period": period if seasonal else None,
        "strength": strength if seasonal else 0.0,
        "trend": parts.trend.tolist(),
        "seasonal": parts.seasonal.tolist(),
        "remainder": parts.remainder.tolist(),
    }


def calendar_effects(daily: pd.DataFrame) -> dict[str, Any]:
    """Weekday profile and the uplift of the Spring Festival, 618 and Double 11 windows.

    ``daily`` has ``day`` and ``revenue`` (days without sales may be absent: they count
    as zero). A window's uplift is its mean daily revenue over the mean of the 28 days
    before it starts, minus one, averaged over the years the data fully covers.
    """
    if daily.empty:
        return {"weekday_index": {}, "events": {}}
    s = daily.assign(day=pd.to_datetime(daily["day"])).groupby("day")["revenue"].sum().astype("float64")
    full = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
    mean = float(full.mean())
    weekdays = pd.DatetimeIndex(full.index).day_of_week.to_numpy()
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    values = full.to_numpy()
    weekday = {
        names[k]: (float(values[weekdays == k].mean()) / mean if mean else None)
        for k in range(7)
        if (weekdays == k).any()
    }
    first, last = full.index.min().date(), full.index.max().date()
    events: dict[str, dict[str, Any]] = {}
    for year in range(first.year, last.year + 1):
        for name, (start, end) in event_windows(year).items():
            before = start - timedelta(days=28)
            if before < first or end > last:
                continue
            inside = float(full[pd.Timestamp(start) : pd.Timestamp(end)].mean())
            base = float(full[pd.Timestamp(before) : pd.Timestamp(start - timedelta(days=1))].mean())
            if base > 0:
                events.setdefault(name, {"years": [], "uplift": []})
                events[name]["years"].append(year)
                events[name]["uplift"].append(inside / base - 1.0)
    for e in events.values():
        e["mean_uplift"] = float(np.mean(e["uplift"]))
    return {"weekday_index": weekday, "events": events}
