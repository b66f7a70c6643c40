"""Customer clusters: the feature table (an Ibis expression) and names for centroids.

Features per identified customer: spend, orders, recency, tenure and average order value from
``customer_scores``, plus the share of spend in each of the largest categories (category mix).
Names are rules on centroids relative to the population median, in zh and en.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np

BASE_FEATURES = ("monetary", "frequency", "recency_days", "tenure_days", "avg_order_value")


def base_features(scores: ir.Table, as_of: dt.date) -> ir.Table:
    return scores.select(
        "customer_id",
        monetary=scores.monetary.cast("float64"),
        frequency=scores.frequency.cast("float64"),
        recency_days=scores.recency_days.cast("float64"),
        tenure_days=(ibis.literal(as_of) - scores.first_order).cast("int64").cast("float64"),
        avg_order_value=scores.avg_order_value.cast("float64"),
    )


def category_spend(sales: ir.Table, products: ir.Table, as_of: dt.date) -> ir.Table:
    """Spend per (customer, category); products without a category count as 其他/other."""
    s = sales.filter(sales.customer_id.notnull() & (sales.order_date <= as_of))
    j = s.left_join(products.select("product_id", "category"), s.product_id == products.product_id)
    return j.group_by(customer_id=j.customer_id, category=j.category.fill_null("其他")).aggregate(
        spend=j.amount.sum().cast("float64")
    )


def name_cluster(centroid: dict[str, float], median: dict[str, float]) -> tuple[str, str]:
    """(zh, en) name for a centroid (a mean) from how it stands against the population mean."""
    high_value = centroid["monetary"] > 1.5 * median["monetary"]
    recent = centroid["recency_days"] <= median["recency_days"]
    lapsed = centroid["recency_days"] > 2 * median["recency_days"]
    new = centroid["tenure_days"] < 0.5 * median["tenure_days"]
    frequent = centroid["frequency"] > 1.5 * median["frequency"]
    if new and recent:
        return "新客", "New customers"
    if high_value and recent:
        return "高价值活跃", "High-value active"
    if high_value and lapsed:
        return "沉睡高值", "Dormant high-value"
    if high_value:
        return "高价值待唤醒", "High-value cooling"
    if frequent and recent:
        return "高频活跃", "Frequent active"
    if recent:
        return "活跃一般", "Active regular"
    if lapsed:
        return "低值沉睡", "Dormant low-value"
    return "一般待唤醒", "Regular cooling"


def unique_names(names: list[tuple[str, str]], tags: list[str]) -> list[tuple[str, str]]:
    """Clusters sharing a rule-based name are told apart by their tag (their top category),
    then by number, so labels stay distinct and say what differs."""
    out = [n if names.count(n) == 1 else (f"{n[0]}·{t}", f"{n[1]} · {t}") for n, t in zip(names, tags, strict=True)]
    count: dict[tuple[str, str], int] = {}
    final = []
    for n in out:
        if out.count(n) == 1:
            final.append(n)
            continue
        count[n] = count.get(n, 0) + 1
        final.append((f"{n[0]}{count[n]}", f"{n[1]} {count[n]}"))
    return final


def means(matrix: np.ndarray, columns: tuple[str, ...]) -> dict[str, float]:
    return {c: float(np.mean(matrix[:, i])) for i, c in enumerate(columns)}
