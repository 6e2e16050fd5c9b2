"""The SparkSession the job runs in.

On Databricks (or anywhere a session is active) that session is used as it
is. Under spark-submit the session is created with the Delta settings and
whatever spark-submit was given (--jars for Delta). As a console script this
process starts Spark itself: master local[*] unless --master, and the Delta
jars that `make venv` put in <venv>/share/txflow/jars, with the S3A connector
in its s3a/ (or $TXFLOW_SPARK_JARS, comma-separated), so nothing is
downloaded at run time. S3 endpoint and region come from the AWS variables
txflow reads (s3a_conf_from_env); --conf overrides them.
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
                                         "**", "*.jar"), recursive=True))


def s3a_conf_from_env():
    """S3A settings from the variables txflow's own S3 client reads
    (docs/s3.md): a custom endpoint (path-style, TLS as its scheme says) and
    the region. Keys come from S3A's default chain, which reads
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN."""
    conf = {}
    endpoint = (os.environ.get("AWS_ENDPOINT_URL_S3")
                or os.environ.get("AWS_ENDPOINT_URL"))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    h = "spark.hadoop.fs.s3a."
    if endpoint:
        conf[h + "endpoint"] = endpoint
        conf[h + "path.style.access"] = "true"
        conf[h + "connection.ssl.enabled"] = str(
            endpoint.startswith("https:")).lower()
        region = region or "us-east-1"
    if region:
        conf[h + "endpoint.region"] = region
    return conf


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
                  .config("spark.ui.showConsoleProgress", "false")
                  .config("spark.databricks.delta.snapshotPartitions", "2"))
    for k, v in s3a_conf_from_env().items():
        b = b.config(k, v)
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
