"""Customer list and customer profile, as every adapter shows them.

The list is built over ``customer_owners`` — the same relation the row-level rule
uses — so the salesperson shown beside a customer is the one that decides who may
see them. A customer outside the principal's rows is reported as not found rather
than forbidden, so guessing ids reveals nothing about which customers exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import ibis

from salescope.errors import InputError, NotFoundError
from salescope.services.access import Principal, RowScope, canonical, compiled, customer_owners, reading, restrict

if TYPE_CHECKING:
    from salescope.services.workspace import Workspace

MAX_LIMIT = 500
ORDERS_SHOWN = 100

_PROFILE_FIELDS = (
    "kind",
    "phone",
    "email",
    "address",
    "city",
    "province",
    "region",
    "industry",
    "tax_id",
    "first_seen",
)
_SCORE_FIELDS = ("as_of", "first_order", "last_order", "avg_order_value", "r_score", "f_score", "m_score")


@dataclass(frozen=True)
class CustomerRow:
    customer_id: str
    name: str | None
    salesperson: str | None
    segment: str | None
    segment_zh: str | None
    segment_en: str | None
    recency_days: int | None
    frequency: int | None
    monetary: Decimal | None
    rfm_code: str | None


@dataclass(frozen=True)
class CustomerPage:
    items: list[CustomerRow]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class OrderSummary:
    order_id: str
    order_date: date
    lines: int
    amount: Decimal


@dataclass(frozen=True)
class CustomerDetail:
    customer: CustomerRow
    profile: dict[str, Any]  # the customer master's fields; empty when the customer is known only from sales
    scores: dict[str, Any]  # customer_scores beyond the list columns; empty before analyze
    orders: list[OrderSummary]  # newest first, at most ORDERS_SHOWN
    orders_total: int
    revenue: Decimal


def _directory(scope: RowScope) -> ibis.Table:
    owners = restrict(customer_owners(), scope)
    cu = canonical("customers")
    sc = canonical("customer_scores")
    joined = owners.left_join(cu, owners.customer_id == cu.customer_id).left_join(
        sc, owners.customer_id == sc.customer_id
    )
    return joined.select(
        customer_id=owners.customer_id,
        name=cu.name,
        salesperson=owners.salesperson,
        segment=sc.segment,
        segment_zh=sc.segment_zh,
        segment_en=sc.segment_en,
        recency_days=sc.recency_days,
        frequency=sc.frequency,
        monetary=sc.monetary,
        rfm_code=sc.rfm_code,
    )


@lru_cache(maxsize=512)
def _list_sql(scope: RowScope, segment: str | None, needle: str, limit: int, offset: int) -> tuple[str, str]:
    """(count, page) SQL, compiled once per scope and filter: typing in the search box repeats them often."""
    t = _directory(scope)
    if segment:
        t = t.filter(t.segment == segment)
    if needle:
        t = t.filter(t.customer_id.lower().contains(needle) | t.name.fill_null("").lower().contains(needle))
    page = t.order_by([ibis.desc(t.monetary), t.customer_id]).limit(limit, offset=offset)
    return compiled(t.aggregate(n=t.count())), compiled(page)


def list_customers(
    ws: Workspace,
    principal: Principal,
    *,
    limit: int = 50,
    offset: int = 0,
    segment: str | None = None,
    q: str | None = None,
) -> CustomerPage:
    """One page of the customers the principal may see, most valuable first; ``q`` matches id or name."""
    principal.require("read")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError("invalid page size", column="limit", value=limit, expected=f"1 to {MAX_LIMIT}")
    if offset < 0:
        raise InputError("invalid page start", column="offset", value=offset, expected="0 or more")
    count_sql, page_sql = _list_sql(principal.row_scope, segment or None, (q or "").strip().lower(), limit, offset)
    with reading(ws) as wh:
        total = int(wh.arrow(count_sql).to_pylist()[0]["n"])
        items = [CustomerRow(**r) for r in wh.arrow(page_sql).to_pylist()]
    return CustomerPage(items, total, limit, offset)


@dataclass(frozen=True)
class _DetailSql:
    customer: str
    profile: str
    scores: str
    totals: str
    recent: str


@lru_cache(maxsize=512)
def _detail_sql(scope: RowScope, customer_id: str) -> _DetailSql:
    t = _directory(scope)
    cu = canonical("customers")
    sc = canonical("customer_scores")
    sales = restrict(canonical("sales"), scope)
    mine = sales.filter(sales.customer_id == customer_id)
    orders = mine.group_by("order_id").aggregate(
        order_date=mine.order_date.min(), lines=mine.count(), amount=mine.amount.sum()
    )
    recent = orders.order_by([ibis.desc(orders.order_date), ibis.desc(orders.order_id)]).limit(ORDERS_SHOWN)
    return _DetailSql(
        customer=compiled(t.filter(t.customer_id == customer_id)),
        profile=compiled(cu.filter(cu.customer_id == customer_id).select(*_PROFILE_FIELDS).limit(1)),
        scores=compiled(sc.filter(sc.customer_id == customer_id).select(*_SCORE_FIELDS).limit(1)),
        totals=compiled(orders.aggregate(n=orders.count(), revenue=orders.amount.sum())),
        recent=compiled(recent),
    )


def get_customer(ws: Workspace, principal: Principal, customer_id: str) -> CustomerDetail:
    """A customer's profile, scores and orders; not found when absent or outside the principal's rows."""
    principal.require("read")
    q = _detail_sql(principal.row_scope, customer_id)
    with reading(ws) as wh:
        found = wh.arrow(q.customer).to_pylist()
        if not found:
            raise NotFoundError(f"There is no customer {customer_id!r} that you may see.")
        profile_rows = wh.arrow(q.profile).to_pylist()
        score_rows = wh.arrow(q.scores).to_pylist()
        totals = wh.arrow(q.totals).to_pylist()[0]
        order_rows = [OrderSummary(**r) for r in wh.arrow(q.recent).to_pylist()]
    return CustomerDetail(
        customer=CustomerRow(**found[0]),
        profile=profile_rows[0] if profile_rows else {},
        scores=score_rows[0] if score_rows else {},
        orders=order_rows,
        orders_total=int(totals["n"] or 0),
        revenue=Decimal(totals["revenue"] or 0),
    )


@dataclass(frozen=True)
class SegmentChoice:
    segment: str
    segment_zh: str | None
    segment_en: str | None


@lru_cache(maxsize=64)
def _segments_sql(scope: RowScope) -> str:
    sc = restrict(canonical("customer_scores"), scope)
    sc = sc.filter(sc.segment.notnull())
    distinct = sc.group_by("segment").aggregate(segment_zh=sc.segment_zh.max(), segment_en=sc.segment_en.max())
    return compiled(distinct.order_by("segment"))


def segment_choices(ws: Workspace, principal: Principal) -> list[SegmentChoice]:
    """The segments present among the principal's customers, for a filter menu."""
    principal.require("read")
    with reading(ws) as wh:
        return [SegmentChoice(**r) for r in wh.arrow(_segments_sql(principal.row_scope)).to_pylist()]
