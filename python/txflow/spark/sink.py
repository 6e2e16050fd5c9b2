"""The foreachBatch sink: detections exactly once, 50 per file, and the
state tables.

The Delta table `detections` is the durable pending list (SPEC 4.4). Each
micro-batch's detections are put in SPEC 4.1 order (txflow.order_detections),
numbered (`seq`, global and gapless) and given their file (`file_seq`), then
appended in one commit with Delta's idempotent-write options (txnAppId =
DETECTIONS_APP_ID, txnVersion = the batch id). A batch that Spark runs again
after a driver crash finds its rows already there (its batch_id is not
above the table's largest) and appends nothing: the rows, numbers and times
of the first attempt stand.

Files follow the table: every file whose 50 rows are in the table and that
is not yet in detections/ is written (scratch object, then rename), from the
table's rows, with the standalone engine's names and bytes
(txflow.detection_file). A crash between the commit and the file is
repaired at the next start. A drain writes the remainder as a last, shorter
file; that file's existence closes it, so the next detection starts the
next file, as in `txflow detect`.

Which detection goes in which file, and which files are due, is the
kernel's rule (txflow.DetectionFileCursor, the one `txflow detect` uses),
asked from where the files stand: `files_written` files, then `pending`.
"""

import concurrent.futures
import json
import time

import pandas as pd

import txflow

DETECTIONS_APP_ID = "txflow-detections"

DETECTIONS_DDL = ("seq bigint, file_seq bigint, batch_id bigint, query_id string, "
                  "chunk_start bigint, "
                  "detected_at_ms bigint, YStartTime string, detectionTime string, "
                  "patternId string, ActionType string, customerName binary, "
                  "MerchantId binary")


class Sink:

    def __init__(self, spark, storage, tables, checkpoint, ystart_ms, tz_minutes,
                 with_stats, log):
        """Loads the durable position; refuses a root another detector engine
        owns and a checkpoint that did not write the detections table."""
        self.spark = spark
        self.storage = storage
        self.tables = tables  # name -> URI
        self.ystart_ms = ystart_ms
        self.tz = tz_minutes
        self.with_stats = with_stats
        self.log = log
        self.detections = 0  # appended by this process
        self._pool = concurrent.futures.ThreadPoolExecutor(2)
        from txflow.spark.storage import Storage
        self._checkpoint = Storage(spark, checkpoint)
        self._refuse_other_engines()
        self._load()
        self._check_checkpoint()

    # -- the durable position -------------------------------------------
    def _load(self):
        from delta.tables import DeltaTable
        seqs = [txflow.parse_detection_file_seq("detections/" + n)
                for n in self.storage.list("detections")]
        self.files_written = max([s for s in seqs if s is not None], default=0)
        self.last_batch = -1
        self.last_query = None
        self.last_seq = 0
        self.last_ms = 0
        self.pending = []  # (seq, file_seq, pattern, customer, merchant, ms)
        t = self.tables["detections"]
        if not DeltaTable.isDeltaTable(self.spark, t):
            return
        df = self.spark.read.format("delta").load(t)
        top = df.agg({"batch_id": "max", "seq": "max",
                      "detected_at_ms": "max"}).first()
        if top[0] is None:
            return
        self.last_batch = top["max(batch_id)"]
        self.last_seq = top["max(seq)"]
        self.last_ms = top["max(detected_at_ms)"]
        self.last_query = df.where(f"seq = {self.last_seq}").first()["query_id"]
        rows = (df.where(f"file_seq > {self.files_written}")
                  .selectExpr("seq", "file_seq", "patternId",
                              "CAST(customerName AS BINARY)",
                              "CAST(MerchantId AS BINARY)", "detected_at_ms")
                  .orderBy("seq").collect())
        self.pending = [(r[0], r[1], r[2], bytes(r[3]), bytes(r[4]), r[5])
                        for r in rows]

    def _query_id(self):
        """The id of the query that owns the checkpoint (Spark writes it in
        the checkpoint's `metadata` when the query first starts), or None."""
        text = self._checkpoint.read("metadata")
        if text is None:
            return None
        return json.loads(text.decode().splitlines()[0]).get("id")

    def _check_checkpoint(self):
        """Refuses a checkpoint that did not write the detections table
        (removed, or another root's): Spark would number batches again from
        its own history, and the sink would take them for batches it has
        committed, dropping their detections."""
        if self.last_query is None:
            return
        if self._query_id() != self.last_query:
            raise RuntimeError(
                f"{self._checkpoint.uri}: this checkpoint did not write "
                f"{self.tables['detections']} (it was removed, or belongs to "
                "another root); restore it, or remove tables/ and the checkpoint "
                "together to start over")

    def _refuse_other_engines(self):
        """One detector engine per root: the standalone detector's state or
        files without this engine's table mean another engine owns Y here."""
        from delta.tables import DeltaTable
        own = DeltaTable.isDeltaTable(self.spark, self.tables["detections"])
        files = any(txflow.parse_detection_file_seq("detections/" + n)
                    for n in self.storage.list("detections"))
        if self.storage.exists("state/detector/CURRENT") or (files and not own):
            raise RuntimeError(
                f"{self.storage.path('detections')}: written by another detector "
                "engine (txflow detect's state/detector/, or detection files "
                "without tables/detections); run one detector engine per root")

    def _cursor(self):
        """The kernel's split into files, from where they stand: the files
        written, then the pending rows (any number, after a crash)."""
        return txflow.DetectionFileCursor(self.files_written, len(self.pending))

    # -- one micro-batch ----------------------------------------------------
    def process(self, df, batch_id):
        t0 = time.monotonic()
        df.persist()
        merges = []
        try:
            # The state tables' MERGEs are independent of the detections and
            # of each other: they run beside them, as concurrent Spark jobs
            # (each is mostly job and commit latency at this size).
            merges = self._merge_stats(df, batch_id) if self.with_stats else []
            found = (df.where("kind = 'D'")
                       .select("chunk_start", "pattern", "customer", "merchant")
                       .collect())
            ordered = txflow.order_detections(
                [(r[0], r[1], bytes(r[2]), bytes(r[3])) for r in found])
            appended = self._append(batch_id, ordered)
            self.write_full_files()
            t1 = time.monotonic()
            for m in merges:
                m.result()
            done = "" if appended or not ordered else " (committed before a restart)"
            self.log(f"batch {batch_id}: {len(ordered)} detections{done}, "
                     f"{self.files_written} files, {time.monotonic() - t0:.2f} s "
                     f"(state tables waited {time.monotonic() - t1:.2f} s)")
        finally:
            concurrent.futures.wait(merges)  # never unpersist under a MERGE
            df.unpersist()

    def _append(self, batch_id, ordered):
        if not ordered or batch_id <= self.last_batch:
            return False  # nothing found, or this batch's rows are in the table
        if self.last_query is None:
            self.last_query = self._query_id()
        # Times never go backwards, whatever the wall clock does.
        now = max(int(time.time() * 1000), self.last_ms)
        cursor, first = self._cursor(), len(self.pending)
        new = []
        for i, (chunk_start, pattern, customer, merchant) in enumerate(ordered):
            self.last_seq += 1
            new.append((self.last_seq, cursor.file_seq_of(first + i), batch_id,
                        chunk_start, pattern, customer, merchant))
        stamp = txflow.format_timestamp(now, self.tz)
        ystart = txflow.format_timestamp(self.ystart_ms, self.tz)
        pdf = pd.DataFrame({
            "seq": [r[0] for r in new], "file_seq": [r[1] for r in new],
            "batch_id": [r[2] for r in new], "query_id": [self.last_query] * len(new),
            "chunk_start": [r[3] for r in new],
            "detected_at_ms": [now] * len(new), "YStartTime": [ystart] * len(new),
            "detectionTime": [stamp] * len(new),
            "patternId": [r[4] for r in new],
            "ActionType": [txflow.action_type(r[4]) for r in new],
            "customerName": [r[5] for r in new], "MerchantId": [r[6] for r in new],
        })
        df = self.spark.createDataFrame(pdf, schema=DETECTIONS_DDL).selectExpr(
            "*", "CAST(customerName AS STRING) AS customer_text",
            "CAST(MerchantId AS STRING) AS merchant_text")
        df = df.drop("customerName", "MerchantId") \
               .withColumnRenamed("customer_text", "customerName") \
               .withColumnRenamed("merchant_text", "MerchantId")
        (df.coalesce(1).write.format("delta").mode("append")
           .option("txnAppId", DETECTIONS_APP_ID).option("txnVersion", batch_id)
           .save(self.tables["detections"]))
        self.last_batch = batch_id
        self.last_ms = now
        self.detections += len(new)
        self.pending += [(r[0], r[1], r[4], r[5], r[6], now) for r in new]
        return True

    def write_full_files(self):
        """Writes every complete file of the pending rows."""
        self._write_files(self._cursor().add(0))

    def flush(self):
        """Drain: the remainder as a last, shorter file. Reloads from the
        table first: a stopped query may have committed a batch it did not
        report."""
        self._load()
        self._write_files(self._cursor().flush())

    def _write_files(self, files):
        """Writes the files the cursor handed out (ranges of self.pending as
        it is now, from its front), each dropped from pending once written."""
        done = 0  # rows of self.pending's original front already dropped
        for f in files:
            rows = self.pending[f.first - done:f.first - done + f.count]
            if any(p[1] != f.seq for p in rows):
                raise RuntimeError(
                    f"{self.tables['detections']}: rows numbered for files "
                    f"{sorted({p[1] for p in rows})} where file {f.seq} is due")
            key, text = txflow.detection_file(
                f.seq, [(p[2], p[3], p[4], p[5]) for p in rows],
                self.ystart_ms, self.tz)
            self.storage.write_once(key, text)
            self.files_written = f.seq
            del self.pending[:f.first - done + f.count]
            done = f.first + f.count

    # -- state tables -------------------------------------------------------
    def _merge_stats(self, df, batch_id):
        merchants = df.where("kind = 'M'").selectExpr(
            "CAST(merchant AS STRING) AS merchant", "total AS transactions",
            "female AS female_customers", "male AS male_customers",
            f"CAST({batch_id} AS BIGINT) AS batch_id")
        pairs = df.where("kind = 'P'").selectExpr(
            "CAST(customer AS STRING) AS customer",
            "CAST(merchant AS STRING) AS merchant", "count AS transactions",
            "amount_paise AS amount_sum_paise",
            "CAST(amount_paise AS DECIMAL(38, 2)) / 100 / count AS avg_amount",
            "weight_micro AS weight_sum_micro",
            "CAST(weight_micro AS DOUBLE) / 1e6 / count AS avg_weight",
            "gender", f"CAST({batch_id} AS BIGINT) AS batch_id")
        return [
            self._pool.submit(_upsert, self.spark, self.tables["merchant_stats"],
                              merchants, "t.merchant = s.merchant"),
            self._pool.submit(_upsert, self.spark, self.tables["pair_stats"], pairs,
                              "t.merchant = s.merchant AND t.customer = s.customer"),
        ]


def _upsert(spark, uri, updates, condition):
    """MERGE the rows into the table (created on first use). Idempotent: a
    batch merged again writes the same values."""
    from delta.tables import DeltaTable
    if not DeltaTable.isDeltaTable(spark, uri):
        updates.limit(0).write.format("delta").mode("append").save(uri)
    (DeltaTable.forPath(spark, uri).alias("t")
        .merge(updates.alias("s"), condition)
        .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
