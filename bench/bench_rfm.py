"""RFM + eight segments: Salescope against the pandas notebook a user would otherwise write.

Two comparisons per size, on the same seeded order lines:

(a) warehouse: Salescope's ``customer_scores`` step reading from a DuckDB warehouse that was
    filled through ``Warehouse.insert_arrow`` (aggregates refreshed at import, as the importer
    does), against pandas reading the same lines from a Parquet file and grouping them;
(b) DataFrame: ``ss.rfm(df)`` against the same pandas code handed the same DataFrame.

Each side's segment counts are compared so a fast wrong answer cannot pass unnoticed.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.harness import Comparison, Measurement, measure, record

SEED = 20240601
START = dt.date(2021, 7, 1)
DAYS = 3 * 365
LINES_PER_ORDER = 3
LINES_PER_CUSTOMER = 30
ANONYMOUS_SHARE = 0.02

SEGMENT_NAMES = {
    "111": "important_value",
    "101": "important_development",
    "011": "important_retention",
    "001": "important_win_back",
    "110": "general_value",
    "100": "general_development",
    "010": "general_retention",
    "000": "general_win_back",
}


def _ids(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def order_lines(n: int, seed: int = SEED) -> pa.Table:
    """``n`` order lines in canonical ``sales`` columns: ~n/30 customers, 3 years, lognormal amounts."""
    rng = np.random.default_rng(seed)
    n_orders = max(1, n // LINES_PER_ORDER)
    n_customers = max(1, n // LINES_PER_CUSTOMER)
    # Customers differ in how much they buy (a gamma mix, like real order books), orders carry one date.
    weights = rng.gamma(0.8, 1.0, n_customers)
    order_customer = rng.choice(n_customers, size=n_orders, p=weights / weights.sum())
    order_day = rng.integers(0, DAYS, n_orders)
    line_order = np.sort(rng.integers(0, n_orders, n))
    starts = np.r_[0, np.flatnonzero(np.diff(line_order)) + 1]
    line_no = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1
    cents = np.round(rng.lognormal(5.0, 1.0, n) * 100).astype(np.int64)
    customer = _ids("C", order_customer[line_order], 7)
    anonymous = rng.random(n_orders)[line_order] < ANONYMOUS_SHARE
    customer = pc.if_else(pa.array(anonymous), pa.scalar(None, pa.string()), customer)
    dates = pa.array((np.datetime64(START, "D") + order_day[line_order]).astype("datetime64[D]"))
    amount = pa.array(cents / 100.0).cast(pa.decimal128(18, 4))
    return pa.table(
        {
            "order_id": _ids("SO", line_order, 9),
            "line_no": pa.array(line_no, pa.int64()),
            "order_date": pc.cast(dates, pa.date32()),
            "customer_id": customer,
            "product_id": _ids("P", rng.integers(0, 5000, n), 5),
            "amount": amount,
            "batch_id": pa.array(["bench"] * n),
            "source_row": pa.array(np.arange(1, n + 1), pa.int64()),
        }
    )


def pandas_rfm(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The notebook a user would write: group lines by customer, quintiles, mean-threshold segments."""
    known = df[df["customer_id"].notna()]
    g = known.groupby("customer_id").agg(
        last=("order_date", "max"), frequency=("order_id", "nunique"), monetary=("amount", "sum")
    )
    g["recency"] = (as_of - g["last"]).dt.days
    g["r_score"] = pd.qcut(g["recency"].rank(method="first", ascending=False), 5, labels=False) + 1
    g["f_score"] = pd.qcut(g["frequency"].rank(method="first"), 5, labels=False) + 1
    g["m_score"] = pd.qcut(g["monetary"].rank(method="first"), 5, labels=False) + 1
    code = (
        (g["recency"] < g["recency"].mean()).astype(int).astype(str)
        + (g["frequency"] > g["frequency"].mean()).astype(int).astype(str)
        + (g["monetary"] > g["monetary"].mean()).astype(int).astype(str)
    )
    g["segment"] = code.map(SEGMENT_NAMES)
    return g


def _counts(segments: Any) -> dict[str, int]:
    if isinstance(segments, dict):
        return {k: v for k, v in segments.items() if v}
    if isinstance(segments, pd.DataFrame):
        return {str(k): int(v) for k, v in segments["segment"].value_counts().items()}
    raise TypeError(type(segments))


def same_segments(ours: Any, peer: Any) -> str:
    a, b = _counts(ours), _counts(peer)
    if a != b:
        return f"SEGMENT COUNTS DIFFER: ours {a} vs peer {b}"
    return f"same segment counts ({sum(a.values()):,} customers)"


def _peer_frame(lines: pa.Table) -> pa.Table:
    """What a notebook user has: text ids, timestamps and float amounts."""
    return pa.table(
        {
            "customer_id": lines["customer_id"],
            "order_id": lines["order_id"],
            "order_date": lines["order_date"].cast(pa.timestamp("s")),
            "amount": lines["amount"].cast(pa.float64()),
        }
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(label: str, fn: Callable[[], Any], repeats: int) -> tuple[Measurement, Any, float]:
    """The harness's wall-clock measurement, plus process CPU seconds per run (the machine is shared)."""
    start = _cpu()
    m, result = measure(label, fn, repeats)
    return m, result, (_cpu() - start) / repeats


def _versus(
    name: str, size: str, ours: tuple[Measurement, Any, float], peer: tuple[Measurement, Any, float], goal: str
) -> Comparison:
    note = f"{same_segments(ours[1], peer[1])}; CPU s/run ours {ours[2]:.2f}, peer {peer[2]:.2f}"
    c = Comparison(name, size, ours[0], peer[0], goal, note)
    print(c.line(), flush=True)
    return c


def run_size(n: int, root: Path, repeats: int = 3) -> list[Comparison]:
    from salescope.analytics.rfm import rfm, rfm_table
    from salescope.engine import aggregates
    from salescope.services.analysis import ANALYSIS_STEPS, run_analysis
    from salescope.services.workspace import Workspace

    size = f"{n:,} lines"
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    lines = order_lines(n)
    print(f"[{size}] generated in {time.perf_counter() - t0:.1f}s", flush=True)
    parquet = root / "lines.parquet"
    pq.write_table(_peer_frame(lines), parquet)

    ws = Workspace(root / "ws")
    wh = ws.warehouse
    t0 = time.perf_counter()
    with wh.transaction():
        wh.insert_arrow("sales", lines)
    t_insert = time.perf_counter() - t0
    t0 = time.perf_counter()
    with wh.transaction():
        aggregates.refresh(wh, "bench")  # what the importer does after loading a batch
    t_refresh = time.perf_counter() - t0
    print(f"[{size}] insert {t_insert:.1f}s, aggregates refreshed at import in {t_refresh:.1f}s", flush=True)
    as_of_date = wh.scalar("SELECT max(order_date) FROM sales") + dt.timedelta(days=1)
    as_of = pd.Timestamp(as_of_date)
    del lines
    scoring = [step for step in ANALYSIS_STEPS if step[0] in ("aggregates", "rfm")]

    peer_parquet = _timed(
        "pandas (read Parquet + groupby)", lambda: pandas_rfm(pd.read_parquet(parquet), as_of), repeats
    )
    ours_warehouse = _timed("salescope", lambda: run_analysis(ws, steps=scoring).segments, repeats)
    ours_lines = _timed("salescope", lambda: wh.to_pandas(rfm_table(wh.table("sales"), as_of=as_of_date)), repeats)
    out = [
        _versus(
            "RFM + segments from the warehouse (analyze step)", size, ours_warehouse, peer_parquet, ">= 20x at 10M"
        ),
        _versus("RFM + segments from order lines, no aggregates", size, ours_lines, peer_parquet, "reference"),
    ]
    out[0].note += f"; aggregates kept at import ({t_refresh:.1f}s for the {size} batch, not timed here)"
    ws.close()

    frame = pd.read_parquet(parquet)
    peer_frame = _timed("pandas groupby on the DataFrame", lambda: pandas_rfm(frame, as_of), repeats)
    ours_frame = _timed("salescope", lambda: rfm(frame), repeats)
    out.append(_versus("ss.rfm(df) handed a DataFrame", size, ours_frame, peer_frame, ">= 5x"))
    return out


def versions() -> dict[str, str]:
    import duckdb
    import ibis

    return {
        "duckdb": duckdb.__version__,
        "ibis": ibis.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
    }


def main(sizes: list[int] | None = None, *, repeats: int = 3, save: bool = True) -> list[Comparison]:
    """RFM benchmark at each size (default 1M and 10M lines); appends the table to bench/RESULTS.md."""
    results: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="bench_rfm_") as tmp:
        for n in sizes or [1_000_000, 10_000_000]:
            results += run_size(n, Path(tmp) / str(n), repeats)
    if save:
        record("RFM + eight segments vs pandas", results, versions())
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
