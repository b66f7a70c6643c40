"""KPIs, targets, "why did revenue change" and anomalies for pages, the API and ``analyze``.

Pages read the ``kpis`` table that ``analyze`` materialises. A sales user sees KPIs
of their own customers only, which no precomputed table holds, so for them (and for
any frequency or slice not materialised) the same expression runs live over the
sales lines they may see. Stock turnover and fill rate describe the whole company's
stock, so a restricted user does not get them.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from salescope.analytics.anomalies import detect_all
from salescope.analytics.kpis import (
    DIMENSIONS,
    Dims,
    check_dim,
    check_freq,
    kpi_lines,
    kpi_table,
    kpis_from_lines,
    period_bounds,
    sales_lines,
    target_progress,
)
from salescope.analytics.trends import CONTRIBUTION_DIMS, calendar_effects, lmdi_drivers, seasonality
from salescope.analytics.trends import contribution as contribution_expr
from salescope.errors import InputError
from salescope.schema.tables import KPIS
from salescope.services.access import Principal, reading, restrict

if TYPE_CHECKING:
    from salescope.engine.warehouse import Warehouse
    from salescope.services.workspace import Workspace

# What analyze materialises: (freq, dimensions). Day and week rows feed anomaly detection; products by
# week would be the largest table of all for little use, so products start at months.
MATERIALISED: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("day", (None,)),
    ("week", (None, "region", "channel", "category", "salesperson", "segment")),
    ("month", (None, *DIMENSIONS)),
    ("quarter", (None, *DIMENSIONS)),
    ("year", (None, *DIMENSIONS)),
)
ANOMALY_SOURCES: tuple[tuple[str, str], ...] = (
    ("day", "total"),
    ("week", "total"),
    ("week", "region"),
    ("week", "channel"),
    ("week", "category"),
)


def _json(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, date):
        return v.isoformat()
    return v


def _has_rows(wh: Warehouse, table: str) -> bool:
    return bool(wh.scalar(f'SELECT count(*) > 0 FROM (SELECT 1 FROM "{table}" LIMIT 1)'))


def _sales(wh: Warehouse, principal: Principal | None) -> ir.Table:
    sales = wh.table("sales")
    return sales if principal is None else restrict(sales, principal, wh.backend)


def _sources(wh: Warehouse, principal: Principal | None) -> dict[str, ir.Table | None]:
    restricted = principal is not None and not principal.sees_all_rows
    return {
        "products": wh.table("products"),
        "customer_scores": wh.table("customer_scores") if _has_rows(wh, "customer_scores") else None,
        "inventory": None if restricted else wh.table("inventory"),
        "purchases": None if restricted else wh.table("purchases"),
    }


def _kpi_expr(
    wh: Warehouse,
    principal: Principal | None,
    *,
    freq: str,
    by: Dims,
    fiscal_start_month: int,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
) -> ir.Table:
    src = _sources(wh, principal)
    sales = _sales(wh, principal)
    if as_of is not None:
        sales = sales.filter(sales.order_date <= as_of)
    return kpi_table(
        sales,
        freq=freq,
        by=by,
        fiscal_start_month=fiscal_start_month,
        products=src["products"],
        customer_scores=src["customer_scores"],
        inventory=src["inventory"],
        purchases=src["purchases"],
        start=start,
        end=end,
    )


def kpis(
    ws: Workspace,
    principal: Principal | None = None,
    *,
    freq: str = "month",
    by: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """KPI rows per period (and slice), oldest first, with target progress for month/quarter/year."""
    check_freq(freq)
    check_dim(by)
    fiscal = ws.settings.fiscal_year_start_month
    dim = by or "total"
    with reading(ws) as wh:
        stored = wh.table("kpis")
        stored = stored.filter((stored.freq == freq) & (stored.dim == dim))
        use_stored = (principal is None or principal.sees_all_rows) and bool(
            wh.to_arrow(stored.limit(1).aggregate(n=ibis._.count())).column("n")[0].as_py()
        )
        if use_stored:
            expr = stored
            if start is not None:
                expr = expr.filter(expr.period_end >= start)
            if end is not None:
                expr = expr.filter(expr.period_start <= end)
            expr = expr.order_by(["slice", "period_idx"])
        else:
            expr = _kpi_expr(wh, principal, freq=freq, by=by, fiscal_start_month=fiscal, start=start, end=end)
        rows = wh.to_arrow(expr).to_pylist()
        progress: list[dict[str, Any]] = []
        if freq in ("month", "quarter", "year") and _has_rows(wh, "targets"):
            targets = wh.table("targets")
            prefix = "total" if by is None else f"{by}="
            targets = targets.filter(targets.scope.startswith(prefix))
            prog = target_progress(expr, targets)
            progress = wh.to_arrow(prog).to_pylist()
    items = [{k: _json(v) for k, v in r.items() if k != "period_idx"} for r in rows]
    return {
        "freq": freq,
        "by": by,
        "fiscal_year_start_month": fiscal,
        "source": "materialised" if use_stored else "live",
        "items": items,
        "total": len(items),
        "targets": [{k: _json(v) for k, v in r.items()} for r in progress],
    }


def contribution(
    ws: Workspace,
    principal: Principal | None = None,
    *,
    period_a: str,
    period_b: str,
    dims: tuple[str, ...] = CONTRIBUTION_DIMS,
) -> dict[str, Any]:
    """Why revenue changed from ``period_a`` to ``period_b``: the slices of each dimension ranked by their share."""
    fiscal = ws.settings.fiscal_year_start_month
    a0, a1, _ = period_bounds(period_a, fiscal)
    b0, b1, _ = period_bounds(period_b, fiscal)
    for d in dims:
        check_dim(d)
    if not dims:
        raise InputError("name at least one dimension to explain the change by", expected=", ".join(DIMENSIONS))
    with reading(ws) as wh:
        src = _sources(wh, principal)
        sales = _sales(wh, principal)
        lines = sales_lines(sales, products=src["products"], customer_scores=src["customer_scores"])
        rows = wh.to_arrow(contribution_expr(lines, a=(a0, a1), b=(b0, b1), dims=dims)).to_pylist()
        totals = _totals(wh, lines, (a0, a1), (b0, b1))
    by_dim: dict[str, list[dict[str, Any]]] = {d: [] for d in dims}
    for r in rows:
        by_dim[r["dim"]].append({k: _json(v) for k, v in r.items() if k != "dim"})
    change = totals["revenue_b"] - totals["revenue_a"]
    top = sorted(
        ({"dim": d, **items[0]} for d, items in by_dim.items() if items),
        key=lambda r: -abs(r["change"]),
    )
    return {
        "period_a": {"label": period_a, "start": a0.isoformat(), "end": a1.isoformat()},
        "period_b": {"label": period_b, "start": b0.isoformat(), "end": b1.isoformat()},
        "revenue_a": totals["revenue_a"],
        "revenue_b": totals["revenue_b"],
        "change": change,
        "growth": (change / totals["revenue_a"]) if totals["revenue_a"] > 0 else None,
        "orders_a": totals["orders_a"],
        "orders_b": totals["orders_b"],
        "drivers": lmdi_drivers(totals["revenue_a"], totals["revenue_b"], totals["orders_a"], totals["orders_b"]),
        "dimensions": by_dim,
        "top": top,
    }


def _totals(wh: Warehouse, lines: ir.Table, a: tuple[date, date], b: tuple[date, date]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tag, (lo, hi) in (("a", a), ("b", b)):
        t = lines.filter(lines.order_date.between(lo, hi))
        orders = t.group_by("order_id").aggregate(net=t.amount.sum())
        rev = wh.to_arrow(t.aggregate(r=t.amount.sum())).column("r")[0].as_py()
        n = wh.to_arrow(orders.aggregate(n=orders.order_id.count(where=orders.net > 0))).column("n")[0].as_py()
        out[f"revenue_{tag}"] = float(rev or 0)
        out[f"orders_{tag}"] = int(n or 0)
    return out


def trends(
    ws: Workspace,
    principal: Principal | None = None,
    *,
    freq: str = "week",
    by: str | None = None,
    metric: str = "revenue",
    window: int | None = None,
) -> dict[str, Any]:
    """One KPI over time per slice with its moving average and seasonal decomposition, plus calendar effects."""
    if metric not in KPIS.column_names or metric in ("freq", "period", "dim", "slice", "period_start", "period_end"):
        raise InputError("unknown KPI metric", column="metric", value=metric, expected="a column of the kpis table")
    window = window or {"day": 7, "week": 4, "month": 3, "quarter": 4, "year": 2}[freq]
    season = {"day": 7, "week": 52, "month": 12}.get(freq, 1)
    data = kpis(ws, principal, freq=freq, by=by)
    series: dict[str, list[dict[str, Any]]] = {}
    for item in data["items"]:
        series.setdefault(item["slice"], []).append(item)
    out = []
    for slc, items in series.items():
        values = np.array([float(i[metric] or 0.0) for i in items])
        ma = pd.Series(values).rolling(window, min_periods=1).mean()
        season_info = seasonality(values, season)
        out.append(
            {
                "slice": slc,
                "periods": [i["period"] for i in items],
                "values": values.tolist(),
                f"ma{window}": ma.round(4).tolist(),
                "seasonality": {k: season_info[k] for k in ("period", "strength", "seasonal")},
            }
        )
    with reading(ws) as wh:
        sales = _sales(wh, principal)
        daily = wh.to_pandas(sales.group_by(day=sales.order_date).aggregate(revenue=sales.amount.sum().cast("float64")))
    return {
        "freq": freq,
        "by": by,
        "metric": metric,
        "window": window,
        "series": out,
        "calendar": calendar_effects(daily),
    }


def anomalies(
    ws: Workspace,
    principal: Principal | None = None,
    *,
    freq: str | None = None,
    metric: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The stored anomalies, most recent first (what alert rules read).

    They are found in company-wide KPIs, which a user restricted to their own customers
    may not see, so such a user gets none.
    """
    if principal is not None and not principal.sees_all_rows:
        return {"items": [], "total": 0}
    with reading(ws) as wh:
        t = wh.table("anomalies")
        if freq is not None:
            t = t.filter(t.freq == freq)
        if metric is not None:
            t = t.filter(t.metric == metric)
        total = int(wh.to_arrow(t.aggregate(n=t.count())).column("n")[0].as_py())
        rows = wh.to_arrow(t.order_by([ibis.desc("period_start"), ibis.desc(t.z.abs())]).limit(limit)).to_pylist()
    return {"items": [{k: _json(v) for k, v in r.items()} for r in rows], "total": total}


def kpi_step(ws: Workspace, as_of: date | None) -> None:
    """The analyze step: materialise the KPI tables, then the anomalies found in them."""
    wh = ws.warehouse
    fiscal = ws.settings.fiscal_year_start_month
    cols = ", ".join(f'"{c}"' for c in KPIS.column_names)
    with wh.transaction():
        wh.execute('DELETE FROM "kpis"')
        src = _sources(wh, None)
        sales = wh.table("sales")
        if as_of is not None:
            sales = sales.filter(sales.order_date <= as_of)
        for freq, dims in MATERIALISED:
            # Stage one lands in a temporary table: the engine then plans stage two over a plain table,
            # which is several times quicker to compile and run than the one nested query.
            lines = kpi_lines(
                sales,
                freq=freq,
                by=dims,
                fiscal_start_month=fiscal,
                products=src["products"],
                customer_scores=src["customer_scores"],
            )
            wh.execute(f"CREATE OR REPLACE TEMP TABLE _kpi_lines AS {ibis.to_sql(lines, dialect='duckdb')}")
            expr = kpis_from_lines(
                wh.table("_kpi_lines"),
                freq=freq,
                by=dims,
                fiscal_start_month=fiscal,
                products=src["products"],
                inventory=src["inventory"],
                purchases=src["purchases"],
            )
            wh.execute(f'INSERT INTO "kpis" ({cols}) SELECT {cols} FROM ({ibis.to_sql(expr, dialect="duckdb")})')
        wh.execute("DROP TABLE IF EXISTS _kpi_lines")
    last_day = wh.scalar(
        "SELECT max(order_date) FROM sales" + (" WHERE order_date <= ?" if as_of else ""), [as_of] if as_of else None
    )
    run_date = as_of or last_day or date.today()
    frames = []
    for freq, dim in ANOMALY_SOURCES:
        # Periods the data only partly covers would all look like collapses; they are left out.
        df = wh.df(
            "SELECT freq, dim, slice, period_idx, revenue, orders, customers_active FROM kpis "
            "WHERE freq = ? AND dim = ? AND period_end <= ?",
            [freq, dim, last_day],
        )
        if not df.empty:
            frames.append(detect_all(df))
    with wh.transaction():
        wh.execute('DELETE FROM "anomalies"')
        for found in frames:
            if found.empty:
                continue
            table = pa.Table.from_pandas(found.assign(as_of=run_date), preserve_index=False)
            wh.insert_arrow("anomalies", table)
