"""First-purchase cohorts and repurchase: retention by month, repurchase rate, 复购周期.

A customer's cohort is the calendar month of their first order. Cohort retention counts,
for every month from the cohort month up to the last month with any sales, the cohort's
customers who ordered in that month and the revenue they brought; months with no activity
from a cohort appear with zeros, so the grid is complete for heatmaps.

Repurchase works on purchase days (several orders on one day are one purchase, the BTYD
convention): a repeat buyer bought on two or more days, and an interval is the gap in days
between consecutive purchase days — per customer, per product (the customer buying that
product again), per category, and over all customers.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir

MONEY = dtypes.Decimal(18, 4)
SCOPES: tuple[str, ...] = ("all", "customer", "product", "category")
RETENTION_COLUMNS: tuple[str, ...] = (
    "cohort_month",
    "period",
    "activity_month",
    "cohort_customers",
    "active_customers",
    "retention",
    "revenue",
    "revenue_retention",
)
INTERVAL_COLUMNS: tuple[str, ...] = (
    "scope",
    "key",
    "buyers",
    "repeat_buyers",
    "repeat_rate",
    "intervals",
    "mean_days",
    "median_days",
    "p25_days",
    "p75_days",
    "p90_days",
)


def _month(value: ir.DateValue) -> ir.DateValue:
    return value.truncate("M").cast("date")


def cohort_retention(orders: ir.Table) -> ir.Table:
    """Retention of customers and revenue by first-purchase month (see the module notes).

    ``orders`` are per-order rows (``customer_id``, ``order_date``, ``amount``) of identified customers.
    """
    o = orders.mutate(activity_month=_month(orders.order_date))
    activity = o.group_by(["customer_id", "activity_month"]).aggregate(revenue=o.amount.sum())
    cohorts = activity.group_by("customer_id").aggregate(cohort_month=activity.activity_month.min())
    joined = activity.join(cohorts, "customer_id")
    cells = joined.group_by(["cohort_month", "activity_month"]).aggregate(
        active_customers=joined.count(), revenue=joined.revenue.sum()
    )
    sizes = cohorts.group_by("cohort_month").aggregate(cohort_customers=cohorts.count())
    months = activity.select("activity_month").distinct()
    grid = sizes.cross_join(months)
    grid = grid.filter(grid.activity_month >= grid.cohort_month)
    full = grid.left_join(
        cells, [grid.cohort_month == cells.cohort_month, grid.activity_month == cells.activity_month]
    ).select(
        cohort_month=grid.cohort_month,
        activity_month=grid.activity_month,
        cohort_customers=grid.cohort_customers,
        active_customers=cells.active_customers.fill_null(0),
        revenue=cells.revenue.fill_null(0).cast(MONEY),
    )
    # The cohort month's own revenue by window, not a self-join: Ibis resolves a self-joined
    # column to its renamed copy, which silently returned period-0 revenue in every period.
    first_revenue = ibis.ifelse(full.activity_month == full.cohort_month, full.revenue, ibis.null(MONEY))
    full = full.mutate(first_revenue=first_revenue.max().over(ibis.window(group_by="cohort_month")))
    period = (full.activity_month.year() - full.cohort_month.year()) * 12 + (
        full.activity_month.month() - full.cohort_month.month()
    )
    return full.select(
        cohort_month=full.cohort_month,
        period=period.cast("int64"),
        activity_month=full.activity_month,
        cohort_customers=full.cohort_customers.cast("int64"),
        active_customers=full.active_customers.cast("int64"),
        retention=full.active_customers.cast("float64") / full.cohort_customers.cast("float64"),
        revenue=full.revenue,
        revenue_retention=ibis.ifelse(
            full.first_revenue > 0,
            full.revenue.cast("float64") / full.first_revenue.cast("float64"),
            ibis.null("float64"),
        ),
    )


def _interval_stats(days: ir.Table, scope: str) -> ir.Table:
    """Buyers, repeat buyers and gap quantiles per ``key`` from distinct (customer, key, day) rows."""
    by = ibis.window(group_by=["customer_id", "key"], order_by="order_date")
    g = days.mutate(gap=days.order_date.delta(days.order_date.lag().over(by), unit="day").cast("float64"))
    per_buyer = g.group_by(["key", "customer_id"]).aggregate(days=g.count())
    buyers = per_buyer.group_by("key").aggregate(buyers=per_buyer.count(), repeat_buyers=(per_buyer.days >= 2).sum())
    gaps = g.filter(g.gap.notnull())
    stats = gaps.group_by("key").aggregate(
        intervals=gaps.count(),
        mean_days=gaps.gap.mean(),
        median_days=gaps.gap.median(),
        p25_days=gaps.gap.quantile(0.25),
        p75_days=gaps.gap.quantile(0.75),
        p90_days=gaps.gap.quantile(0.9),
    )
    out = buyers.left_join(stats, buyers.key == stats.key)
    return out.select(
        scope=ibis.literal(scope),
        key=out.key.cast("string"),
        buyers=out.buyers.cast("int64"),
        repeat_buyers=out.repeat_buyers.cast("int64"),
        repeat_rate=out.repeat_buyers.cast("float64") / out.buyers.cast("float64"),
        intervals=out.intervals.fill_null(0).cast("int64"),
        mean_days=out.mean_days,
        median_days=out.median_days,
        p25_days=out.p25_days,
        p75_days=out.p75_days,
        p90_days=out.p90_days,
    )


def repurchase_intervals(lines: ir.Table, products: ir.Table | None = None) -> ir.Table:
    """Repurchase rate and interval distribution for every scope in :data:`SCOPES`, one table.

    ``lines`` are order lines (``customer_id``, ``product_id``, ``order_date``) of identified
    customers up to the analysis date; ``products`` (``product_id``, ``category``) gives the
    categories, and products without one are left out of the category scope.
    """
    base = lines.select("customer_id", "product_id", "order_date")
    customer_days = base.select("customer_id", "order_date").distinct()
    product_days = base.select("customer_id", key=base.product_id, order_date=base.order_date).distinct()
    parts = [
        _interval_stats(customer_days.mutate(key=ibis.literal("all")), "all"),
        _interval_stats(customer_days.mutate(key=customer_days.customer_id), "customer"),
        _interval_stats(product_days, "product"),
    ]
    if products is not None:
        cats = products.filter(products.category.notnull()).select("product_id", "category").distinct()
        with_cat = base.join(cats, "product_id")
        category_days = with_cat.select("customer_id", key=with_cat.category, order_date=with_cat.order_date).distinct()
        parts.append(_interval_stats(category_days, "category"))
    return ibis.union(*parts)
