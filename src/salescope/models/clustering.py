"""K-Means customer clusters on per-customer features, k chosen by silhouette, named from centroids.

Features are log-scaled (spend and frequency are heavy-tailed, so raw K-Means would carve only
the top spenders) and standardised. Silhouette is computed on a seeded sample because it is
quadratic in the number of customers. Cluster numbers are ordered by centroid spend and names
come from fixed rules on the centroids, so the same data gives the same labels on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from salescope.errors import SalescopeError

SILHOUETTE_SAMPLE = 5000


@dataclass
class ClusterFit:
    k: int
    labels: np.ndarray
    """Cluster number per customer, 0 = the highest centroid spend."""
    centroids: np.ndarray
    """Centroids in the original (unlogged) feature units, one row per cluster."""
    silhouette: dict[int, float] = field(default_factory=dict)


def fit_clusters(
    features: np.ndarray,
    *,
    k_range: tuple[int, int] = (3, 8),
    spend_column: int = 0,
    seed: int = 0,
    weights: np.ndarray | None = None,
) -> ClusterFit:
    """Fit K-Means for each k in the range and keep the best silhouette.

    ``weights`` scale the standardised columns, so a block of related columns (category shares)
    can count as one feature instead of outvoting the rest.
    """
    n = features.shape[0]
    if n < k_range[0] * 5:
        raise SalescopeError(f"Clustering needs at least {k_range[0] * 5} customers; there are {n}.")
    logged = np.sign(features) * np.log1p(np.abs(features))
    std = logged.std(axis=0)
    std[std == 0] = 1.0
    z = (logged - logged.mean(axis=0)) / std
    if weights is not None:
        z = z * weights
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, size=min(n, SILHOUETTE_SAMPLE), replace=False)
    best: tuple[float, int, np.ndarray] | None = None
    scores: dict[int, float] = {}
    for k in range(k_range[0], min(k_range[1], n - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(z)
        if len(np.unique(labels[sample])) < 2:
            continue
        score = float(silhouette_score(z[sample], labels[sample], random_state=seed))
        scores[k] = round(score, 4)
        if best is None or score > best[0]:
            best = (score, k, labels)
    if best is None:
        raise SalescopeError("The customers do not separate into clusters (all features alike).")
    _, k, labels = best
    centroids = np.vstack([features[labels == c].mean(axis=0) for c in range(k)])
    order = np.argsort(-centroids[:, spend_column], kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return ClusterFit(k=k, labels=rank[labels], centroids=centroids[order], silhouette=scores)
