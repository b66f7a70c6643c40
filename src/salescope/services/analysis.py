"""``salescope analyze``: compute the customer analyses and materialise them for pages and exports.

The analysis is an ordered list of named steps, each ``step(ws, as_of)``: the customer analyses
here, customer clusters, then CLV, KPIs (with anomalies), forecasts, association rules, ABC-XYZ and next-best
product from their own services.
Every step reads the canonical tables (or the aggregates the first step keeps current) and
replaces its result tables inside one transaction, so a failed step leaves the previous
results in place.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from salescope.analytics.cohorts import cohort_retention, repurchase_intervals
from salescope.analytics.lifecycle import LifecycleWindows, current_stages, stage_history, timeline
from salescope.analytics.migration import monthly_snapshots, sankey, segment_history, transition_matrix
from salescope.analytics.rfm import customer_summary, default_as_of, score_customers
from salescope.analytics.segments import SEGMENT_KEYS
from salescope.engine import aggregates
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError
from salescope.services.clusters import cluster_step
from salescope.services.clv import clv_step
from salescope.services.forecast import forecast_step
from salescope.services.kpis import kpi_step
from salescope.services.products import PRODUCT_STEPS
from salescope.services.progress import NoProgress, Progress
from salescope.services.workspace import Workspace

Step = Callable[[Workspace, dt.date], None]


@dataclass
class AnalysisResult:
    as_of: dt.date
    customers: int
    segments: dict[str, int]
    steps: dict[str, float] = field(default_factory=dict)


def identified_orders(wh: Warehouse, as_of: dt.date) -> ir.Table:
    """Per-order rows of identified customers up to ``as_of``, from the maintained ``order_facts``."""
    facts = wh.table("order_facts")
    return facts.filter(facts.customer_id.notnull() & (facts.order_date <= as_of))


@contextmanager
def _snapshots(wh: Warehouse, as_of: dt.date) -> Iterator[ir.Table]:
    first = wh.scalar("SELECT min(order_date) FROM order_facts WHERE customer_id IS NOT NULL")
    dates = monthly_snapshots(first, as_of)
    name = f"_snapshots_{uuid.uuid4().hex[:8]}"
    with wh.registered(name, pa.table({"snapshot_date": pa.array(dates, pa.date32())})):
        yield wh.table(name)


def aggregates_step(ws: Workspace, as_of: dt.date) -> None:
    aggregates.ensure_fresh(ws.warehouse)


def rfm_step(ws: Workspace, as_of: dt.date) -> None:
    """``customer_scores``; from ``customer_facts`` directly when ``as_of`` is after every order."""
    wh = ws.warehouse
    cfg = ws.settings.rfm
    last = wh.scalar("SELECT max(last_order) FROM customer_facts")
    if last is None or last <= as_of:
        summary = wh.table("customer_facts")
    else:
        summary = customer_summary(identified_orders(wh, as_of))
    expr = score_customers(summary, as_of=as_of, threshold=cfg.threshold, fixed=cfg)
    with wh.transaction():
        wh.materialise("customer_scores", expr)


def segment_history_step(ws: Workspace, as_of: dt.date) -> None:
    wh = ws.warehouse
    cfg = ws.settings.rfm
    with _snapshots(wh, as_of) as snapshots, wh.transaction():
        expr = segment_history(identified_orders(wh, as_of), snapshots, threshold=cfg.threshold, fixed=cfg)
        wh.materialise("segment_history", expr)


def lifecycle_step(ws: Workspace, as_of: dt.date, windows: LifecycleWindows | None = None) -> None:
    wh = ws.warehouse
    line = timeline(identified_orders(wh, as_of), windows)
    with aggregates.temporary(wh, line) as stored, _snapshots(wh, as_of) as snapshots, wh.transaction():
        wh.materialise("customer_lifecycle", current_stages(stored, as_of=as_of, windows=windows))
        wh.materialise("lifecycle_history", stage_history(stored, snapshots, windows=windows))


def cohorts_step(ws: Workspace, as_of: dt.date) -> None:
    wh = ws.warehouse
    with wh.transaction():
        wh.materialise("cohort_retention", cohort_retention(identified_orders(wh, as_of)))


def repurchase_step(ws: Workspace, as_of: dt.date) -> None:
    wh = ws.warehouse
    sales = wh.table("sales")
    lines = sales.filter(sales.customer_id.notnull() & (sales.order_date <= as_of))
    with wh.transaction():
        wh.materialise("repurchase_intervals", repurchase_intervals(lines, wh.table("products")))


ANALYSIS_STEPS: list[tuple[str, Step]] = [
    ("aggregates", aggregates_step),
    ("rfm", rfm_step),
    ("segment_history", segment_history_step),
    ("lifecycle", lifecycle_step),
    ("cohorts", cohorts_step),
    ("repurchase", repurchase_step),
    ("clusters", cluster_step),
    ("clv", clv_step),
    ("kpis", kpi_step),
    ("forecast", forecast_step),
    *PRODUCT_STEPS,
]


def resolve_as_of(wh: Warehouse, as_of: dt.date | str | None) -> dt.date:
    """The analysis date: as given, else the day after the last order (today when there are no sales)."""
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str):
        try:
            return dt.date.fromisoformat(as_of)
        except ValueError as exc:
            raise InputError(
                "The analysis date is not a date", column="as_of", value=as_of, expected="YYYY-MM-DD"
            ) from exc
    last = wh.scalar("SELECT max(order_date) FROM sales")
    return default_as_of(last)


def segment_counts(wh: Warehouse) -> dict[str, int]:
    """Customers per segment in ``customer_scores``, all eight keys in the pinned order."""
    counts = dict.fromkeys(SEGMENT_KEYS, 0)
    for key, n in wh.rows("SELECT segment, count(*) FROM customer_scores GROUP BY segment"):
        counts[str(key)] = int(n)
    return counts


def run_analysis(
    ws: Workspace,
    *,
    as_of: dt.date | str | None = None,
    progress: Progress | None = None,
    steps: list[tuple[str, Step]] | None = None,
) -> AnalysisResult:
    """Run every analysis step in order and record the run in ``analysis_runs``."""
    wh = ws.warehouse
    progress = progress or NoProgress()
    plan = list(ANALYSIS_STEPS if steps is None else steps)
    when = resolve_as_of(wh, as_of)
    run_id = uuid.uuid4().hex
    wh.execute("INSERT INTO analysis_runs (run_id, as_of, started_at) VALUES (?, ?, current_timestamp)", [run_id, when])
    timings: dict[str, float] = {}
    progress.start("analyze", total=len(plan))
    for name, step in plan:
        t0 = time.perf_counter()
        step(ws, when)
        timings[name] = round(time.perf_counter() - t0, 3)
        progress.advance("analyze")
    progress.finish("analyze")
    wh.execute(
        "UPDATE analysis_runs SET finished_at = current_timestamp, steps = ? WHERE run_id = ?",
        [json.dumps(timings), run_id],
    )
    counts = segment_counts(wh)
    return AnalysisResult(as_of=when, customers=sum(counts.values()), segments=counts, steps=timings)


# -- segment migration, for pages and the API ----------------------------------------------------------------------
def snapshot_dates(ws: Workspace) -> list[dt.date]:
    return [r[0] for r in ws.warehouse.rows("SELECT DISTINCT snapshot_date FROM segment_history ORDER BY 1")]


def segment_migration(ws: Workspace, from_date: dt.date, to_date: dt.date, *, locale: str = "zh-CN") -> dict[str, Any]:
    """Transitions between the snapshots in force at two dates, with Sankey nodes and links.

    Any dates may be given: each maps to the latest snapshot on or before it (the earliest
    snapshot when it is before all of them).
    """
    dates = snapshot_dates(ws)
    if not dates:
        return {"from_date": None, "to_date": None, "matrix": [], "sankey": {"nodes": [], "links": []}}

    def snap(day: dt.date) -> dt.date:
        earlier = [d for d in dates if d <= day]
        return earlier[-1] if earlier else dates[0]

    start, end = snap(from_date), snap(to_date)
    matrix = ws.warehouse.to_arrow(transition_matrix(ws.warehouse.table("segment_history"), start, end)).to_pylist()
    flows = sankey(matrix, from_label=start.isoformat(), to_label=end.isoformat(), locale=locale)
    return {"from_date": start, "to_date": end, "matrix": matrix, "sankey": flows}
