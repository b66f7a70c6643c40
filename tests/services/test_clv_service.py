"""`run_clv` end to end: a plain CSV through the real importer into a workspace, models fitted, results materialised.

The CDNOW numbers are the published ones (see tests/models/test_btyd_cdnow.py for the
citations); holdout counts are recomputed here from the raw file in plain Python.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from fixtures.cdnow import CALIBRATION_END, HOLDOUT_END, paper_summary, write_plain_csv
from salescope.errors import InputError, ModelFitError
from salescope.services.clv import clv_step, run_clv
from salescope.services.importing import import_file
from salescope.services.workspace import Workspace


def same_to_3_significant(got: float, published: float) -> bool:
    digits = 2 - math.floor(math.log10(abs(published)))
    return round(got, digits) == round(published, digits)


@pytest.fixture(scope="module")
def cdnow_ws(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cdnow")
    path = write_plain_csv(root / "cdnow.csv")
    ws = Workspace(root / "ws")
    result = import_file(ws, path, kind="sales")
    assert (result.rows, result.loaded) == (6919, 6919)
    yield ws
    ws.close()


def test_cdnow_bgnbd_through_the_importer_matches_fader_hardie_lee(cdnow_ws: Workspace) -> None:
    out = run_clv(cdnow_ws, model="bgnbd", calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END, period="week")
    json.dumps(out, allow_nan=False)  # the --json output is valid JSON
    assert {"model", "period", "customers", "params", "log_likelihood", "spend", "holdout"} <= set(out)
    assert (out["model"], out["period"], out["customers"]) == ("bgnbd", "week", 2357)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL (2005)
    for k, v in published.items():
        assert same_to_3_significant(out["params"][k], v), (k, out["params"][k])
    assert round(out["log_likelihood"], 1) == -9582.4
    assert out["spend"]["model"] == "gamma-gamma"
    assert out["spend"]["customers"] == 946
    for k, v in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():  # Fader & Hardie (2013)
        assert same_to_3_significant(out["spend"]["params"][k], v), (k, out["spend"]["params"][k])

    ref = paper_summary()
    holdout = out["holdout"]
    assert holdout["actual"] == sum(ref.holdout)  # 1882 repeat purchase days in weeks 40-78
    assert holdout["periods"] == 39.0
    # the BG/NBD's aggregate holdout forecast is in the right region (it under-forecasts CDNOW by ~12%)
    assert 0.8 * holdout["actual"] < holdout["predicted"] < 1.05 * holdout["actual"]
    buckets = {b["frequency"]: b for b in holdout["by_frequency"]}
    assert sum(b["customers"] for b in buckets.values()) == 2357
    assert buckets["0"]["customers"] == sum(1 for x in ref.frequency if x == 0)
    means = [buckets[k]["predicted_mean"] for k in ("0", "1", "2", "3", "4", "5", "6", "7+")]
    assert means == sorted(means)  # more calibration purchases, more expected holdout purchases

    weeks = out["by_period"]
    assert len(weeks) == 78
    assert weeks[-1]["cumulative_actual"] == sum(ref.frequency) + sum(ref.holdout)  # 2457 + 1882
    assert [w["phase"] for w in weeks].count("calibration") == 39

    wh = cdnow_ws.warehouse
    n, valued, flagged = wh.rows("SELECT count(*), count(clv), count(flag) FROM customer_clv")[0]
    assert (n, valued, flagged) == (2357, 2357, 0)
    row = wh.rows(
        "SELECT frequency, recency, p_alive, p_alive_low, p_alive_high, clv, clv_low, clv_high, holdout_actual "
        "FROM customer_clv WHERE customer_id = (SELECT customer_id FROM customer_clv ORDER BY frequency DESC, "
        "customer_id LIMIT 1)"
    )[0]
    freq, _rec, alive, alive_lo, alive_hi, clv, clv_lo, clv_hi, _hold = row
    assert freq == max(ref.frequency)
    assert alive_lo <= alive <= alive_hi
    assert clv_lo < clv < clv_hi
    total = wh.scalar("SELECT sum(clv) FROM customer_clv")
    assert float(total) == pytest.approx(out["clv"]["total"], rel=1e-6)
    runs = wh.rows("SELECT status, model, customers FROM clv_runs ORDER BY run_at")
    assert runs[-1] == ("ok", "bgnbd", 2357)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "published", "ll"),
    [
        ("pareto", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),  # FHL (2005)
        ("mbgnbd", None, None),
    ],
)
def test_cdnow_other_models_through_the_importer(cdnow_ws: Workspace, model: str, published, ll) -> None:
    out = run_clv(cdnow_ws, model=model, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    assert out["customers"] == 2357
    if published:
        for k, v in published.items():
            assert same_to_3_significant(out["params"][k], v), (k, out["params"][k])
        assert round(out["log_likelihood"], 1) == ll
    else:
        # lifetimes 0.11.3 on the same summary (see tests/models/test_btyd_cdnow.py)
        assert out["params"]["r"] == pytest.approx(0.52484, rel=1e-4)
    assert cdnow_ws.warehouse.scalar("SELECT count(*) FROM customer_clv WHERE model = ?", [model]) == 2357


@pytest.mark.slow
def test_cdnow_through_the_cli_matches_the_papers(tmp_path: Path) -> None:
    """`salescope import` of the plain CSV, then `salescope clv --json`, as real processes."""
    binary = Path(sys.executable).with_name("salescope")
    env = {**os.environ, "SALESCOPE_WORKSPACE": str(tmp_path / "ws")}

    def run(*args: str) -> dict:
        proc = subprocess.run(
            [str(binary), *args, "--json"], capture_output=True, text=True, env=env, timeout=300, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    imported = run("import", str(write_plain_csv(tmp_path / "cdnow.csv")), "--kind", "sales")
    imported = imported[0] if isinstance(imported, list) else imported
    assert imported["loaded"] == 6919
    out = run("clv", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--period", "week")
    for k, v in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():  # FHL (2005)
        assert same_to_3_significant(out["params"][k], v), (k, out["params"][k])
    assert round(out["log_likelihood"], 1) == -9582.4
    for k, v in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():  # Fader & Hardie (2013)
        assert same_to_3_significant(out["spend"]["params"][k], v), (k, out["spend"]["params"][k])
    pareto = run("clv", "--model", "pareto", "--calibration-end", "1997-09-30")
    for k, v in {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}.items():  # FHL (2005)
        assert same_to_3_significant(pareto["params"][k], v), (k, pareto["params"][k])


def _write_sales(path: Path, rows: list[tuple[str, date, float]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Customer ID", "Order Date", "Amount"])
        for c, day, amount in rows:
            w.writerow([c, day.isoformat(), f"{amount:.2f}"])
    return path


def _simulated_rows(n: int, seed: int) -> list[tuple[str, date, float]]:
    """Customers buying at gamma-distributed rates from 2023-01, dropping after each purchase with p ~ Beta(2, 6)."""
    rng = np.random.default_rng(seed)
    start = date(2023, 1, 1)
    rows = []
    for i in range(n):
        day = start + timedelta(days=int(rng.integers(0, 120)))
        rate = rng.gamma(0.8, 1 / 20)  # purchases per day
        scale = rng.gamma(4, 10)
        drop = rng.beta(2, 6)
        rows.append((f"C{i:04d}", day, float(rng.gamma(3, scale))))
        while rng.random() > drop:
            day += timedelta(days=int(rng.exponential(1 / rate)) + 1)
            if day > date(2024, 6, 30):
                break
            rows.append((f"C{i:04d}", day, float(rng.gamma(3, scale))))
    return rows


def test_customers_whose_repeats_net_to_zero_are_flagged_not_valued(tmp_path: Path, workspace: Workspace) -> None:
    rows = _simulated_rows(400, seed=3)
    rows += [("ZERO", date(2023, 2, 1), 50.0), ("ZERO", date(2023, 3, 1), 0.0), ("ZERO", date(2023, 4, 1), 0.0)]
    import_file(workspace, _write_sales(tmp_path / "sales.csv", rows), kind="sales")
    out = run_clv(workspace, calibration_end=date(2024, 6, 30))
    assert out["holdout"] is None
    assert out["customers"] == 401
    assert out["clv"]["customers_valued"] == 400
    assert any("1 customers have repeat purchases that net to zero" in w for w in out["warnings"])
    # only ZERO has a repeat spend of exactly 0 (the simulated amounts are gamma-distributed)
    [(freq, flag, clv, alive)] = workspace.warehouse.rows(
        "SELECT frequency, flag, clv, p_alive FROM customer_clv WHERE monetary = 0"
    )
    assert freq == 2
    assert (flag, clv) == ("spend_not_positive", None)
    assert 0 < alive <= 1  # its purchase predictions are still there


def test_a_failed_fit_is_recorded_and_analyze_carries_on(tmp_path: Path, workspace: Workspace) -> None:
    # nobody ever comes back: the purchase and dropout processes cannot be estimated
    rows = [(f"C{i}", date(2024, 1, 1) + timedelta(days=i), 10.0 + i) for i in range(30)]
    import_file(workspace, _write_sales(tmp_path / "once.csv", rows), kind="sales")
    with pytest.raises(ModelFitError, match="No customer made a repeat purchase"):
        run_clv(workspace)
    clv_step(workspace, date(2024, 3, 1))
    runs = workspace.warehouse.rows("SELECT status, as_of, message FROM clv_runs ORDER BY run_at")
    assert [r[0] for r in runs] == ["failed", "failed"]
    assert runs[0][1] == date(2024, 1, 30)  # the default calibration end is the last purchase
    assert runs[1][1] == date(2024, 3, 1)
    assert "repeat purchase" in runs[0][2]


def test_bad_requests_are_input_errors(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="unknown CLV model"):
        run_clv(workspace, model="weibull")
    with pytest.raises(InputError, match="needs the end of calibration"):
        run_clv(workspace, holdout_end=date(2024, 1, 1))
    with pytest.raises(InputError, match="unknown CLV period"):
        run_clv(workspace, period="month")
    with pytest.raises(InputError, match="no sales with a customer"):
        run_clv(workspace)
