"""Forecast wrappers: the MASE arithmetic by hand, the honest selection rule, and real-data backtests."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salescope.errors import InputError
from salescope.models.forecasting import BASELINE, Forecaster, _select, _select_pooled, mase_scale


def superstore_weekly_by_category(shared_data: Path) -> pd.DataFrame:
    """Weekly (Monday) sales per category read straight from the CSV, the partial last week dropped."""
    df = pd.read_csv(shared_data / "superstore.csv", encoding="utf-8-sig")
    d = pd.to_datetime(df["Order Date"], format="%m/%d/%Y")
    df["ds"] = d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    wide = df.pivot_table(index="ds", columns="Category", values="Sales", aggfunc="sum")
    weeks = pd.date_range(wide.index.min(), wide.index.max(), freq="W-MON")[:-1]  # last order 2019-12-30, a Monday
    wide = wide.reindex(weeks).fillna(0.0)
    long = wide.stack().rename("y").reset_index()
    long.columns = pd.Index(["ds", "unique_id", "y"])
    return long


def test_mase_scale_is_the_in_sample_seasonal_naive_mae() -> None:
    y = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    # lag 2: |4-1|, |7-2|, |11-4| -> mean 5
    assert mase_scale(y, 2) == pytest.approx(5.0)
    # history no longer than the season falls back to lag 1: |1|,|2|,|3|,|4| -> 2.5
    assert mase_scale(y, 5) == pytest.approx(2.5)
    assert math.isnan(mase_scale(np.zeros(6), 1))


def test_selection_scores_each_origin_with_the_choice_made_before_it() -> None:
    # Model A wins origin 0 and loses the rest; B the reverse. An honest walk uses A at origin 1
    # (the only evidence is origin 0) and B from origin 2 on: (3 + 1 + 1) / 3.
    err = pd.DataFrame(
        {
            "cutoff": pd.to_datetime(["2020-01-06", "2020-04-06", "2020-07-06", "2020-10-05"]),
            "A": [0.5, 3.0, 3.0, 3.0],
            "B": [2.0, 1.0, 1.0, 1.0],
            BASELINE: [1.5, 1.5, 1.5, 1.5],
        }
    )
    row = _select("s", err, ["A", "B", BASELINE])
    assert row["model"] == "B"  # the final choice uses every origin
    assert row["mase"] == pytest.approx((3.0 + 1.0 + 1.0) / 3)
    assert row["baseline_mase"] == pytest.approx(1.5)
    assert row["windows"] == 4


def test_intermittent_series_share_the_choice_made_on_all_of_them() -> None:
    cut = pd.to_datetime(["2020-01-06", "2020-04-06", "2020-07-06"])
    rows = []
    for uid, base in (("s1", 1.5), ("s2", 1.0)):
        for k in range(3):
            rows.append({"unique_id": uid, "cutoff": cut[k], "A": [0.5, 3, 3][k], "B": [2, 1, 1][k], BASELINE: base})
    out = {r["series"]: r for r in _select_pooled(pd.DataFrame(rows), ["A", "B", BASELINE])}
    # origin 1: only origin 0 is known, pooled means A 0.5, B 2, baseline 1.25 -> A (3 for both series);
    # origin 2: origins 0-1 pooled, A 1.75, B 1.5, baseline 1.25 -> baseline (1.5 and 1.0)
    assert out["s1"]["mase"] == pytest.approx((3 + 1.5) / 2)
    assert out["s2"]["mase"] == pytest.approx((3 + 1.0) / 2)
    # on every origin: A 2.17, B 1.33, baseline 1.25 -> both keep the baseline (s1 alone would pick B)
    assert out["s1"]["model"] == out["s2"]["model"] == BASELINE
    assert _select("s1", pd.DataFrame(rows[:3]), ["A", "B", BASELINE])["model"] == "B"


def test_missing_values_are_refused_in_one_sentence() -> None:
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=3, freq="W-MON"), "y": [1.0, None, 2.0]}
    )
    with pytest.raises(InputError, match=r"series a has a missing or infinite value on 2024-01-08"):
        Forecaster("week").fit(frame)


@pytest.mark.slow
def test_forecasts_are_never_negative_and_intervals_hold_the_point() -> None:
    rng = np.random.default_rng(7)
    n = 70
    weeks = pd.date_range("2021-01-04", periods=n, freq="W-MON")
    falling = np.maximum(0.0, 120 - 2.2 * np.arange(n) + rng.normal(0, 4, n))  # reaches zero before the end
    sparse = rng.choice([0.0, 0.0, 0.0, 4.0, 6.0], n)  # 60% zeros: intermittent
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": "falling", "ds": weeks, "y": falling}),
            pd.DataFrame({"unique_id": "sparse", "ds": weeks, "y": sparse}),
        ]
    )
    f = Forecaster("week", horizon=6).fit(frame)
    assert f.classes_["sparse"].intermittent and not f.classes_["falling"].intermittent
    out = f.predict()
    assert len(out) == 12 and set(out["series"]) == {"falling", "sparse"}
    # the first forecast week follows the last observed one
    assert (out.groupby("series")["ds"].min() == weeks[-1] + pd.Timedelta(weeks=1)).all()
    cols = ["lo95", "lo80", "forecast", "hi80", "hi95"]
    assert out[cols].notna().all().all()
    assert (out[cols] >= 0).all().all()
    v = out[cols].to_numpy()
    assert (np.diff(v, axis=1) >= -1e-9).all(), "lo95 <= lo80 <= forecast <= hi80 <= hi95"
    # a linear extrapolation of the falling series would be far below zero by now
    assert out.loc[out["series"] == "falling", "forecast"].max() < 10


@pytest.mark.slow
def test_beats_seasonal_naive_on_superstore_weekly_by_category(shared_data: Path) -> None:
    frame = superstore_weekly_by_category(shared_data)
    assert frame["unique_id"].nunique() == 3 and frame.groupby("unique_id").size().min() == 209
    f = Forecaster("week", horizon=13, max_windows=5).fit(frame)
    assert (f.scores_["windows"] == 5).all()
    assert f.mase_ is not None and f.baseline_mase_ is not None
    assert f.mase_ < f.baseline_mase_

    # The baseline figure recomputed by hand: seasonal naive (y[t-52]) over the last four origins
    # (the first one only informs the choice), MASE scaled by the in-sample lag-52 MAE.
    expected = []
    for _, g in frame.groupby("unique_id"):
        y = g.sort_values("ds")["y"].to_numpy()
        per_origin = []
        for k in range(1, 5):
            cut = len(y) - 13 * (5 - k)
            train, test = y[:cut], y[cut : cut + 13]
            pred = y[cut - 52 : cut - 52 + 13]
            per_origin.append(np.mean(np.abs(test - pred)) / np.mean(np.abs(train[52:] - train[:-52])))
        expected.append(np.mean(per_origin))
    assert f.baseline_mase_ == pytest.approx(float(np.mean(expected)), rel=1e-9)

    out = f.predict()
    assert (out["forecast"] >= 0).all()
    assert ((out["lo95"] <= out["forecast"]) & (out["forecast"] <= out["hi95"])).all()
