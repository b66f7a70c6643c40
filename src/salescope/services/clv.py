"""`salescope clv`: BTYD summary from the warehouse, purchase and spend models, CLV materialised.

The per-customer summary is built in the engine (one row per customer), so only those
arrays reach the NumPy models. Every run, failed fits included, is recorded in
``clv_runs`` so pages can say why CLV is missing instead of showing stale numbers
without comment. Customers whose value cannot be modelled (repeat purchases that net to
zero, or a spend model without a finite mean) keep their purchase predictions but get a
NULL CLV and a ``flag``, and the run's ``warnings`` count them.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from salescope.analytics.clv import period_days, repeat_purchases_by_period, transaction_summary
from salescope.errors import InputError, ModelFitError
from salescope.models.btyd import (
    MODELS,
    CountModel,
    GammaGamma,
    expected_by_period,
    holdout_report,
    periods_per_month,
)
from salescope.services.progress import NoProgress, Progress

if TYPE_CHECKING:
    from salescope.engine.warehouse import Warehouse
    from salescope.services.workspace import Workspace

Array = np.ndarray[Any, np.dtype[np.float64]]

INTERVAL_METHOD = (
    "Laplace approximation (inverse Hessian of the log-likelihood in log-parameters) propagated by the delta "
    "method; parameter uncertainty only"
)


def run_clv(
    ws: Workspace,
    *,
    model: str = "bgnbd",
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    period: str = "week",
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    observation_start: date | None = None,
    level: float = 0.9,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit, value and materialise; returns the ``salescope clv --json`` dict of DESIGN §5 plus the holdout report."""
    if model not in MODELS:
        raise InputError("unknown CLV model", column="--model", value=model, expected=", ".join(MODELS))
    length = period_days(period)
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise InputError(
            "the CLV horizon is whole months", column="horizon_months", value=horizon_months, expected=">= 1"
        )
    if not math.isfinite(discount_rate) or discount_rate <= -1:
        raise InputError("the monthly discount rate must exceed -100%", column="discount_rate", value=discount_rate)
    if holdout_end is not None and calibration_end is None:
        raise InputError(
            "a holdout needs the end of calibration", column="--holdout-end", expected="--calibration-end as well"
        )
    progress = progress or NoProgress()
    wh = ws.warehouse
    as_of = calibration_end or _last_purchase(wh)
    try:
        result, rows = _run(
            wh,
            model=model,
            calibration_end=as_of,
            holdout_end=holdout_end,
            period=period,
            length=length,
            horizon_months=int(horizon_months),
            discount_rate=discount_rate,
            observation_start=observation_start,
            level=level,
            progress=progress,
        )
    except (ModelFitError, InputError) as exc:
        _record(wh, as_of=as_of, model=model, period=period, status="failed", message=exc.message, result=None)
        raise
    with wh.transaction():
        wh.execute('DELETE FROM "customer_clv"')
        wh.insert_arrow("customer_clv", rows)
    _record(wh, as_of=as_of, model=model, period=period, status="ok", message=None, result=result)
    progress.advance("clv")
    progress.finish("clv")
    return result


def clv_step(ws: Workspace, as_of: date) -> None:
    """The `analyze` step: value customers as of ``as_of``; a failed fit is recorded in clv_runs, not raised."""
    try:
        run_clv(ws, calibration_end=as_of)
    except (ModelFitError, InputError):
        return


def _last_purchase(wh: Warehouse) -> date:
    sales = wh.table("sales")
    expr = sales.filter(sales.customer_id.notnull()).aggregate(d=sales.order_date.max())
    last = wh.to_arrow(expr).column("d")[0].as_py()
    if last is None:
        raise InputError("there are no sales with a customer to value; import order lines first", expected="sales")
    return last


def _run(
    wh: Warehouse,
    *,
    model: str,
    calibration_end: date,
    holdout_end: date | None,
    period: str,
    length: int,
    horizon_months: int,
    discount_rate: float,
    observation_start: date | None,
    level: float,
    progress: Progress,
) -> tuple[dict[str, Any], pa.Table]:
    progress.start("clv", total=5.0)
    sales = wh.table("sales")
    summary = wh.to_arrow(
        transaction_summary(
            sales,
            calibration_end=calibration_end,
            observation_start=observation_start,
            period=period,
            holdout_end=holdout_end,
        ).order_by("customer_id")
    )
    if summary.num_rows == 0:
        raise InputError(
            f"no identified customer bought on or before {calibration_end}", expected="sales with customers"
        )
    ids = summary.column("customer_id").to_pylist()
    x = _floats(summary, "frequency")
    tx = _floats(summary, "recency")
    age = _floats(summary, "T")
    monetary = _floats(summary, "monetary")
    progress.advance("clv")

    counts = MODELS[model]().fit(x, tx, age)
    progress.advance("clv")

    spend, spend_info, warnings = _fit_spend(x, monetary)
    progress.advance("clv")

    horizon = horizon_months * periods_per_month(period)
    p_alive = counts.p_alive(x, tx, age)
    p_lo, p_hi = counts.p_alive_interval(x, tx, age, level=level)
    purchases = counts.expected_purchases(horizon, x, tx, age)
    e_lo, e_hi = counts.expected_purchases_interval(horizon, x, tx, age, level=level)
    valued, flags = _valued(x, monetary, spend)
    n = x.size
    expected_spend, clv, clv_lo, clv_hi = (np.full(n, np.nan) for _ in range(4))
    if spend is not None and valued.any():
        v = valued
        expected_spend[v] = spend.conditional_expected_average_profit(x[v], monetary[v])
        kwargs: dict[str, Any] = {"horizon": horizon_months, "discount_rate": discount_rate, "freq": period}
        clv[v] = spend.clv(counts, x[v], tx[v], age[v], monetary[v], **kwargs)
        clv_lo[v], clv_hi[v] = spend.clv_interval(counts, x[v], tx[v], age[v], monetary[v], level=level, **kwargs)
    warnings += _flag_warnings(flags)
    progress.advance("clv")

    holdout: dict[str, Any] | None = None
    actual = predicted = np.full(n, np.nan)
    if holdout_end is not None:
        actual = _floats(summary, "holdout_frequency")
        holdout, predicted = holdout_report(counts, x, tx, age, actual, (holdout_end - calibration_end).days / length)
    start = observation_start or min(summary.column("first_purchase").to_pylist())
    by_period = _by_period(
        wh,
        counts,
        summary,
        start=start,
        calibration_end=calibration_end,
        end=holdout_end or calibration_end,
        observation_start=observation_start,
        period=period,
    )

    result: dict[str, Any] = {
        "model": model,
        "period": period,
        "customers": n,
        "calibration_end": calibration_end.isoformat(),
        "holdout_end": holdout_end.isoformat() if holdout_end else None,
        "observation_start": observation_start.isoformat() if observation_start else None,
        "params": _clean(counts.params_),
        "param_intervals": {k: [_num(a), _num(b)] for k, (a, b) in counts.param_intervals(level).items()},
        "log_likelihood": _num(counts.log_likelihood_),
        "iterations": counts.n_iter_,
        "converged": counts.converged_,
        "spend": spend_info,
        "clv": {
            "horizon_months": horizon_months,
            "discount_rate": discount_rate,
            "customers_valued": int(valued.sum()),
            "total": _num(np.nansum(clv)),
            "total_low": _num(np.nansum(clv_lo)),
            "total_high": _num(np.nansum(clv_hi)),
            "mean": _num(np.nanmean(clv)) if valued.any() else None,
            "expected_purchases": _num(purchases.sum()),
            "interval_level": level,
            "interval_method": INTERVAL_METHOD,
        },
        "holdout": holdout,
        "by_period": by_period,
        "warnings": warnings,
    }
    rows = pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "as_of": pa.array([calibration_end] * n, pa.date32()),
            "model": pa.array([model] * n, pa.string()),
            "period": pa.array([period] * n, pa.string()),
            "frequency": pa.array(x.astype(np.int64)),
            "recency": pa.array(tx),
            "T": pa.array(age),
            "monetary": _nullable(monetary),
            "p_alive": pa.array(p_alive),
            "p_alive_low": pa.array(p_lo),
            "p_alive_high": pa.array(p_hi),
            "horizon_months": pa.array(np.full(n, horizon_months, dtype=np.int64)),
            "expected_purchases": pa.array(purchases),
            "expected_purchases_low": pa.array(e_lo),
            "expected_purchases_high": pa.array(e_hi),
            "expected_spend": _nullable(expected_spend),
            "clv": _nullable(clv),
            "clv_low": _nullable(clv_lo),
            "clv_high": _nullable(clv_hi),
            "holdout_actual": pa.array(actual, pa.float64(), from_pandas=True).cast(pa.int64()),
            "holdout_predicted": _nullable(predicted),
            "flag": pa.array(flags, pa.string()),
        }
    )
    return result, rows


def _fit_spend(x: Array, monetary: Array) -> tuple[GammaGamma | None, dict[str, Any], list[str]]:
    usable = (x > 0) & np.isfinite(monetary) & (monetary > 0)
    info: dict[str, Any] = {"model": "gamma-gamma", "params": None, "customers": int(usable.sum())}
    try:
        spend = GammaGamma().fit(x[usable], monetary[usable])
    except ModelFitError as exc:
        info["error"] = exc.message
        return None, info, [f"Spend could not be modelled, so CLV is empty: {exc.message}"]
    info["params"] = _clean(spend.params_)
    info["log_likelihood"] = _num(spend.log_likelihood_)
    info["param_intervals"] = {k: [_num(a), _num(b)] for k, (a, b) in spend.param_intervals().items()}
    info["mean_spend"] = (
        _num(spend.params_["p"] * spend.params_["gamma"] / (spend.params_["q"] - 1))
        if (spend.params_["q"] > 1)
        else None
    )
    return spend, info, []


def _valued(x: Array, monetary: Array, spend: GammaGamma | None) -> tuple[np.ndarray[Any, Any], list[str | None]]:
    """Which customers get a CLV, and a flag for each one that does not."""
    flags: list[str | None] = [None] * x.size
    if spend is None:
        return np.zeros(x.size, dtype=bool), ["spend_model_failed"] * x.size
    ok = np.ones(x.size, dtype=bool)
    bad_spend = (x > 0) & ~(np.isfinite(monetary) & (monetary > 0))
    no_mean = (x == 0) & (spend.params_["q"] <= 1)
    for i in np.flatnonzero(bad_spend):
        flags[i] = "spend_not_positive"
    for i in np.flatnonzero(no_mean):
        flags[i] = "spend_mean_undefined"
    ok &= ~bad_spend & ~no_mean
    return ok, flags


def _flag_warnings(flags: list[str | None]) -> list[str]:
    texts = {
        "spend_not_positive": "customers have repeat purchases that net to zero or less, so their CLV is left empty",
        "spend_mean_undefined": "customers without repeat purchases cannot be valued because the spend model's "
        "q <= 1 (average spend has no finite mean)",
    }
    out = []
    for flag, text in texts.items():
        n = sum(1 for f in flags if f == flag)
        if n:
            out.append(f"{n} {text}.")
    return out


def _by_period(
    wh: Warehouse,
    counts: CountModel,
    summary: pa.Table,
    *,
    start: date,
    calibration_end: date,
    end: date,
    observation_start: date | None,
    period: str,
) -> list[dict[str, Any]]:
    """Actual and expected repeat purchases per period from ``start`` to ``end`` (the tracking chart)."""
    length = period_days(period)
    expr = repeat_purchases_by_period(
        wh.table("sales"),
        start=start,
        calibration_end=calibration_end,
        end=end,
        observation_start=observation_start,
        period=period,
    )
    actual_rows = wh.to_arrow(expr).to_pylist()
    births = np.array([(d - start).days for d in summary.column("first_purchase").to_pylist()], dtype=np.float64)
    last_day = (end - start).days
    expected = expected_by_period(counts, births, length, last_day)
    actual = np.zeros(expected.size)
    for row in actual_rows:
        actual[int(row["period_index"])] = row["repeat_purchases"]
    out = []
    cum_a = cum_e = 0.0
    for k in range(expected.size):
        first = start + timedelta(days=k * length)
        cum_a += actual[k]
        cum_e += expected[k]
        out.append(
            {
                "period": k,
                "start": first.isoformat(),
                "phase": "calibration" if first <= calibration_end else "holdout",
                "actual": int(actual[k]),
                "expected": _num(expected[k]),
                "cumulative_actual": int(cum_a),
                "cumulative_expected": _num(cum_e),
            }
        )
    return out


def _record(
    wh: Warehouse,
    *,
    as_of: date,
    model: str,
    period: str,
    status: str,
    message: str | None,
    result: dict[str, Any] | None,
) -> None:
    row = pa.table(
        {
            "run_at": pa.array([datetime.now()], pa.timestamp("us")),
            "as_of": pa.array([as_of], pa.date32()),
            "model": [model],
            "period": [period],
            "status": [status],
            "message": pa.array([message], pa.string()),
            "customers": pa.array([result["customers"] if result else None], pa.int64()),
            "log_likelihood": pa.array([result["log_likelihood"] if result else None], pa.float64()),
            "report": pa.array([json.dumps(result, ensure_ascii=False) if result else None], pa.string()),
        }
    )
    wh.insert_arrow("clv_runs", row)


def _floats(table: pa.Table, name: str) -> Array:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _nullable(values: Array) -> pa.Array:
    return pa.array(values, pa.float64(), from_pandas=True)


def _num(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def _clean(params: dict[str, float]) -> dict[str, float | None]:
    return {k: _num(v) for k, v in params.items()}
