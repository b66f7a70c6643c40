"""The distributed path: the same Ibis expressions on Spark through Ibis's PySpark backend.

Settings choose the master (``local[N]``, ``spark://host:7077``, or ``sc://host`` for Spark
Connect) and a warehouse location holding one Parquet dataset per canonical table; DuckDB can
export its tables there (``export_tables``) so one machine's workspace moves to a cluster as is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from salescope.engine.warehouse import Warehouse
from salescope.errors import SalescopeError
from salescope.settings import EngineSettings


def session(settings: EngineSettings, *, app_name: str = "salescope") -> Any:
    """A SparkSession for the configured master; UTC session time so dates compare as in DuckDB."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the 'spark' extra is optional
        raise SalescopeError(
            "The Spark backend needs pyspark: install Salescope with the 'spark' extra (pip install salescope[spark])."
        ) from exc
    master = settings.spark_master
    builder = SparkSession.builder.appName(app_name)
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = (
            builder.master(master)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
            .config("spark.driver.memory", os.environ.get("SALESCOPE_SPARK_DRIVER_MEMORY", "4g"))
        )
    builder = builder.config("spark.sql.session.timeZone", "UTC").config(
        "spark.sql.execution.arrow.pyspark.enabled", "true"
    )
    if settings.spark_warehouse:
        builder = builder.config("spark.sql.warehouse.dir", settings.spark_warehouse)
    return builder.getOrCreate()


def backend(settings: EngineSettings) -> Any:
    """An Ibis backend on Spark; analytics code receives it exactly as it receives DuckDB's."""
    return ibis.pyspark.connect(session(settings))


def register_arrow(spark_backend: Any, name: str, data: pa.Table) -> Any:
    """Expose an Arrow table to Spark as a temporary view and return it as an Ibis table."""
    spark = spark_backend._session
    frame = spark.createDataFrame(data.to_pandas(types_mapper=None))
    frame.createOrReplaceTempView(name)
    return spark_backend.table(name)


def export_tables(wh: Warehouse, location: Path, tables: list[str]) -> list[Path]:
    """Write warehouse tables as Parquet datasets that Spark (or any engine) reads directly."""
    location.mkdir(parents=True, exist_ok=True)
    written = []
    for name in tables:
        target = location / f"{name}.parquet"
        wh.execute(f"COPY \"{name}\" TO '{target}' (FORMAT parquet)")
        written.append(target)
    return written


def register_parquet(spark_backend: Any, location: Path, tables: list[str]) -> dict[str, Any]:
    """Views over the Parquet datasets of :func:`export_tables`, by canonical table name."""
    spark = spark_backend._session
    views = {}
    for name in tables:
        spark.read.parquet(str(location / f"{name}.parquet")).createOrReplaceTempView(name)
        views[name] = spark_backend.table(name)
    return views
