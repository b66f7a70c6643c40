"""The clustering step of `analyze`: features in the engine, K-Means on one row per customer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from salescope.analytics.clusters import (
    BASE_FEATURES,
    base_features,
    category_spend,
    means,
    name_cluster,
    unique_names,
)
from salescope.models.clustering import fit_clusters
from salescope.services.workspace import Workspace

TOP_CATEGORIES = 8
MIN_CUSTOMERS = 30


def cluster_step(ws: Workspace, as_of: dt.date) -> None:
    """Materialise ``customer_clusters`` and ``cluster_profiles``; too few customers leaves them empty."""
    wh = ws.warehouse
    base = wh.to_pandas(base_features(wh.table("customer_scores"), as_of)).dropna()
    customers_rows: pd.DataFrame | None = None
    profile_rows: pd.DataFrame | None = None
    if len(base) >= MIN_CUSTOMERS:
        spend = wh.to_pandas(category_spend(wh.table("sales"), wh.table("products"), as_of))
        mix = spend.pivot_table(index="customer_id", columns="category", values="spend", aggfunc="sum", fill_value=0.0)
        top = mix.sum().sort_values(ascending=False).index[:TOP_CATEGORIES]
        total = mix.sum(axis=1).where(lambda v: v > 0, 1.0)
        shares = mix[top].div(total, axis=0).clip(lower=0.0).reindex(base["customer_id"]).fillna(0.0)
        matrix = np.column_stack([base[list(BASE_FEATURES)].to_numpy(float), shares.to_numpy(float)])
        # The category shares together weigh as much as one behavioural feature.
        weights = np.concatenate([np.ones(len(BASE_FEATURES)), np.full(len(top), 1 / np.sqrt(max(len(top), 1)))])
        fit = fit_clusters(matrix, spend_column=0, weights=weights)
        avg = means(matrix[:, : len(BASE_FEATURES)], BASE_FEATURES)
        share_centroids = fit.centroids[:, len(BASE_FEATURES) :]
        top_category = [str(top[int(np.argmax(r))]) if len(top) else "" for r in share_centroids]
        names = unique_names(
            [name_cluster(dict(zip(BASE_FEATURES, c[: len(BASE_FEATURES)], strict=True)), avg) for c in fit.centroids],
            top_category,
        )
        customers_rows = pd.DataFrame(
            {
                "customer_id": base["customer_id"].to_numpy(),
                "as_of": as_of,
                "cluster": fit.labels,
                "cluster_zh": [names[c][0] for c in fit.labels],
                "cluster_en": [names[c][1] for c in fit.labels],
            }
        )
        counts = np.bincount(fit.labels, minlength=fit.k)
        profile_rows = pd.DataFrame(
            {
                "cluster": np.arange(fit.k),
                "as_of": as_of,
                "cluster_zh": [n[0] for n in names],
                "cluster_en": [n[1] for n in names],
                "customers": counts,
                **{f: fit.centroids[:, i] for i, f in enumerate(BASE_FEATURES)},
                "top_category": top_category,
                "k": fit.k,
                "silhouette": fit.silhouette[fit.k],
            }
        )
    with wh.transaction():
        wh.execute("DELETE FROM customer_clusters")
        wh.execute("DELETE FROM cluster_profiles")
        if customers_rows is not None and profile_rows is not None:
            wh.insert_arrow("customer_clusters", pa.Table.from_pandas(customers_rows, preserve_index=False))
            wh.insert_arrow("cluster_profiles", pa.Table.from_pandas(profile_rows, preserve_index=False))
