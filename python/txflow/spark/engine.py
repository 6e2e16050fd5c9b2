"""The streaming query: bronze -> per-merchant kernel state -> the sink."""

from txflow.spark.state import OUTPUT_DDL, STATE_DDL, make_step

QUERY_NAME = "txflow-detect"


class Engine:

    def __init__(self, spark, bronze_uri, checkpoint, thresholds, importance,
                 with_stats, max_chunks_per_batch, sink):
        self.spark = spark
        self.bronze = bronze_uri
        self.checkpoint = checkpoint
        self.step = make_step(thresholds, importance, with_stats)
        self.max_chunks = max_chunks_per_batch
        self.sink = sink

    def _query(self):
        from pyspark.sql.streaming.state import GroupStateTimeout
        rows = (self.spark.readStream.format("delta")
                # One file per chunk (bronze.py): a limit in files is one in
                # chunks, and Delta never splits a commit's file.
                .option("maxFilesPerTrigger", self.max_chunks)
                .load(self.bronze)
                .selectExpr("CAST(merchant AS BINARY) AS merchant",
                            "CAST(customer AS BINARY) AS customer",
                            "CAST(category AS BINARY) AS category", "gender",
                            "amount_paise", "chunk_start", "record"))
        out = rows.groupBy("merchant").applyInPandasWithState(
            self.step, OUTPUT_DDL, STATE_DDL, "append", GroupStateTimeout.NoTimeout)
        return (out.writeStream.queryName(QUERY_NAME).outputMode("append")
                .option("checkpointLocation", self.checkpoint)
                .foreachBatch(self.sink.process))

    def run_available(self):
        """Every chunk in bronze now, then stop (Trigger.AvailableNow)."""
        from delta.tables import DeltaTable
        if not DeltaTable.isDeltaTable(self.spark, self.bronze):
            return
        q = self._query().trigger(availableNow=True).start()
        q.awaitTermination()

    def start(self, interval_seconds):
        """Runs until stopped, a micro-batch every interval."""
        from delta.tables import DeltaTable
        if not DeltaTable.isDeltaTable(self.spark, self.bronze):
            # The stream needs the table; an empty one with bronze's schema.
            from txflow.spark.bronze import BRONZE_DDL
            self.spark.createDataFrame([], BRONZE_DDL).write.format("delta") \
                .mode("append").save(self.bronze)
        ms = max(1, int(interval_seconds * 1000))
        return self._query().trigger(processingTime=f"{ms} milliseconds").start()
