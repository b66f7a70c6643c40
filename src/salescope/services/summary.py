"""What is in a workspace at a glance: row counts, revenue, customers, segments.

Used by the demo's closing summary, `salescope report` and health checks; reads
only canonical and materialised tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from salescope.schema.tables import DATA_TABLES
from salescope.services.workspace import Workspace


def table_counts(ws: Workspace) -> dict[str, int]:
    wh = ws.warehouse
    return {t.name: int(wh.to_arrow(wh.table(t.name).count().as_table()).column(0)[0].as_py()) for t in DATA_TABLES}


def summary(ws: Workspace) -> dict[str, Any]:
    """Headline figures; revenue includes anonymous sales, customer counts exclude them."""
    wh = ws.warehouse
    sales = wh.table("sales")
    agg = sales.aggregate(
        revenue=sales.amount.sum(),
        lines=sales.count(),
        customers=sales.customer_id.nunique(),
        first_date=sales.order_date.min(),
        last_date=sales.order_date.max(),
    )
    row = wh.to_arrow(agg).to_pylist()[0]
    # An order counts when its net amount is positive (a return-only order is not a sale), as on the
    # overview page, so the two show the same order count and average order value.
    per_order = sales.group_by("order_id").aggregate(net=sales.amount.sum())
    row["orders"] = wh.to_arrow(per_order.filter(per_order.net > 0).count().as_table()).column(0)[0].as_py()
    scores = wh.table("customer_scores")
    seg = scores.group_by(["segment", "segment_zh", "segment_en"]).aggregate(
        customers=scores.count(), revenue=scores.monetary.sum()
    )
    segments = sorted(wh.to_arrow(seg).to_pylist(), key=lambda r: -int(r["customers"]))
    return {
        "revenue": row["revenue"] if row["revenue"] is not None else Decimal(0),
        "order_lines": int(row["lines"] or 0),
        "orders": int(row["orders"] or 0),
        "customers": int(row["customers"] or 0),
        "first_date": row["first_date"],
        "last_date": row["last_date"],
        "segments": segments,
        "tables": table_counts(ws),
    }
