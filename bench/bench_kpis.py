"""KPIs and cohorts at scale: Salescope's Ibis expressions on the DuckDB warehouse against pandas.

Two queries per size, on the same seeded order lines (3 years, ~30 lines per customer, 2 %
returns, six regions):

(a) monthly KPIs by region (``analytics.kpis.kpi_table``): revenue, gross sales, returns,
    orders, AOV, gross margin, active / new / repeat / churned customers, previous-month and
    last-year revenue — against the pandas code an analyst would write for the same
    definitions;
(b) a cohort retention matrix: customers by first-order month x months since, active counts.

Salescope reads the warehouse table; pandas is handed the lines already in memory (its best
case: no file reading is timed). Results are compared (revenue, orders, customers) so a fast
wrong answer cannot pass unnoticed.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bench.harness import Comparison, compare, record

SEED = 7
START = dt.date(2021, 1, 1)
DAYS = 3 * 365
REGIONS = np.array(["华东", "华南", "华北", "华中", "西南", "东北"])


def _ids(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def order_lines(n: int, seed: int = SEED) -> pa.Table:
    rng = np.random.default_rng(seed)
    n_orders = max(1, n // 3)
    n_customers = max(1, n // 30)
    weights = rng.gamma(0.8, 1.0, n_customers)
    order_customer = rng.choice(n_customers, size=n_orders, p=weights / weights.sum())
    order_day = rng.integers(0, DAYS, n_orders)
    line_order = np.sort(rng.integers(0, n_orders, n))
    starts = np.r_[0, np.flatnonzero(np.diff(line_order)) + 1]
    line_no = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1
    sign = np.where(rng.random(n) < 0.02, -1, 1)
    cents = sign * np.round(rng.lognormal(5.0, 1.0, n) * 100).astype(np.int64)
    cost_cents = np.round(np.abs(cents) * rng.uniform(0.5, 0.9, n)).astype(np.int64) * sign
    customer_region = REGIONS[rng.integers(0, len(REGIONS), n_customers)]
    dates = pa.array((np.datetime64(START, "D") + order_day[line_order]).astype("datetime64[D]"))
    return pa.table(
        {
            "order_id": _ids("SO", line_order, 9),
            "line_no": pa.array(line_no, pa.int64()),
            "order_date": pc.cast(dates, pa.date32()),
            "customer_id": _ids("C", order_customer[line_order], 7),
            "product_id": _ids("P", rng.integers(0, 5000, n), 5),
            "quantity": pa.array(sign.astype(np.float64)).cast(pa.decimal128(18, 4)),
            "amount": pa.array(cents / 100.0).cast(pa.decimal128(18, 4)),
            "cost": pa.array(cost_cents / 100.0).cast(pa.decimal128(18, 4)),
            "region": pa.array(customer_region[order_customer[line_order]]),
            "batch_id": pa.array(["bench"] * n),
            "source_row": pa.array(np.arange(1, n + 1), pa.int64()),
        }
    )


def pandas_kpis(df: pd.DataFrame) -> pd.DataFrame:
    """Monthly KPIs by region with the definitions of ``analytics.kpis``."""
    d = df.assign(month=df["order_date"].dt.to_period("M"))
    g = d.groupby(["region", "month"])
    out = pd.DataFrame(
        {
            "revenue": g["amount"].sum(),
            "gross_sales": d[d["amount"] > 0].groupby(["region", "month"])["amount"].sum(),
            "returns": -d[d["amount"] < 0].groupby(["region", "month"])["amount"].sum(),
            "cost": g["cost"].sum(),
        }
    )
    orders = d.groupby(["region", "month", "customer_id", "order_id"], observed=True)["amount"].sum().reset_index()
    placed = orders[orders["amount"] > 0]
    out["orders"] = placed.groupby(["region", "month"]).size()
    cust = placed.groupby(["region", "month", "customer_id"]).size().rename("n").reset_index()
    first = d[d["amount"] > 0].groupby("customer_id")["month"].min().rename("first")
    cust = cust.join(first, on="customer_id")
    out["customers_active"] = cust.groupby(["region", "month"]).size()
    out["customers_repeat"] = cust[cust["n"] >= 2].groupby(["region", "month"]).size()
    out["customers_new"] = cust[cust["first"] == cust["month"]].groupby(["region", "month"]).size()
    prev = cust[["region", "month", "customer_id"]].assign(month=cust["month"] + 1)
    gone = prev.merge(cust[["region", "month", "customer_id"]], how="left", indicator=True)
    out["customers_churned"] = gone[gone["_merge"] == "left_only"].groupby(["region", "month"]).size()
    out = out.fillna({"customers_repeat": 0, "customers_new": 0, "customers_churned": 0, "returns": 0})
    out["aov"] = out["revenue"] / out["orders"]
    out["gross_margin"] = (out["revenue"] - out["cost"]) / out["revenue"]
    out = out.reset_index()
    by_idx = out.set_index(["region", "month"])["revenue"]
    out["revenue_prev"] = [by_idx.get((r, m - 1)) for r, m in zip(out["region"], out["month"], strict=True)]
    out["revenue_last_year"] = [by_idx.get((r, m - 12)) for r, m in zip(out["region"], out["month"], strict=True)]
    return out


def pandas_cohorts(df: pd.DataFrame) -> pd.DataFrame:
    d = df[df["amount"] > 0]
    d = d.assign(month=d["order_date"].dt.year * 12 + d["order_date"].dt.month - 1)
    active = d[["customer_id", "month"]].drop_duplicates()
    first = active.groupby("customer_id")["month"].min().rename("cohort")
    active = active.join(first, on="customer_id")
    active["age"] = active["month"] - active["cohort"]
    return active.groupby(["cohort", "age"]).size().rename("customers").reset_index()


def cohort_expr(sales: ibis.Table) -> ibis.Table:
    s = sales.filter(sales.amount > 0)
    m = s.select("customer_id", month=s.order_date.year() * 12 + s.order_date.month() - 1).distinct()
    first = m.group_by("customer_id").aggregate(cohort=m.month.min())
    j = m.join(first, "customer_id")
    j = j.mutate(age=j.month - j.cohort)
    return j.group_by(["cohort", "age"]).aggregate(customers=j.customer_id.count())


def _check_kpis(ours: pa.Table, peer: pd.DataFrame) -> str:
    o = ours.to_pandas()
    rev_o, rev_p = float(o["revenue"].astype(float).sum()), float(peer["revenue"].astype(float).sum())
    same = (
        abs(rev_o - rev_p) < 0.01
        and int(o["orders"].sum()) == int(peer["orders"].sum())
        and int(o["customers_active"].sum()) == int(peer["customers_active"].sum())
        and int(o["customers_churned"].sum()) == int(peer["customers_churned"].sum())
        and len(o) == len(peer)
    )
    return f"{'same' if same else 'DIFFERENT'} revenue/orders/customers over {len(o)} region-months"


def _check_cohorts(ours: pa.Table, peer: pd.DataFrame) -> str:
    same = ours.num_rows == len(peer) and int(pc.sum(ours["customers"]).as_py()) == int(peer["customers"].sum())
    return f"{'same' if same else 'DIFFERENT'} {ours.num_rows} cohort cells"


def run_size(n: int, root: Path, repeats: int) -> list[Comparison]:
    from salescope.analytics.kpis import kpi_table
    from salescope.engine.warehouse import Warehouse

    size = f"{n:,} lines"
    lines = order_lines(n)
    wh = Warehouse(root / f"w{n}.duckdb")
    with wh.transaction():
        wh.insert_arrow("sales", lines)
    df = lines.select(["order_id", "order_date", "customer_id", "amount", "cost", "region"]).to_pandas()
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["amount"] = df["amount"].astype("float64")
    df["cost"] = df["cost"].astype("float64")
    del lines
    sales = wh.table("sales")
    kpi = kpi_table(sales, freq="month", by="region")
    out = [
        compare(
            "monthly KPIs by region",
            size,
            lambda: wh.to_arrow(kpi),
            lambda: pandas_kpis(df),
            peer_label="pandas",
            repeats=repeats,
            goal="faster than pandas, same numbers",
            check=_check_kpis,
        ),
        compare(
            "cohort retention matrix",
            size,
            lambda: wh.to_arrow(cohort_expr(sales)),
            lambda: pandas_cohorts(df),
            peer_label="pandas",
            repeats=repeats,
            goal="faster than pandas, same numbers",
            check=_check_cohorts,
        ),
    ]
    wh.close()
    return out


def versions() -> dict[str, Any]:
    from importlib.metadata import version

    return {p: version(p) for p in ("duckdb", "ibis-framework", "pandas", "numpy")}


def main(sizes: list[int] | None = None, *, repeats: int = 1, save: bool = True) -> list[Comparison]:
    results: list[Comparison] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes or [1_000_000, 10_000_000]:
            results += run_size(n, Path(tmp), repeats)
    if save:
        record("KPIs and cohorts vs pandas", results, versions())
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
