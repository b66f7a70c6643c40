"""CLV at scale: transaction summary + BG/NBD + Gamma-Gamma + 12-month CLV, Salescope against lifetimes.

Data: ``n`` customers simulated from the BG/NBD story in days (purchase rate ~ Gamma(0.5,
40 days), dropout after each repeat purchase p ~ Beta(1, 4), first purchases spread over
2023, observed to 2024-12-31; spend per purchase Gamma(4, nu), nu ~ Gamma(3, 50)), about
3.5 order lines per customer.

* Salescope: the Ibis transaction summary on the DuckDB warehouse (lines already imported),
  BG/NBD and Gamma-Gamma by maximum likelihood, 12-month CLV at 1% a month.
* lifetimes 0.11.3, the peer: it needs NumPy 1 / pandas 1, so it runs as a **subprocess in a
  throw-away venv** (tests/fixtures/lifetimes_env.py) on the same lines handed over as .npy
  files; it times its own pipeline (``summary_data_from_transaction_data`` + ``BetaGeoFitter``
  + ``GammaGammaFitter`` + ``customer_lifetime_value``), excluding interpreter start-up and
  reading the arrays, and reports its own peak memory (VmHWM after a reset) the same way
  the harness measures ours.

Both use lifetimes' month of 30 days so CLVs are comparable; the check compares parameters
(goal: equal to 1e-6 relative) and total CLV.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bench.harness import Comparison, Measurement, measure, record

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.lifetimes_env import lifetimes_python
from salescope.analytics.clv import transaction_summary
from salescope.engine.warehouse import Warehouse
from salescope.models.btyd import BetaGeo, GammaGamma, clear_pattern_cache

SEED = 20240101
START = dt.date(2023, 1, 1)
END = dt.date(2024, 12, 31)
DAYS_PER_MONTH = 30.0  # lifetimes' freq="D"

PEER = r"""
import json, os, sys, time
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

def rss_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")

src, out = sys.argv[1], sys.argv[2]
customer = np.load(os.path.join(src, "customer.npy"))
day = np.load(os.path.join(src, "day.npy"))
amount = np.load(os.path.join(src, "amount.npy"))
end = json.load(open(os.path.join(src, "meta.json")))["end"]
frame = pd.DataFrame({"customer_id": customer, "date": pd.to_datetime(day, unit="D"), "amount": amount})
base = rss_mb("VmRSS:")
try:
    open("/proc/self/clear_refs", "w").write("5")
except OSError:
    pass
t0 = time.perf_counter()
summary = summary_data_from_transaction_data(
    frame, "customer_id", "date", monetary_value_col="amount", observation_period_end=end, freq="D"
)
t1 = time.perf_counter()
bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
t2 = time.perf_counter()
rep = summary[summary["frequency"] > 0]
ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
t3 = time.perf_counter()
clv = ggf.customer_lifetime_value(
    bgf, rep["frequency"], rep["recency"], rep["T"], rep["monetary_value"], time=12, discount_rate=0.01, freq="D"
)
t4 = time.perf_counter()
json.dump(
    {
        "seconds": t4 - t0,
        "phases": {"summary": t1 - t0, "bgnbd": t2 - t1, "gamma_gamma": t3 - t2, "clv": t4 - t3},
        "peak_mb": rss_mb("VmHWM:") - base,
        "customers": int(len(summary)),
        "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
        "gg": {k: float(v) for k, v in ggf.params_.items()},
        "clv_total": float(clv.sum()),
        "repeaters": int(len(rep)),
    },
    open(out, "w"),
)
"""


def simulate(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, day since 1970-01-01, amount) per purchase line; same-day lines are merged by both sides."""
    rng = np.random.default_rng(seed)
    horizon = (END - START).days
    birth = rng.integers(0, 365, n).astype(np.float64)
    lam = rng.gamma(0.5, 1 / 40, n)
    p = rng.beta(1.0, 4.0, n)
    nu = rng.gamma(3.0, 1 / 50, n)
    cust_parts, time_parts = [np.arange(n)], [birth.copy()]
    t = birth.copy()
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / lam[idx])
        over = t[idx] > horizon
        alive[idx[over]] = False
        buy = idx[~over]
        cust_parts.append(buy)
        time_parts.append(t[buy].copy())
        alive[buy[rng.random(buy.size) < p[buy]]] = False
    customer = np.concatenate(cust_parts)
    day = np.floor(np.concatenate(time_parts)).astype(np.int64) + (START - dt.date(1970, 1, 1)).days
    amount = np.round(rng.gamma(4.0, 1 / nu[customer]), 2)
    return customer, day, amount


def load_warehouse(path: Path, customer: np.ndarray, day: np.ndarray, amount: np.ndarray) -> Warehouse:
    wh = Warehouse(path)
    raw = pa.table(
        {
            "c": customer,
            "d": pa.array(day.astype("datetime64[D]")),
            "a": amount,
            "i": np.arange(customer.size),
        }
    )
    with wh.registered("bench_lines", raw):
        wh.execute(
            "INSERT INTO sales (order_id, line_no, order_date, customer_id, product_id, amount, batch_id, source_row) "
            "SELECT 'O' || i, 1, d, 'C' || c, 'P1', CAST(a AS DECIMAL(18,4)), 'bench', i + 1 FROM bench_lines"
        )
    return wh


def ours(wh: Warehouse) -> dict[str, Any]:
    clear_pattern_cache()  # each repeat starts cold
    summary = wh.to_arrow(transaction_summary(wh.table("sales"), calibration_end=END, period="day"))
    x = summary.column("frequency").to_numpy().astype(np.float64)
    tx = summary.column("recency").to_numpy()
    age = summary.column("T").to_numpy()
    m = summary.column("monetary").to_numpy(zero_copy_only=False)
    bg = BetaGeo().fit(x, tx, age)
    rep = x > 0
    gg = GammaGamma().fit(x[rep], m[rep])
    clv = gg.clv(bg, x[rep], tx[rep], age[rep], m[rep], horizon=12, discount_rate=0.01, freq=DAYS_PER_MONTH)
    return {"bgnbd": bg.params_, "gg": gg.params_, "clv_total": float(clv.sum()), "customers": int(x.size)}


def peer(workdir: Path, customer: np.ndarray, day: np.ndarray, amount: np.ndarray) -> dict[str, Any]:
    np.save(workdir / "customer.npy", customer)
    np.save(workdir / "day.npy", day)
    np.save(workdir / "amount.npy", amount)
    (workdir / "meta.json").write_text(json.dumps({"end": END.isoformat()}))
    script = workdir / "peer.py"
    script.write_text(PEER)
    out = workdir / "peer.json"
    proc = subprocess.run(
        [str(lifetimes_python()), "-W", "ignore", str(script), str(workdir), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"lifetimes failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def check(mine: dict[str, Any], theirs: dict[str, Any]) -> str:
    rel = {f"bgnbd.{k}": abs(mine["bgnbd"][k] / v - 1) for k, v in theirs["bgnbd"].items()}
    gg = {"p": "p", "q": "q", "gamma": "v"}
    rel |= {f"gg.{k}": abs(mine["gg"][k] / theirs["gg"][v] - 1) for k, v in gg.items()}
    worst = max(rel, key=lambda k: rel[k])
    clv_rel = abs(mine["clv_total"] / theirs["clv_total"] - 1)
    verdict = "params equal to 1e-6" if rel[worst] <= 1e-6 else "params DIFFER beyond 1e-6"
    return (
        f"{verdict} (worst {worst} {rel[worst]:.1e}); total CLV {mine['clv_total']:.6g} vs {theirs['clv_total']:.6g} "
        f"({clv_rel:.1e}); lifetimes ran as a subprocess in its own venv, timed in-process"
    )


def main(sizes: list[int] | None = None) -> None:
    import duckdb
    import ibis
    import scipy

    comparisons: list[Comparison] = []
    for n in sizes or [1_000_000]:
        customer, day, amount = simulate(n)
        print(f"{n:,} customers, {customer.size:,} lines", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            wh = load_warehouse(root / "warehouse.duckdb", customer, day, amount)
            m_ours, mine = measure("salescope", lambda wh=wh: ours(wh), repeats=3)
            wh.close()
            t0 = time.perf_counter()
            theirs = peer(root, customer, day, amount)
            print(f"lifetimes wall time incl. start-up and loading: {time.perf_counter() - t0:.1f}s", flush=True)
        m_peer = Measurement("lifetimes 0.11.3 (subprocess)", [theirs["seconds"]], theirs["peak_mb"])
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in theirs["phases"].items())
        c = Comparison(
            "summary + BG/NBD + Gamma-Gamma + 12-month CLV",
            f"{n:,} customers / {customer.size:,} lines",
            m_ours,
            m_peer,
            goal=">= 20x; params equal to 1e-6",
            note=check(mine, theirs) + f"; lifetimes phases: {phases}; lifetimes timed once",
        )
        print(c.line(), flush=True)
        comparisons.append(c)
    record(
        "CLV (BTYD) vs lifetimes",
        comparisons,
        {"duckdb": duckdb.__version__, "ibis": ibis.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
    )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
