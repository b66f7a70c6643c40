"""Customer lifecycle: new, active, dormant, churned, reactivated — with windows per customer.

One global "90 days without an order" calls a monthly buyer churned after three missed
orders and a yearly buyer churned before their next order is even due. The windows here
scale with each customer's own rhythm instead:

* typical interval ``I`` = the median gap in days between the customer's consecutive purchase
  days (several orders on one day are one purchase day); with fewer than two purchase days,
  the population's median gap (``interval_source = "population"``), else
  ``default_interval_days``; never below ``min_interval_days``;
* active window ``A = active_multiple × I``, churn window ``C = churn_multiple × I`` (or fixed
  ``active_days`` / ``churn_days`` when given);
* at a date ``s``, with ``r`` = days since the last purchase: **churned** if ``r > C``;
  **dormant** if ``A < r <= C``; otherwise **reactivated** if a purchase within ``A`` of ``s``
  came after a gap longer than the churn window the customer had at that time (they had
  churned and came back — for a second purchase that window is the population's); **new** if
  the first purchase is within ``A`` of ``s``; else **active**.

Everything is computed from data on or before each date, so the monthly history does not
look ahead (except the population median, taken once over all data up to ``as_of``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from salescope.analytics.migration import at_snapshots, purchase_days, with_next_day
from salescope.errors import InputError


@dataclass(frozen=True)
class Stage:
    key: str
    zh: str
    en: str


STAGES: dict[str, Stage] = {
    s.key: s
    for s in (
        Stage("new", "新客户", "New"),
        Stage("active", "活跃客户", "Active"),
        Stage("dormant", "沉默客户", "Dormant"),
        Stage("churned", "流失客户", "Churned"),
        Stage("reactivated", "回流客户", "Reactivated"),
    )
}


@dataclass(frozen=True)
class LifecycleWindows:
    """How the windows are set; the defaults derive them from each customer's interval."""

    active_multiple: float = 2.0
    churn_multiple: float = 4.0
    min_interval_days: float = 7.0
    default_interval_days: float = 30.0
    active_days: float | None = None
    churn_days: float | None = None

    def __post_init__(self) -> None:
        if (self.active_days is None) != (self.churn_days is None):
            raise InputError(
                "Fixed lifecycle windows need both days",
                column="active_days/churn_days",
                value=(self.active_days, self.churn_days),
                expected="both set or both unset",
            )
        active = self.active_days if self.active_days is not None else self.active_multiple
        churn = self.churn_days if self.churn_days is not None else self.churn_multiple
        if not 0 < active < churn:
            raise InputError(
                "The active window must be shorter than the churn window",
                column="active/churn",
                value=(active, churn),
                expected="0 < active < churn",
            )

    def active_window(self, interval: ir.FloatingValue) -> ir.FloatingValue:
        if self.active_days is not None:
            return ibis.literal(float(self.active_days))
        return interval * self.active_multiple

    def churn_window(self, interval: ir.FloatingValue) -> ir.FloatingValue:
        if self.churn_days is not None:
            return ibis.literal(float(self.churn_days))
        return interval * self.churn_multiple


def timeline(orders: ir.Table, windows: LifecycleWindows | None = None) -> ir.Table:
    """Per customer and purchase day: first purchase, purchase days so far, typical interval so
    far, the last return after churn so far, and the next purchase day (far future for the last).

    Both the current stages and the history are read from it; materialise it once when
    computing both.
    """
    w = windows or LifecycleWindows()
    days = purchase_days(orders).select("customer_id", "order_date")
    by_day = ibis.window(group_by="customer_id", order_by="order_date")
    t = days.mutate(gap=days.order_date.delta(days.order_date.lag().over(by_day), unit="day").cast("float64"))
    upto = ibis.window(group_by="customer_id", order_by="order_date", rows=(None, 0))
    fallback = t.gap.median().over(ibis.window()).fill_null(w.default_interval_days)
    t = t.mutate(
        first_order=t.order_date.min().over(ibis.window(group_by="customer_id")),
        purchase_days=t.count().over(upto),
        own_interval=t.gap.median().over(upto),
        fallback_interval=fallback,
    )
    # The interval known before a purchase is the running median up to the previous one.
    t = t.mutate(interval_before=t.own_interval.lag().over(by_day).fill_null(t.fallback_interval))
    churn_before = w.churn_window(ibis.greatest(t.interval_before, w.min_interval_days))
    t = t.mutate(returned=ibis.ifelse(t.gap > churn_before, t.order_date, ibis.null("date")))
    t = t.mutate(
        last_return=t.returned.max().over(upto),
        interval=ibis.greatest(t.own_interval.fill_null(t.fallback_interval), w.min_interval_days),
        interval_source=ibis.ifelse(t.own_interval.isnull(), "population", "own"),
    )
    return with_next_day(
        t.select(
            "customer_id",
            "order_date",
            "first_order",
            "purchase_days",
            "interval",
            "interval_source",
            "last_return",
        )
    )


def _stage(t: ir.Table, at: ir.DateValue, windows: LifecycleWindows) -> ir.Table:
    active = windows.active_window(t.interval)
    churn = windows.churn_window(t.interval)
    recency = at.delta(t.order_date, unit="day")
    stage = ibis.cases(
        (recency > churn, "churned"),
        (recency > active, "dormant"),
        (t.last_return.notnull() & (at.delta(t.last_return, unit="day") <= active), "reactivated"),
        (at.delta(t.first_order, unit="day") <= active, "new"),
        else_="active",
    )
    return t.mutate(stage=stage, active_window_days=active, churn_window_days=churn)


def current_stages(line: ir.Table, *, as_of: dt.date, windows: LifecycleWindows | None = None) -> ir.Table:
    """Each customer's stage at ``as_of`` from a :func:`timeline`, with windows and next due date."""
    w = windows or LifecycleWindows()
    at = ibis.literal(as_of, type="date")
    latest = line.filter(line.next_day > as_of)
    t = _stage(latest, at, w)
    due = t.order_date + t.interval.round().cast("int32").as_interval("D")
    t = t.mutate(next_purchase_due=due.cast("date"))
    overdue = at.delta(t.next_purchase_due, unit="day")
    return t.select(
        "customer_id",
        "stage",
        stage_zh=t.stage.substitute({k: s.zh for k, s in STAGES.items()}),
        stage_en=t.stage.substitute({k: s.en for k, s in STAGES.items()}),
        as_of=at,
        first_order=t.first_order,
        last_order=t.order_date,
        purchase_days=t.purchase_days,
        typical_interval_days=t.interval,
        interval_source=t.interval_source,
        active_window_days=t.active_window_days,
        churn_window_days=t.churn_window_days,
        next_purchase_due=t.next_purchase_due,
        days_overdue=ibis.greatest(overdue, 0),
    )


def stage_history(line: ir.Table, snapshots: ir.Table, *, windows: LifecycleWindows | None = None) -> ir.Table:
    """Customers per stage at each snapshot date (``snapshot_date`` column of ``snapshots``)."""
    w = windows or LifecycleWindows()
    states = at_snapshots(line, snapshots)
    staged = _stage(states, states.snapshot_date, w)
    return staged.group_by(["snapshot_date", "stage"]).aggregate(customers=staged.count())


def customer_lifecycle(orders: ir.Table, *, as_of: dt.date, windows: LifecycleWindows | None = None) -> ir.Table:
    """Each customer's stage at ``as_of``; ``orders`` are per-order rows of identified customers up to ``as_of``."""
    return current_stages(timeline(orders, windows), as_of=as_of, windows=windows)


def lifecycle_history(orders: ir.Table, snapshots: ir.Table, *, windows: LifecycleWindows | None = None) -> ir.Table:
    """Customers per stage at each snapshot date, from per-order rows."""
    return stage_history(timeline(orders, windows), snapshots, windows=windows)
