"""txflow on Spark Structured Streaming and Delta Lake (docs/spark.md).

Modules: cli (the txflow-spark entry point), session (the SparkSession),
storage (the root through Hadoop's FileSystem), bronze (chunks -> Delta),
state (the per-merchant kernel state in Spark's state store), engine (the
streaming query), sink (detections exactly once, the state tables).
"""
