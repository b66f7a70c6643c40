"""Entity resolution end to end: deterministic strong keys, then Splink, then the vetoed clustering.

Records are first reduced to distinct records; people and companies are matched separately
(different evidence counts for each) and never with each other; a shared valid tax id or ID
number links records outright; the probabilistic model scores the rest; and the clustering
enforces the veto. The result keeps the scored pairs so a service can show why two customers
look like one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salescope.engine import linkage as engine
from salescope.resolve.clusters import ConflictRule, cluster
from salescope.resolve.features import INPUT_COLUMNS, distinct_rows, prepare
from salescope.resolve.linkage import DEFAULT_THRESHOLD, Kind, linkage_spec

MIN_ROWS_FOR_MODEL = 2
EDGE_COLUMNS: tuple[str, ...] = ("unique_id_l", "unique_id_r", "match_probability", "evidence")


@dataclass
class Resolution:
    """Cluster labels per input row, and the distinct records, scored pairs and models behind them."""

    labels: pd.Series
    features: pd.DataFrame
    pairs: pd.DataFrame
    record_labels: np.ndarray
    models: dict[str, dict[str, Any]]
    row_to_record: np.ndarray


def deterministic_pairs(features: pd.DataFrame) -> pd.DataFrame:
    """Records sharing a valid tax id or ID number are one entity by law; link each to its group's first."""
    frames = []
    for col in ("tax_id", "id_number"):
        present = features[["unique_id", col]].dropna(subset=[col])
        if present.empty:
            continue
        first = present.groupby(col, sort=False)["unique_id"].transform("min")
        linked = present[present["unique_id"] != first]
        frames.append(
            pd.DataFrame(
                {
                    "unique_id_l": first[linked.index].to_numpy(dtype=np.int64),
                    "unique_id_r": linked["unique_id"].to_numpy(dtype=np.int64),
                    "match_probability": 1.0,
                    "evidence": col,
                }
            )
        )
    if not frames:
        return _empty_edges()
    return pd.concat(frames, ignore_index=True)


def _empty_edges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id_l": pd.Series(dtype="int64"),
            "unique_id_r": pd.Series(dtype="int64"),
            "match_probability": pd.Series(dtype="float64"),
            "evidence": pd.Series(dtype="object"),
        }
    )


def probabilistic_pairs(
    features: pd.DataFrame,
    kind: Kind,
    *,
    threshold: float,
    min_probability: float,
    backend: engine.Backend = "duckdb",
    spark: Any = None,
    train_m: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    subset = features[features["kind"] == kind].reset_index(drop=True)
    if len(subset) < MIN_ROWS_FOR_MODEL:
        return _empty_edges(), {}
    spec = linkage_spec(subset, kind, threshold=threshold, train_m=train_m)
    if not spec.compared:
        return _empty_edges(), {}
    prediction = engine.predict(subset, spec, min_probability=min_probability, backend=backend, spark=spark)
    pairs = prediction.pairs.copy()
    pairs["evidence"] = _describe(pairs)
    return pairs, prediction.model


def _describe(pairs: pd.DataFrame) -> pd.Series:
    """Which features agreed, e.g. 'name_key=exact, phone=exact, city=exact' (gamma > 0 means some agreement)."""
    gammas = [c for c in pairs.columns if c.startswith("gamma_")]
    if not gammas:
        return pd.Series(["model"] * len(pairs), dtype="object")
    parts = []
    for c in gammas:
        name = c.removeprefix("gamma_")
        g = pairs[c].to_numpy()
        parts.append(np.where(g > 0, name + "≈", np.where(g < 0, "", "≠" + name)))
    text = [", ".join(p for p in row if p) for row in zip(*parts, strict=True)]
    return pd.Series(text, dtype="object")


def resolve_records(
    df: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_probability: float | None = None,
    backend: engine.Backend = "duckdb",
    spark: Any = None,
    train_m: bool = False,
) -> Resolution:
    """Cluster the rows of ``df``; ``threshold`` is on the match-probability scale."""
    distinct, codes = distinct_rows(df, (*INPUT_COLUMNS, "kind"))
    features = prepare(distinct)
    floor = threshold if min_probability is None else min(min_probability, threshold)
    frames = [deterministic_pairs(features)]
    models: dict[str, dict[str, Any]] = {}
    for kind in ("person", "company"):
        pairs, model = probabilistic_pairs(
            features, kind, threshold=threshold, min_probability=floor, backend=backend, spark=spark, train_m=train_m
        )
        if not pairs.empty:
            frames.append(pairs)
        if model:
            models[kind] = model
    edges = (
        pd.concat([f for f in frames if not f.empty], ignore_index=True)
        if any(not f.empty for f in frames)
        else _empty_edges()
    )
    rule = ConflictRule(features)
    labels = cluster(len(features), edges, rule, threshold)
    per_row = pd.Series(labels[codes] if len(codes) else np.zeros(0, dtype=np.int64), index=df.index, dtype="int64")
    return Resolution(per_row, features, edges, labels, models, codes)
