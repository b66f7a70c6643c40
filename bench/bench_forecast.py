"""Forecasting: Salescope's per-series model choice against Prophet and seasonal naive, on real data.

Two data sets, each read straight from its CSV (independently of Salescope's importer):

(a) Superstore, weekly revenue per category (3 series, 209 complete weeks): rolling origin,
    horizon 13 weeks, five origins 13 weeks apart. Salescope uses the first origin only to
    choose; every method is scored on the last four. Prophet is fitted at each scored origin
    (yearly seasonality on, weekly and daily off: the data are weekly).
(b) Online Retail, December 2010 only (23 calendar days, no trading on Saturdays): too short
    for weekly series (three weeks), so daily units sold per product for the 100 best-selling
    products that sold on at least 15 of the 20 trading days; horizon 4 days, two origins
    (the first chooses, the second scores), weekly season 7.

MASE everywhere is Hyndman & Koehler's: MAE over the horizon divided by the in-sample MAE of
the seasonal naive forecast at that origin (``models.forecasting.mase_scale``), averaged
over origins and then series. Forecasts of every method are clipped at zero. Times are the
whole rolling-origin backtest (Salescope's includes its model selection over all candidate
models), after one untimed warm-up of each library (numba compilation, Stan model loading).
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.harness import Comparison, measure, record
from salescope.models.forecasting import Forecaster, mase_scale

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def superstore_weekly(path: Path = DATA / "superstore.csv") -> pd.DataFrame:
    df = pd.read_csv(path, encoding="utf-8-sig")
    d = pd.to_datetime(df["Order Date"], format="%m/%d/%Y")
    df["ds"] = d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    wide = df.pivot_table(index="ds", columns="Category", values="Sales", aggfunc="sum")
    weeks = pd.date_range(wide.index.min(), wide.index.max(), freq="W-MON")[:-1]  # the last week is partial
    long = wide.reindex(weeks).fillna(0.0).stack().rename("y").reset_index()
    long.columns = pd.Index(["ds", "unique_id", "y"])
    return long[["unique_id", "ds", "y"]]


def online_retail_daily(path: Path = DATA / "online_retail_2010-12.csv", top: int = 100) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"StockCode": str, "InvoiceNo": str})
    df = df[(df["Quantity"] > 0) & ~df["InvoiceNo"].str.startswith("C")]
    df["ds"] = pd.to_datetime(df["InvoiceDate"]).dt.normalize()
    days = df.groupby("StockCode")["ds"].nunique()
    units = df.groupby("StockCode")["Quantity"].sum()
    chosen = units[days >= 15].sort_values(ascending=False).index[:top]
    wide = df[df["StockCode"].isin(chosen)].pivot_table(
        index="ds", columns="StockCode", values="Quantity", aggfunc="sum"
    )
    wide = wide.reindex(pd.date_range(df["ds"].min(), df["ds"].max(), freq="D")).fillna(0.0)
    long = wide.stack().rename("y").reset_index()
    long.columns = pd.Index(["ds", "unique_id", "y"])
    return long[["unique_id", "ds", "y"]].astype({"unique_id": str})


def origins(n: int, horizon: int, windows: int) -> list[int]:
    """Training lengths at each origin, oldest first (statsforecast's cross_validation schedule)."""
    return [n - horizon * (windows - k) for k in range(windows)]


def score(
    frame: pd.DataFrame,
    predict: Callable[[pd.DataFrame, int], np.ndarray],
    horizon: int,
    windows: int,
    season: int,
    scored_from: int,
) -> float:
    """Mean over series of the mean MASE over origins ``scored_from..windows-1``."""
    per_series = []
    for _, g in frame.groupby("unique_id", sort=True):
        g = g.sort_values("ds").reset_index(drop=True)
        y = g["y"].to_numpy(dtype="float64")
        errs = []
        for cut in origins(len(y), horizon, windows)[scored_from:]:
            pred = np.clip(predict(g.iloc[:cut], horizon), 0.0, None)
            scale = mase_scale(y[:cut], season)
            errs.append(float(np.mean(np.abs(y[cut : cut + horizon] - pred))) / scale)
        per_series.append(np.mean(errs))
    return float(np.nanmean(per_series))


def seasonal_naive(season: int) -> Callable[[pd.DataFrame, int], np.ndarray]:
    def predict(train: pd.DataFrame, h: int) -> np.ndarray:
        y = train["y"].to_numpy(dtype="float64")
        last = y[-season:]
        return np.resize(last, h)

    return predict


def prophet(freq: str, yearly: bool, weekly: bool) -> Callable[[pd.DataFrame, int], np.ndarray]:
    from prophet import Prophet

    def predict(train: pd.DataFrame, h: int) -> np.ndarray:
        m = Prophet(yearly_seasonality=yearly, weekly_seasonality=weekly, daily_seasonality=False)
        m.fit(train[["ds", "y"]])
        future = m.make_future_dataframe(periods=h, freq=freq, include_history=False)
        return m.predict(future)["yhat"].to_numpy(dtype="float64")

    return predict


def ours(frame: pd.DataFrame, freq: str, horizon: int, windows: int) -> Forecaster:
    return Forecaster(freq, horizon, max_windows=windows).fit(frame)  # type: ignore[arg-type]


def run_case(
    name: str,
    size: str,
    frame: pd.DataFrame,
    *,
    freq: str,
    pandas_freq: str,
    horizon: int,
    windows: int,
    season: int,
    yearly: bool,
    weekly: bool,
) -> list[Comparison]:
    ours(frame.groupby("unique_id").head(60 if freq == "week" else 23), freq, 2, 2)  # warm-up: numba compiles
    m_ours, fitted = measure("salescope", lambda: ours(frame, freq, horizon, windows), repeats=1)
    ours_mase = fitted.mase_
    evaluated = fitted.evaluated_series_
    scored_from = 1
    m_sn, sn_mase = measure(
        "seasonal naive", lambda: score(frame, seasonal_naive(season), horizon, windows, season, scored_from), repeats=1
    )
    pr = prophet(pandas_freq, yearly, weekly)
    pr(frame[frame["unique_id"] == frame["unique_id"].iloc[0]].iloc[: max(30, 2 * horizon)], horizon)  # warm-up
    m_pr, pr_mase = measure("prophet", lambda: score(frame, pr, horizon, windows, season, scored_from), repeats=1)
    models = fitted.scores_["model"].value_counts().to_dict()
    note = (
        f"MASE salescope {ours_mase:.3f} (honest backtest: choice per series, pooled over intermittent ones; "
        f"{evaluated} series scored; chosen {models}) "
        f"vs prophet {pr_mase:.3f} vs seasonal naive {sn_mase:.3f} (ours says {fitted.baseline_mase_:.3f})"
    )
    print(f"{name} [{size}]: {note}", flush=True)
    goal = "MASE below prophet and seasonal naive; >= 3x faster than prophet"
    return [
        Comparison(name, size, m_ours, m_pr, goal, note),
        Comparison(f"{name} (baseline)", size, m_ours, m_sn, "", f"seasonal naive MASE {sn_mase:.3f}"),
    ]


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("statsforecast", "prophet", "pandas", "numpy")}


def main(argv: list[str] | None = None, *, save: bool = True) -> list[Comparison]:
    warnings.filterwarnings("ignore")
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    if not DATA.exists():
        print(f"skipped: the shared datasets are not at {DATA}")
        return []
    results: list[Comparison] = []
    store = superstore_weekly()
    t0 = time.perf_counter()
    results += run_case(
        "forecast superstore weekly by category",
        f"{store['unique_id'].nunique()} series x {store.groupby('unique_id').size().iloc[0]} weeks",
        store,
        freq="week",
        pandas_freq="W-MON",
        horizon=13,
        windows=5,
        season=52,
        yearly=True,
        weekly=False,
    )
    retail = online_retail_daily()
    results += run_case(
        "forecast online retail daily per product",
        f"{retail['unique_id'].nunique()} products x 23 days",
        retail,
        freq="day",
        pandas_freq="D",
        horizon=4,
        windows=2,
        season=7,
        yearly=False,
        weekly=True,
    )
    print(f"total {time.perf_counter() - t0:.0f}s", flush=True)
    if save:
        record("Forecasting vs Prophet and seasonal naive", results, versions())
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
