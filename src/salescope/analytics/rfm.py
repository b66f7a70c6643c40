"""RFM: recency, frequency, monetary per customer, quintile scores and the eight segments.

Conventions (pinned by tests):

* Only identified customers count (anonymous sales, ``customer_id`` NULL, are excluded), and
  only orders dated on or before ``as_of``; recency is ``as_of - last order`` in days, so an order
  on ``as_of`` itself has recency 0.
* Frequency is the number of distinct orders, a return (a negative order) included: it is an
  order the customer placed. Monetary is the net total (returns subtract); the average order
  value is monetary / frequency. When there is no ``order_id`` each (customer, date) is one order.
* Quintile scores follow SQL ``NTILE(5)``: with n customers the first ``n % 5`` buckets hold one
  more customer; ties are broken by ``customer_id`` so scores are reproducible. Score 5 is the
  most recent, most frequent, largest.
* "High" (the digit 1 in ``rfm_code``) depends on the threshold:
  ``mean`` — strictly better than the mean: recency < mean recency, frequency > mean frequency,
  monetary > mean monetary (a customer exactly at the mean is low; compared as
  ``x * n`` against ``sum(x)`` so the boundary is exact even when the mean is not representable);
  ``quintile`` — score >= 4 (the top two quintiles);
  ``fixed`` — "at least" values from :class:`RfmSettings`: recency <= fixed_recency_days,
  frequency >= fixed_frequency, monetary >= fixed_monetary.

Everything is an Ibis expression over the ``sales`` table (or its per-order / per-customer
aggregates), so the same code runs on DuckDB and on Spark.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salescope.analytics.segments import high_low_code, segment_columns
from salescope.errors import InputError
from salescope.settings import RfmSettings

THRESHOLDS: tuple[str, ...] = ("mean", "quintile", "fixed")
MONEY = dtypes.Decimal(18, 4)
EPOCH = dt.date(1970, 1, 1)

RFM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_order",
    "last_order",
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "segment",
    "segment_zh",
    "segment_en",
    "as_of",
)


def customer_orders(sales: ir.Table, *, as_of: dt.date | None = None) -> ir.Table:
    """One row per (customer_id, order_id) with the order's date and net amount.

    Grouping twice (order, then customer) rather than ``COUNT(DISTINCT order_id)`` per customer
    keeps the per-order rows, which the maintained ``order_facts`` table stores, so both paths
    share one definition; on DuckDB it measured no slower than the distinct count.
    """
    rows = sales.filter(sales.customer_id.notnull())
    if as_of is not None:
        rows = rows.filter(rows.order_date <= as_of)
    if "order_id" in sales.columns:
        return rows.group_by(["customer_id", "order_id"]).aggregate(
            order_date=rows.order_date.min(), amount=rows.amount.sum()
        )
    return rows.group_by(["customer_id", "order_date"]).aggregate(amount=rows.amount.sum())


def customer_summary(orders: ir.Table) -> ir.Table:
    """Per customer: first and last order date, number of orders and net total, from per-order rows."""
    return orders.group_by("customer_id").aggregate(
        first_order=orders.order_date.min(),
        last_order=orders.order_date.max(),
        frequency=orders.count(),
        monetary=orders.amount.sum().cast(MONEY),
    )


def _check_threshold(threshold: str) -> None:
    if threshold not in THRESHOLDS:
        raise InputError("Unknown RFM threshold", column="threshold", value=threshold, expected=" | ".join(THRESHOLDS))


def score_customers(
    summary: ir.Table,
    *,
    as_of: dt.date | str,
    threshold: str = "mean",
    fixed: RfmSettings | None = None,
) -> ir.Table:
    """Scores, code and segment for a per-customer summary.

    ``as_of`` is a date, or the name of a date column in ``summary`` holding one date per
    snapshot; scores and means are then computed within each snapshot, which is how the
    monthly segment history is built in one pass.
    """
    _check_threshold(threshold)
    by: list[str] = [as_of] if isinstance(as_of, str) else []
    # The windows run first on the five summary columns only: every window sorts its whole
    # input, so derived columns are added after them (this halves the cost at 300k customers).
    t = summary.select(
        "customer_id",
        *by,
        first_order=summary.first_order,
        last_order=summary.last_order,
        frequency=summary.frequency.cast("int64"),
        monetary=summary.monetary.cast(MONEY),
    )

    def window(*order: Any) -> Any:
        return ibis.window(group_by=by or None, order_by=[*order, t.customer_id])

    whole = ibis.window(group_by=by or None)
    last_day = t.last_order.delta(EPOCH, unit="day")
    t = t.mutate(
        # most recent = latest last order: recency descending is last_order ascending
        r_score=(ibis.ntile(5).over(window(t.last_order)) + 1).cast("int64"),
        f_score=(ibis.ntile(5).over(window(t.frequency)) + 1).cast("int64"),
        m_score=(ibis.ntile(5).over(window(t.monetary)) + 1).cast("int64"),
        _n=t.count().over(whole),
        _last_sum=last_day.sum().over(whole),
        _f_sum=t.frequency.sum().over(whole),
        _m_sum=t.monetary.sum().over(whole),
    )
    as_of_value: ir.DateValue = t[as_of] if isinstance(as_of, str) else ibis.literal(as_of, type="date")
    recency = as_of_value.delta(t.last_order, unit="day")
    if threshold == "mean":
        # recency < mean recency  <=>  last order after the mean last order (same as_of for all)
        r_high = t.last_order.delta(EPOCH, unit="day") * t._n > t._last_sum
        f_high = t.frequency * t._n > t._f_sum
        m_high = t.monetary * t._n > t._m_sum
    elif threshold == "quintile":
        r_high, f_high, m_high = t.r_score >= 4, t.f_score >= 4, t.m_score >= 4
    else:
        f = fixed or RfmSettings()
        r_high = recency <= f.fixed_recency_days
        f_high = t.frequency >= f.fixed_frequency
        m_high = t.monetary >= f.fixed_monetary
    # One projection after the windows (each extra layer costs Ibis compile time, not DuckDB time).
    code = high_low_code(r_high, f_high, m_high)
    return t.select(
        customer_id=t.customer_id,
        first_order=t.first_order,
        last_order=t.last_order,
        recency_days=recency,
        frequency=t.frequency,
        monetary=t.monetary,
        avg_order_value=(t.monetary / t.frequency).cast(MONEY),
        r_score=t.r_score,
        f_score=t.f_score,
        m_score=t.m_score,
        rfm_code=code,
        **segment_columns(code),
        as_of=as_of_value,
    )


def rfm_table(
    sales: ir.Table,
    *,
    as_of: dt.date,
    threshold: str = "mean",
    fixed: RfmSettings | None = None,
) -> ir.Table:
    """RFM and segment per customer from order lines (see the module notes for the conventions)."""
    summary = customer_summary(customer_orders(sales, as_of=as_of))
    return score_customers(summary, as_of=as_of, threshold=threshold, fixed=fixed)


def default_as_of(last_order_date: dt.date | None) -> dt.date:
    """The day after the last order, so data ending in the past still has meaningful recency."""
    if last_order_date is None:
        return dt.date.today()
    return last_order_date + dt.timedelta(days=1)


_REQUIRED: tuple[str, ...] = ("customer_id", "order_date", "amount")


def rfm(
    df: pd.DataFrame,
    as_of: dt.date | dt.datetime | str | None = None,
    *,
    threshold: str = "mean",
    fixed: RfmSettings | None = None,
) -> pd.DataFrame:
    """RFM for a DataFrame of order lines (the notebook API ``ss.rfm``).

    ``df`` has ``customer_id``, ``order_date`` and ``amount`` (``order_id`` optional); rows
    without a customer are ignored. Money comes back as float (computed exactly first).
    """
    from salescope.engine.aggregates import frame_table
    from salescope.engine.warehouse import memory_backend

    _check_threshold(threshold)
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            "The DataFrame lacks a column RFM needs",
            column=missing[0],
            expected="columns customer_id, order_date, amount (order_id optional)",
        )
    lines = _lines_arrow(df)
    when = _as_date(as_of) if as_of is not None else None
    if when is None and pa.types.is_date32(lines.schema.field("order_date").type):
        when = default_as_of(pc.max(lines["order_date"]).as_py())
    backend = memory_backend()
    try:
        sales = _order_lines(frame_table(backend, lines))
        if when is None:
            when = default_as_of(backend.to_pyarrow(sales.order_date.max()).as_py())
        expr = rfm_table(sales, as_of=when, threshold=threshold, fixed=fixed)
        out = backend.to_pyarrow(expr.order_by("customer_id")).to_pandas()
    finally:
        backend.disconnect()
    for col in ("monetary", "avg_order_value"):
        out[col] = out[col].astype("float64")
    return out


def _lines_arrow(df: pd.DataFrame) -> pa.Table:
    """The frame's RFM columns as Arrow, with plain timestamps cut to dates here (cheaper than in SQL)."""
    table = pa.Table.from_pandas(df[[c for c in (*_REQUIRED, "order_id") if c in df.columns]], preserve_index=False)
    when = table.schema.field("order_date").type
    if pa.types.is_timestamp(when) and when.tz is None:
        table = table.set_column(
            table.schema.get_field_index("order_date"), "order_date", pc.cast(table["order_date"], pa.date32())
        )
    return table


def _order_lines(raw: ir.Table) -> ir.Table:
    """Coerce a notebook frame to the canonical column types (text ids, dates, exact money)."""
    cols: dict[str, ir.Value] = {
        "customer_id": raw.customer_id.cast("string"),
        "order_date": raw.order_date.cast("date"),
        "amount": raw.amount.cast(MONEY),
    }
    if "order_id" in raw.columns:
        cols["order_id"] = raw.order_id.cast("string")
    return raw.select(**cols)


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError("as_of is not a date", column="as_of", value=value, expected="YYYY-MM-DD") from exc
