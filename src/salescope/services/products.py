"""Product analytics use-cases: association rules, ABC-XYZ, next best product.

The three ``analyze`` steps (``rules_step``, ``abc_step``, ``next_best_step``; listed in
:data:`PRODUCT_STEPS` for the composition root) read the canonical tables up to the
analysis date and replace their result tables in one transaction each. The read functions
below serve pages, the API and exports from those small tables.

Intermediate tables of the level-wise rule mining live as temporary tables for the
duration of one step and are dropped after it, whatever happens.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import numpy as np
import pyarrow as pa

from salescope.analytics import abc, recommend
from salescope.analytics.basket import Itemsets, RuleParams, Runner, Stager, basket_items, mine_itemsets, mine_rules
from salescope.engine.warehouse import QueryError, Warehouse
from salescope.errors import InputError, NotFoundError
from salescope.services.access import Principal, RowScope, reading, restrict
from salescope.services.workspace import Workspace

Measure = Literal["revenue", "profit", "quantity"]


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds for one rule level; support is ``max(min_support, min_orders / orders)``."""

    min_support: float
    min_orders: int
    min_confidence: float
    max_len: int
    max_pairs: int = 20_000
    max_candidates: int = 1_000_000
    per_consequent: int = 20
    """Most confident rules kept per consequent: a page of 1.3 million rules helps nobody."""
    max_rules: int = 50_000

    def params(self, orders: int) -> RuleParams:
        support = min(1.0, max(self.min_support, self.min_orders / max(orders, 1)))
        return RuleParams(
            support, self.min_confidence, self.max_len, max_pairs=self.max_pairs, max_candidates=self.max_candidates
        )


@dataclass(frozen=True)
class ProductSettings:
    """Defaults of the product analyses (the workspace settings can override them)."""

    product_rules: RuleSettings = RuleSettings(min_support=0.001, min_orders=10, min_confidence=0.2, max_len=3)
    category_rules: RuleSettings = RuleSettings(min_support=0.01, min_orders=10, min_confidence=0.2, max_len=3)
    abc_measure: Measure = "revenue"
    abc_thresholds: tuple[float, float] = (0.8, 0.95)
    xyz_thresholds: tuple[float, float] = (0.5, 1.0)
    window_days: int = 365
    next_best: recommend.NextBestParams = field(default_factory=recommend.NextBestParams)


DEFAULTS = ProductSettings()
_names = itertools.count()


# -- engine plumbing --------------------------------------------------------------------------


def _runner(wh: Warehouse) -> Runner:
    """Execute through the warehouse's Ibis backend (which registers in-memory tables), naming the SQL on failure."""

    def run(expr: ibis.Expr) -> pa.Table:
        try:
            return wh.backend.to_pyarrow(expr)
        except Exception as exc:
            raise QueryError(f"Query failed: {exc}", str(ibis.to_sql(expr, dialect="duckdb"))) from exc

    return run


@contextmanager
def _scratch(wh: Warehouse) -> Iterator[tuple[Stager, recommend.Put]]:
    """Temporary tables (staged intermediates, small Arrow inputs) that vanish when the block ends."""
    staged: list[str] = []
    with ExitStack() as stack:

        def stage(expr: ibis.Table) -> ibis.Table:
            name = f"_products_{os.getpid()}_{next(_names)}"
            wh.backend.create_table(name, expr, temp=True)
            staged.append(name)
            return wh.table(name)

        def put(data: pa.Table) -> ibis.Table:
            name = stack.enter_context(wh.registered(f"_products_in_{os.getpid()}_{next(_names)}", data))
            return wh.table(name)

        try:
            yield stage, put
        finally:
            for name in staged:
                wh.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')


def _sales_until(wh: Warehouse, as_of: dt.date) -> ibis.Table:
    s = wh.table("sales")
    return s.filter(s.order_date <= as_of)


# -- association rules --------------------------------------------------------------------------


def rule_baskets(wh: Warehouse, as_of: dt.date, level: Literal["product", "category"]) -> ibis.Table:
    """Purchase lines as baskets (order_id, item): anonymous sales count, returns and unknown products do not."""
    s = _sales_until(wh, as_of)
    s = s.filter((s.amount > 0) & s.product_id.notnull() & (s.product_id != "UNKNOWN"))
    if level == "product":
        return basket_items(s, "order_id", "product_id")
    p = wh.table("products")
    p = p.filter(p.category.notnull()).select("product_id", "category")
    return basket_items(s.join(p, "product_id"), "order_id", "category")


def _rule_rows(rules: pa.Table, itemsets: Itemsets, level: str, as_of: dt.date) -> pa.Table:
    """Mined rules (item ids) as ``rules`` rows: JSON item lists, strongest lift first."""
    spec_columns = {
        "level": pa.string(),
        "rule_id": pa.int64(),
        "antecedent": pa.string(),
        "consequent": pa.string(),
        "antecedent_size": pa.int64(),
        "support": pa.float64(),
        "confidence": pa.float64(),
        "lift": pa.float64(),
        "leverage": pa.float64(),
        "conviction": pa.float64(),
        "support_count": pa.int64(),
        "antecedent_count": pa.int64(),
        "consequent_count": pa.int64(),
        "orders": pa.int64(),
        "as_of": pa.date32(),
    }
    if rules.num_rows == 0:
        return pa.table({k: pa.array([], t) for k, t in spec_columns.items()})
    order = np.lexsort((-np.asarray(rules["support"]), -np.asarray(rules["confidence"]), -np.asarray(rules["lift"])))
    rules = rules.take(pa.array(order))
    lookup = np.empty(itemsets.items.num_rows + 1, dtype=object)
    lookup[np.asarray(itemsets.items["item_id"], dtype=np.int64)] = [str(v) for v in itemsets.items["item"].to_pylist()]

    def lists(prefix: str) -> list[list[str]]:
        cols = [c for c in rules.column_names if c[0] == prefix and c[1:].isdigit()]
        ids = np.column_stack([rules[c].to_numpy(zero_copy_only=False) for c in cols])
        return [sorted(str(lookup[int(i)]) for i in row if not np.isnan(i)) for row in ids]

    antecedents = lists("a")
    consequents = lists("c")
    conviction = [None if math.isinf(v) else v for v in rules["conviction"].to_pylist()]
    n = rules.num_rows
    values: dict[str, Any] = {
        "level": [level] * n,
        "rule_id": list(range(1, n + 1)),
        "antecedent": [json.dumps(a, ensure_ascii=False) for a in antecedents],
        "consequent": [json.dumps(c, ensure_ascii=False) for c in consequents],
        "antecedent_size": [len(a) for a in antecedents],
        "support": rules["support"],
        "confidence": rules["confidence"],
        "lift": rules["lift"],
        "leverage": rules["leverage"],
        "conviction": conviction,
        "support_count": rules["n_xy"],
        "antecedent_count": rules["n_x"],
        "consequent_count": rules["n_y"],
        "orders": [itemsets.orders] * n,
        "as_of": [as_of] * n,
    }
    columns = {
        k: pa.array(v, spec_columns[k]) if isinstance(v, list) else v.cast(spec_columns[k]) for k, v in values.items()
    }
    return pa.table(columns)


def mine_level(
    wh: Warehouse, as_of: dt.date, level: Literal["product", "category"], settings: RuleSettings
) -> tuple[pa.Table, Itemsets]:
    """Rules (lift > 1) of one level as ``rules`` rows, and the itemsets they came from."""
    run = _runner(wh)
    pairs = rule_baskets(wh, as_of, level)
    orders = int(run(pairs.order_id.nunique().as_table()).column(0)[0].as_py() or 0)
    if orders == 0:
        empty = Itemsets(orders=0, min_count=1, items=pa.table({"item": pa.array([], pa.string())}))
        return _rule_rows(pa.table({}), empty, level, as_of), empty
    params = settings.params(orders)
    with _scratch(wh) as (stage, _put):
        itemsets = mine_itemsets(pairs, params, run, stage, orders=orders)
        rules = mine_rules(itemsets, params, run, min_lift=1.0, per_consequent=settings.per_consequent)
    return _rule_rows(rules, itemsets, level, as_of).slice(0, settings.max_rules), itemsets


def rules_step(ws: Workspace, as_of: dt.date, settings: ProductSettings = DEFAULTS) -> None:
    """``rules``: product-level and category-level rules over orders up to ``as_of``."""
    wh = ws.warehouse
    product_rows, _ = mine_level(wh, as_of, "product", settings.product_rules)
    category_rows, _ = mine_level(wh, as_of, "category", settings.category_rules)
    with wh.transaction():
        wh.execute('DELETE FROM "rules"')
        wh.insert_arrow("rules", product_rows)
        wh.insert_arrow("rules", category_rows)


# -- ABC-XYZ ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The trailing window of ABC and the complete periods of XYZ inside it."""

    start: dt.date
    end: dt.date
    period: abc.Period
    xyz_start: dt.date
    xyz_end: dt.date


def _period_start(day: dt.date, period: abc.Period) -> dt.date:
    return day.replace(day=1) if period == "month" else day - dt.timedelta(days=day.weekday())


def analysis_window(first_sale: dt.date, as_of: dt.date, days: int = 365) -> Window:
    """ABC over the last ``days`` days (or since the first sale); XYZ over its complete periods.

    Months when the window touches six or more calendar months, else weeks. The period holding
    ``as_of`` counts only when ``as_of`` is its last day: a half-finished month would look
    like a demand drop. When no period is complete yet, XYZ uses the whole window.
    """
    start = max(first_sale, as_of - dt.timedelta(days=days - 1))
    period: abc.Period = "month" if abc.period_count(start, as_of, "month") >= 6 else "week"
    next_day = as_of + dt.timedelta(days=1)
    xyz_end = (
        as_of if _period_start(next_day, period) == next_day else _period_start(as_of, period) - dt.timedelta(days=1)
    )
    xyz_start = _period_start(start, period)
    if xyz_end < xyz_start:
        xyz_start, xyz_end = start, as_of
    return Window(start, as_of, period, xyz_start, xyz_end)


def _line_values(wh: Warehouse, as_of: dt.date, window: Window) -> ibis.Table:
    s = _sales_until(wh, as_of)
    s = s.filter(s.order_date >= window.start)
    p = wh.table("products").select("product_id", "unit_cost")
    j = s.left_join(p, "product_id")
    cost = ibis.coalesce(j.cost, j.quantity * j.unit_cost)
    return j.select(
        "customer_id",
        "product_id",
        "order_id",
        "order_date",
        revenue=j.amount,
        profit=j.amount - cost,
        quantity=j.quantity,
    )


def product_abc(lines: ibis.Table, window: Window, settings: ProductSettings) -> ibis.Table:
    """One row per product with sales in the window: the three ABC classes, XYZ and the cell.

    Lines without a product (``UNKNOWN``) are left out: they are revenue, not a product.
    """
    t1, t2 = settings.abc_thresholds
    lines = lines.filter(lines.product_id != "UNKNOWN")
    totals = lines.group_by("product_id").aggregate(
        revenue=lines.revenue.sum(), profit=lines.profit.sum(), quantity=lines.quantity.sum()
    )
    ranked = abc.abc_classify(lines, "product_id", settings.abc_measure, (t1, t2))
    classes = {
        m: abc.abc_classify(lines, "product_id", m, (t1, t2)).select("product_id", **{f"abc_{m}": "abc_class"})
        for m in ("revenue", "profit", "quantity")
    }
    demand = abc.xyz_classify(
        lines,
        "product_id",
        "order_date",
        "quantity",
        window.xyz_start,
        window.xyz_end,
        window.period,
        settings.xyz_thresholds,
    )
    j = totals.join(ranked.drop("value"), "product_id")
    for m in ("revenue", "profit", "quantity"):
        j = j.join(classes[m], "product_id")
    j = j.left_join(demand, "product_id").select(j, *[demand[c] for c in demand.columns if c != "product_id"])
    xyz = j.xyz_class.fill_null("Z")
    cell = abc.matrix_cell(j.abc_class, xyz)
    n = abc.period_count(window.xyz_start, window.xyz_end, window.period)
    return j.select(
        "product_id",
        as_of=ibis.literal(window.end),
        revenue=j.revenue,
        profit=j.profit,
        quantity=j.quantity,
        measure=ibis.literal(settings.abc_measure),
        rank=j["rank"],
        share=j.share,
        cum_share=j.cum_share,
        item_cum_share=j.item_cum_share,
        abc_class=j.abc_class,
        abc_revenue=j.abc_revenue,
        abc_profit=j.abc_profit,
        abc_quantity=j.abc_quantity,
        periods=ibis.literal(n, "int64"),
        active_periods=j.active_periods.fill_null(0),
        demand_mean=j.demand_mean,
        demand_cv=j.demand_cv,
        xyz_class=xyz,
        cell=cell,
        advice_zh=abc.stock_advice(cell, "zh"),
        advice_en=abc.stock_advice(cell, "en"),
    )


def customer_abc(lines: ibis.Table, window: Window, settings: ProductSettings) -> ibis.Table:
    """One row per identified customer with sales in the window; XYZ on per-period amount."""
    t1, t2 = settings.abc_thresholds
    lines = lines.filter(lines.customer_id.notnull())
    measure = settings.abc_measure if settings.abc_measure != "quantity" else "revenue"
    totals = lines.group_by("customer_id").aggregate(
        revenue=lines.revenue.sum(), profit=lines.profit.sum(), orders=lines.order_id.nunique()
    )
    ranked = abc.abc_classify(lines, "customer_id", measure, (t1, t2))
    by_revenue = abc.abc_classify(lines, "customer_id", "revenue", (t1, t2)).select(
        "customer_id", abc_revenue="abc_class"
    )
    by_profit = abc.abc_classify(lines, "customer_id", "profit", (t1, t2)).select("customer_id", abc_profit="abc_class")
    demand = abc.xyz_classify(
        lines,
        "customer_id",
        "order_date",
        "revenue",
        window.xyz_start,
        window.xyz_end,
        window.period,
        settings.xyz_thresholds,
    )
    j = totals.join(ranked.drop("value"), "customer_id").join(by_revenue, "customer_id").join(by_profit, "customer_id")
    j = j.left_join(demand, "customer_id").select(j, *[demand[c] for c in demand.columns if c != "customer_id"])
    xyz = j.xyz_class.fill_null("Z")
    n = abc.period_count(window.xyz_start, window.xyz_end, window.period)
    return j.select(
        "customer_id",
        as_of=ibis.literal(window.end),
        revenue=j.revenue,
        profit=j.profit,
        orders=j.orders.cast("int64"),
        measure=ibis.literal(measure),
        rank=j["rank"],
        share=j.share,
        cum_share=j.cum_share,
        item_cum_share=j.item_cum_share,
        abc_class=j.abc_class,
        abc_revenue=j.abc_revenue,
        abc_profit=j.abc_profit,
        periods=ibis.literal(n, "int64"),
        active_periods=j.active_periods.fill_null(0),
        demand_mean=j.demand_mean,
        demand_cv=j.demand_cv,
        xyz_class=xyz,
        cell=abc.matrix_cell(j.abc_class, xyz),
    )


def abc_step(ws: Workspace, as_of: dt.date, settings: ProductSettings = DEFAULTS) -> None:
    """``product_abc`` and ``customer_abc`` over the trailing window ending at ``as_of``."""
    wh = ws.warehouse
    first = wh.scalar("SELECT min(order_date) FROM sales WHERE order_date <= ?", [as_of])
    with wh.transaction():
        if first is None:
            wh.execute('DELETE FROM "product_abc"')
            wh.execute('DELETE FROM "customer_abc"')
            return
        window = analysis_window(first, as_of, settings.window_days)
        with _scratch(wh) as (stage, _put):
            # Staged once: both tables read it several times. Reading a plain table also keeps clear
            # of a DuckDB 2.0 wrong-result bug (comparisons on aggregates over a LEFT JOIN to an
            # empty table, e.g. no product master yet, evaluate false; see the test of this step).
            lines = stage(_line_values(wh, as_of, window))
            wh.materialise("product_abc", product_abc(lines, window, settings))
            wh.materialise("customer_abc", customer_abc(lines, window, settings))


# -- next best product ----------------------------------------------------------------------------


def next_best_step(ws: Workspace, as_of: dt.date, settings: ProductSettings = DEFAULTS) -> None:
    """``next_best``: the top products per identified customer (see :mod:`salescope.analytics.recommend`)."""
    wh = ws.warehouse
    with _scratch(wh) as (stage, put):
        rec = recommend.build(wh.table("sales"), as_of, settings.next_best, _runner(wh), stage, put)
        expr = rec.recommendations.mutate(as_of=ibis.literal(as_of))
        with wh.transaction():
            wh.materialise("next_best", expr)


def evaluate_next_best(
    ws: Workspace,
    *,
    cutoff: dt.date | None = None,
    horizon_days: int = 30,
    ks: tuple[int, ...] = (5, 10),
    params: recommend.NextBestParams | None = None,
) -> dict[str, Any]:
    """Hit rate@k of the blend, each source alone and the popularity baseline on a time split.

    Without ``cutoff`` the split leaves the last ``horizon_days`` of sales for testing.
    """
    wh = ws.warehouse
    last = wh.scalar("SELECT max(order_date) FROM sales")
    if last is None:
        raise InputError("there are no sales to evaluate recommendations on", expected="imported sales")
    cut = cutoff or last - dt.timedelta(days=horizon_days)
    with _scratch(wh) as (stage, put):
        rates = recommend.evaluate(wh.table("sales"), cut, horizon_days, ks, _runner(wh), stage, params, put=put)
    return {"cutoff": cut.isoformat(), "horizon_days": horizon_days, "hit_rate": rates}


PRODUCT_STEPS = [("rules", rules_step), ("abc", abc_step), ("next_best", next_best_step)]
"""For ``services.analysis.ANALYSIS_STEPS``; ``next_best`` reads sales only, so order is free."""


# -- reading ------------------------------------------------------------------------------------


def list_rules(
    ws: Workspace, *, level: str = "product", item: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Rules of a level by lift, optionally those mentioning ``item``; ``{"items", "total"}``.

    Rules are aggregates over all orders and name no customer, so every role may read them.
    """
    with reading(ws) as wh:
        r = wh.table("rules")
        r = r.filter(r.level == level)
        if item is not None:
            needle = json.dumps(item, ensure_ascii=False)
            r = r.filter(r.antecedent.contains(needle) | r.consequent.contains(needle))
        total = int(wh.to_arrow(r.count().as_table()).column(0)[0].as_py())
        rows = wh.to_arrow(r.order_by("rule_id").limit(limit, offset=offset)).to_pylist()
    for row in rows:
        row["antecedent"] = json.loads(row["antecedent"])
        row["consequent"] = json.loads(row["consequent"])
    return {"items": rows, "total": total}


def abc_matrix(
    ws: Workspace, who: Principal | RowScope, *, scope: Literal["product", "customer"] = "product"
) -> dict[str, Any]:
    """Counts and revenue per ABC-XYZ cell, with the stock advice, for the nine-cell view."""
    with reading(ws) as wh:
        t = wh.table(f"{scope}_abc")
        if scope == "customer":
            t = restrict(t, who, wh.backend)
        agg = t.group_by("cell").aggregate(items=t.count(), revenue=t.revenue.sum())
        rows = {r["cell"]: r for r in wh.to_arrow(agg).to_pylist()}
    cells = []
    for a in abc.ABC_CLASSES:
        for x in abc.XYZ_CLASSES:
            key = a + x
            found = rows.get(key, {})
            zh, en = abc.STOCK_ADVICE[key]
            cells.append(
                {
                    "cell": key,
                    "items": int(found.get("items", 0)),
                    "revenue": found.get("revenue") or 0,
                    "advice_zh": zh,
                    "advice_en": en,
                }
            )
    return {"scope": scope, "cells": cells}


def pareto_points(
    ws: Workspace, *, scope: Literal["product", "customer"] = "product", points: int = 101
) -> list[dict[str, float]]:
    """The Pareto curve thinned to about ``points`` points (always keeping the first and the last)."""
    with reading(ws) as wh:
        t = wh.table(f"{scope}_abc")
        curve = wh.to_arrow(t.select("rank", "item_cum_share", "cum_share").order_by("rank")).to_pylist()
    if len(curve) <= points:
        return [{"item_share": r["item_cum_share"], "value_share": r["cum_share"]} for r in curve]
    step = (len(curve) - 1) / (points - 1)
    picked = [curve[round(i * step)] for i in range(points)]
    return [{"item_share": r["item_cum_share"], "value_share": r["cum_share"]} for r in picked]


def next_best_for(ws: Workspace, who: Principal | RowScope, customer_id: str) -> list[dict[str, Any]]:
    """A customer's recommendations with product names; a customer the principal may not see is not found."""
    with reading(ws) as wh:
        nb = restrict(wh.table("next_best"), who, wh.backend)
        nb = nb.filter(nb.customer_id == customer_id)
        p = wh.table("products").select("product_id", "name", "category")
        j = nb.left_join(p, "product_id").select(nb, p["name"], p["category"])
        rows = wh.to_arrow(j.order_by("rank")).to_pylist()
    if not rows:
        raise NotFoundError(
            f"No recommendations for customer {customer_id!r}: unknown, not yours, or not analysed yet."
        )
    for row in rows:
        row["evidence"] = json.loads(row["evidence"]) if row["evidence"] else []
    return rows
