"""Next best product on a time split: the blend, each of its sources, popularity, and implicit ALS.

Data: Online Retail, December 2010 (``../shared/data/online_retail_2010-12.csv``), loaded into a
scratch workspace. For each cutoff, every method is trained on purchases up to the cutoff and
scored by hit rate@k on the customers who bought both before and after it; all methods skip the
same (customer, product) pairs that are inside their repurchase cycle.

Implicit ALS (Hu, Koren & Volinsky 2008; 32 factors, regularisation 0.1, alpha 40, 15 sweeps,
confidence ``1 + alpha x purchase days``) is a dense NumPy reference written here, not a Salescope
feature: the issue asks for ALS only if it beats rules + co-occurrence, and this measures that.

Run: ``.venv/bin/python -m bench.bench_next_best``
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from salescope.analytics import recommend
from salescope.services import products
from salescope.services.workspace import Workspace

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail_2010-12.csv"
SPLITS = ((dt.date(2010, 12, 12), 11), (dt.date(2010, 12, 8), 15))
KS = (5, 10)


def load(ws: Workspace) -> None:
    rows = list(csv.DictReader(DATA.open(encoding="utf-8", newline="")))
    n = len(rows)
    qty = [float(r["Quantity"]) for r in rows]
    ws.warehouse.insert_arrow(
        "sales",
        pa.table(
            {
                "order_id": [r["InvoiceNo"] for r in rows],
                "line_no": list(range(1, n + 1)),
                "order_date": pa.array([dt.date.fromisoformat(r["InvoiceDate"][:10]) for r in rows], pa.date32()),
                "customer_id": [r["CustomerID"].removesuffix(".0") or None for r in rows],
                "product_id": [r["StockCode"] for r in rows],
                "quantity": qty,
                "amount": [round(q * float(r["UnitPrice"]), 4) for q, r in zip(qty, rows, strict=True)],
                "batch_id": ["b1"] * n,
                "source_row": list(range(1, n + 1)),
            }
        ),
    )


def implicit_als(
    counts: np.ndarray, factors: int = 32, reg: float = 0.1, alpha: float = 40.0, sweeps: int = 15
) -> np.ndarray:
    """Scores of every (customer, product) from alternating least squares on implicit feedback."""
    rng = np.random.default_rng(0)
    users = rng.normal(0, 0.01, (counts.shape[0], factors))
    items = rng.normal(0, 0.01, (counts.shape[1], factors))
    prefs = (counts > 0).astype(float)
    conf = 1 + alpha * counts
    for _ in range(sweeps):
        for solve, fixed, p, c in ((users, items, prefs, conf), (items, users, prefs.T, conf.T)):
            gram = fixed.T @ fixed
            for row in range(solve.shape[0]):
                seen = np.nonzero(p[row])[0]
                f = fixed[seen]
                lhs = gram + (f.T * (c[row, seen] - 1)) @ f + reg * np.eye(factors)
                solve[row] = np.linalg.solve(lhs, (f.T * c[row, seen]) @ p[row, seen])
    return users @ items.T


def als_hit_rates(ws: Workspace, cutoff: dt.date, horizon: int) -> dict[int, float]:
    wh = ws.warehouse
    sales = wh.table("sales")
    train = recommend.purchase_lines(sales, cutoff)
    history = wh.to_pandas(recommend.purchase_history(train))
    blocked = wh.to_pandas(
        recommend.blocked(recommend.purchase_history(train), recommend.repurchase_cycles(train), cutoff)
    )
    later = recommend.purchase_lines(sales, cutoff + dt.timedelta(days=horizon))
    later = later.filter(later.order_date > cutoff)
    known = train.select("customer_id").distinct()
    actual = wh.to_pandas(later.semi_join(known, "customer_id").select("customer_id", "product_id").distinct())
    users = {u: i for i, u in enumerate(sorted(history["customer_id"].unique()))}
    items = sorted(history["product_id"].unique())
    index = {p: i for i, p in enumerate(items)}
    counts = np.zeros((len(users), len(items)))
    counts[history["customer_id"].map(users), history["product_id"].map(index)] = history["days"]
    scores = implicit_als(counts)
    scores[blocked["customer_id"].map(users), blocked["product_id"].map(index)] = -np.inf
    bought = actual.groupby("customer_id")["product_id"].apply(set)
    out = {}
    for k in KS:
        hits = sum(any(items[j] in wanted for j in np.argsort(-scores[users[c]])[:k]) for c, wanted in bought.items())
        out[k] = hits / len(bought)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        load(ws)
        rows = []
        for cutoff, horizon in SPLITS:
            result = products.evaluate_next_best(ws, cutoff=cutoff, horizon_days=horizon, ks=KS)
            rates = dict(result["hit_rate"])
            rates["implicit ALS (reference)"] = als_hit_rates(ws, cutoff, horizon)
            for method, by_k in rates.items():
                rows.append(
                    {"cutoff": cutoff, "horizon_days": horizon, "method": method} | {f"hit@{k}": by_k[k] for k in KS}
                )
        ws.close()
    print(pd.DataFrame(rows).to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
