"""``run_analysis`` on real workspaces: what it materialises, and that the fast paths agree with RFM on lines."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "analytics"))
from sales_rows import d, load, online_retail, online_retail_sales  # the analytics tests' row builder

from salescope.analytics.rfm import rfm_table
from salescope.analytics.segments import SEGMENT_KEYS
from salescope.errors import InputError
from salescope.services.analysis import (
    ANALYSIS_STEPS,
    run_analysis,
    segment_migration,
    snapshot_dates,
)
from salescope.services.workspace import Workspace

RESULT_TABLES = (
    "customer_scores",
    "segment_history",
    "customer_lifecycle",
    "lifecycle_history",
    "cohort_retention",
    "repurchase_intervals",
)

# The scoring steps alone, for tests about customer_scores (the other steps have their own tests).
SCORING = [step for step in ANALYSIS_STEPS if step[0] in ("aggregates", "rfm")]

LINES = [
    ("a", "1", d("2024-01-05"), "300"),
    ("a", "2", d("2024-02-10"), "300"),
    ("a", "3", d("2024-03-20"), "300"),
    ("b", "4", d("2024-01-20"), "50"),
    ("c", "5", d("2024-03-01"), "900"),
    ("d", "6", d("2024-02-01"), "20"),
    ("d", "7", d("2024-02-15"), "20"),
    (None, "8", d("2024-03-30"), "10"),  # anonymous, and the last sale: as_of defaults to the day after
]


def _scores(ws: Workspace) -> dict[str, tuple[Any, ...]]:
    rows = ws.warehouse.rows(
        "SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_code, segment "
        "FROM customer_scores"
    )
    return {r[0]: r[1:] for r in rows}


def _expected(ws: Workspace, as_of: dt.date, threshold: str = "mean") -> dict[str, tuple[Any, ...]]:
    rows = ws.warehouse.to_arrow(rfm_table(ws.warehouse.table("sales"), as_of=as_of, threshold=threshold)).to_pylist()
    cols = ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_code", "segment")
    return {r["customer_id"]: tuple(r[c] for c in cols) for r in rows}


def test_analyze_materialises_every_result_and_records_the_run(workspace: Workspace) -> None:
    load(workspace.warehouse, LINES)
    result = run_analysis(workspace)
    assert result.as_of == d("2024-03-31")
    assert result.customers == 4
    assert list(result.segments) == list(SEGMENT_KEYS) and sum(result.segments.values()) == 4
    assert list(result.steps) == [name for name, _ in ANALYSIS_STEPS]
    wh = workspace.warehouse
    for table in RESULT_TABLES:
        assert wh.scalar(f"SELECT count(*) FROM {table}") > 0, table
    assert _scores(workspace) == _expected(workspace, d("2024-03-31"))
    # snapshots: Jan 31, Feb 29 and Mar 30 (the day before as_of ends the open month)
    assert snapshot_dates(workspace) == [d("2024-01-31"), d("2024-02-29"), d("2024-03-31")]
    run = wh.rows("SELECT as_of, finished_at, steps FROM analysis_runs")
    assert len(run) == 1 and run[0][0] == d("2024-03-31") and run[0][1] is not None
    assert set(json.loads(run[0][2])) == set(result.steps)


def test_fast_paths_agree_with_rfm_on_the_lines(shared_data: Path, workspace: Workspace) -> None:
    workspace.warehouse.insert_arrow("sales", online_retail_sales(online_retail(shared_data)))
    result = run_analysis(workspace, steps=SCORING)  # as_of after every order: scores from customer_facts
    assert result.as_of == d("2010-12-24")
    assert _scores(workspace) == _expected(workspace, result.as_of)
    run_analysis(workspace, as_of="2010-12-10", steps=SCORING)  # in the past: from order_facts up to that date
    assert _scores(workspace) == _expected(workspace, d("2010-12-10"))
    assert len(_scores(workspace)) < result.customers


def test_threshold_comes_from_the_workspace_settings(workspace: Workspace) -> None:
    load(workspace.warehouse, LINES)
    workspace.settings.rfm.threshold = "quintile"
    run_analysis(workspace, steps=SCORING)
    assert _scores(workspace) == _expected(workspace, d("2024-03-31"), threshold="quintile")


def test_new_sales_are_picked_up_without_an_explicit_refresh(workspace: Workspace) -> None:
    load(workspace.warehouse, LINES)
    run_analysis(workspace, steps=SCORING)
    load(workspace.warehouse, [("e", "9", d("2024-04-02"), "5000")], batch_id="b2")
    result = run_analysis(workspace, steps=SCORING)
    assert result.as_of == d("2024-04-03") and result.customers == 5
    assert _scores(workspace)["e"][-1] == "important_development"  # recent, one order, large


def test_segment_migration_maps_any_dates_to_snapshots(workspace: Workspace) -> None:
    load(workspace.warehouse, LINES)
    run_analysis(workspace)
    out = segment_migration(workspace, d("2024-02-10"), d("2030-01-01"), locale="en")
    assert (out["from_date"], out["to_date"]) == (d("2024-01-31"), d("2024-03-31"))
    assert sum(r["customers"] for r in out["matrix"]) == 4  # everyone at the later snapshot
    assert any(r["from_segment"] == "new" for r in out["matrix"])  # c bought first in March
    assert sum(link["value"] for link in out["sankey"]["links"]) == 4


def test_steps_run_in_order_and_a_failing_step_keeps_earlier_results(workspace: Workspace) -> None:
    load(workspace.warehouse, LINES)
    seen: list[tuple[str, dt.date]] = []

    def extra(ws: Workspace, as_of: dt.date) -> None:
        seen.append(("extra", as_of))

    def broken(ws: Workspace, as_of: dt.date) -> None:
        raise InputError("broken step")

    result = run_analysis(workspace, as_of=d("2024-03-15"), steps=[*ANALYSIS_STEPS, ("extra", extra)])
    assert seen == [("extra", d("2024-03-15"))] and "extra" in result.steps
    before = _scores(workspace)
    with pytest.raises(InputError, match="broken step"):
        run_analysis(workspace, as_of=d("2024-03-31"), steps=[("broken", broken), *ANALYSIS_STEPS])
    assert _scores(workspace) == before
    assert workspace.warehouse.scalar("SELECT count(*) FROM analysis_runs WHERE finished_at IS NULL") == 1


def test_an_empty_workspace_analyses_to_nothing(workspace: Workspace) -> None:
    result = run_analysis(workspace)
    assert result.customers == 0 and result.as_of == dt.date.today()
    assert segment_migration(workspace, d("2024-01-01"), d("2024-02-01"))["matrix"] == []


def test_a_bad_date_is_one_sentence(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        run_analysis(workspace, as_of="31/03/2024")
