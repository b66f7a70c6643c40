"""K-Means clusters: planted groups are found, numbering and names are stable."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from salescope.analytics.clusters import BASE_FEATURES, name_cluster, unique_names
from salescope.errors import SalescopeError
from salescope.models.clustering import fit_clusters


def _planted(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Three groups an order of magnitude apart in spend and frequency (the scale RFM data has)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[50_000, 30, 20], [5_000, 6, 120], [300, 1, 400]], dtype=float)
    truth = np.repeat([0, 1, 2], [120, 200, 300])
    x = centres[truth] * rng.lognormal(0, 0.15, size=(len(truth), 3))
    return x, truth


def test_planted_groups_are_recovered_and_numbered_by_spend() -> None:
    x, truth = _planted()
    fit = fit_clusters(x, k_range=(2, 6), spend_column=0)
    assert fit.k == 3
    assert adjusted_rand_score(truth, fit.labels) == pytest.approx(1.0)
    assert list(fit.centroids[:, 0]) == sorted(fit.centroids[:, 0], reverse=True)
    assert (fit.labels[truth == 0] == 0).all()  # the biggest spenders are cluster 0


def test_same_data_same_labels() -> None:
    x, _ = _planted(2)
    a, b = fit_clusters(x), fit_clusters(x)
    assert (a.labels == b.labels).all() and a.k == b.k


def test_too_few_customers_is_one_sentence() -> None:
    with pytest.raises(SalescopeError, match="at least 15 customers"):
        fit_clusters(np.ones((5, 3)))


def test_names_follow_the_centroid_against_the_population() -> None:
    avg = dict(zip(BASE_FEATURES, (1000.0, 4.0, 100.0, 500.0, 250.0), strict=True))

    def c(m: float, f: float, r: float, t: float) -> dict[str, float]:
        return dict(zip(BASE_FEATURES, (m, f, r, t, m / max(f, 1)), strict=True))

    assert name_cluster(c(5000, 12, 30, 700), avg) == ("高价值活跃", "High-value active")
    assert name_cluster(c(5000, 12, 300, 700), avg) == ("沉睡高值", "Dormant high-value")
    assert name_cluster(c(300, 1, 20, 60), avg) == ("新客", "New customers")
    assert name_cluster(c(200, 2, 400, 600), avg) == ("低值沉睡", "Dormant low-value")


def test_duplicate_names_are_told_apart_by_category_then_number() -> None:
    names = [("新客", "New customers"), ("新客", "New customers"), ("沉睡高值", "Dormant high-value")]
    assert unique_names(names, ["食品", "家电", "食品"]) == [
        ("新客·食品", "New customers · 食品"),
        ("新客·家电", "New customers · 家电"),
        ("沉睡高值", "Dormant high-value"),
    ]
    assert unique_names(names[:2], ["食品", "食品"])[0] != unique_names(names[:2], ["食品", "食品"])[1]
