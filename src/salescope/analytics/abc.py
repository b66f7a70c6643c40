"""ABC (value concentration), XYZ (demand variability), the nine-cell matrix and the Pareto curve.

Conventions, pinned by tests on hand-computed cases:

* **ABC.** Items are sorted by value, largest first (ties by key). An item is **A** while the
  cumulative share of value *before* it is below the first threshold (80 % by default), **B**
  while it is below the second (95 %), else **C**. So the item that crosses 80 % is still A,
  and an item that ends exactly at 80 % is A while the next one is B. Only positive values
  count towards the total: an item with zero or negative value (net returns, a loss on the
  profit measure) is C and does not move the curve.
* **XYZ.** The coefficient of variation (population standard deviation / mean) of demand
  per period (month or week; weeks start Monday) over a fixed window, *including periods
  with no demand* (an item sold in one month of twelve is erratic, not steady). **X** if
  CV <= 0.5, **Y** if CV <= 1.0, else **Z**; an item with no net demand in the window is Z.
* **Matrix.** The cell is the ABC class followed by the XYZ class (``AX`` ... ``CZ``), each
  with stock advice in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis

from salescope.errors import InputError

Period = Literal["month", "week"]
_EPS = 1e-9
"""Shares and CVs are floats: a value that is exactly on a threshold in decimal arithmetic
may land a rounding error either side of it, and the boundary rule must not depend on that."""
ABC_CLASSES = ("A", "B", "C")
XYZ_CLASSES = ("X", "Y", "Z")

STOCK_ADVICE: dict[str, tuple[str, str]] = {
    "AX": (
        "高价值、需求稳定：持续补货（JIT/供应商管理库存），低安全库存，自动下单",
        "High value, steady demand: continuous replenishment (JIT/VMI), low safety stock, automated ordering",
    ),
    "AY": (
        "高价值、需求波动：按预测补货，中等安全库存，每周复核",
        "High value, variable demand: forecast-driven replenishment, moderate safety stock, weekly review",
    ),
    "AZ": (
        "高价值、需求不规则：按单采购，尽量少备库存，重点监控",
        "High value, erratic demand: buy to order, keep stock minimal, watch closely",
    ),
    "BX": (
        "中等价值、需求稳定：定期自动补货，低安全库存",
        "Medium value, steady demand: periodic automatic replenishment, low safety stock",
    ),
    "BY": (
        "中等价值、需求波动：定期盘点补货，按季节调整安全库存",
        "Medium value, variable demand: periodic review, seasonal safety stock",
    ),
    "BZ": (
        "中等价值、需求不规则：按需订货，少量缓冲库存，定期复核",
        "Medium value, erratic demand: order on demand, small buffer, periodic review",
    ),
    "CX": (
        "低价值、需求稳定：大批量低频采购，简单规则（双箱法）",
        "Low value, steady demand: large infrequent lots, simple rules (two-bin)",
    ),
    "CY": (
        "低价值、需求波动：定期批量采购，较高安全库存",
        "Low value, variable demand: periodic bulk orders, generous safety stock",
    ),
    "CZ": (
        "低价值、需求不规则：仅按需订货，评估是否清理下架",
        "Low value, erratic demand: order only on demand, consider delisting",
    ),
}


def _check_thresholds(name: str, thresholds: tuple[float, float], upper: float | None) -> None:
    low, high = thresholds
    if not (0 < low < high) or (upper is not None and high > upper):
        bound = f" <= {upper}" if upper is not None else ""
        raise InputError(
            "thresholds must be two increasing positive numbers",
            column=name,
            value=thresholds,
            expected=f"(low, high) with 0 < low < high{bound}",
        )


def abc_classify(
    table: ibis.Table,
    by: str,
    value: str,
    thresholds: tuple[float, float] = (0.8, 0.95),
) -> ibis.Table:
    """ABC classes of ``by`` on the sum of ``value`` (see the module docstring for the boundary rule).

    Returns one row per ``by`` value with ``value``, ``rank`` (1 = largest), ``share``,
    ``cum_share`` (including the item), ``item_cum_share`` (``rank / items``, the Pareto
    curve's x axis) and ``abc_class``.
    """
    _check_thresholds("thresholds", thresholds, 1.0)
    agg = table.group_by(by).aggregate(value=table[value].sum().cast("float64"))
    agg = agg.mutate(value=agg.value.fill_null(0.0))
    order = [ibis.desc(agg.value), agg[by]]
    positive = ibis.ifelse(agg.value > 0, agg.value, 0.0)
    ranked = agg.mutate(
        _pos=positive,
        _cum=positive.cumsum(order_by=order),
        _total=positive.sum().over(),
        rank=ibis.row_number().over(order_by=order) + 1,
        _items=agg[by].count().over(),
    )
    before = ibis.ifelse(ranked._total > 0, (ranked._cum - ranked._pos) / ranked._total, 1.0)
    low, high = thresholds
    cls = ibis.cases((ranked.value <= 0, "C"), (before < low - _EPS, "A"), (before < high - _EPS, "B"), else_="C")
    return ranked.select(
        by,
        "value",
        rank=ranked["rank"].cast("int64"),
        share=ibis.ifelse(ranked._total > 0, ranked._pos / ranked._total, 0.0),
        cum_share=ibis.ifelse(ranked._total > 0, ranked._cum / ranked._total, 0.0),
        item_cum_share=ranked["rank"].cast("float64") / ranked._items,
        abc_class=cls,
    )


def period_count(start: dt.date, end: dt.date, period: Period) -> int:
    """Periods from the one holding ``start`` to the one holding ``end``, both included."""
    if end < start:
        raise InputError("the demand window ends before it starts", value=(start, end), expected="start <= end")
    if period == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    monday_start = start - dt.timedelta(days=start.weekday())
    monday_end = end - dt.timedelta(days=end.weekday())
    return (monday_end - monday_start).days // 7 + 1


def xyz_classify(
    table: ibis.Table,
    by: str,
    date: str,
    quantity: str,
    start: dt.date,
    end: dt.date,
    period: Period = "month",
    thresholds: tuple[float, float] = (0.5, 1.0),
) -> ibis.Table:
    """XYZ classes of ``by`` on the variability of per-period ``quantity`` between ``start`` and ``end``.

    Rows outside the window are ignored; periods inside it with no rows count as zero
    demand. Returns ``by``, ``periods``, ``active_periods``, ``demand_mean``,
    ``demand_std``, ``demand_cv`` (NULL when mean demand is not positive) and ``xyz_class``.
    """
    _check_thresholds("thresholds", thresholds, None)
    if period not in ("month", "week"):
        raise InputError("unknown demand period", column="period", value=period, expected="month or week")
    n = period_count(start, end, period)
    t = table.filter((table[date] >= start) & (table[date] <= end))
    unit = "M" if period == "month" else "W"
    per = t.group_by([t[by], t[date].cast("date").truncate(unit).name("_period")]).aggregate(
        demand=t[quantity].sum().cast("float64")
    )
    stats = per.group_by(by).aggregate(
        _s=per.demand.sum(),
        _ss=(per.demand * per.demand).sum(),
        active_periods=(per.demand != 0).sum().cast("int64"),
    )
    mean = stats._s / n
    var = ibis.greatest(stats._ss / n - mean * mean, 0.0)
    std = var.sqrt()
    cv = ibis.ifelse(mean > 0, std / mean, ibis.null().cast("float64"))
    low, high = thresholds
    cls = ibis.cases((cv.isnull(), "Z"), (cv <= low + _EPS, "X"), (cv <= high + _EPS, "Y"), else_="Z")
    return stats.select(
        by,
        periods=ibis.literal(n, "int64"),
        active_periods="active_periods",
        demand_mean=mean,
        demand_std=std,
        demand_cv=cv,
        xyz_class=cls,
    )


def matrix_cell(abc: ibis.Value, xyz: ibis.Value) -> ibis.Value:
    """``AX`` ... ``CZ``; an item without an XYZ class (no demand in the window) counts as Z."""
    return abc.concat(xyz.fill_null("Z"))


def stock_advice(cell: ibis.Value, locale: Literal["zh", "en"]) -> ibis.Value:
    index = 0 if locale == "zh" else 1
    return cell.substitute({k: v[index] for k, v in STOCK_ADVICE.items()})


def pareto_curve(classified: ibis.Table) -> ibis.Table:
    """Points of the Pareto (Lorenz-style) curve: share of items vs share of value, largest first."""
    return classified.select("rank", "item_cum_share", "cum_share").order_by("rank")
