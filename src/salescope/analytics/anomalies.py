"""Unusual days and weeks per KPI and slice: robust z-scores of STL residuals.

A week is unusual when it departs from what its trend and season predict, not when it
is merely large: December is big every year. The series is decomposed by robust STL
(the seasonal period 7 for days, 52 for weeks, 12 for months, when the history holds
two full seasons; otherwise only a local-median trend is removed), and the residuals
are scored with the median and MAD, which one wild week cannot inflate the way it
inflates a standard deviation. |z| >= 3.5 is Iglewicz and Hoaglin's outlier cut-off.

This works on the KPI rows (one per period and slice), never on order lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from salescope.models.forecasting import MIN_RELATIVE_SCALE, decompose

THRESHOLD = 3.5
METRICS: tuple[str, ...] = ("revenue", "orders", "customers_active")
SEASON: dict[str, int] = {"day": 7, "week": 52, "month": 12}
MIN_POINTS = 8
_MAD_TO_SD = 1.4826
_FIRST_MONDAY = date(1970, 1, 5)
COLUMNS = ["freq", "metric", "dim", "slice", "period", "period_start", "value", "expected", "z", "direction"]


def robust_z(x: np.ndarray, min_scale: float = 0.0) -> np.ndarray:
    """(x - median) / (1.4826 MAD); the mean absolute deviation stands in when over half the values tie.

    ``min_scale`` floors the scale, so a series that repeats itself almost exactly does
    not turn rounding noise into "anomalies".
    """
    x = np.asarray(x, dtype="float64")
    med = float(np.median(x))
    dev = np.abs(x - med)
    scale = _MAD_TO_SD * float(np.median(dev))
    if scale == 0:
        scale = 1.2533 * float(np.mean(dev))  # sqrt(pi/2): mean absolute deviation to SD under normality
    scale = max(scale, min_scale)
    if scale == 0:
        return np.zeros_like(x)
    return (x - med) / scale


def period_of(freq: str, idx: int) -> tuple[str, date]:
    """The label and first day of period ``idx`` (the inverse of ``kpis.assign_period`` for day/week/month)."""
    if freq == "day":
        d = date(1970, 1, 1) + timedelta(days=idx)
        return d.isoformat(), d
    if freq == "week":
        d = _FIRST_MONDAY + timedelta(weeks=idx)
        iso = d.isocalendar()
        return f"{iso.year}-W{iso.week:02d}", d
    d = date(idx // 12, idx % 12 + 1, 1)
    return f"{d.year}-{d.month:02d}", d


def detect(idx: np.ndarray, values: np.ndarray, freq: str, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Flag the periods of one regular series; ``idx`` are consecutive period numbers (gaps are zero sales)."""
    idx = np.asarray(idx, dtype="int64")
    values = np.asarray(values, dtype="float64")
    full_idx = np.arange(int(idx.min()), int(idx.max()) + 1)
    full = pd.Series(values, index=idx).reindex(full_idx, fill_value=0.0).to_numpy()
    if len(full) < MIN_POINTS:
        return pd.DataFrame(columns=["period_idx", "value", "expected", "z"])
    parts = decompose(full, SEASON.get(freq, 1))
    # Departures under MIN_RELATIVE_SCALE x the mean level are noise whatever the residuals' own spread.
    z = robust_z(parts.remainder, MIN_RELATIVE_SCALE * float(np.mean(np.abs(full))))
    hit = np.abs(z) >= threshold
    return pd.DataFrame(
        {
            "period_idx": full_idx[hit],
            "value": full[hit],
            "expected": (parts.trend + parts.seasonal)[hit],
            "z": z[hit],
        }
    )


def detect_all(kpis: pd.DataFrame, metrics: Sequence[str] = METRICS, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Anomalies over KPI rows (``freq``, ``dim``, ``slice``, ``period_idx`` and the metric columns)."""
    found: list[pd.DataFrame] = []
    for (freq, dim, slc), g in kpis.groupby(["freq", "dim", "slice"], sort=True):
        for metric in metrics:
            s = g[["period_idx", metric]].dropna()
            if s.empty:
                continue
            hits = detect(s["period_idx"].to_numpy(), s[metric].astype("float64").to_numpy(), str(freq), threshold)
            if hits.empty:
                continue
            labels = [period_of(str(freq), int(i)) for i in hits["period_idx"]]
            found.append(
                hits.assign(
                    freq=str(freq),
                    metric=metric,
                    dim=str(dim),
                    slice=str(slc),
                    period=[lab for lab, _ in labels],
                    period_start=[d for _, d in labels],
                    direction=np.where(hits["z"] > 0, "high", "low"),
                )
            )
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(found, ignore_index=True)[COLUMNS]
