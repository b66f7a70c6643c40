"""`salescope forecast`: revenue series from the warehouse, a model per series, forecasts materialised.

The series are aggregated in the engine (one row per series and period), so only
those small frames reach statsforecast. A period the data only partly covers (the
week of the last order, say) is left out of the history: it would look like a
sales collapse and drag every forecast down.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import ibis
import pandas as pd
import pyarrow as pa

from salescope.errors import InputError
from salescope.models.forecasting import BASELINE, DEFAULT_HORIZON, Forecaster
from salescope.services.progress import NoProgress, Progress

if TYPE_CHECKING:
    from salescope.engine.warehouse import Warehouse
    from salescope.services.workspace import Workspace

By = Literal["total", "category", "product", "region", "customer"]
BY_CHOICES: tuple[str, ...] = ("total", "category", "product", "region", "customer")
FREQ_CHOICES: tuple[str, ...] = ("week", "month")
# Product and customer forecasts cover the series with the most revenue; the rest are too sparse to be worth a model.
MAX_SERIES = 200
NONE_LABEL = "(none)"


def _period_start(d: ibis.Value, freq: str) -> ibis.Value:
    return d.truncate("W" if freq == "week" else "M").cast("date")


def _last_day(start: date, freq: str) -> date:
    if freq == "week":
        return start + timedelta(days=6)
    nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def series_expr(wh: Warehouse, *, by: str, freq: str, as_of: date | None = None) -> ibis.Table:
    """Revenue per series and period (``unique_id``, ``ds``, ``y``), built in the engine."""
    s = wh.table("sales")
    if as_of is not None:
        s = s.filter(s.order_date <= as_of)
    if by == "category":
        p = wh.table("products").select("product_id", "category")
        s = s.left_join(p, s.product_id == p.product_id)
        key = ibis.coalesce(s.category, NONE_LABEL)
    elif by == "product":
        key = s.product_id
    elif by == "region":
        key = ibis.coalesce(s.region, NONE_LABEL)
    elif by == "customer":
        s = s.filter(s.customer_id.notnull())
        key = s.customer_id
    else:
        key = ibis.literal("total")
    t = s.select(unique_id=key, ds=_period_start(s.order_date, freq), amount=s.amount)
    return t.group_by(["unique_id", "ds"]).aggregate(y=t.amount.sum().cast("float64"))


def load_series(
    wh: Warehouse, *, by: str, freq: str, as_of: date | None = None, max_series: int = MAX_SERIES
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Gap-filled series ending at the last complete period, the ``max_series`` largest by revenue."""
    s = wh.table("sales")
    if as_of is not None:
        s = s.filter(s.order_date <= as_of)
    last_day = wh.to_arrow(s.aggregate(d=s.order_date.max())).column("d")[0].as_py()
    if last_day is None:
        raise InputError("there are no sales to forecast; import order lines first", expected="a sales import")
    expr = series_expr(wh, by=by, freq=freq, as_of=as_of)
    totals = expr.group_by("unique_id").aggregate(total=expr.y.sum())
    total_series = wh.to_arrow(totals.aggregate(n=totals.unique_id.count())).column("n")[0].as_py()
    top = totals.order_by([ibis.desc("total"), "unique_id"]).limit(max_series)
    expr = expr.semi_join(top, expr.unique_id == top.unique_id)
    raw = wh.to_pandas(expr)
    last_start = pd.Timestamp(_period_start_py(last_day, freq))
    partial = last_day < _last_day(last_start.date(), freq)
    end = (
        last_start - (pd.DateOffset(weeks=1) if freq == "week" else pd.DateOffset(months=1)) if partial else last_start
    )
    step = "W-MON" if freq == "week" else "MS"
    raw["ds"] = pd.to_datetime(raw["ds"])
    raw = raw[raw["ds"] <= end]
    frames = []
    for uid, g in raw.groupby("unique_id", sort=True):
        idx = pd.date_range(g["ds"].min(), end, freq=step)
        y = g.set_index("ds")["y"].reindex(idx, fill_value=0.0)
        frames.append(pd.DataFrame({"unique_id": str(uid), "ds": idx, "y": y.to_numpy(dtype="float64")}))
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["unique_id", "ds", "y"])
    info = {
        "series_total": int(total_series or 0),
        "last_order_date": last_day.isoformat(),
        "last_period": end.date().isoformat() if len(data) else None,
        "dropped_partial_period": bool(partial),
    }
    return data, info


def _period_start_py(d: date, freq: str) -> date:
    return d - timedelta(days=d.weekday()) if freq == "week" else d.replace(day=1)


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), 4)


def run_forecast(
    ws: Workspace,
    *,
    by: str = "total",
    freq: str = "week",
    horizon: int | None = None,
    progress: Progress | None = None,
    as_of: date | None = None,
    max_series: int = MAX_SERIES,
) -> dict[str, Any]:
    """Backtest, choose, forecast and materialise one (by, freq) run; returns the ``--json`` dict of DESIGN §5."""
    if by not in BY_CHOICES:
        raise InputError("unknown forecast grouping", column="--by", value=by, expected=", ".join(BY_CHOICES))
    if freq not in FREQ_CHOICES:
        raise InputError("unknown forecast frequency", column="--freq", value=freq, expected="week or month")
    if horizon is not None and horizon < 1:
        raise InputError("the horizon must be at least one period", column="--horizon", value=horizon, expected="N>=1")
    progress = progress or NoProgress()
    wh = ws.warehouse
    data, info = load_series(wh, by=by, freq=freq, as_of=as_of, max_series=max_series)
    if data.empty:
        raise InputError(
            f"no complete {freq} of sales to forecast from", expected="sales covering at least one full period"
        )
    fc = Forecaster(freq, horizon or DEFAULT_HORIZON[freq])  # type: ignore[arg-type]
    n_series = data["unique_id"].nunique()
    progress.start("forecast", total=2.0)
    fc.fit(data)
    progress.advance("forecast")
    forecasts = fc.predict()
    progress.advance("forecast")
    progress.finish("forecast")
    result = fc.result(forecasts)
    _materialise(wh, by, freq, result.scores, forecasts)
    scores = result.scores
    return {
        "by": by,
        "series": int(n_series),
        "freq": freq,
        "horizon": fc.horizon,
        "models": result.models,
        "backtest": {
            "mase": _num(result.mase),
            "baseline": "seasonal_naive",
            "baseline_mase": _num(result.baseline_mase),
            "evaluated_series": result.evaluated_series,
            "max_windows": fc.max_windows,
            "method": "rolling origin, step = horizon; at each origin the model is the one the earlier origins chose",
        },
        **info,
        "choices": [
            {
                "series": r["series"],
                "model": r["model"],
                "mase": _num(r["mase"]),
                "baseline_mase": _num(r["baseline_mase"]),
                "windows": int(r["windows"]),
            }
            for r in scores.to_dict("records")
        ],
        "forecasts": [
            {
                "series": r["series"],
                "ds": r["ds"].date().isoformat(),
                "model": r["model"],
                **{k: _num(r[k]) for k in ("forecast", "lo80", "hi80", "lo95", "hi95")},
            }
            for r in forecasts.to_dict("records")
        ],
    }


def _materialise(wh: Warehouse, by: str, freq: str, scores: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    merged = forecasts.merge(scores[["series", "mase", "baseline_mase"]], on="series", how="left")
    n = len(merged)
    table = pa.table(
        {
            "created_at": pa.array([datetime.now().replace(microsecond=0)] * n, pa.timestamp("us")),
            "by": [by] * n,
            "freq": [freq] * n,
            "series": merged["series"].astype(str).tolist(),
            "ds": pa.array([d.date() for d in merged["ds"]], pa.date32()),
            "model": merged["model"].astype(str).tolist(),
            **{
                c: pa.array(merged[c].astype("float64").to_numpy(), pa.float64(), from_pandas=True)
                for c in ("forecast", "lo80", "hi80", "lo95", "hi95", "mase", "baseline_mase")
            },
        }
    )
    with wh.transaction():
        wh.execute('DELETE FROM forecasts WHERE "by" = ? AND freq = ?', [by, freq])
        wh.insert_arrow("forecasts", table)


def forecast_step(ws: Workspace, as_of: date | None) -> None:
    """The analyze step: weekly totals and categories, monthly totals, so pages have forecasts to show."""
    for by, freq in (("total", "week"), ("category", "week"), ("total", "month")):
        try:
            run_forecast(ws, by=by, freq=freq, as_of=as_of)
        except InputError:
            continue


__all__ = ["BASELINE", "BY_CHOICES", "FREQ_CHOICES", "forecast_step", "load_series", "run_forecast"]
