"""The SparkSession the job runs in.

On Databricks (or anywhere a session is active) that session is used as it
is. Under spark-submit the session is created with the Delta settings and
whatever spark-submit was given (--jars for Delta). As a console script this
process starts Spark itself: master local[*] unless --master, and the Delta
jars that `make venv` put in <venv>/share/txflow/jars (or $TXFLOW_SPARK_JARS,
comma-separated), so nothing is downloaded at run time.
"""

import glob
import os
import sys

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog":
        "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def installed_jars():
    env = os.environ.get("TXFLOW_SPARK_JARS")
    if env:
        return [j for j in env.split(",") if j]
    return sorted(glob.glob(os.path.join(sys.prefix, "share", "txflow", "jars",
                                         "*.jar")))


def spark_session(master=None, partitions=None, conf=()):
    from pyspark.sql import SparkSession
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    b = SparkSession.builder.appName("txflow-spark")
    for k, v in DELTA_CONF.items():
        b = b.config(k, v)
    b = b.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        master = master or "local[*]"
        jars = installed_jars()
        if jars:
            b = b.config("spark.jars", ",".join(jars))
    if master:
        b = b.master(master)
        if master.startswith("local"):
            b = (b.config("spark.driver.host", "127.0.0.1")
                  .config("spark.driver.bindAddress", "127.0.0.1")
                  .config("spark.ui.enabled", "false")
                  .config("spark.databricks.delta.snapshotPartitions", "2"))
    b = b.config("spark.sql.shuffle.partitions",
                 str(partitions or os.cpu_count() or 2))
    for kv in conf:
        k, sep, v = kv.partition("=")
        if not sep:
            raise ValueError(f"--conf '{kv}' is not KEY=VALUE")
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
