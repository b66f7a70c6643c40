"""Customer lifetime value inputs as Ibis expressions: the BTYD transaction summary and the heuristic CLV.

Conventions (Fader, Hardie & Lee 2005; pinned by tests):

* A *purchase* is a (customer, day) whose net amount is not negative: same-day orders are one
  transaction, a day of returns only is not a purchase, and a free (zero-value) order is
  one (CDNOW has such first purchases). Anonymous sales (NULL ``customer_id``) are left out.
* ``frequency`` counts repeat purchases (purchase days after the first) up to
  ``calibration_end``; ``recency`` is first to last purchase and ``T`` first purchase to
  ``calibration_end``, both in days divided by the period length (7 for ``week``), so they
  are fractional like the papers' 30.43 weeks.
* ``monetary`` is the mean value of the repeat purchase days (NULL without repeats): the
  first purchase is left out because it is the acquisition, not repeat behaviour.
* ``observation_start``: customers whose first purchase is earlier are left out, because
  their true first purchase (the start of T) is not in the data.

Everything is portable Ibis (dates are differenced with ``delta``), so it runs on DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir

from salescope.errors import InputError

PERIOD_DAYS: dict[str, int] = {"day": 1, "week": 7}
DAYS_PER_YEAR = 365.25


def period_days(period: str) -> int:
    if period not in PERIOD_DAYS:
        raise InputError("unknown CLV period", column="period", value=period, expected="day or week")
    return PERIOD_DAYS[period]


def _days(sales: ir.Table, end: dt.date) -> ir.Table:
    """Purchases: (customer, day) with its net value, up to ``end``; days of returns only are dropped."""
    rows = sales.filter(sales.customer_id.notnull() & (sales.order_date <= end))
    days = rows.group_by(["customer_id", "order_date"]).aggregate(value=rows.amount.sum())
    return days.filter(days.value >= 0)


def purchase_days(
    sales: ir.Table, *, calibration_end: dt.date, end: dt.date, observation_start: dt.date | None = None
) -> ir.Table:
    """One row per purchase (customer, day) up to ``end`` with its value and the customer's first purchase.

    Only customers first seen by ``calibration_end`` (and not before ``observation_start``) are kept.
    """
    days = _days(sales, end)
    firsts = days.group_by("customer_id").aggregate(first_purchase=days.order_date.min())
    firsts = firsts.filter(firsts.first_purchase <= calibration_end)
    if observation_start is not None:
        firsts = firsts.filter(firsts.first_purchase >= observation_start)
    return days.join(firsts, "customer_id")


def transaction_summary(
    sales: ir.Table,
    *,
    calibration_end: dt.date,
    observation_start: dt.date | None = None,
    period: str = "week",
    holdout_end: dt.date | None = None,
) -> ir.Table:
    """Per customer: frequency, recency, T, monetary (+ holdout_frequency, holdout_value with a holdout)."""
    length = period_days(period)
    if observation_start is not None and observation_start > calibration_end:
        raise InputError(
            "the observation start is after the calibration end",
            column="observation_start",
            value=str(observation_start),
            expected=f"a date on or before {calibration_end}",
        )
    if holdout_end is not None and holdout_end <= calibration_end:
        raise InputError(
            "the holdout must end after the calibration period",
            column="holdout_end",
            value=str(holdout_end),
            expected=f"a date after {calibration_end}",
        )
    # One aggregation over the purchase days, no join back to each customer's first day: the first
    # purchase is the earliest day and its value is arg_min(value, day), so repeat value = total - first.
    days = _days(sales, holdout_end or calibration_end)
    in_cal = days.order_date <= calibration_end
    metrics: dict[str, ir.Value] = {
        "first_purchase": days.order_date.min(),
        "last_purchase": days.order_date.max(where=in_cal),
        "purchases": days.order_date.count(where=in_cal),
        "cal_value": days.value.sum(where=in_cal),
        "first_value": days.value.argmin(days.order_date),
    }
    if holdout_end is not None:
        metrics["holdout_frequency"] = days.order_date.count(where=~in_cal)
        metrics["holdout_value"] = days.value.sum(where=~in_cal)
    per = days.group_by("customer_id").aggregate(**metrics)
    born = per.first_purchase <= calibration_end
    if observation_start is not None:
        born &= per.first_purchase >= observation_start
    per = per.filter(born)
    end = ibis.literal(calibration_end, type="date")
    repeats = (per.purchases - 1).cast("int64")
    repeat_value = per.cal_value.cast("float64") - per.first_value.cast("float64")
    columns: dict[str, ir.Value] = {
        "customer_id": per.customer_id,
        "frequency": repeats,
        "recency": per.last_purchase.delta(per.first_purchase, unit="day").cast("float64") / length,
        "T": end.delta(per.first_purchase, unit="day").cast("float64") / length,
        "monetary": ibis.ifelse(repeats > 0, repeat_value / repeats.cast("float64"), ibis.null("float64")),
        "first_purchase": per.first_purchase,
        "last_purchase": per.last_purchase,
    }
    if holdout_end is not None:
        columns["holdout_frequency"] = per.holdout_frequency.cast("int64")
        columns["holdout_value"] = per.holdout_value.cast("float64").fill_null(0.0)
    return per.select(**columns)


def repeat_purchases_by_period(
    sales: ir.Table,
    *,
    start: dt.date,
    calibration_end: dt.date,
    end: dt.date,
    observation_start: dt.date | None = None,
    period: str = "week",
) -> ir.Table:
    """Repeat purchases of the summary's customers per period since ``start`` (period 0 begins on ``start``).

    The actual series of the calibration/holdout tracking chart.
    """
    length = period_days(period)
    days = purchase_days(sales, calibration_end=calibration_end, end=end, observation_start=observation_start)
    repeats = days.filter((days.order_date > days.first_purchase) & (days.order_date >= start))
    idx = (repeats.order_date.delta(ibis.literal(start, type="date"), unit="day") // length).cast("int64")
    counted = repeats.mutate(period_index=idx)
    return counted.group_by("period_index").aggregate(repeat_purchases=counted.count()).order_by("period_index")


def heuristic_clv(
    sales: ir.Table,
    *,
    as_of: dt.date,
    lifetime_years: float = 3.0,
    margin: float = 1.0,
    acquisition_cost: float = 0.0,
    min_tenure_years: float = 1.0,
) -> ir.Table:
    """The practitioners' CLV: 客单价 × 复购率 × 生命周期 × 毛利率 − 获客成本, per customer.

    * 客单价 (average order value): net revenue (returns subtract) per purchase day up to ``as_of``.
    * 复购率 (purchase rate): purchase days per year over the customer's tenure (first
      purchase to ``as_of``), with the tenure floored at ``min_tenure_years`` so a customer
      seen once last week is not extrapolated to 52 purchases a year.
    * 生命周期 (lifetime): ``lifetime_years``, an assumption of the business, not estimated.
    * 毛利率 (margin): fraction of revenue kept (1.0 values revenue, not profit).
    * 获客成本 (acquisition cost): per customer, subtracted once.

    Unlike the BTYD models it ignores whether the customer is still active; compare both.
    """
    for name, value, positive in (
        ("lifetime_years", lifetime_years, True),
        ("min_tenure_years", min_tenure_years, True),
        ("margin", margin, False),
        ("acquisition_cost", acquisition_cost, False),
    ):
        if not isinstance(value, int | float) or not math.isfinite(value) or (positive and value <= 0):
            expected = "a number > 0" if positive else "a finite number"
            raise InputError("invalid heuristic CLV parameter", column=name, value=value, expected=expected)
    days = purchase_days(sales, calibration_end=as_of, end=as_of)
    counts = days.group_by("customer_id").aggregate(
        first_purchase=days.first_purchase.min(), last_purchase=days.order_date.max(), purchases=days.count()
    )
    rows = sales.filter(sales.customer_id.notnull() & (sales.order_date <= as_of))
    net = rows.group_by("customer_id").aggregate(revenue=rows.amount.sum().cast("float64"))
    per = counts.join(net, "customer_id")
    tenure_days = ibis.literal(as_of, type="date").delta(per.first_purchase, unit="day").cast("float64") + 1.0
    tenure = ibis.greatest(tenure_days / DAYS_PER_YEAR, ibis.literal(float(min_tenure_years)))
    aov = per.revenue / per.purchases.cast("float64")
    rate = per.purchases.cast("float64") / tenure
    return per.select(
        "customer_id",
        "first_purchase",
        "last_purchase",
        "purchases",
        "revenue",
        avg_order_value=aov,
        purchases_per_year=rate,
        lifetime_years=ibis.literal(float(lifetime_years)),
        margin=ibis.literal(float(margin)),
        acquisition_cost=ibis.literal(float(acquisition_cost)),
        heuristic_clv=aov * rate * float(lifetime_years) * float(margin) - float(acquisition_cost),
    )
