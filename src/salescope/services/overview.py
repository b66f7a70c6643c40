"""The overview dashboard: KPI cards, monthly revenue and the RFM segment mix.

Everything is read from warehouse tables through the row-level rule, so a sales
user's totals are exactly the sum of their own customers' sales. Segment counts
come from ``customer_scores``, which ``analyze`` materialises; until it has run the
overview says so instead of computing segments on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

import ibis

from salescope.services.access import Principal, RowScope, canonical, compiled, reading, restrict

if TYPE_CHECKING:
    from salescope.services.workspace import Workspace

ZERO = Decimal(0)


@dataclass(frozen=True)
class Kpis:
    """Revenue is net of returns; an order is an order id whose lines sum to more than zero."""

    revenue: Decimal
    orders: int
    customers: int
    avg_order_value: Decimal | None
    repurchase_rate: float | None  # customers with two or more orders / customers with any order


@dataclass(frozen=True)
class MonthRevenue:
    month: str  # YYYY-MM
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class SegmentCount:
    segment: str
    segment_zh: str
    segment_en: str
    customers: int
    monetary: Decimal


@dataclass(frozen=True)
class Overview:
    kpis: Kpis
    months: list[MonthRevenue]
    segments: list[SegmentCount]
    analysed: bool  # customer_scores has been materialised by analyze
    as_of: date | None
    first_date: date | None
    last_date: date | None


@dataclass(frozen=True)
class _Queries:
    totals: str
    customers: str
    orders: str
    months: str
    scores_state: str
    segments: str


@lru_cache(maxsize=64)
def _queries(scope: RowScope) -> _Queries:
    """The overview's SQL for one row scope, compiled once and reused by every request in that scope."""
    sales = restrict(canonical("sales"), scope)
    orders = sales.group_by("order_id").aggregate(
        amount=sales.amount.sum(),
        order_date=sales.order_date.min(),
        customer_id=sales.customer_id.max(),
    )
    totals = sales.aggregate(
        revenue=sales.amount.sum(), first_date=sales.order_date.min(), last_date=sales.order_date.max()
    )
    positive = orders.filter(orders.amount > 0)
    known = positive.filter(positive.customer_id.notnull())
    per_customer = known.group_by("customer_id").aggregate(n=known.count())
    customers = per_customer.aggregate(customers=per_customer.count(), repeaters=(per_customer.n >= 2).sum())
    by_month = (
        orders.group_by(month=orders.order_date.truncate("M"))
        .aggregate(revenue=orders.amount.sum(), orders=(orders.amount > 0).sum())
        .order_by("month")
    )
    all_scores = canonical("customer_scores")
    state = all_scores.aggregate(n=all_scores.count(), as_of=all_scores.as_of.max())
    scores = restrict(all_scores, scope)
    segments = (
        scores.group_by(
            segment=ibis.coalesce(scores.segment, ibis.literal("unknown")),
            segment_zh=ibis.coalesce(scores.segment_zh, ibis.literal("未分群")),
            segment_en=ibis.coalesce(scores.segment_en, ibis.literal("Unsegmented")),
        )
        .aggregate(customers=scores.count(), monetary=scores.monetary.sum())
        .order_by([ibis.desc("customers"), "segment"])
    )
    return _Queries(
        totals=compiled(totals),
        customers=compiled(customers),
        orders=compiled(positive.aggregate(n=positive.count())),
        months=compiled(by_month),
        scores_state=compiled(state),
        segments=compiled(segments),
    )


def overview(ws: Workspace, principal: Principal) -> Overview:
    principal.require("read")
    q = _queries(principal.row_scope)
    with reading(ws) as wh:
        totals = wh.arrow(q.totals).to_pylist()[0]
        counts = wh.arrow(q.customers).to_pylist()[0]
        order_count = int(wh.arrow(q.orders).to_pylist()[0]["n"] or 0)
        month_rows = wh.arrow(q.months).to_pylist()
        state = wh.arrow(q.scores_state).to_pylist()[0]
        segment_rows = wh.arrow(q.segments).to_pylist() if state["n"] else []
    revenue = _money(totals["revenue"])
    customers = int(counts["customers"] or 0)
    kpis = Kpis(
        revenue=revenue,
        orders=order_count,
        customers=customers,
        avg_order_value=(revenue / order_count).quantize(Decimal("0.0001")) if order_count else None,
        repurchase_rate=int(counts["repeaters"] or 0) / customers if customers else None,
    )
    months = [
        MonthRevenue(r["month"].strftime("%Y-%m"), _money(r["revenue"]), int(r["orders"] or 0)) for r in month_rows
    ]
    segments = [
        SegmentCount(r["segment"], r["segment_zh"], r["segment_en"], int(r["customers"]), _money(r["monetary"]))
        for r in segment_rows
    ]
    analysed = bool(state["n"])
    return Overview(
        kpis,
        months,
        segments,
        analysed,
        state["as_of"] if analysed else None,
        totals["first_date"],
        totals["last_date"],
    )


def _money(value: Decimal | None) -> Decimal:
    return ZERO if value is None else Decimal(value)
