"""The Splink specification is dialect-neutral and runs unchanged on DuckDB and Spark."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from salescope.engine import linkage as engine
from salescope.resolve.clusters import ConflictRule, cluster
from salescope.resolve.features import prepare
from salescope.resolve.linkage import MIN_ROWS_TO_TRAIN_U, linkage_spec

LABELS = ["record_id", "cluster", "strong"]


def _people(er_records: ModuleType, entities: int, seed: int) -> pd.DataFrame:
    records = er_records.people(entities, seed=seed, rates=er_records.PROFILES["typos"])
    return prepare(records.drop(columns=LABELS))


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_settings_render_for_both_dialects(er_records: ModuleType, dialect: str) -> None:
    features = _people(er_records, 30, seed=3)
    spec = linkage_spec(features, "person")
    rendered = spec.settings.create_settings_dict(dialect)
    names = [c["output_column_name"] for c in rendered["comparisons"]]
    assert names[:2] == ["name_key", "phone"]
    # Dates are compared as ISO text, so no dialect-specific date format appears in the SQL.
    sql = " ".join(lv["sql_condition"] for c in rendered["comparisons"] for lv in c["comparison_levels"])
    assert "strptime" not in sql and "to_date" not in sql


def test_duckdb_prediction_returns_ordered_scored_pairs(er_records: ModuleType) -> None:
    features = _people(er_records, 40, seed=4)
    spec = linkage_spec(features, "person")
    assert not spec.plan.train_u and len(features) < MIN_ROWS_TO_TRAIN_U  # small: the priors are used
    prediction = engine.predict(features, spec, min_probability=0.5)
    pairs = prediction.pairs
    assert (pairs["unique_id_l"] < pairs["unique_id_r"]).all()
    assert pairs["match_probability"].between(0.5, 1.0).all()
    assert prediction.model["link_type"] == "dedupe_only"


@pytest.mark.slow
def test_large_input_trains_u_and_keeps_exact_key_priors(er_records: ModuleType) -> None:
    features = _people(er_records, 1100, seed=5)
    assert len(features) >= MIN_ROWS_TO_TRAIN_U
    spec = linkage_spec(features, "person")
    assert spec.plan.train_u
    model = engine.predict(features, spec, min_probability=0.99).model
    phone = next(c for c in model["comparisons"] if c["output_column_name"] == "phone")
    exact = phone["comparison_levels"][1]
    # Random pairs almost never share a phone unless they are duplicates; the sampled rate is mostly
    # duplicates, so the prior (1e-5) is kept rather than the contaminated estimate.
    assert exact["u_probability"] == pytest.approx(1e-5)
    city = next(c for c in model["comparisons"] if c["output_column_name"] == "city")
    # 12 cities in the generator: the corrected random-pair rate is near 1/12, not the 0.1 prior.
    assert 0.05 < city["comparison_levels"][1]["u_probability"] < 0.12


@pytest.mark.spark
@pytest.mark.slow
# py4j leaves its gateway sockets for the garbage collector; that is py4j's, not a bug here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_same_clusters_on_spark_as_on_duckdb(er_records: ModuleType, tmp_path: Path) -> None:
    pyspark_sql = pytest.importorskip("pyspark.sql")
    spark = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .config("spark.jars", engine.splink_spark_jar())
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))  # Splink checkpoints to break lineage
    try:
        features = _people(er_records, 40, seed=6)
        spec = linkage_spec(features, "person")
        on_duckdb = engine.predict(features, spec, min_probability=0.5).pairs
        on_spark = engine.predict(features, spec, min_probability=0.5, backend="pyspark", spark=spark).pairs
    finally:
        spark.stop()
    rule = ConflictRule(features)
    labels = [cluster(len(features), pairs, rule, 0.9) for pairs in (on_duckdb, on_spark)]
    assert np.array_equal(labels[0], labels[1])
    merged = on_duckdb.merge(on_spark, on=["unique_id_l", "unique_id_r"], suffixes=("_d", "_s"))
    assert len(merged) == len(on_duckdb) == len(on_spark)
    assert np.allclose(merged["match_probability_d"], merged["match_probability_s"], atol=1e-6)


def test_training_plan_depends_on_size_and_request(er_records: ModuleType) -> None:
    small = _people(er_records, 30, seed=3)
    assert linkage_spec(small, "person", train_m=True).plan.em_rules == ()
    big = pd.concat([small] * (MIN_ROWS_TO_TRAIN_U // len(small) + 1), ignore_index=True)
    big["unique_id"] = range(len(big))
    assert linkage_spec(big, "person").plan.em_rules == ()
    plan = linkage_spec(big, "person", train_m=True).plan
    assert plan.train_u and len(plan.em_rules) == 2 and plan.adjust is not None
