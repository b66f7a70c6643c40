"""Segment migration: monthly RFM snapshots, transitions between two dates, and Sankey flows.

A snapshot is the RFM segment each customer had at a date, computed from the orders up to
that date alone (no look-ahead), with the thresholds of that date's population. All snapshots
come from one pass: each customer's purchase days carry running totals, and a range join puts
the latest purchase day on or before each snapshot date against it.

Snapshot dates are the month ends from the month of the first order to the month of the day
before ``as_of``; the last one is ``as_of`` itself when that month has not ended, so the final
snapshot is the current state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from salescope.analytics.rfm import score_customers
from salescope.analytics.segments import SEGMENT_KEYS, segment_label
from salescope.errors import InputError
from salescope.settings import RfmSettings

NEW = "new"
FAR_FUTURE = dt.date(9999, 12, 31)
HISTORY_COLUMNS: tuple[str, ...] = ("snapshot_date", "customer_id", "segment", "rfm_code")


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def monthly_snapshots(first: dt.date | None, as_of: dt.date) -> list[dt.date]:
    """Month ends from ``first``'s month through the month of ``as_of - 1 day``, capped at ``as_of``."""
    if first is None:
        return []
    last_day = as_of - dt.timedelta(days=1)
    out: list[dt.date] = []
    month_end = _month_end(first)
    while month_end.replace(day=1) <= last_day:
        out.append(min(month_end, as_of))
        month_end = _month_end(month_end + dt.timedelta(days=1))
    return out


def purchase_days(orders: ir.Table) -> ir.Table:
    """One row per customer and day with orders: orders that day and their net amount."""
    return orders.group_by(["customer_id", "order_date"]).aggregate(orders=orders.count(), amount=orders.amount.sum())


def with_next_day(days: ir.Table) -> ir.Table:
    """Add ``next_day``: the customer's following purchase day, far in the future for the last one."""
    w = ibis.window(group_by="customer_id", order_by="order_date")
    return days.mutate(next_day=days.order_date.lead().over(w).fill_null(ibis.literal(FAR_FUTURE)))


def at_snapshots(timeline: ir.Table, snapshots: ir.Table) -> ir.Table:
    """Each snapshot date against each customer's latest purchase day on or before it.

    ``timeline`` has ``order_date`` and ``next_day``; a row is the customer's state from its
    date until the next purchase, so the join keeps exactly one row per (customer, snapshot)
    for snapshots on or after the first purchase.
    """
    return timeline.join(
        snapshots,
        [timeline.order_date <= snapshots.snapshot_date, snapshots.snapshot_date < timeline.next_day],
    )


def segment_history(
    orders: ir.Table,
    snapshots: ir.Table,
    *,
    threshold: str = "mean",
    fixed: RfmSettings | None = None,
) -> ir.Table:
    """The RFM segment of every customer at every snapshot date (``snapshot_date`` column of ``snapshots``).

    ``orders`` are per-order rows (``customer_id``, ``order_date``, ``amount``) of identified customers.
    """
    days = purchase_days(orders)
    cumulative = ibis.window(group_by="customer_id", order_by="order_date", rows=(None, 0))
    timeline = with_next_day(
        days.mutate(
            first_order=days.order_date.min().over(ibis.window(group_by="customer_id")),
            frequency=days.orders.sum().over(cumulative),
            monetary=days.amount.sum().over(cumulative),
        )
    )
    states = at_snapshots(timeline, snapshots).select(
        "customer_id",
        "first_order",
        "frequency",
        "monetary",
        last_order="order_date",
        snapshot_date="snapshot_date",
    )
    scored = score_customers(states, as_of="snapshot_date", threshold=threshold, fixed=fixed)
    return scored.select(snapshot_date="as_of", customer_id="customer_id", segment="segment", rfm_code="rfm_code")


def check_dates(from_date: dt.date, to_date: dt.date) -> None:
    if from_date > to_date:
        raise InputError(
            "The migration's start date is after its end date",
            column="from_date",
            value=from_date.isoformat(),
            expected=f"a date on or before {to_date.isoformat()}",
        )


def transition_matrix(history: ir.Table, from_date: dt.date, to_date: dt.date) -> ir.Table:
    """Customers moving from each segment at ``from_date`` to each segment at ``to_date``.

    Both dates must be snapshot dates present in ``history``. Customers who had not bought yet
    at ``from_date`` come from the pseudo-segment ``"new"``.
    """
    check_dates(from_date, to_date)
    start = history.filter(history.snapshot_date == from_date).select("customer_id", from_segment="segment")
    end = history.filter(history.snapshot_date == to_date).select(to_customer="customer_id", to_segment="segment")
    pairs = end.left_join(start, end.to_customer == start.customer_id)
    pairs = pairs.mutate(from_segment=pairs.from_segment.fill_null(NEW))
    return pairs.group_by(["from_segment", "to_segment"]).aggregate(customers=pairs.count())


def _order(key: str) -> int:
    return SEGMENT_KEYS.index(key) if key in SEGMENT_KEYS else len(SEGMENT_KEYS)


def sankey(
    rows: Iterable[Mapping[str, Any]],
    *,
    from_label: str,
    to_label: str,
    locale: str = "zh-CN",
) -> dict[str, list[dict[str, Any]]]:
    """Sankey nodes and links for a transition matrix (ECharts ``series.sankey`` data).

    Node names must be unique across both sides (a segment appears on the left and on the
    right, and a Sankey cannot have cycles), so each name carries its side's label; ``label``
    is the bare segment name to display.
    """
    items = [(str(r["from_segment"]), str(r["to_segment"]), int(r["customers"])) for r in rows]
    froms = sorted({f for f, _, _ in items}, key=_order)
    tos = sorted({t for _, t, _ in items}, key=_order)

    def node(key: str, side: str, side_label: str) -> dict[str, Any]:
        label = _label(key, locale)
        return {"name": f"{label} ({side_label})", "segment": key, "side": side, "label": label}

    nodes = [node(k, "from", from_label) for k in froms] + [node(k, "to", to_label) for k in tos]
    links = [
        {
            "source": f"{_label(f, locale)} ({from_label})",
            "target": f"{_label(t, locale)} ({to_label})",
            "value": n,
        }
        for f, t, n in sorted(items, key=lambda i: (_order(i[0]), _order(i[1])))
        if n > 0
    ]
    return {"nodes": nodes, "links": links}


def _label(key: str, locale: str) -> str:
    if key == NEW:
        return "新客户" if locale.lower().startswith("zh") else "New customers"
    return segment_label(key, locale)
