"""Spark for the warehouse: one session per process, the register's tables as temporary views.

The master comes from the caller or ``IOM_SPARK_MASTER``: ``local[2]`` runs in this process's
JVM on two cores; a cluster URL (``spark://host:7077``, ``yarn``, ``k8s://...``) runs the same
expressions on the cluster, with no code change, provided the Parquet directory is on storage
the executors can read (HDFS, S3, a shared mount)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from pathlib import Path

import pyarrow as pa

from iom.dates import REFERENCE_EVENTS, reference_date_from
from iom.errors import UserError
from iom.warehouse.source import BOOLEANS, OPTIONAL, TABLES, parquet_files

_session = None
_lock = threading.Lock()


def session(*, master: str | None = None):
    """The process's Spark session, made on first use (on ``master``, default the
    ``IOM_SPARK_MASTER`` setting). Spark allows one per JVM: a different master asked for
    later is refused rather than silently ignored."""
    global _session
    with _lock:
        if _session is not None:
            if master is not None and _session.sparkContext.master != master:
                raise UserError(f"Spark is already running on {_session.sparkContext.master}; "
                                f"one master per process (asked for {master})")
            return _session
        if master is None:
            from iom.config import get_settings

            master = get_settings().spark_master
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession

        builder = (SparkSession.builder.master(master).appName("iom-warehouse")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.driver.memory", os.environ.get("IOM_SPARK_DRIVER_MEMORY", "4g")))
        if master.startswith("local"):
            # 200 shuffle partitions suit a cluster, not two cores: a small force would spend
            # its time scheduling empty tasks.
            builder = builder.config("spark.sql.shuffle.partitions", "4")
        _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
        return _session


def _typed(frame, name: str):
    from pyspark.sql import functions as F

    cols, dates = TABLES[name]
    present = set(frame.columns)
    missing = [c for c in cols if c not in present]
    if missing:
        raise UserError(f"table {name!r} lacks column(s) {', '.join(missing)}")
    out = []
    for c in [*cols, *(c for c in OPTIONAL.get(name, ()) if c in present)]:
        col = F.col(c)
        if c in dates:
            col = col.cast("date")
        elif c in BOOLEANS:
            col = col.cast("boolean")
        out.append(col.alias(c))
    return frame.select(*out)


def register_parquet(spark, root: Path, *, prefix: str) -> dt.date:
    """Views ``<prefix><table>`` over a Parquet directory (flat or hive-partitioned); returns
    the register's reference date."""
    from pyspark.sql import functions as F

    for name in TABLES:
        path = parquet_files(root, name)
        if path is None:
            raise UserError(f"{root / name}.parquet not found: run `iom export {root}` first")
        frame = spark.read.option("basePath", path).parquet(path) if Path(path).is_dir() else spark.read.parquet(path)
        _typed(frame, name).createOrReplaceTempView(prefix + name)
    latest = []
    for table, column in REFERENCE_EVENTS:
        if table in TABLES:
            frame = spark.table(prefix + table)
        elif (path := parquet_files(root, table)) is not None:
            frame = spark.read.parquet(path)
        else:
            continue
        latest.append(frame.select(F.max(F.col(column).cast("date"))).first()[0])
    return reference_date_from(latest)


def register_arrow(spark, tables: dict[str, pa.Table], *, prefix: str) -> None:
    """Views ``<prefix><table>`` over Arrow tables (a database read on the driver: local mode,
    or a register small enough to ship to the executors)."""
    for name, table in tables.items():
        _typed(spark.createDataFrame(table), name).createOrReplaceTempView(prefix + name)
