"""Calibration/holdout checks of a fitted purchase-count model, as chart-ready numbers.

The two standard pictures of Fader, Hardie & Lee (2005): repeat purchases per period
across calibration and holdout against the model's expectation for the same cohort
(their Figure 2), and mean holdout purchases per calibration-frequency bucket against
the conditional expectation (their Figure 4); plus per-customer errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from salescope.models._btyd_base import Array
from salescope.models._btyd_count import CountModel

TOP_BUCKET = 7
"""Calibration frequencies 0..6 get a bucket each; 7 and more share one ("7+"), as in the paper."""


def holdout_report(
    model: CountModel, x: Array, tx: Array, T: Array, actual: Array, holdout_periods: float
) -> tuple[dict[str, Any], Array]:
    """Aggregate and per-customer error of the conditional expectation over the holdout; also returns predictions."""
    predicted = model.expected_purchases(holdout_periods, x, tx, T)
    err = predicted - actual
    corr = float(np.corrcoef(actual, predicted)[0, 1]) if x.size > 1 and actual.std() > 0 else None
    buckets = []
    for k in range(TOP_BUCKET + 1):
        sel = x == k if k < TOP_BUCKET else x >= k
        if not sel.any():
            continue
        buckets.append(
            {
                "frequency": str(k) if k < TOP_BUCKET else f"{k}+",
                "customers": int(sel.sum()),
                "actual_mean": float(actual[sel].mean()),
                "predicted_mean": float(predicted[sel].mean()),
            }
        )
    report: dict[str, Any] = {
        "actual": float(actual.sum()),
        "predicted": float(predicted.sum()),
        "periods": float(holdout_periods),
        "per_customer": {
            "mae": float(np.abs(err).mean()),
            "rmse": float(np.sqrt((err**2).mean())),
            "correlation": corr,
            "mean_actual": float(actual.mean()),
            "mean_predicted": float(predicted.mean()),
        },
        "by_frequency": buckets,
    }
    return report, predicted


def expected_by_period(model: CountModel, birth_day: Array, period_days: int, last_day: int) -> Array:
    """Expected repeat purchases of a cohort in each period of days [k * L, (k + 1) * L - 1] since the start.

    ``birth_day`` is each customer's first purchase in days since the start; a customer
    contributes the unconditional E[X(t)] of a new customer, with t measured from birth.
    """
    births, counts = np.unique(birth_day, return_counts=True)
    n_periods = last_day // period_days + 1
    ends = np.minimum((np.arange(n_periods) + 1) * period_days - 1, last_day).astype(np.float64)
    elapsed = np.maximum(ends[None, :] - births[:, None], 0.0) / period_days
    cumulative = model.expected_purchases_new(elapsed.ravel()).reshape(elapsed.shape)
    total = (counts.astype(np.float64)[:, None] * cumulative).sum(axis=0)
    return np.diff(np.concatenate([[0.0], total]))
