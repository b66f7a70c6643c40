"""Purchase orders and month-end stock, driven by what the demo actually sold.

Buyers review stock at the start of each month and order up to a few months' cover from each
product's supplier. Suppliers differ in punctuality and quality, so deliveries arrive late or
with rejected units at supplier-specific rates — the signal a supplier scorecard must find.
Stock runs down with the month's sales and up with accepted deliveries; when a supplier is late
it can hit zero, as it does in real warehouses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from salescope.demo.catalog import Catalog, Suppliers
from salescope.demo.orders import PRICE_RISE

WAREHOUSES = ("华东总仓", "华南分仓")
SOUTH_SHARE = 0.3
"""Share of stock of the best sellers kept in the southern warehouse."""


@dataclass(frozen=True)
class PurchaseLines:
    po_number: np.ndarray
    """Running PO number; formatted with the order month into 采购单号."""
    line_no: np.ndarray
    order_day: np.ndarray
    promised_day: np.ndarray
    received_day: np.ndarray
    """-1 while still in transit at the end of the period."""
    supplier: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    price_cents: np.ndarray
    received_qty: np.ndarray
    rejected_qty: np.ndarray


@dataclass(frozen=True)
class StockSnapshots:
    day: np.ndarray
    product: np.ndarray
    warehouse: np.ndarray
    quantity: np.ndarray
    value_cents: np.ndarray


def simulate(
    rng: np.random.Generator,
    catalog: Catalog,
    suppliers: Suppliers,
    units: np.ndarray,
    months: list[tuple[int, int]],
    start: dt.date,
) -> tuple[PurchaseLines, StockSnapshots]:
    n_products, n_months = units.shape
    days = months[-1][1]
    demand = np.maximum(units, 0).astype(np.float64)
    supplier = catalog.supplier
    lead = suppliers.lead_days[supplier]
    # Best sellers are reviewed every month; slow movers are bought for longer cover, less often.
    rank = np.argsort(np.argsort(-demand.sum(axis=1)))
    fast = rank < max(1, n_products // 3)
    cover = np.where(fast, 1.5, 3.0)
    # Accepted units arriving per month, and ordered units whose PO closes that month.
    arrivals = np.zeros((n_products, n_months))
    closing = np.zeros((n_products, n_months))
    on_order = np.zeros(n_products)
    on_hand = np.ceil(demand[:, 0] * (1 + cover))
    year0 = start.year
    records: list[tuple[np.ndarray, ...]] = []
    snap_qty = np.zeros((n_products, n_months), dtype=np.int64)

    for k, (lo, hi) in enumerate(months):
        forecast = demand[:, max(0, k - 3) : k].mean(axis=1) if k else demand[:, 0]
        position = on_hand + on_order
        reorder_point = forecast * (lead / 30 + 0.5)
        target = forecast * (lead / 30 + 0.5 + cover)
        need = (position <= reorder_point) & (forecast > 0)
        qty = np.where(need, np.ceil(np.maximum(target - position, 0)), 0).astype(np.int64)
        qty = np.where(catalog.price_cents[np.arange(n_products)] < 10_000, (qty + 9) // 10 * 10, qty)
        idx = np.flatnonzero(qty > 0)
        if len(idx):
            sup = supplier[idx]
            # One PO per supplier per month: a single order date, promise and delivery for its lines.
            uniq, po_of_line = np.unique(sup, return_inverse=True)
            order_day = np.minimum(lo + rng.integers(0, 6, len(uniq)), hi - 1)
            promised = order_day + suppliers.lead_days[uniq]
            late = rng.random(len(uniq)) > suppliers.on_time[uniq]
            delay = np.where(
                late,
                np.ceil(rng.exponential(suppliers.late_days[uniq])).astype(np.int64) + 1,
                -rng.integers(0, 4, len(uniq)),
            )
            received = promised + delay
            q = qty[idx]
            partial = rng.random(len(idx)) < 0.05
            got = np.where(partial, np.floor(q * rng.uniform(0.8, 0.95, len(idx))), q).astype(np.int64)
            rejected = rng.binomial(got, suppliers.defect_rate[supplier[idx]])
            arrived = received[po_of_line] < days
            got = np.where(arrived, got, 0)
            rejected = np.where(arrived, rejected, 0)
            rise = (1 + PRICE_RISE) ** ((start + dt.timedelta(days=int(lo))).year - year0)
            price = np.round(catalog.cost_cents[idx] * suppliers.price_factor[sup] * rise).astype(np.int64)
            arrival_month = np.searchsorted([m[0] for m in months], received[po_of_line], side="right") - 1
            np.add.at(arrivals, (idx, arrival_month), (got - rejected) * arrived)
            np.add.at(closing, (idx, arrival_month), q * arrived)
            on_order[idx] += q
            records.append(
                (
                    k * 1000 + po_of_line,
                    order_day[po_of_line],
                    promised[po_of_line],
                    np.where(arrived, received[po_of_line], -1),
                    sup,
                    idx,
                    q,
                    price,
                    np.where(arrived, got, -1),
                    np.where(arrived, rejected, -1),
                )
            )
        on_order = np.maximum(on_order - closing[:, k], 0)
        on_hand = np.maximum(on_hand + arrivals[:, k] - demand[:, k], 0)
        snap_qty[:, k] = on_hand.astype(np.int64)

    cols = [np.concatenate(c) for c in zip(*records, strict=True)]
    po_key, order_day, promised, received, sup, product, qty, price, got, rejected = cols
    order = np.lexsort((product, po_key))
    po_key, order_day, promised, received, sup, product, qty, price, got, rejected = (
        c[order] for c in (po_key, order_day, promised, received, sup, product, qty, price, got, rejected)
    )
    first = np.concatenate([[True], po_key[1:] != po_key[:-1]])
    po_number = np.cumsum(first)
    start_of_po = np.maximum.accumulate(np.where(first, np.arange(len(po_key)), 0))
    purchases = PurchaseLines(
        po_number=po_number,
        line_no=np.arange(len(po_key)) - start_of_po + 1,
        order_day=order_day,
        promised_day=promised,
        received_day=received,
        supplier=sup,
        product=product,
        quantity=qty,
        price_cents=price,
        received_qty=got,
        rejected_qty=rejected,
    )
    return purchases, _snapshots(catalog, snap_qty, months, start, fast)


def _snapshots(
    catalog: Catalog, qty: np.ndarray, months: list[tuple[int, int]], start: dt.date, fast: np.ndarray
) -> StockSnapshots:
    n_months = qty.shape[1]
    month_end = np.asarray([hi - 1 for _, hi in months])
    south = np.floor(qty * SOUTH_SHARE).astype(np.int64) * fast[:, None]
    parts = [(0, qty - south, np.ones_like(fast)), (1, south, fast)]
    days, products, warehouses, quantities, values = [], [], [], [], []
    for k in range(n_months):
        rise = (1 + PRICE_RISE) ** ((start + dt.timedelta(days=int(month_end[k]))).year - start.year)
        for w, q, present in parts:
            idx = np.flatnonzero(present)
            days.append(np.full(len(idx), month_end[k]))
            products.append(idx)
            warehouses.append(np.full(len(idx), w))
            quantities.append(q[idx, k])
            values.append(np.round(q[idx, k] * catalog.cost_cents[idx] * rise).astype(np.int64))
    return StockSnapshots(
        day=np.concatenate(days),
        product=np.concatenate(products),
        warehouse=np.concatenate(warehouses),
        quantity=np.concatenate(quantities),
        value_cents=np.concatenate(values),
    )
