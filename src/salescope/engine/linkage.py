"""Runs a Splink linkage specification on DuckDB (default) or Spark: the one place ER touches a database.

The specification (``salescope.resolve.linkage``) is pure data; here it meets Splink's database
API, is trained as its plan says, and scores the blocked pairs. Each run gets its own
in-memory DuckDB connection, so Splink's intermediate tables never land in the warehouse file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import duckdb
import pandas as pd

from salescope.errors import ModelFitError, SalescopeError

Backend = Literal["duckdb", "pyspark"]
PAIR_COLUMNS: tuple[str, ...] = ("unique_id_l", "unique_id_r", "match_probability", "match_weight")


class TrainingPlan(Protocol):
    """What to estimate (see ``salescope.resolve.linkage.TrainingPlan``)."""

    @property
    def prior_rules(self) -> tuple[Any, ...]: ...

    @property
    def prior_recall(self) -> float: ...

    @property
    def train_u(self) -> bool: ...

    @property
    def u_max_pairs(self) -> float: ...

    @property
    def em_rules(self) -> tuple[Any, ...]: ...

    @property
    def seed(self) -> int: ...

    @property
    def adjust(self) -> Callable[[dict[str, Any]], dict[str, Any]] | None: ...


class LinkageSpec(Protocol):
    """A dialect-neutral Splink model (see ``salescope.resolve.linkage.LinkageSpec``)."""

    @property
    def kind(self) -> str: ...

    @property
    def settings(self) -> Any: ...

    @property
    def plan(self) -> TrainingPlan: ...


@dataclass
class Prediction:
    """Scored pairs (unique_id_l < unique_id_r) and the trained model as Splink's JSON dict."""

    pairs: pd.DataFrame
    model: dict[str, Any]


def _db_api(backend: Backend, spark: Any) -> tuple[Any, Any]:
    if backend == "duckdb":
        from splink import DuckDBAPI

        con = duckdb.connect()
        return DuckDBAPI(connection=con), con
    try:
        from splink import SparkAPI
    except ImportError as exc:
        raise SalescopeError("The Spark backend needs pyspark: install salescope with the spark extra.") from exc
    if spark is None:
        raise SalescopeError("The Spark backend needs a SparkSession (engine.spark_master in salescope.toml).")
    return SparkAPI(spark_session=spark), None  # type: ignore[no-untyped-call]


def splink_spark_jar() -> str:
    """Path of Splink's string-similarity UDF jar; a SparkSession for ER needs it in ``spark.jars``."""
    from splink.internals.spark.jar_location import similarity_jar_location

    return str(similarity_jar_location())


def _spark_frame(spark: Any, features: pd.DataFrame) -> Any:
    """An explicit schema: Spark cannot infer the type of a column that is NULL on every row."""
    from pyspark.sql import types as T

    fields = [
        T.StructField(c, T.LongType() if pd.api.types.is_integer_dtype(features[c]) else T.StringType(), True)
        for c in features.columns
    ]
    rows = features.astype("object").where(features.notna(), None).to_dict("records")
    return spark.createDataFrame(rows, schema=T.StructType(fields))


def _train(linker: Any, sdf: Any, spec: LinkageSpec) -> Any:
    """Run the plan; returns the linker to predict with (a new one when the plan adjusts the model)."""
    from splink import Linker

    plan = spec.plan
    if plan.prior_rules:
        before = linker.misc.save_model_to_json()["probability_two_random_records_match"]
        linker.training.estimate_probability_two_random_records_match(list(plan.prior_rules), recall=plan.prior_recall)
        model = linker.misc.save_model_to_json()
        if not model["probability_two_random_records_match"] > 0:
            # No pair agrees on a strong key (a clean master): the estimate is 0, whose match weight is
            # -inf; keep the starting prior instead.
            model["probability_two_random_records_match"] = before
            linker = Linker(sdf, model, log_level=logging.ERROR)
    if plan.train_u:
        linker.training.estimate_u_using_random_sampling(max_pairs=plan.u_max_pairs, seed=plan.seed)
    if plan.adjust is not None:
        linker = Linker(sdf, plan.adjust(linker.misc.save_model_to_json()), log_level=logging.ERROR)
    for rule in plan.em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    return linker


def predict(
    features: pd.DataFrame,
    spec: LinkageSpec,
    *,
    min_probability: float = 0.5,
    backend: Backend = "duckdb",
    spark: Any = None,
) -> Prediction:
    """Train as planned and return every blocked pair scoring at least ``min_probability``."""
    from splink import Linker

    api, con = _db_api(backend, spark)
    try:
        table = _spark_frame(spark, features) if backend == "pyspark" else features
        sdf = api.register(table, table_name=f"er_{spec.kind}")
        linker = Linker(sdf, spec.settings, log_level=logging.ERROR)
        try:
            linker = _train(linker, sdf, spec)
        except (ValueError, ZeroDivisionError, duckdb.Error) as exc:
            raise ModelFitError(f"The {spec.kind} matching model could not be trained: {exc}") from exc
        scored = linker.inference.predict(threshold_match_probability=min_probability)
        # pyspark's toPandas trips pandas 3 deprecations; Arrow is the direct route from Spark.
        if backend == "pyspark":
            pairs = scored.as_spark_dataframe().toArrow().to_pandas()
        else:
            pairs = scored.as_pandas_dataframe()
        model = linker.misc.save_model_to_json()
    finally:
        if con is not None:
            con.close()
    return Prediction(_canonical(pairs), model)


def _canonical(pairs: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in pairs.columns if c in PAIR_COLUMNS or c.startswith("gamma_")]
    out = pairs[keep].copy()
    left = out[["unique_id_l", "unique_id_r"]].min(axis=1).astype("int64")
    right = out[["unique_id_l", "unique_id_r"]].max(axis=1).astype("int64")
    out["unique_id_l"], out["unique_id_r"] = left, right
    out["match_probability"] = out["match_probability"].astype("float64")
    return out.reset_index(drop=True)
