"""The KPI system as Ibis expressions: one row per period and slice, growth, margins, customers, stock.

Everything is set-based so the same expression runs on DuckDB and Spark. Periods
carry a consecutive integer ``period_idx`` per frequency (months since year 0,
weeks since a Monday, fiscal quarters...), which turns "previous period" and
"same period last year" into arithmetic joins instead of calendar logic.

Definitions (the ones a finance team would check):

- revenue is net of returns (returns are negative lines); gross sales count positive lines only;
- an order counts when its lines in the period and slice sum to more than zero; AOV (客单价) is
  revenue / orders;
- a customer is active in a period when they placed such an order; new when their first ever
  order falls in the period; repeat when they placed two or more; churned when active in the
  previous period and not in this one (so churn rate is period-to-period);
- gross margin covers the lines whose cost is known (the line's cost, else the product's unit
  cost x quantity); ``cost_coverage`` says how much of revenue that is;
- discount rate = discount given / list value, where the line's ``discount`` is the fraction
  taken off the list price (0.2 = 20 % off);
- inventory turnover = cost of goods sold / mean stock value over the period's snapshots; days
  of inventory = days in the period / turnover; fill rate = received / ordered quantity on
  purchase lines whose receipt is recorded. Stock and purchases know products, not regions or
  salespeople, so these three are filled for the total, product and category slices only.

Fiscal quarters and years start in ``fiscal_start_month`` and are named by the calendar year
in which they start (FY2024 = April 2024 - March 2025 when the year starts in April); weeks
start on Monday and are labelled by ISO week (2024-W05).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir

from salescope.errors import InputError

Freq = Literal["day", "week", "month", "quarter", "year"]
FREQS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
# Slicing dimension -> the line column that carries it.
DIMENSIONS: dict[str, str] = {
    "region": "region",
    "province": "province",
    "channel": "channel",
    "salesperson": "salesperson",
    "category": "category",
    "product": "product_id",
    "segment": "segment",
}
STOCK_DIMENSIONS: tuple[str | None, ...] = (None, "product", "category")
NONE_LABEL = "(none)"
YOY_LAG: dict[str, int] = {"day": 364, "week": 52, "month": 12, "quarter": 4, "year": 1}
CostKnown = Literal["line", "line_or_product"]
KEYS = ["period_idx", "period", "period_start", "period_end", "dim", "slice"]
JOIN = ["period_idx", "dim", "slice"]
_FIRST_MONDAY = date(1970, 1, 5)


def check_freq(freq: str) -> None:
    if freq not in FREQS:
        raise InputError("unknown KPI frequency", column="freq", value=freq, expected=", ".join(FREQS))


def check_dim(by: str | None) -> None:
    if by is not None and by not in DIMENSIONS:
        raise InputError("unknown KPI dimension", column="by", value=by, expected=", ".join(DIMENSIONS))


def _as_date(v: ir.Value) -> ir.DateValue:
    return v.cast("date")


def assign_period(t: ir.Table, column: str, freq: str, fiscal_start_month: int = 1) -> ir.Table:
    """Add ``period_idx``, ``period``, ``period_start`` and ``period_end`` for the date in ``column``."""
    check_freq(freq)
    if not 1 <= fiscal_start_month <= 12:
        raise InputError("the fiscal year must start in a month 1-12", value=fiscal_start_month, expected="1..12")
    d = t[column]
    shift = ibis.interval(months=fiscal_start_month - 1)
    one_day = ibis.interval(days=1)
    if freq == "day":
        start = d
        idx = d.epoch_days()
        label = d.strftime("%Y-%m-%d")
        end = d
    elif freq == "week":
        start = _as_date(d.truncate("W"))
        idx = start.delta(ibis.date(_FIRST_MONDAY), unit="day") // 7
        # ISO week label built from parts (Spark has no week-based date patterns): the ISO year is that of
        # the week's Thursday.
        iso_year = _as_date(start + ibis.interval(days=3)).year()
        label = iso_year.cast("string") + "-W" + start.week_of_year().cast("string").lpad(2, "0")
        end = _as_date(start + ibis.interval(days=6))
    elif freq == "month":
        start = _as_date(d.truncate("M"))
        idx = d.year() * 12 + d.month() - 1
        label = d.strftime("%Y-%m")
        end = _as_date(_as_date(start + ibis.interval(months=1)) - one_day)
    else:
        shifted = _as_date(d - shift)
        fy = shifted.year()
        if freq == "quarter":
            q = shifted.quarter()
            idx = fy * 4 + q - 1
            start = _as_date(_as_date(shifted.truncate("Q")) + shift)
            label = fy.cast("string") + "-Q" + q.cast("string")
            end = _as_date(_as_date(start + ibis.interval(months=3)) - one_day)
        else:
            idx = fy
            start = _as_date(_as_date(shifted.truncate("Y")) + shift)
            label = fy.cast("string")
            end = _as_date(_as_date(start + ibis.interval(months=12)) - one_day)
    return t.mutate(period_idx=idx.cast("int64"), period=label, period_start=start, period_end=end)


def sales_lines(
    sales: ir.Table,
    *,
    products: ir.Table | None = None,
    customer_scores: ir.Table | None = None,
    cost_known: CostKnown = "line_or_product",
) -> ir.Table:
    """Order lines with category, segment, known line cost and list value attached."""
    t = sales
    if products is not None:
        p = products.select("product_id", p_category=products.category, p_unit_cost=products.unit_cost)
        t = t.left_join(p, t.product_id == p.product_id).drop("product_id_right")
        category = t.p_category
        unit_cost = t.p_unit_cost
    else:
        category = ibis.null("string")
        unit_cost = ibis.null("decimal(18,4)")
    if customer_scores is not None:
        cs = customer_scores.select(cs_customer_id=customer_scores.customer_id, cs_segment=customer_scores.segment)
        t = t.left_join(cs, t.customer_id == cs.cs_customer_id)
        segment = t.cs_segment
    else:
        segment = ibis.null("string")
    line_cost = t.cost if cost_known == "line" else ibis.coalesce(t.cost, unit_cost * t.quantity)
    disc = t.discount.cast("float64")
    valid_disc = disc.notnull() & (disc >= 0) & (disc < 1)
    list_amount = ibis.ifelse(valid_disc, t.amount.cast("float64") / (1 - disc), ibis.null("float64"))
    return t.select(
        "order_id",
        "order_date",
        "customer_id",
        "product_id",
        "quantity",
        "amount",
        "salesperson",
        "region",
        "province",
        "channel",
        category=category,
        segment=segment,
        line_cost=line_cost.cast("decimal(18,4)"),
        list_amount=list_amount,
    )


def _ratio(a: ir.NumericValue, b: ir.NumericValue) -> ir.FloatingValue:
    return a.cast("float64") / b.cast("float64").nullif(0.0)


def _growth(now: ir.NumericValue, before: ir.NumericValue) -> ir.FloatingValue:
    """Growth only against a positive base: a change from a net-returns period has no meaningful ratio."""
    b = before.cast("float64")
    return ibis.ifelse(b > 0, now.cast("float64") / b - 1.0, ibis.null("float64"))


def _attach(base: ir.Table, other: ir.Table, keys: list[str]) -> ir.Table:
    joined = base.left_join(other, keys)
    return joined.drop(*[f"{k}_right" for k in keys if f"{k}_right" in joined.columns])


Dims = str | None | tuple[str | None, ...] | list[str | None]


def _dims(by: Dims) -> list[str | None]:
    dims: list[str | None] = list(by) if isinstance(by, tuple | list) else [by]
    for d in dims:
        check_dim(d)
    return dims


def _slice(t: ir.Table, by: Dims) -> ir.Table:
    """One copy of each line per dimension, tagged with ``dim`` and ``slice``, so one query serves many slicings."""
    parts = []
    for d in _dims(by):
        if d is None:
            parts.append(t.mutate(dim=ibis.literal("total"), slice=ibis.literal("total")))
        else:
            col = t[DIMENSIONS[d]].cast("string")
            parts.append(t.mutate(dim=ibis.literal(d), slice=ibis.coalesce(col, ibis.literal(NONE_LABEL))))
    return parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]


def kpi_lines(
    sales: ir.Table,
    *,
    freq: str,
    by: Dims = None,
    fiscal_start_month: int = 1,
    products: ir.Table | None = None,
    customer_scores: ir.Table | None = None,
    cost_known: CostKnown = "line_or_product",
) -> ir.Table:
    """Stage one of :func:`kpi_table`: each line with its period, its slice per dimension, and the period of
    its customer's first order. Worth materialising when several KPI queries follow."""
    check_freq(freq)
    dims = _dims(by)
    lines = sales_lines(sales, products=products, customer_scores=customer_scores, cost_known=cost_known)
    buyers = lines.filter(lines.customer_id.notnull() & (lines.amount > 0))
    first = assign_period(
        buyers.group_by(f_customer_id=buyers.customer_id).aggregate(first_order=buyers.order_date.min()),
        "first_order",
        freq,
        fiscal_start_month,
    ).select("f_customer_id", first_idx="period_idx")
    lines = lines.left_join(first, lines.customer_id == first.f_customer_id).drop("f_customer_id")
    lines = _slice(assign_period(lines, "order_date", freq, fiscal_start_month), dims)
    return lines.select(
        *KEYS, "order_id", "customer_id", "product_id", "amount", "quantity", "line_cost", "list_amount", "first_idx"
    )


def kpi_table(
    sales: ir.Table,
    *,
    freq: str,
    by: Dims = None,
    fiscal_start_month: int = 1,
    products: ir.Table | None = None,
    customer_scores: ir.Table | None = None,
    inventory: ir.Table | None = None,
    purchases: ir.Table | None = None,
    cost_known: CostKnown = "line_or_product",
    start: date | None = None,
    end: date | None = None,
) -> ir.Table:
    """KPIs per period (and slice of ``by``), columns as the ``kpis`` warehouse table.

    ``by`` is one dimension, ``None`` for the total, or a sequence of them: one query
    then returns every slicing (the engine plans and scans once instead of per dimension).

    ``start``/``end`` limit the periods reported, not the history: a customer's first
    order and the previous period's revenue still come from before ``start``.
    """
    lines = kpi_lines(
        sales,
        freq=freq,
        by=by,
        fiscal_start_month=fiscal_start_month,
        products=products,
        customer_scores=customer_scores,
        cost_known=cost_known,
    )
    return kpis_from_lines(
        lines,
        freq=freq,
        by=by,
        fiscal_start_month=fiscal_start_month,
        products=products,
        inventory=inventory,
        purchases=purchases,
        start=start,
        end=end,
    )


def kpis_from_lines(
    lines: ir.Table,
    *,
    freq: str,
    by: Dims = None,
    fiscal_start_month: int = 1,
    products: ir.Table | None = None,
    inventory: ir.Table | None = None,
    purchases: ir.Table | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ir.Table:
    """Stage two of :func:`kpi_table`: the KPIs from :func:`kpi_lines` (a query or a table holding its rows)."""
    dims = _dims(by)
    pos = lines.amount > 0
    base = lines.group_by(KEYS).aggregate(
        revenue=lines.amount.sum(),
        gross_sales=lines.amount.sum(where=pos),
        returns=(-lines.amount).sum(where=lines.amount < 0),
        quantity=lines.quantity.sum(),
        cost=lines.line_cost.sum(),
        revenue_with_cost=lines.amount.sum(where=lines.line_cost.notnull()),
        list_value=lines.list_amount.sum(),
        discounted_revenue=lines.amount.cast("float64").sum(where=lines.list_amount.notnull()),
        revenue_identified=lines.amount.sum(where=lines.customer_id.notnull()),
    )

    orders = lines.group_by([*KEYS, "customer_id", "order_id"]).aggregate(
        net=lines.amount.sum(), first_idx=lines.first_idx.max()
    )
    order_counts = orders.group_by(JOIN).aggregate(orders=orders.order_id.count(where=orders.net > 0))
    placed = orders.filter((orders.net > 0) & orders.customer_id.notnull())
    cust = placed.group_by([*JOIN, "customer_id"]).aggregate(
        n_orders=placed.order_id.count(), first_idx=placed.first_idx.max()
    )
    customers = cust.group_by(JOIN).aggregate(
        customers_active=cust.customer_id.count(),
        customers_repeat=cust.customer_id.count(where=cust.n_orders >= 2),
        customers_new=cust.customer_id.count(where=cust.first_idx == cust.period_idx),
    )
    prev = cust.select("dim", "slice", "customer_id", period_idx=cust.period_idx + 1)
    here = cust.select("dim", "slice", "customer_id", "period_idx")
    gone = prev.anti_join(here, [*JOIN, "customer_id"])
    churned = gone.group_by(JOIN).aggregate(customers_churned=gone.customer_id.count())
    prev_active = prev.group_by(JOIN).aggregate(customers_prev=prev.customer_id.count())

    lag = YOY_LAG[freq]
    rev = base.select("dim", "slice", "period_idx", "revenue")
    rev_prev = rev.select("dim", "slice", period_idx=rev.period_idx + 1, revenue_prev=rev.revenue)
    rev_ly = rev.select("dim", "slice", period_idx=rev.period_idx + lag, revenue_last_year=rev.revenue)

    t = base
    for other in (order_counts, customers, churned, prev_active, rev_prev, rev_ly):
        t = _attach(t, other, JOIN)
    stock_cols: dict[str, ir.Value] = {
        "inventory_value": ibis.null("decimal(18,4)"),
        "fill_rate": ibis.null("float64"),
    }
    stock_dims = [d for d in dims if d in STOCK_DIMENSIONS]
    if stock_dims:
        if inventory is not None:
            stock = _inventory(inventory, products, freq, stock_dims, fiscal_start_month)
            t = _attach(t, stock, JOIN)
            stock_cols["inventory_value"] = t.inventory_value
        if purchases is not None:
            fill = _fill_rate(purchases, products, freq, stock_dims, fiscal_start_month)
            t = _attach(t, fill, JOIN)
            stock_cols["fill_rate"] = t.fill_rate
    zero = ibis.literal(0)
    active = ibis.coalesce(t.customers_active, zero)
    gross_profit = t.revenue_with_cost - t.cost
    days = (t.period_end.delta(t.period_start, unit="day") + 1).cast("float64")
    turnover = _ratio(t.cost, stock_cols["inventory_value"])
    out = t.select(
        freq=ibis.literal(freq),
        period=t.period,
        period_idx=t.period_idx,
        period_start=t.period_start,
        period_end=t.period_end,
        dim=t.dim,
        slice=t.slice,
        revenue=t.revenue,
        gross_sales=ibis.coalesce(t.gross_sales, zero.cast("decimal(18,4)")),
        returns=ibis.coalesce(t.returns, zero.cast("decimal(18,4)")),
        quantity=t.quantity,
        orders=ibis.coalesce(t.orders, zero),
        aov=_ratio(t.revenue, t.orders),
        cost=t.cost,
        revenue_with_cost=t.revenue_with_cost,
        gross_profit=gross_profit,
        gross_margin=_ratio(gross_profit, t.revenue_with_cost),
        cost_coverage=_ratio(t.revenue_with_cost, t.revenue),
        discount_rate=1.0 - _ratio(t.discounted_revenue, t.list_value),
        return_rate=_ratio(ibis.coalesce(t.returns, zero), t.gross_sales),
        customers_active=active,
        customers_new=ibis.coalesce(t.customers_new, zero),
        customers_repeat=ibis.coalesce(t.customers_repeat, zero),
        customers_churned=ibis.coalesce(t.customers_churned, zero),
        repurchase_rate=_ratio(t.customers_repeat, active),
        churn_rate=_ratio(ibis.coalesce(t.customers_churned, zero), t.customers_prev),
        revenue_per_customer=_ratio(t.revenue_identified, active),
        revenue_prev=t.revenue_prev,
        revenue_last_year=t.revenue_last_year,
        pop_growth=_growth(t.revenue, t.revenue_prev),
        yoy_growth=_growth(t.revenue, t.revenue_last_year),
        inventory_value=stock_cols["inventory_value"],
        inventory_turnover=turnover,
        inventory_days=days / turnover.nullif(0.0),
        fill_rate=stock_cols["fill_rate"],
    )
    if start is not None:
        out = out.filter(out.period_end >= start)
    if end is not None:
        out = out.filter(out.period_start <= end)
    return out.order_by(["dim", "slice", "period_idx"])


def _product_slice(t: ir.Table, products: ir.Table | None, dims: list[str | None]) -> ir.Table:
    if "category" in dims and products is not None:
        p = products.select(pp_id=products.product_id, pp_category=products.category)
        t = t.left_join(p, t.product_id == p.pp_id)
        category = t.pp_category
    else:
        category = ibis.null("string")
    return _slice(t.mutate(category=category), dims)


def _inventory(
    inventory: ir.Table, products: ir.Table | None, freq: str, dims: list[str | None], fiscal_start_month: int
) -> ir.Table:
    inv = inventory
    if products is not None:
        p = products.select(ip_id=products.product_id, ip_cost=products.unit_cost)
        inv = inv.left_join(p, inv.product_id == p.ip_id)
        value = ibis.coalesce(inv.value, inv.on_hand_qty * inv.ip_cost)
    else:
        value = inv.value
    inv = inv.mutate(stock_value=value)
    inv = _product_slice(assign_period(inv, "snapshot_date", freq, fiscal_start_month), products, dims)
    per_snapshot = inv.group_by([*JOIN, "snapshot_date"]).aggregate(v=inv.stock_value.sum())
    return per_snapshot.group_by(JOIN).aggregate(inventory_value=per_snapshot.v.mean().cast("decimal(18,4)"))


def _fill_rate(
    purchases: ir.Table, products: ir.Table | None, freq: str, dims: list[str | None], fiscal_start_month: int
) -> ir.Table:
    po = purchases.filter(purchases.received_qty.notnull() & (purchases.quantity > 0))
    po = _product_slice(assign_period(po, "order_date", freq, fiscal_start_month), products, dims)
    got = ibis.least(po.received_qty, po.quantity)
    return po.group_by(JOIN).aggregate(fill_rate=_ratio(got.sum(), po.quantity.sum()))


# -- period labels ------------------------------------------------------------------------------------------------
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(?:FY)?(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:FY)?(\d{4})$", re.IGNORECASE)
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


def _add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    return date(d.year + m // 12, m % 12 + 1, 1)


def period_bounds(label: str, fiscal_start_month: int = 1) -> tuple[date, date, str]:
    """First day, last day and frequency of a period label: 2024-03, 2024-Q1, 2024, 2024-W05, 2024-03-05,
    or an explicit range ``2024-03-01..2024-03-15``."""
    text = label.strip()
    try:
        if ".." in text:
            a, b = (date.fromisoformat(x.strip()) for x in text.split("..", 1))
            if b < a:
                raise InputError("the period range ends before it starts", value=label, expected="START..END")
            return a, b, "range"
        if m := _MONTH.match(text):
            first = date(int(m[1]), int(m[2]), 1)
            return first, _add_months(first, 1) - timedelta(days=1), "month"
        if m := _QUARTER.match(text):
            first = _add_months(date(int(m[1]), fiscal_start_month, 1), 3 * (int(m[2]) - 1))
            return first, _add_months(first, 3) - timedelta(days=1), "quarter"
        if m := _YEAR.match(text):
            first = date(int(m[1]), fiscal_start_month, 1)
            return first, _add_months(first, 12) - timedelta(days=1), "year"
        if m := _WEEK.match(text):
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return first, first + timedelta(days=6), "week"
        if _DAY.match(text):
            d = date.fromisoformat(text)
            return d, d, "day"
    except ValueError as exc:
        raise InputError("the period is not a valid date", value=label, expected="e.g. 2024-03 or 2024-Q1") from exc
    raise InputError(
        "the period is not understood",
        value=label,
        expected="YYYY-MM, YYYY-Qn, YYYY, YYYY-Www, YYYY-MM-DD or START..END",
    )


# -- targets --------------------------------------------------------------------------------------------------------
TARGET_METRICS: tuple[str, ...] = (
    "revenue",
    "gross_sales",
    "gross_profit",
    "gross_margin",
    "orders",
    "aov",
    "customers_active",
    "customers_new",
    "repurchase_rate",
    "return_rate",
    "quantity",
)


def target_progress(kpis: ir.Table, targets: ir.Table) -> ir.Table:
    """Each target beside its actual KPI: progress = actual / target, variance = actual - target.

    ``kpis`` holds the month, quarter and year rows (the ``kpis`` warehouse table does);
    a target's scope is ``total`` or ``dimension=value`` (``salesperson=王芳``).
    """
    long = kpis.pivot_longer(
        list(TARGET_METRICS),
        names_to="metric",
        values_to="actual",
        values_transform=lambda v: v.cast("float64"),
    ).select("freq", "period", "dim", "slice", "metric", "actual")
    has_dim = targets.scope.contains("=")
    eq = targets.scope.find("=")
    tg = targets.mutate(
        t_dim=ibis.ifelse(has_dim, targets.scope.substr(0, eq).strip(), ibis.literal("total")),
        t_slice=ibis.ifelse(has_dim, targets.scope.substr(eq + 1).strip(), ibis.literal("total")),
        t_freq=ibis.cases(
            (targets.period.re_search(r"^\d{4}-\d{1,2}$"), ibis.literal("month")),
            (targets.period.re_search(r"(?i)^(FY)?\d{4}-?Q[1-4]$"), ibis.literal("quarter")),
            else_=ibis.literal("year"),
        ),
    )
    joined = tg.left_join(
        long,
        [
            tg.t_freq == long.freq,
            tg.period == long.period,
            tg.t_dim == long.dim,
            tg.t_slice == long.slice,
            tg.metric == long.metric,
        ],
    )
    target = joined.value.cast("float64")
    return joined.select(
        period=joined.period,
        scope=joined.scope,
        metric=joined.metric,
        target=target,
        actual=joined.actual,
        progress=_ratio(joined.actual, target),
        variance=joined.actual - target,
    ).order_by(["period", "scope", "metric"])
