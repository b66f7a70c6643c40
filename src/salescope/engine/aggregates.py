"""Sales aggregates that make customer analytics fast, and in-memory tables for DataFrame APIs.

RFM over order lines spends its time hashing text ids to group lines into orders and
orders into customers (the distinct-order count). Two tables kept beside ``sales`` take that
work out of every analysis: ``order_facts`` (one row per (customer, order): date, net amount,
lines) and ``customer_facts`` (one row per identified customer: first and last order, orders,
net total). Their semantics are exactly those of ``analytics.rfm.customer_orders`` and
``customer_summary``, so reading them gives the same RFM as grouping the lines.

They are refreshed per import batch (:func:`refresh`, merging the batch into the tables) and
checked before each analysis (:func:`ensure_fresh`): a fingerprint of ``sales`` (row count,
amount total, a sum of customer-id hashes, date range) is stored with them, and any change
the aggregates were not told about — an undone batch, merged customers, a forgotten refresh —
triggers a full rebuild. A forgotten refresh therefore costs time, never correctness.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends.duckdb import Backend as DuckDBBackend

if TYPE_CHECKING:
    from salescope.engine.warehouse import Warehouse

STATE_NAME = "sales"

_ORDER_FACTS = """
SELECT customer_id, order_id, min(order_date) AS order_date, sum(amount) AS amount, count(*) AS lines
FROM sales {where}
GROUP BY customer_id, order_id
"""

_CUSTOMER_FACTS = """
SELECT customer_id, min(order_date) AS first_order, max(order_date) AS last_order,
       count(*) AS frequency, sum(amount) AS monetary
FROM order_facts
WHERE customer_id IS NOT NULL {and_where}
GROUP BY customer_id
"""

# One scan gives the fingerprint of all rows and of the rows outside one batch; hashing the
# customer ids is what notices merged customers, whose counts and totals do not change.
_FINGERPRINT = ("count(*)", "sum(amount)", "sum(hash(customer_id))", "min(order_date)", "max(order_date)")


@dataclass(frozen=True)
class SalesState:
    """What :func:`ensure_fresh` found: whether it rebuilt, and the date ranges analyses start from."""

    rebuilt: bool
    last_sale: date | None
    first_order: date | None
    last_order: date | None


def _fingerprints(wh: Warehouse, exclude_batch: str | None = None) -> tuple[tuple[object, ...], str | None]:
    """The fingerprint values of all of ``sales`` and, given a batch, the text fingerprint without it."""
    columns = list(_FINGERPRINT)
    params: list[object] = []
    if exclude_batch is not None:
        columns += [f"{c} FILTER (WHERE batch_id <> ?)" for c in _FINGERPRINT]
        params = [exclude_batch] * len(_FINGERPRINT)
    row = wh.rows(f"SELECT {', '.join(columns)} FROM sales", params)[0]
    n = len(_FINGERPRINT)
    return tuple(row[:n]), (_text(row[n:]) if exclude_batch is not None else None)


def _text(values: tuple[object, ...]) -> str:
    return "|".join(map(str, values))


def _stored(wh: Warehouse) -> str | None:
    value = wh.scalar("SELECT fingerprint FROM aggregate_state WHERE name = ?", [STATE_NAME])
    return None if value is None else str(value)


def _store(wh: Warehouse, fingerprint: str) -> None:
    wh.execute("DELETE FROM aggregate_state WHERE name = ?", [STATE_NAME])
    wh.execute(
        "INSERT INTO aggregate_state (name, fingerprint, refreshed_at) VALUES (?, ?, current_timestamp)",
        [STATE_NAME, fingerprint],
    )


def rebuild(wh: Warehouse) -> None:
    """Recompute both aggregate tables from ``sales`` (opens no transaction: callers decide)."""
    wh.execute("DELETE FROM order_facts")
    wh.execute(f"INSERT INTO order_facts {_ORDER_FACTS.format(where='')}")
    wh.execute("DELETE FROM customer_facts")
    wh.execute(f"INSERT INTO customer_facts {_CUSTOMER_FACTS.format(and_where='')}")
    _store(wh, _text(_fingerprints(wh)[0]))


def refresh(wh: Warehouse, batch_id: str | None = None) -> None:
    """Bring the aggregates up to date after an import batch was loaded into ``sales``.

    The importer calls it in the transaction that loads the batch, so the batch and its
    aggregates commit together. Without ``batch_id`` (or when the aggregates were already
    stale before this batch) everything is rebuilt.
    """
    if batch_id is None:
        rebuild(wh)
        return
    everything, outside = _fingerprints(wh, exclude_batch=batch_id)
    if outside != _stored(wh):
        rebuild(wh)
        return
    wh.execute(
        "CREATE OR REPLACE TEMP TABLE _batch_orders AS " + _ORDER_FACTS.format(where="WHERE batch_id = ?"),
        [batch_id],
    )
    # Lines of an order already known (a later file adding lines to it) merge into its row.
    wh.execute(
        """CREATE OR REPLACE TEMP TABLE _merged_orders AS
        SELECT b.customer_id, b.order_id,
               CASE WHEN o.order_date IS NULL OR b.order_date < o.order_date THEN b.order_date
                    ELSE o.order_date END AS order_date,
               b.amount + coalesce(o.amount, 0) AS amount,
               b.lines + coalesce(o.lines, 0) AS lines
        FROM _batch_orders b
        LEFT JOIN order_facts o ON o.order_id = b.order_id AND o.customer_id IS NOT DISTINCT FROM b.customer_id"""
    )
    wh.execute(
        """DELETE FROM order_facts o USING _batch_orders b
        WHERE o.order_id = b.order_id AND o.customer_id IS NOT DISTINCT FROM b.customer_id"""
    )
    wh.execute("INSERT INTO order_facts SELECT customer_id, order_id, order_date, amount, lines FROM _merged_orders")
    wh.execute(
        """CREATE OR REPLACE TEMP TABLE _batch_customers AS
        SELECT DISTINCT customer_id FROM _batch_orders WHERE customer_id IS NOT NULL"""
    )
    wh.execute("DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM _batch_customers)")
    wh.execute(
        "INSERT INTO customer_facts "
        + _CUSTOMER_FACTS.format(and_where="AND customer_id IN (SELECT customer_id FROM _batch_customers)")
    )
    for temp in ("_batch_orders", "_merged_orders", "_batch_customers"):
        wh.execute(f"DROP TABLE IF EXISTS {temp}")
    _store(wh, _text(everything))


def ensure_fresh(wh: Warehouse) -> SalesState:
    """Rebuild the aggregates if ``sales`` changed behind their back; one scan when they are current."""
    current = _fingerprints(wh)[0]
    rebuilt = _text(current) != _stored(wh)
    if rebuilt:
        with wh.transaction():
            rebuild(wh)
    first, last = wh.rows("SELECT min(first_order), max(last_order) FROM customer_facts")[0]
    last_sale = current[-1]
    return SalesState(rebuilt, last_sale if isinstance(last_sale, date) else None, first, last)


_frame_ids = itertools.count()


@contextmanager
def temporary(wh: Warehouse, expr: ir.Table) -> Iterator[ir.Table]:
    """Compute an intermediate result once, as a temporary table, for several expressions to read."""
    name = f"_tmp_{next(_frame_ids)}_{os.getpid()}"
    wh.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {ibis.to_sql(expr, dialect='duckdb')}")
    try:
        yield wh.table(name)
    finally:
        wh.execute(f"DROP TABLE IF EXISTS {name}")


def frame_table(backend: DuckDBBackend, df: pd.DataFrame | pa.Table) -> ir.Table:
    """Expose a DataFrame to an in-memory backend as an Ibis table (zero-copy through Arrow)."""
    data = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    name = f"_frame_{next(_frame_ids)}"
    backend.con.register(name, data)
    return backend.table(name)
