"""Per-series forecasts with statsforecast, the model chosen per series by rolling-origin backtest.

Sales series are short, noisy and often intermittent, so no single model wins
everywhere. Every series gets a small set of candidates suited to its length and
sparsity; each is scored by MASE over rolling origins, and the series keeps the
model that did best (intermittent series, whose own origins are mostly noise, share
the model that did best over all the intermittent series of their class). The
reported backtest error is *honest*: at each origin the choice is made from the
origins before it only, so picking the winner cannot flatter the number (the first
origin serves selection only).

Weekly data has a 52-week season, beyond what statsforecast's AutoETS fits (it
caps seasonal periods at 24) and slow for a seasonal ARIMA (~15 s per series
here). We handle it with MSTL: an STL decomposition with period 52 whose
seasonal part is carried forward and whose deseasonalised remainder is forecast
by a non-seasonal AutoETS. It needs two full years; shorter weekly series fall
back to non-seasonal candidates with naive as the baseline.

Forecasts and interval bounds are clipped at zero: sales cannot be negative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from salescope.errors import InputError, ModelFitError

Freq = Literal["day", "week", "month"]

SEASON: dict[str, int] = {"day": 7, "week": 52, "month": 12}
PANDAS_FREQ: dict[str, str] = {"day": "D", "week": "W-MON", "month": "MS"}
DEFAULT_HORIZON: dict[str, int] = {"day": 14, "week": 13, "month": 6}
LEVELS: tuple[int, ...] = (80, 95)
BASELINE = "SeasonalNaive"
INTERMITTENT_ZERO_SHARE = 0.3
# AutoARIMA is tried on monthly and daily series while there are at most this many. On weekly data it is
# left out by default: measured on Superstore weekly by category it cost ~1 s per series and origin (18x the
# rest together) and never beat MSTL or AutoETS.
ARIMA_MAX_SERIES = 50


@dataclass(frozen=True)
class SeriesClass:
    """Series that share a candidate set and a backtest schedule, so they run in one statsforecast call."""

    seasonal: bool
    intermittent: bool
    windows: int


@dataclass
class ForecastResult:
    """What a forecasting run produced: the choice per series, its honest backtest, the forecasts."""

    freq: str
    horizon: int
    season_length: int
    scores: pd.DataFrame  # series, model, mase, baseline_mase, windows
    forecasts: pd.DataFrame  # series, ds, model, forecast, lo80, hi80, lo95, hi95
    mase: float | None
    baseline_mase: float | None
    evaluated_series: int
    models: dict[str, int] = field(default_factory=dict)


def _models() -> Any:
    # Imported here: statsforecast compiles with numba on import, which commands that never forecast should not pay.
    from statsforecast import models

    return models


def _conformal(h: int) -> Any:
    from statsforecast.utils import ConformalIntervals

    return ConformalIntervals(h=h, n_windows=2)


def _fourier_ets(season: int, terms: int, alias: str) -> Any:
    """A statsforecast model: a smooth Fourier season (``terms`` harmonics, fitted on the series less its
    centred moving average) plus a non-seasonal AutoETS of what remains.

    It complements MSTL on weekly data: with two to four years of weeks, STL's week-by-week seasonal
    estimate carries each year's noise into every future year, while a handful of harmonics carry only
    the shape (the same idea as Prophet's yearly seasonality, which is a Fourier series too).
    """
    m = _models()

    class FourierETS(m.MSTL):  # type: ignore[misc,name-defined]
        def forecast(
            self,
            y: np.ndarray,
            h: int,
            X: Any = None,
            X_future: Any = None,
            level: list[int] | None = None,
            fitted: bool = False,
        ) -> dict[str, Any]:
            y = np.asarray(y, dtype="float64")
            n = len(y)
            beta = _fourier_beta(y - _centred_mean(y, season), season, terms)
            seas = _fourier_basis(np.arange(n + h), season, terms) @ beta
            res: dict[str, Any] = self.trend_forecaster.forecast(y=y - seas[:n], h=h, level=level, fitted=fitted)
            return {
                k: v + (seas[:n] if k.startswith("fitted") else seas[n:]) if isinstance(v, np.ndarray) else v
                for k, v in res.items()
            }

    return FourierETS(season_length=season, trend_forecaster=m.AutoETS(model="ZZN"), alias=alias)


def candidates(freq: str, cls: SeriesClass, *, arima: bool, horizon: int, with_intervals: bool = False) -> list[Any]:
    """The statsforecast models tried for one class of series; the seasonal-naive baseline comes first."""
    m = _models()
    season = SEASON[freq]
    conformal = _conformal(horizon) if with_intervals else None
    out: list[Any] = [
        m.SeasonalNaive(season_length=season, alias=BASELINE) if cls.seasonal else m.Naive(alias=BASELINE)
    ]
    if cls.intermittent:
        # Sparse series: the intermittent-demand methods and a level. Seasonal decompositions of a series that
        # is mostly zeros fit noise and cost most of the time (measured: 200 Superstore products by week,
        # where they were almost never chosen).
        out.append(m.AutoETS(season_length=1, alias="AutoETS"))
        out.append(m.CrostonOptimized(alias="CrostonOptimized", prediction_intervals=conformal))
        out.append(m.ADIDA(alias="ADIDA", prediction_intervals=conformal))
        out.append(m.IMAPA(alias="IMAPA", prediction_intervals=conformal))
    elif cls.seasonal and season > 24:
        out.append(m.MSTL(season_length=season, trend_forecaster=m.AutoETS(model="ZZN"), alias="MSTL"))
        out.append(_fourier_ets(season, FOURIER_FORECAST_TERMS, "FourierETS"))
        out.append(m.AutoETS(season_length=1, alias="AutoETS"))
        if arima:
            out.append(m.AutoARIMA(season_length=1, alias="AutoARIMA"))
    else:
        s = season if cls.seasonal else 1
        out.append(m.AutoETS(season_length=s, alias="AutoETS"))
        out.append(m.AutoTheta(season_length=s, alias="AutoTheta"))
        if arima and cls.seasonal:
            out.append(m.AutoARIMA(season_length=s, alias="AutoARIMA"))
    return out


def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    missing = {"unique_id", "ds", "y"} - set(frame.columns)
    if missing:
        raise InputError(
            "the series frame lacks columns", column=", ".join(sorted(missing)), expected="unique_id, ds, y"
        )
    out = frame[["unique_id", "ds", "y"]].copy()
    out["unique_id"] = out["unique_id"].astype(str)
    out["ds"] = pd.to_datetime(out["ds"])
    out["y"] = out["y"].astype("float64")
    bad = out[~np.isfinite(out["y"].to_numpy())]
    if len(bad):
        row = bad.iloc[0]
        raise InputError(
            f"series {row['unique_id']} has a missing or infinite value on {row['ds']:%Y-%m-%d}",
            column="y",
            expected="a number for every period (fill periods without sales with 0)",
        )
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


class Forecaster:
    """Choose a model per series by rolling-origin backtest, then forecast with it.

    scikit-learn style: ``fit`` runs the backtest and sets ``scores_``, ``choices_``,
    ``mase_`` and ``baseline_mase_``; ``predict`` refits each series' chosen model on
    all of its history and returns the horizon with prediction intervals.
    """

    def __init__(
        self,
        freq: Freq = "week",
        horizon: int | None = None,
        *,
        max_windows: int = 5,
        levels: Sequence[int] = LEVELS,
        arima: bool | None = None,
    ) -> None:
        if freq not in SEASON:
            raise InputError("unknown forecast frequency", value=freq, expected="day, week or month")
        self.freq = freq
        self.season_length = SEASON[freq]
        self.horizon = horizon or DEFAULT_HORIZON[freq]
        if self.horizon < 1:
            raise InputError("the forecast horizon must be at least one period", value=horizon, expected="N >= 1")
        self.max_windows = max_windows
        self.levels = tuple(levels)
        self.arima = arima

    # -- classification -------------------------------------------------------
    def _classify(self, y: np.ndarray) -> SeriesClass:
        n, h, m = len(y), self.horizon, self.season_length
        intermittent = bool(np.mean(y == 0) >= INTERMITTENT_ZERO_SHARE)
        seasonal_windows = min(self.max_windows, (n - 2 * m) // h)
        if seasonal_windows >= 2:
            return SeriesClass(True, intermittent, seasonal_windows)
        plain_windows = min(self.max_windows, (n - max(2 * h, 8)) // h)
        return SeriesClass(False, intermittent, max(plain_windows, 0))

    def _arima(self, n_series: int) -> bool:
        if self.arima is not None:
            return self.arima
        return self.freq != "week" and n_series <= ARIMA_MAX_SERIES

    def _stats(self, models: list[Any]) -> Any:
        from statsforecast import StatsForecast

        fallback = _models().Naive()
        return StatsForecast(models=models, freq=PANDAS_FREQ[self.freq], n_jobs=1, fallback_model=fallback)

    # -- fit ------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, progress: Callable[[], None] | None = None) -> Forecaster:
        data = _check_frame(frame)
        if data.empty:
            raise InputError("there is no sales history to forecast", expected="at least one series with sales")
        self.data_ = data
        groups: dict[SeriesClass, list[str]] = {}
        for uid, y in data.groupby("unique_id", sort=True)["y"]:
            groups.setdefault(self._classify(y.to_numpy()), []).append(str(uid))
        self.classes_ = {uid: cls for cls, uids in groups.items() for uid in uids}
        arima = self._arima(data["unique_id"].nunique())
        rows: list[dict[str, Any]] = []
        for cls, uids in sorted(groups.items(), key=lambda kv: (kv[0].seasonal, kv[0].intermittent, kv[0].windows)):
            sub = data[data["unique_id"].isin(uids)]
            if cls.windows < 1:
                rows.extend(
                    {"series": u, "model": "AutoETS", "mase": math.nan, "baseline_mase": math.nan, "windows": 0}
                    for u in uids
                )
            else:
                rows.extend(self._backtest_class(sub, cls, arima))
            if progress is not None:
                progress()
        self.scores_ = pd.DataFrame(rows, columns=["series", "model", "mase", "baseline_mase", "windows"])
        self.choices_ = dict(zip(self.scores_["series"], self.scores_["model"], strict=True))
        evaluated = self.scores_[self.scores_["windows"] >= 2].dropna(subset=["mase", "baseline_mase"])
        self.evaluated_series_ = len(evaluated)
        self.mase_ = float(evaluated["mase"].mean()) if len(evaluated) else None
        self.baseline_mase_ = float(evaluated["baseline_mase"].mean()) if len(evaluated) else None
        return self

    def _backtest_class(self, sub: pd.DataFrame, cls: SeriesClass, arima: bool) -> list[dict[str, Any]]:
        h = self.horizon
        models = candidates(self.freq, cls, arima=arima, horizon=h)
        names = [mod.alias for mod in models]
        cv = self._stats(models).cross_validation(h=h, df=sub, n_windows=cls.windows, step_size=h)
        errors = window_mase(sub, cv, names, self.season_length if cls.seasonal else 1)
        if cls.intermittent:
            return _select_pooled(errors, names)
        return [_select(str(uid), err, names) for uid, err in errors.groupby("unique_id", sort=True)]

    # -- predict --------------------------------------------------------------------
    def predict(self, progress: Callable[[], None] | None = None) -> pd.DataFrame:
        """Forecast ``horizon`` periods per series with its chosen model; never negative."""
        h = self.horizon
        arima = self._arima(len(self.choices_))
        parts: list[pd.DataFrame] = []
        by_fit: dict[tuple[SeriesClass, str], list[str]] = {}
        for uid, model in self.choices_.items():
            by_fit.setdefault((self.classes_[uid], model), []).append(uid)
        for (cls, model), uids in sorted(by_fit.items(), key=lambda kv: (kv[0][1], kv[0][0].windows)):
            sub = self.data_[self.data_["unique_id"].isin(uids)]
            lengths = sub.groupby("unique_id").size()
            with_intervals = bool(lengths.min() >= 3 * h)
            pool = candidates(self.freq, cls, arima=arima, horizon=h, with_intervals=with_intervals)
            chosen = [mod for mod in pool if mod.alias == model]
            if not chosen:
                chosen = [_models().AutoETS(season_length=1, alias=model)]
            fc = self._stats(chosen).forecast(h=h, df=sub, level=list(self.levels))
            parts.append(_tidy(fc, model, self.levels))
            if progress is not None:
                progress()
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        value_cols = ["forecast"] + [f"{side}{lv}" for lv in self.levels for side in ("lo", "hi")]
        out[value_cols] = out[value_cols].clip(lower=0.0)
        if not np.isfinite(out["forecast"].to_numpy()).all():
            raise ModelFitError(f"A {self.freq}ly forecast came out non-finite; the sales history may be degenerate.")
        return out.sort_values(["series", "ds"], ignore_index=True)

    def result(self, forecasts: pd.DataFrame) -> ForecastResult:
        counts = self.scores_["model"].value_counts()
        return ForecastResult(
            freq=self.freq,
            horizon=self.horizon,
            season_length=self.season_length,
            scores=self.scores_,
            forecasts=forecasts,
            mase=self.mase_,
            baseline_mase=self.baseline_mase_,
            evaluated_series=self.evaluated_series_,
            models={str(k): int(v) for k, v in counts.items()},
        )


def _tidy(fc: pd.DataFrame, model: str, levels: Sequence[int]) -> pd.DataFrame:
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    out = pd.DataFrame(
        {
            "series": fc["unique_id"].astype(str),
            "ds": pd.to_datetime(fc["ds"]),
            "model": model,
            "forecast": fc[model].astype("float64"),
        }
    )
    for lv in levels:
        for side in ("lo", "hi"):
            col = f"{model}-{side}-{lv}"
            out[f"{side}{lv}"] = fc[col].astype("float64") if col in fc.columns else math.nan
    return out


def mase_scale(y_train: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast (lag 1 when the history is shorter than a season).

    This is Hyndman & Koehler's MASE denominator; a series whose every in-sample
    difference is zero has no scale and is left out of MASE averages (NaN).
    """
    lag = season if len(y_train) > season else 1
    if len(y_train) <= lag:
        return math.nan
    scale = float(np.mean(np.abs(y_train[lag:] - y_train[:-lag])))
    return scale if scale > 0 else math.nan


def window_mase(data: pd.DataFrame, cv: pd.DataFrame, models: Sequence[str], season: int) -> pd.DataFrame:
    """MASE per series, origin and model from a statsforecast cross-validation frame."""
    cv = cv.reset_index() if "unique_id" not in cv.columns else cv
    history = {str(uid): g for uid, g in data.groupby("unique_id", sort=False)}
    rows: list[dict[str, Any]] = []
    for (uid, cutoff), w in cv.groupby(["unique_id", "cutoff"], sort=True):
        hist = history[str(uid)]
        scale = mase_scale(hist.loc[hist["ds"] <= cutoff, "y"].to_numpy(), season)
        actual = w["y"].to_numpy()
        row: dict[str, Any] = {"unique_id": str(uid), "cutoff": cutoff}
        for name in models:
            pred = np.clip(w[name].to_numpy(dtype="float64"), 0.0, None)
            row[name] = float(np.mean(np.abs(actual - pred))) / scale
        rows.append(row)
    return pd.DataFrame(rows)


def _select(uid: str, err: pd.DataFrame, names: Sequence[str]) -> dict[str, Any]:
    """Walk the origins in order: each is scored with the model the earlier origins preferred."""
    err = err.sort_values("cutoff")
    table = err[list(names)].to_numpy(dtype="float64")
    base = names.index(BASELINE)
    final = names[_best(table)]
    if len(table) < 2:
        best = _best(table)
        return {
            "series": uid,
            "model": final,
            "mase": float(table[0, best]),
            "baseline_mase": float(table[0, base]),
            "windows": 1,
        }
    chosen = [table[k, _best(table[:k])] for k in range(1, len(table))]
    return {
        "series": uid,
        "model": final,
        "mase": float(np.mean(chosen)),
        "baseline_mase": float(np.mean(table[1:, base])),
        "windows": len(table),
    }


def _select_pooled(errors: pd.DataFrame, names: Sequence[str]) -> list[dict[str, Any]]:
    """One model for a whole class of intermittent series, chosen on all their origins together.

    A sparse series' own few origins are mostly noise (a week with one order decides the
    winner), and picking its best of six or seven candidates rewards luck: measured on
    Superstore weekly per product and monthly per customer, per-series choice lost to
    seasonal naive (1.38 vs 1.31, 2.22 vs 2.18) while the pooled choice beat it (1.29, 2.08).
    The walk is the same honest one as :func:`_select`, with the evidence pooled.
    """
    tables = {
        str(uid): g.sort_values("cutoff")[list(names)].to_numpy(dtype="float64")
        for uid, g in errors.groupby("unique_id", sort=True)
    }
    windows = min(len(t) for t in tables.values())
    base = names.index(BASELINE)
    final = names[_best(np.vstack(list(tables.values())))]
    if windows < 2:
        pick = names.index(final)
        return [
            {"series": uid, "model": final, "mase": float(t[0, pick]), "baseline_mase": float(t[0, base]), "windows": 1}
            for uid, t in tables.items()
        ]
    picks = [_best(np.vstack([t[:k] for t in tables.values()])) for k in range(1, windows)]
    return [
        {
            "series": uid,
            "model": final,
            "mase": float(np.mean([t[k, picks[k - 1]] for k in range(1, windows)])),
            "baseline_mase": float(np.mean(t[1:windows, base])),
            "windows": windows,
        }
        for uid, t in tables.items()
    ]


def _best(table: np.ndarray) -> int:
    """Column with the lowest mean over the finite entries (origins without a MASE scale are skipped)."""
    finite = np.isfinite(table)
    counts = finite.sum(axis=0)
    if not counts.any():
        return 0
    sums = np.where(finite, table, 0.0).sum(axis=0)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)
    return int(np.argmin(means))


def forecast(
    frame: pd.DataFrame,
    *,
    freq: Freq = "week",
    horizon: int | None = None,
    max_windows: int = 5,
    arima: bool | None = None,
) -> ForecastResult:
    """Backtest, choose and forecast in one call: the notebook entry point."""
    f = Forecaster(freq, horizon, max_windows=max_windows, arima=arima).fit(frame)
    return f.result(f.predict())


# Without a usable season the trend is a centred running median this many periods wide.
LOCAL_WINDOW = 13
# STL needs this many cycles per seasonal subseries; with fewer, its seasonal LOESS all but interpolates each
# position's handful of values, swallows the outliers and collapses the residual scale.
STL_MIN_CYCLES = 6
# Residuals smaller than this share of the series' mean level are never "far out" (see ``_far_out``).
MIN_RELATIVE_SCALE = 0.01
# Harmonics of the yearly shape in the FourierETS forecaster (Prophet's default for yearly seasonality is 10).
FOURIER_FORECAST_TERMS = 6
# Harmonics of the seasonal shape fitted when there are too few cycles for STL.
FOURIER_TERMS = 6


@dataclass(frozen=True)
class Decomposition:
    trend: np.ndarray
    seasonal: np.ndarray
    remainder: np.ndarray


def decompose(y: np.ndarray, period: int) -> Decomposition:
    """Trend + seasonal + remainder, built to leave outliers in the remainder.

    With ``STL_MIN_CYCLES`` or more cycles (daily data, period 7): STL. With two to
    five cycles (two or three years of weeks): a centred moving-average trend one season
    wide and a smooth seasonal shape of a few Fourier terms (see ``_fourier_season``). With less
    than two cycles: only a running-median trend. statsmodels' STL is called directly
    rather than through statsforecast, whose import (numba and all its models) costs
    seconds that anomaly detection has no use for.
    """
    y = np.asarray(y, dtype="float64")
    n = len(y)
    if period < 2 or n < 2 * period + 1:
        trend = _running_median(y, LOCAL_WINDOW)
        return Decomposition(trend, np.zeros_like(y), y - trend)
    if n >= STL_MIN_CYCLES * period:
        from statsmodels.tsa.seasonal import STL  # type: ignore[import-untyped]

        # Not STL's robust mode: its reweighting pulls the fit through most points and shrinks the residual
        # scale the z-scores divide by (measured: 20x the false alarms on simulated daily sales). Instead the
        # points a first fit leaves far out are replaced by their seasonal neighbours and STL runs again, so a
        # spike neither leaks into the neighbouring weeks' season nor hides in its own.
        fit = STL(y, period=period).fit()
        far = _far_out(np.asarray(fit.resid, dtype="float64"), MIN_RELATIVE_SCALE * float(np.mean(np.abs(y))))
        if far.any():
            fit = STL(_seasonal_fill(y, far, period), period=period).fit()
        trend = np.asarray(fit.trend, dtype="float64")
        seasonal = np.asarray(fit.seasonal, dtype="float64")
        return Decomposition(trend, seasonal, y - trend - seasonal)
    trend = _centred_mean(y, period)
    seasonal = _fourier_season(y - trend, period)
    return Decomposition(trend, seasonal, y - trend - seasonal)


def _fourier_basis(t: np.ndarray, period: int, terms: int) -> np.ndarray:
    k = np.arange(1, min(terms, period // 2) + 1)
    angle = 2 * np.pi * np.outer(t, k) / period
    return np.hstack([np.sin(angle), np.cos(angle)])


def _fourier_beta(detrended: np.ndarray, period: int, terms: int = FOURIER_TERMS) -> np.ndarray:
    """Least squares on ``terms`` sine/cosine pairs, refitted once without the points the first fit leaves
    far out (|robust z| > 3.5), so a spike neither bends the shape nor hides in it."""
    x = _fourier_basis(np.arange(len(detrended)), period, terms)
    keep = np.ones(len(detrended), dtype=bool)
    beta = np.zeros(x.shape[1])
    for _ in range(2):
        beta = np.linalg.lstsq(x[keep], detrended[keep], rcond=None)[0]
        keep = ~_far_out(detrended - x @ beta, MIN_RELATIVE_SCALE * float(np.mean(np.abs(detrended))))
    return np.asarray(beta, dtype="float64")


def _fourier_season(detrended: np.ndarray, period: int) -> np.ndarray:
    """A smooth seasonal shape of a few Fourier terms: free per-week values from two or three cycles would
    fit the noise instead."""
    beta = _fourier_beta(detrended, period)
    return np.asarray(_fourier_basis(np.arange(len(detrended)), period, FOURIER_TERMS) @ beta, dtype="float64")


def _seasonal_fill(y: np.ndarray, far: np.ndarray, period: int) -> np.ndarray:
    """``y`` with each far-out point replaced by the median of the same seasonal position up to three cycles
    either side. Those neighbours' own values count even when they were flagged: a first fit spreads a
    spike over them, but their values are sound, and a median of six ignores the odd real outlier."""
    out = y.copy()
    for i in np.flatnonzero(far):
        near = [i + k * period for k in (-3, -2, -1, 1, 2, 3) if 0 <= i + k * period < len(y)]
        if near:
            out[i] = float(np.median(y[near]))
    return out


def _far_out(resid: np.ndarray, min_scale: float = 0.0, cut: float = 3.5) -> np.ndarray:
    """Points beyond ``cut`` robust SDs (median and MAD, or the mean absolute deviation when most residuals tie),
    the SD floored at ``min_scale`` so a series that repeats itself exactly does not make every wobble far out."""
    med = float(np.median(resid))
    dev = np.abs(resid - med)
    scale = max(1.4826 * float(np.median(dev)) or 1.2533 * float(np.mean(dev)), min_scale)
    if scale == 0:
        return np.zeros(len(resid), dtype=bool)
    return np.asarray(dev > cut * scale)


def _centred_mean(y: np.ndarray, period: int) -> np.ndarray:
    """The classical 2 x m moving average (m x 1 for odd m): exact on a pure seasonal pattern, and one outlier
    moves it by only 1/m of its size; the ends repeat the nearest full-window value."""
    weights = np.full(period, 1.0 / period) if period % 2 else np.r_[0.5, np.ones(period - 1), 0.5] / period
    half = len(weights) // 2
    inner = np.convolve(y, weights, mode="valid")
    return np.r_[np.full(half, inner[0]), inner, np.full(len(y) - len(inner) - half, inner[-1])]


def _running_median(y: np.ndarray, window: int) -> np.ndarray:
    """Centred running median; the half-window at each end repeats the nearest full-window value, since a
    truncated window over a seasonal series would bend the trend toward whichever half-season it sees."""
    window = min(window, len(y) if len(y) % 2 else len(y) - 1)
    med = pd.Series(y).rolling(window, center=True, min_periods=window).median()
    return med.ffill().bfill().to_numpy(dtype="float64")
